/* test_classification.c: confusion matrix, per-class rates and averages against
 * scikit-learn (tests/ref/ref_metrics.py) and hand-computed cases (0/0 -> NaN). */
#include <math.h>
#include <stdlib.h>
#include "classification.h"
#include "vt_test.h"

#define EPS 1e-6

/* fixture holding float class indices -> malloc'd ints */
static int *fixture_ints(const char *name, int64_t *n) {
    vt_tensor *t = vt_fixture(name);
    int *v = malloc(sizeof(int) * (size_t)t->numel);
    for (int64_t i = 0; i < t->numel; i++) v[i] = (int)t->data[i];
    *n = t->numel;
    vt_tensor_free(t);
    return v;
}

START_TEST(matches_sklearn_four_classes) {
    int64_t n, n2;
    int *yt = fixture_ints("metrics_cls.y_true", &n), *yp = fixture_ints("metrics_cls.y_pred", &n2);
    ck_assert_int_eq(n, n2);
    int64_t cm[16];
    ck_assert_int_eq(vt_confusion_matrix(yt, yp, n, 4, cm), VT_OK);
    vt_tensor *want_cm = vt_fixture("metrics_cls.cm");
    for (int i = 0; i < 16; i++) ck_assert_int_eq(cm[i], (int64_t)want_cm->data[i]);
    vt_class_stats s[4];
    vt_class_summary sum;
    ck_assert_int_eq(vt_classification_report(cm, 4, s, &sum), VT_OK);
    /* rows: recall, specificity, precision, npv, f1, support (sklearn + multilabel cm) */
    vt_tensor *pc = vt_fixture("metrics_cls.per_class");
    float got[24];
    for (int c = 0; c < 4; c++) {
        got[0 * 4 + c] = (float)s[c].sensitivity;
        got[1 * 4 + c] = (float)s[c].specificity;
        got[2 * 4 + c] = (float)s[c].precision;
        got[3 * 4 + c] = (float)s[c].npv;
        got[4 * 4 + c] = (float)s[c].f1;
        got[5 * 4 + c] = (float)s[c].support;
        ck_assert_int_eq(s[c].tp + s[c].fp + s[c].fn + s[c].tn, n);
    }
    vt_expect_close(got, pc->data, 24, EPS, EPS, "per-class rates");
    /* accuracy, macro P R F, weighted P R F */
    vt_tensor *ws = vt_fixture("metrics_cls.summary");
    float g2[7] = {(float)sum.accuracy, (float)sum.macro.precision, (float)sum.macro.sensitivity,
                   (float)sum.macro.f1, (float)sum.weighted.precision,
                   (float)sum.weighted.sensitivity, (float)sum.weighted.f1};
    vt_expect_close(g2, ws->data, 7, EPS, EPS, "accuracy and averages");
    ck_assert_int_eq(sum.n, n);
    vt_tensor_free(want_cm);
    vt_tensor_free(pc);
    vt_tensor_free(ws);
    free(yt);
    free(yp);
}
END_TEST

START_TEST(argmax_takes_the_first_maximum_like_numpy) {
    vt_tensor *p = vt_fixture("metrics_argmax.probs");
    int64_t n;
    int *want = fixture_ints("metrics_argmax.pred", &n);
    int got[50];
    ck_assert_int_eq(n, 50);
    ck_assert_int_eq(vt_argmax_rows(p->data, 50, 3, got), VT_OK);
    for (int i = 0; i < 50; i++) ck_assert_msg(got[i] == want[i], "row %d: %d want %d", i, got[i], want[i]);
    /* NaN never wins */
    float row[3] = {NAN, 0.2f, 0.1f};
    ck_assert_int_eq(vt_argmax_rows(row, 1, 3, got), VT_OK);
    ck_assert_int_eq(got[0], 1);
    vt_tensor_free(p);
    free(want);
}
END_TEST

/* Hand case, k = 3, class 2 absent from truth and prediction:
 *   y_true = 0 0 0 1 1, y_pred = 0 0 1 1 0
 *   cm = [[2 1 0] [1 1 0] [0 0 0]], n = 5, accuracy 3/5
 *   class 0: tp 2 fn 1 fp 1 tn 1 -> sens 2/3 spec 1/2 ppv 2/3 npv 1/2 f1 4/6
 *   class 1: tp 1 fn 1 fp 1 tn 2 -> sens 1/2 spec 2/3 ppv 1/2 npv 2/3 f1 2/4
 *   class 2: tp 0 fn 0 fp 0 tn 5 -> sens 0/0 = NaN, spec 1, ppv NaN, npv 1, f1 NaN
 *   macro (NaN classes skipped): sens (2/3 + 1/2)/2 = 7/12, spec (1/2 + 2/3 + 1)/3 = 13/18
 *   weighted by support (3, 2, 0): sens (3 2/3 + 2 1/2)/5 = 3/5,
 *                                  spec (3 1/2 + 2 2/3 + 0)/5 = 17/30 */
START_TEST(hand_case_with_an_absent_class_gives_nan) {
    const int yt[] = {0, 0, 0, 1, 1}, yp[] = {0, 0, 1, 1, 0};
    int64_t cm[9];
    vt_class_stats s[3];
    vt_class_summary sum;
    ck_assert_int_eq(vt_confusion_matrix(yt, yp, 5, 3, cm), VT_OK);
    const int64_t want_cm[9] = {2, 1, 0, 1, 1, 0, 0, 0, 0};
    for (int i = 0; i < 9; i++) ck_assert_int_eq(cm[i], want_cm[i]);
    ck_assert_int_eq(vt_classification_report(cm, 3, s, &sum), VT_OK);
    ck_assert_double_eq_tol(s[0].sensitivity, 2.0 / 3, 1e-12);
    ck_assert_double_eq_tol(s[0].specificity, 0.5, 1e-12);
    ck_assert_double_eq_tol(s[0].precision, 2.0 / 3, 1e-12);
    ck_assert_double_eq_tol(s[0].npv, 0.5, 1e-12);
    ck_assert_double_eq_tol(s[0].f1, 4.0 / 6, 1e-12);
    ck_assert_double_eq_tol(s[1].specificity, 2.0 / 3, 1e-12);
    ck_assert_double_eq_tol(s[1].f1, 0.5, 1e-12);
    ck_assert(isnan(s[2].sensitivity) && isnan(s[2].precision) && isnan(s[2].f1));
    ck_assert_double_eq(s[2].specificity, 1.0);
    ck_assert_double_eq(s[2].npv, 1.0);
    ck_assert_int_eq(s[2].tn, 5);
    ck_assert_double_eq_tol(sum.accuracy, 0.6, 1e-12);
    ck_assert_double_eq_tol(sum.macro.sensitivity, 7.0 / 12, 1e-12);
    ck_assert_double_eq_tol(sum.macro.specificity, 13.0 / 18, 1e-12);
    ck_assert_double_eq_tol(sum.macro.f1, 7.0 / 12, 1e-12);
    ck_assert_double_eq_tol(sum.weighted.sensitivity, 0.6, 1e-12);
    ck_assert_double_eq_tol(sum.weighted.specificity, 17.0 / 30, 1e-12);
}
END_TEST

/* Binary: y_true 1 1 1 0 0 0 0, y_pred 1 1 0 1 0 0 0 -> tp 2 fn 1 fp 1 tn 3:
 * sens 2/3, spec 3/4, ppv 2/3, npv 3/4, f1 4/6. From scores at threshold 0.5 the last
 * sample (0.5 >= 0.5) turns positive: fp 2, tn 2, spec 2/4. */
START_TEST(binary_hand_case_and_threshold) {
    const int yt[] = {1, 1, 1, 0, 0, 0, 0}, yp[] = {1, 1, 0, 1, 0, 0, 0};
    const float sc[] = {0.9f, 0.8f, 0.3f, 0.5f, 0.1f, 0.2f, 0.5f};
    vt_class_stats b;
    ck_assert_int_eq(vt_binary_stats(yt, yp, 7, &b), VT_OK);
    ck_assert(b.tp == 2 && b.fn == 1 && b.fp == 1 && b.tn == 3);
    ck_assert_double_eq_tol(b.sensitivity, 2.0 / 3, 1e-12);
    ck_assert_double_eq_tol(b.specificity, 0.75, 1e-12);
    ck_assert_double_eq_tol(b.precision, 2.0 / 3, 1e-12);
    ck_assert_double_eq_tol(b.npv, 0.75, 1e-12);
    ck_assert_double_eq_tol(b.f1, 2.0 / 3, 1e-12);
    ck_assert_int_eq(vt_binary_stats_at(yt, sc, 7, 0.5f, &b), VT_OK);
    ck_assert(b.tp == 2 && b.fn == 1 && b.fp == 2 && b.tn == 2);
    ck_assert_double_eq_tol(b.specificity, 0.5, 1e-12);
    /* no positive predicted and none present: ppv and sens are 0/0 */
    const int zeros[] = {0, 0, 0};
    ck_assert_int_eq(vt_binary_stats(zeros, zeros, 3, &b), VT_OK);
    ck_assert(isnan(b.precision) && isnan(b.sensitivity) && b.specificity == 1.0);
}
END_TEST

START_TEST(bad_labels_give_errors) {
    const int yt[] = {0, 1, 3}, yp[] = {0, 1, 1};
    int64_t cm[9];
    vt_class_stats b;
    ck_assert_int_eq(vt_confusion_matrix(yt, yp, 3, 3, cm), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "confusion_matrix: sample 2 has true label 3"), "%s", vt_last_error());
    ck_assert_int_eq(vt_confusion_matrix(yt, yp, 3, 0, cm), VT_ERR);
    const int two[] = {0, 2};
    ck_assert_int_eq(vt_binary_stats(two, two, 2, &b), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "binary_stats:") && strstr(vt_last_error(), "0 or 1"), "%s", vt_last_error());
    const int64_t neg[4] = {1, -1, 0, 1};
    vt_class_stats s[2];
    ck_assert_int_eq(vt_classification_report(neg, 2, s, NULL), VT_ERR);
    ck_assert(isnan(vt_safe_ratio(0, 0)) && vt_safe_ratio(1, 4) == 0.25);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("metrics/classification");
    TCase *tc = tcase_create("classification");
    tcase_add_test(tc, matches_sklearn_four_classes);
    tcase_add_test(tc, argmax_takes_the_first_maximum_like_numpy);
    tcase_add_test(tc, hand_case_with_an_absent_class_gives_nan);
    tcase_add_test(tc, binary_hand_case_and_threshold);
    tcase_add_test(tc, bad_labels_give_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
