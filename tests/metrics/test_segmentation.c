/* test_segmentation.c: Dice/IoU against scikit-learn's F1/Jaccard of voxel labels, the
 * empty-mask conventions, soft Dice, CSA per slice and its variability (hand cases). */
#include <math.h>
#include <stdlib.h>
#include "segmentation.h"
#include "vt_test.h"

static int *fixture_ints(const char *name, int64_t *n) {
    vt_tensor *t = vt_fixture(name);
    int *v = malloc(sizeof(int) * (size_t)t->numel);
    for (int64_t i = 0; i < t->numel; i++) v[i] = (int)t->data[i];
    *n = t->numel;
    vt_tensor_free(t);
    return v;
}

START_TEST(multiclass_dice_iou_match_sklearn_f1_jaccard) {
    int64_t n, n2;
    int *gt = fixture_ints("metrics_seg.gt", &n), *pred = fixture_ints("metrics_seg.pred", &n2);
    ck_assert_int_eq(n, n2);
    double dice[4], iou[4];
    ck_assert_int_eq(vt_dice_iou_per_class(gt, pred, n, 4, VT_EMPTY_NAN, dice, iou), VT_OK);
    vt_tensor *wd = vt_fixture("metrics_seg.dice"), *wi = vt_fixture("metrics_seg.iou");
    float gd[4], gi[4];
    for (int c = 0; c < 4; c++) {
        gd[c] = (float)dice[c];
        gi[c] = (float)iou[c];
        /* Dice = 2 IoU / (1 + IoU) for every mask pair */
        ck_assert_double_eq_tol(dice[c], 2 * iou[c] / (1 + iou[c]), 1e-12);
    }
    vt_expect_close(gd, wd->data, 4, 1e-6, 0, "dice");
    vt_expect_close(gi, wi->data, 4, 1e-6, 0, "iou");
    vt_tensor_free(wd);
    vt_tensor_free(wi);
    free(gt);
    free(pred);
}
END_TEST

/* gt 1 1 0 0, pred 1 0 1 0: |G & P| = 1, |G| = |P| = 2 -> Dice 2/4, IoU 1/3.
 * Labels 0 1 2 with class 2 in neither mask, class 3 only in the prediction:
 *   gt   = 0 1 1 0, pred = 0 1 3 0 -> class 0: 2 2 2 -> 1; class 1: |G|=2 |P|=1 inter 1
 *   -> Dice 2/3, IoU 1/2; class 2: 0/0 -> NaN or 1; class 3: |G|=0 |P|=1 -> 0 either way. */
START_TEST(hand_cases_and_empty_masks) {
    double d, j;
    ck_assert_int_eq(vt_dice_iou_binary((int[]){1, 1, 0, 0}, (int[]){1, 0, 1, 0}, 4, VT_EMPTY_NAN, &d, &j), VT_OK);
    ck_assert_double_eq(d, 0.5);
    ck_assert_double_eq_tol(j, 1.0 / 3, 1e-15);
    /* nonzero is foreground, whatever the label */
    ck_assert_int_eq(vt_dice_iou_binary((int[]){7, 1, 0, 0}, (int[]){1, 0, 2, 0}, 4, VT_EMPTY_NAN, &d, &j), VT_OK);
    ck_assert_double_eq(d, 0.5);
    const int zero[4] = {0};
    ck_assert_int_eq(vt_dice_iou_binary(zero, zero, 4, VT_EMPTY_NAN, &d, &j), VT_OK);
    ck_assert(isnan(d) && isnan(j));
    ck_assert_int_eq(vt_dice_iou_binary(zero, zero, 4, VT_EMPTY_ONE, &d, &j), VT_OK);
    ck_assert(d == 1 && j == 1);
    ck_assert_int_eq(vt_dice_iou_binary(zero, (int[]){0, 1, 0, 0}, 4, VT_EMPTY_ONE, &d, &j), VT_OK);
    ck_assert(d == 0 && j == 0);

    const int gt[] = {0, 1, 1, 0}, pred[] = {0, 1, 3, 0};
    double dice[4], iou[4];
    ck_assert_int_eq(vt_dice_iou_per_class(gt, pred, 4, 4, VT_EMPTY_NAN, dice, iou), VT_OK);
    ck_assert(dice[0] == 1 && iou[0] == 1);
    ck_assert_double_eq_tol(dice[1], 2.0 / 3, 1e-15);
    ck_assert_double_eq(iou[1], 0.5);
    ck_assert(isnan(dice[2]) && isnan(iou[2]));
    ck_assert(dice[3] == 0 && iou[3] == 0);
    ck_assert_int_eq(vt_dice_iou_per_class(gt, pred, 4, 4, VT_EMPTY_ONE, dice, NULL), VT_OK);
    ck_assert(dice[2] == 1 && dice[3] == 0);
}
END_TEST

/* gt 1 1 0 0, pred .5 1 .5 0: sum g = 2, sum p = 2, sum gp = 1.5
 * -> soft Dice 3/4, soft IoU 1.5 / (4 - 1.5) = 0.6. Binary inputs give the hard values. */
START_TEST(soft_dice) {
    double d, j;
    ck_assert_int_eq(vt_dice_iou_soft((float[]){1, 1, 0, 0}, (float[]){.5f, 1, .5f, 0}, 4, VT_EMPTY_NAN, &d, &j), VT_OK);
    ck_assert_double_eq(d, 0.75);
    ck_assert_double_eq_tol(j, 0.6, 1e-15);
    ck_assert_int_eq(vt_dice_iou_soft((float[]){1, 1, 0, 0}, (float[]){1, 0, 1, 0}, 4, VT_EMPTY_NAN, &d, &j), VT_OK);
    ck_assert_double_eq(d, 0.5);
    ck_assert_int_eq(vt_dice_iou_soft((float[]){0, 0}, (float[]){0, 0}, 2, VT_EMPTY_NAN, &d, NULL), VT_OK);
    ck_assert(isnan(d));
    ck_assert_int_eq(vt_dice_iou_soft((float[]){0, 0}, (float[]){0, 0}, 2, VT_EMPTY_ONE, &d, NULL), VT_OK);
    ck_assert(d == 1);
    ck_assert_int_eq(vt_dice_iou_soft((float[]){0, NAN}, (float[]){0, 0}, 2, VT_EMPTY_ONE, &d, NULL), VT_ERR);
}
END_TEST

/* Mask (4, 3, 5), spacing (2, 0.5, 0.25) mm, slices along axis 0: a pixel is
 * 0.5 * 0.25 = 0.125 mm^2. Slice 0 empty; slice 1: 4 voxels of 1 -> 0.5 mm^2;
 * slice 2: 2 voxels of 0.5 (soft) -> 1 * 0.125 = 0.125; slice 3: 8 voxels -> 1.0.
 * Mean over slices with cord: (0.5 + 0.125 + 1) / 3 = 0.541666... */
START_TEST(csa_per_slice_and_mean) {
    float m[4 * 3 * 5] = {0};
    for (int k = 0; k < 4; k++) m[1 * 15 + k] = 1;                      /* slice 1 */
    m[2 * 15 + 5] = m[2 * 15 + 6] = 0.5f;                              /* slice 2 */
    for (int k = 0; k < 8; k++) m[3 * 15 + k] = 1;                      /* slice 3 */
    const int64_t dims[3] = {4, 3, 5};
    const double sp[3] = {2, 0.5, 0.25};
    double area[5], mean;
    ck_assert_int_eq(vt_csa_per_slice(m, dims, sp, 0, area), VT_OK);
    ck_assert(area[0] == 0 && area[1] == 0.5 && area[2] == 0.125 && area[3] == 1.0);
    ck_assert_int_eq(vt_csa_mean(area, 4, 0, 4, &mean), VT_OK);
    ck_assert_double_eq_tol(mean, 1.625 / 3, 1e-15);
    ck_assert_int_eq(vt_csa_mean(area, 4, 2, 4, &mean), VT_OK); /* slices 2, 3 */
    ck_assert_double_eq(mean, 0.5625);
    ck_assert_int_eq(vt_csa_mean(area, 4, 0, 1, &mean), VT_OK);
    ck_assert(isnan(mean));
    /* along axis 1 (pixel 2 * 0.25 = 0.5 mm^2): row j = 0 holds slice 1's 4 voxels and
     * slice 3's 5 -> 9 * 0.5; j = 1 holds slice 2's two halves and slice 3's other 3
     * voxels -> 4 * 0.5; j = 2 is empty */
    ck_assert_int_eq(vt_csa_per_slice(m, dims, sp, 1, area), VT_OK);
    ck_assert(area[0] == 4.5 && area[1] == 2.0 && area[2] == 0);
    /* every axis: sum of areas times the slice thickness is the volume, 13 * 0.25 mm^3 */
    for (int ax = 0; ax < 3; ax++) {
        ck_assert_int_eq(vt_csa_per_slice(m, dims, sp, ax, area), VT_OK);
        double vol = 0;
        for (int s = 0; s < dims[ax]; s++) vol += area[s] * sp[ax];
        ck_assert_double_eq_tol(vol, 13 * 0.25, 1e-12);
    }
}
END_TEST

/* mean CSAs of three contrasts 10, 12, 14 mm^2: squared deviations 4 0 4, sum 8;
 * ddof 0: sqrt(8/3) = 1.632993; ddof 1: sqrt(8/2) = 2 */
START_TEST(csa_std_across_contrasts) {
    double sd;
    ck_assert_int_eq(vt_std((double[]){10, 12, 14}, 3, 0, &sd), VT_OK);
    ck_assert_double_eq_tol(sd, sqrt(8.0 / 3), 1e-12);
    ck_assert_int_eq(vt_std((double[]){10, 12, 14}, 3, 1, &sd), VT_OK);
    ck_assert_double_eq(sd, 2.0);
    ck_assert_int_eq(vt_std((double[]){10}, 1, 1, &sd), VT_ERR);
}
END_TEST

START_TEST(bad_inputs_give_errors) {
    double d[3];
    ck_assert_int_eq(vt_dice_iou_per_class((int[]){0, 3}, (int[]){0, 1}, 2, 3, VT_EMPTY_NAN, d, NULL), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "dice_iou_per_class: voxel 1 has ground truth 3"), "%s", vt_last_error());
    ck_assert_int_eq(vt_dice_iou_per_class((int[]){0}, (int[]){0}, 1, 3, (vt_empty_policy)5, d, NULL), VT_ERR);
    float m[8] = {0};
    double area[2];
    ck_assert_int_eq(vt_csa_per_slice(m, (int64_t[]){2, 2, 2}, (double[]){1, 1, 1}, 3, area), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "slice_axis 3"), "%s", vt_last_error());
    ck_assert_int_eq(vt_csa_per_slice(m, (int64_t[]){2, 2, 2}, (double[]){1, 0, 1}, 0, area), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "spacing (1, 0, 1)"), "%s", vt_last_error());
    ck_assert_int_eq(vt_csa_mean(area, 2, 1, 3, d), VT_ERR);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("metrics/segmentation");
    TCase *tc = tcase_create("segmentation");
    tcase_add_test(tc, multiclass_dice_iou_match_sklearn_f1_jaccard);
    tcase_add_test(tc, hand_cases_and_empty_masks);
    tcase_add_test(tc, soft_dice);
    tcase_add_test(tc, csa_per_slice_and_mean);
    tcase_add_test(tc, csa_std_across_contrasts);
    tcase_add_test(tc, bad_inputs_give_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
