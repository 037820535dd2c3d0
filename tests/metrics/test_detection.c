/* test_detection.c: IoU, greedy matching, precision/recall, AP and mAP on hand-computed
 * cases (the fixture: 2 images, 2 classes, a duplicate detection, a missed box). */
#include <math.h>
#include "detection.h"
#include "vt_test.h"

#define BOX(img, c, a, b, x, y, s) {(img), (c), (a), (b), (x), (y), (s)}

/* Ground truth:
 *   image 0: A class 0 (0,0,10,10), B class 0 (20,20,30,30), C class 1 (0,0,10,10)
 *   image 1: D class 0 (0,0,10,10), E class 1 (50,50,60,60)  <- E is never detected */
static const vt_det_box GT[] = {
    BOX(0, 0, 0, 0, 10, 10, 0), BOX(0, 0, 20, 20, 30, 30, 0), BOX(0, 1, 0, 0, 10, 10, 0),
    BOX(1, 0, 0, 0, 10, 10, 0), BOX(1, 1, 50, 50, 60, 60, 0),
};
/* Detections (input order is not score order):
 *   d1 img 0 cls 0 (0,0,10,10)   .9  IoU(A) = 1                                -> TP (A)
 *   d2 img 0 cls 0 (1,0,11,10)   .8  duplicate of A: IoU(A) = 90/110 = .82 but A is
 *                                    taken; IoU(B) = 0                          -> FP
 *   d3 img 1 cls 0 (0,0,10,5)    .7  IoU(D) = 50/100 = .5 >= .5                 -> TP (D)
 *   d4 img 1 cls 0 (30,30,40,40) .6  overlaps nothing                          -> FP
 *   d5 img 0 cls 0 (20,20,30,30) .3  IoU(B) = 1                                -> TP (B)
 *   d6 img 0 cls 1 (0,0,10,10)   .5  IoU(C) = 1                                -> TP (C)
 *   d7 img 1 cls 1 (0,0,10,10)   .95 C's box but in image 1; D there is class 0 -> FP
 *   d8 img 1 cls 2 (0,0,5,5)     .99 class 2 has no ground truth: excluded from mAP */
static const vt_det_box DET[] = {
    BOX(0, 0, 20, 20, 30, 30, .3f), BOX(0, 0, 0, 0, 10, 10, .9f), BOX(1, 1, 0, 0, 10, 10, .95f),
    BOX(1, 0, 0, 0, 10, 5, .7f),    BOX(0, 0, 1, 0, 11, 10, .8f), BOX(1, 0, 30, 30, 40, 40, .6f),
    BOX(0, 1, 0, 0, 10, 10, .5f),   BOX(1, 2, 0, 0, 5, 5, .99f),
};
#define NG (int64_t)(sizeof GT / sizeof GT[0])
#define ND (int64_t)(sizeof DET / sizeof DET[0])

/* Class 0 in score order d1 d2 d3 d4 d5 = TP FP TP FP TP, 3 ground truth boxes:
 *   precision 1/1 1/2 2/3 2/4 3/5,  recall 1/3 1/3 2/3 2/3 3/3
 *   envelope (max to the right): 1, 2/3, 2/3, 3/5, 3/5
 *   AP = (1/3 - 0) 1 + (1/3 - 1/3) 2/3 + (2/3 - 1/3) 2/3 + (2/3 - 2/3) 3/5 + (1 - 2/3) 3/5
 *      = 1/3 + 2/9 + 1/5 = 34/45 = 0.75556
 * Class 1 in score order d7 d6 = FP TP, 2 ground truth boxes (E missed):
 *   precision 0 1/2, recall 0 1/2, envelope 1/2 1/2: AP = 0 + (1/2 - 0) 1/2 = 1/4
 * mAP over the classes with ground truth: (34/45 + 1/4) / 2 = 181/360 = 0.50278 */
START_TEST(hand_computed_map_two_images_two_classes) {
    double ap[3], map;
    int used;
    ck_assert_int_eq(vt_detection_map(GT, NG, DET, ND, 3, 0.5, ap, &map, &used), VT_OK);
    ck_assert_double_eq_tol(ap[0], 34.0 / 45, 1e-12);
    ck_assert_double_eq_tol(ap[1], 0.25, 1e-12);
    ck_assert(isnan(ap[2]));
    ck_assert_int_eq(used, 2);
    ck_assert_double_eq_tol(map, 181.0 / 360, 1e-12);

    double p[8], r[8];
    int64_t m, ng;
    ck_assert_int_eq(vt_detection_pr_curve(GT, NG, DET, ND, 0, 0.5, p, r, &m, &ng), VT_OK);
    ck_assert_int_eq(m, 5);
    ck_assert_int_eq(ng, 3);
    const double wp[5] = {1, 0.5, 2.0 / 3, 0.5, 0.6}, wr[5] = {1.0 / 3, 1.0 / 3, 2.0 / 3, 2.0 / 3, 1};
    for (int i = 0; i < 5; i++) {
        ck_assert_double_eq_tol(p[i], wp[i], 1e-12);
        ck_assert_double_eq_tol(r[i], wr[i], 1e-12);
    }
    ck_assert_double_eq_tol(vt_average_precision(p, r, m), 34.0 / 45, 1e-12);
    /* class 2: one detection, no ground truth: recall undefined */
    ck_assert_int_eq(vt_detection_pr_curve(GT, NG, DET, ND, 2, 0.5, p, r, &m, &ng), VT_OK);
    ck_assert(m == 1 && ng == 0 && p[0] == 0 && isnan(r[0]));
}
END_TEST

/* At IoU 0.51, d3 (IoU exactly 0.5) turns FP. Class 0: TP FP FP FP TP:
 *   precision 1 1/2 1/3 1/4 2/5, recall 1/3 1/3 1/3 1/3 2/3
 *   AP = 1/3 * 1 + (2/3 - 1/3) 2/5 = 1/3 + 2/15 = 7/15 */
START_TEST(iou_threshold_is_inclusive) {
    double ap[3], map;
    ck_assert_int_eq(vt_detection_map(GT, NG, DET, ND, 3, 0.51, ap, &map, NULL), VT_OK);
    ck_assert_double_eq_tol(ap[0], 7.0 / 15, 1e-12);
    ck_assert_double_eq_tol(ap[1], 0.25, 1e-12);
    ck_assert_double_eq_tol(map, (7.0 / 15 + 0.25) / 2, 1e-12);
}
END_TEST

/* GT P (0,0,10,10), Q (2,0,12,10); detections e1, e2 both (0,0,10,10).
 * e1 -> P (IoU 1; IoU(Q) = 80/120). e2: P taken, Q unmatched with IoU .67 >= .5 -> TP.
 * AP = 1. (The VOC devkit compares with the best-overlap box only and would count e2 FP.) */
START_TEST(greedy_matching_uses_the_best_unmatched_box) {
    const vt_det_box gt[] = {BOX(3, 0, 0, 0, 10, 10, 0), BOX(3, 0, 2, 0, 12, 10, 0)};
    const vt_det_box det[] = {BOX(3, 0, 0, 0, 10, 10, .9f), BOX(3, 0, 0, 0, 10, 10, .8f)};
    double ap, map;
    ck_assert_int_eq(vt_detection_map(gt, 2, det, 2, 1, 0.5, &ap, &map, NULL), VT_OK);
    ck_assert_double_eq(ap, 1.0);
    /* no detections: AP 0; perfect detections in any input order: AP 1 */
    ck_assert_int_eq(vt_detection_map(gt, 2, det, 0, 1, 0.5, &ap, &map, NULL), VT_OK);
    ck_assert_double_eq(ap, 0.0);
    ck_assert_int_eq(vt_detection_map(GT, NG, GT, NG, 2, 0.5, NULL, &map, NULL), VT_OK);
    ck_assert_double_eq(map, 1.0);
}
END_TEST

/* (0,0,10,10) vs (5,5,15,15): intersection 5 * 5 = 25, union 100 + 100 - 25 = 175.
 * Touching boxes and zero-area boxes give 0 (continuous areas: no +1). */
START_TEST(box_iou) {
    vt_det_box a = BOX(0, 0, 0, 0, 10, 10, 0), b = BOX(0, 0, 5, 5, 15, 15, 0),
               c = BOX(0, 0, 10, 0, 20, 10, 0), z = BOX(0, 0, 3, 3, 3, 3, 0);
    ck_assert_double_eq_tol(vt_box_iou(&a, &b), 25.0 / 175, 1e-15);
    ck_assert_double_eq(vt_box_iou(&a, &c), 0.0);
    ck_assert_double_eq(vt_box_iou(&z, &z), 0.0);
    ck_assert_double_eq(vt_box_iou(&a, &a), 1.0);
}
END_TEST

START_TEST(bad_inputs_give_errors) {
    double map;
    const vt_det_box bad[] = {BOX(0, 0, 10, 0, 5, 10, .5f)};
    ck_assert_int_eq(vt_detection_map(GT, NG, bad, 1, 2, 0.5, NULL, &map, NULL), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "detection_map: detection box 0 is (10, 0, 5, 10)"), "%s", vt_last_error());
    ck_assert_int_eq(vt_detection_map(GT, NG, DET, ND, 2, 0.5, NULL, &map, NULL), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "detection box 7 has class 2 outside [0, 2)"), "%s", vt_last_error());
    const vt_det_box nan_score[] = {BOX(0, 0, 0, 0, 5, 10, NAN)};
    ck_assert_int_eq(vt_detection_map(GT, NG, nan_score, 1, 2, 0.5, NULL, &map, NULL), VT_ERR);
    ck_assert_int_eq(vt_detection_map(GT, 0, DET, ND, 3, 0.5, NULL, &map, NULL), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "no class has a ground truth box"), "%s", vt_last_error());
    ck_assert_int_eq(vt_detection_map(GT, NG, DET, ND, 3, 1.5, NULL, &map, NULL), VT_ERR);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("metrics/detection");
    TCase *tc = tcase_create("detection");
    tcase_add_test(tc, hand_computed_map_two_images_two_classes);
    tcase_add_test(tc, iou_threshold_is_inclusive);
    tcase_add_test(tc, greedy_matching_uses_the_best_unmatched_box);
    tcase_add_test(tc, box_iou);
    tcase_add_test(tc, bad_inputs_give_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
