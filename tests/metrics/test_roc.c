/* test_roc.c: AUROC, ROC curve and OvR macro AUROC against scikit-learn; bootstrap and
 * DeLong intervals (determinism, coverage of the estimate, shrinking width, errors). */
#include <math.h>
#include <stdlib.h>
#include "roc.h"
#include "vt_test.h"

static int *fixture_ints(const char *name, int64_t *n) {
    vt_tensor *t = vt_fixture(name);
    int *v = malloc(sizeof(int) * (size_t)t->numel);
    for (int64_t i = 0; i < t->numel; i++) v[i] = (int)t->data[i];
    *n = t->numel;
    vt_tensor_free(t);
    return v;
}

static double fixture_scalar(const char *name, int i) {
    vt_tensor *t = vt_fixture(name);
    double v = t->data[i];
    vt_tensor_free(t);
    return v;
}

/* n samples, label 1 with probability 1/2, score ~ N(shift * y, 1) rounded to 0.1 (ties) */
static void synthetic(int64_t n, float shift, uint64_t seed, int *y, float *s) {
    vt_rng r;
    vt_rng_init(&r, seed);
    vt_rng_normal(&r, s, n, 0, 1);
    for (int64_t i = 0; i < n; i++) {
        y[i] = (int)(vt_rng_u32(&r) & 1u);
        s[i] = roundf((s[i] + shift * (float)y[i]) * 10) / 10;
    }
    y[0] = 0, y[1] = 1; /* both classes present */
}

START_TEST(auroc_with_ties_and_weights_matches_sklearn) {
    int64_t n;
    int *y = fixture_ints("metrics_auc.y", &n);
    vt_tensor *s = vt_fixture("metrics_auc.scores"), *w = vt_fixture("metrics_auc.weights");
    double auc, wauc, *wd = malloc(sizeof(double) * (size_t)n);
    for (int64_t i = 0; i < n; i++) wd[i] = w->data[i];
    ck_assert_int_eq(vt_auroc(y, s->data, n, &auc), VT_OK);
    ck_assert_double_eq_tol(auc, fixture_scalar("metrics_auc.value", 0), 1e-6);
    ck_assert_int_eq(vt_auroc_weighted(y, s->data, wd, n, &wauc), VT_OK);
    ck_assert_double_eq_tol(wauc, fixture_scalar("metrics_auc.weighted_value", 0), 1e-6);
    ck_assert(fabs(auc - wauc) > 1e-4); /* the weights matter */
    free(wd);
    free(y);
    vt_tensor_free(s);
    vt_tensor_free(w);
}
END_TEST

START_TEST(roc_curve_matches_sklearn_without_dropping_points) {
    int64_t n, m;
    int *y = fixture_ints("metrics_auc.y", &n);
    vt_tensor *s = vt_fixture("metrics_auc.scores");
    vt_tensor *wf = vt_fixture("metrics_auc.fpr"), *wt = vt_fixture("metrics_auc.tpr"),
              *wth = vt_fixture("metrics_auc.thr");
    double *fpr = malloc(sizeof(double) * (size_t)(n + 1)), *tpr = malloc(sizeof(double) * (size_t)(n + 1));
    float *thr = malloc(sizeof(float) * (size_t)(n + 1));
    ck_assert_int_eq(vt_roc_curve(y, s->data, n, fpr, tpr, thr, &m), VT_OK);
    ck_assert_int_eq(m, wf->numel);
    ck_assert(isinf(thr[0]) && thr[0] > 0);
    float *f32 = malloc(sizeof(float) * (size_t)m * 2);
    for (int64_t i = 0; i < m; i++) { f32[i] = (float)fpr[i]; f32[m + i] = (float)tpr[i]; }
    vt_expect_close(f32, wf->data, m, 1e-6, 0, "fpr");
    vt_expect_close(f32 + m, wt->data, m, 1e-6, 0, "tpr");
    vt_expect_close(thr + 1, wth->data, m - 1, 0, 0, "thresholds");
    /* the trapezoid under these points is the rank-statistic AUROC */
    double trap = 0, auc;
    for (int64_t i = 1; i < m; i++) trap += (fpr[i] - fpr[i - 1]) * 0.5 * (tpr[i] + tpr[i - 1]);
    vt_auroc(y, s->data, n, &auc);
    ck_assert_double_eq_tol(trap, auc, 1e-12);
    free(f32); free(fpr); free(tpr); free(thr); free(y);
    vt_tensor_free(s); vt_tensor_free(wf); vt_tensor_free(wt); vt_tensor_free(wth);
}
END_TEST

START_TEST(ovr_macro_matches_sklearn) {
    int64_t n;
    int *y = fixture_ints("metrics_ovr.y", &n);
    vt_tensor *p = vt_fixture("metrics_ovr.probs"), *pc = vt_fixture("metrics_ovr.per_class");
    double per[3], macro;
    ck_assert_int_eq(vt_auroc_ovr(y, p->data, n, 3, per, &macro), VT_OK);
    float got[3] = {(float)per[0], (float)per[1], (float)per[2]};
    vt_expect_close(got, pc->data, 3, 1e-6, 0, "ovr per class");
    ck_assert_double_eq_tol(macro, fixture_scalar("metrics_ovr.macro", 0), 1e-6);
    /* class 2 absent: an error naming it */
    for (int64_t i = 0; i < n; i++) if (y[i] == 2) y[i] = 0;
    ck_assert_int_eq(vt_auroc_ovr(y, p->data, n, 3, per, &macro), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "auroc_ovr: class 2 of 3") && strstr(vt_last_error(), "only one class"),
                  "%s", vt_last_error());
    free(y);
    vt_tensor_free(p);
    vt_tensor_free(pc);
}
END_TEST

/* y = 0 0 1 1, s = .1 .4 .35 .8 (sklearn's docstring example): pairs (pos, neg):
 * (.35,.1) win, (.35,.4) loss, (.8,.1) win, (.8,.4) win -> 3/4.
 * With a tie: y = 0 1 0 1, s = .5 .5 .2 .9: (.5,.5) tie 1/2, (.5,.2) 1, (.9,.5) 1,
 * (.9,.2) 1 -> 3.5/4 = 0.875. */
START_TEST(hand_cases) {
    double auc;
    ck_assert_int_eq(vt_auroc((int[]){0, 0, 1, 1}, (float[]){.1f, .4f, .35f, .8f}, 4, &auc), VT_OK);
    ck_assert_double_eq(auc, 0.75);
    ck_assert_int_eq(vt_auroc((int[]){0, 1, 0, 1}, (float[]){.5f, .5f, .2f, .9f}, 4, &auc), VT_OK);
    ck_assert_double_eq(auc, 0.875);
    /* weight 2 on the tied positive: pairs weighted 2: (2 * .5 + 2 * 1 + 1 + 1) / (3 * 2) */
    ck_assert_int_eq(vt_auroc_weighted((int[]){0, 1, 0, 1}, (float[]){.5f, .5f, .2f, .9f},
                                       (double[]){1, 2, 1, 1}, 4, &auc), VT_OK);
    ck_assert_double_eq_tol(auc, 5.0 / 6, 1e-12);
    /* curve of the tie case: thresholds inf, .9, .5, .2 ->
     * (0,0), (0,1/2), (1/2,1), (1,1) */
    double f[5], t[5];
    float th[5];
    int64_t m;
    ck_assert_int_eq(vt_roc_curve((int[]){0, 1, 0, 1}, (float[]){.5f, .5f, .2f, .9f}, 4, f, t, th, &m), VT_OK);
    ck_assert_int_eq(m, 4);
    ck_assert(f[1] == 0 && t[1] == 0.5 && f[2] == 0.5 && t[2] == 1 && f[3] == 1 && t[3] == 1);
    ck_assert(th[1] == .9f && th[2] == .5f && th[3] == .2f);
}
END_TEST

/* 100k samples with integer scores 0..99: AUROC from per-score histograms (no sort) */
START_TEST(large_input_matches_histogram_count) {
    const int64_t n = 100000;
    int *y = malloc(sizeof(int) * n);
    float *s = malloc(sizeof(float) * n);
    double pos[100] = {0}, neg[100] = {0};
    vt_rng r;
    vt_rng_init(&r, 5);
    for (int64_t i = 0; i < n; i++) {
        int v = (int)(vt_rng_u32(&r) % 100);
        y[i] = (int)(vt_rng_u32(&r) % 100) < 30 + v / 2; /* more positives at high scores */
        s[i] = (float)v;
        if (y[i]) pos[v]++; else neg[v]++;
    }
    double below = 0, num = 0, np_ = 0;
    for (int v = 0; v < 100; v++) { num += pos[v] * (below + 0.5 * neg[v]); below += neg[v]; np_ += pos[v]; }
    double auc;
    ck_assert_int_eq(vt_auroc(y, s, n, &auc), VT_OK);
    ck_assert_double_eq_tol(auc, num / (np_ * below), 1e-12);
    ck_assert(auc > 0.6 && auc < 0.75);
    free(y);
    free(s);
}
END_TEST

START_TEST(bootstrap_is_deterministic_and_covers_the_estimate) {
    enum { N = 200 };
    int y[N];
    float s[N];
    synthetic(N, 0.8f, 3, y, s);
    vt_auroc_ci a, b, c;
    ck_assert_int_eq(vt_auroc_bootstrap_ci(y, s, N, 0, 0.95, 42, &a), VT_OK);
    ck_assert_int_eq(a.n_boot, VT_BOOTSTRAP_DEFAULT);
    ck_assert_int_eq(a.n_valid + a.n_skipped, a.n_boot);
    double auc;
    vt_auroc(y, s, N, &auc);
    ck_assert_double_eq(a.auc, auc);
    ck_assert_msg(a.lo < auc && auc < a.hi, "[%g, %g] around %g", a.lo, a.hi, auc);
    ck_assert(a.std_err > 0.01 && a.std_err < 0.1);
    /* same seed, other thread count: the same interval bit for bit */
    int threads = vt_get_num_threads();
    vt_set_num_threads(1);
    ck_assert_int_eq(vt_auroc_bootstrap_ci(y, s, N, 0, 0.95, 42, &b), VT_OK);
    vt_set_num_threads(threads);
    ck_assert(a.lo == b.lo && a.hi == b.hi && a.std_err == b.std_err);
    /* another seed: a different (but close) interval */
    ck_assert_int_eq(vt_auroc_bootstrap_ci(y, s, N, 0, 0.95, 43, &c), VT_OK);
    ck_assert(c.lo != a.lo || c.hi != a.hi);
    ck_assert(fabs(c.lo - a.lo) < 0.02 && fabs(c.hi - a.hi) < 0.02);
    /* a 50% interval lies inside the 95% one */
    ck_assert_int_eq(vt_auroc_bootstrap_ci(y, s, N, 0, 0.5, 42, &c), VT_OK);
    ck_assert(c.lo > a.lo && c.hi < a.hi);
}
END_TEST

START_TEST(interval_width_shrinks_with_more_samples) {
    enum { SMALL = 100, BIG = 1600 };
    static int y[BIG];
    static float s[BIG];
    vt_auroc_ci small, big, dl_small, dl_big;
    synthetic(SMALL, 0.8f, 11, y, s);
    ck_assert_int_eq(vt_auroc_bootstrap_ci(y, s, SMALL, 1000, 0.95, 1, &small), VT_OK);
    ck_assert_int_eq(vt_auroc_delong_ci(y, s, SMALL, 0.95, &dl_small), VT_OK);
    synthetic(BIG, 0.8f, 11, y, s);
    ck_assert_int_eq(vt_auroc_bootstrap_ci(y, s, BIG, 1000, 0.95, 1, &big), VT_OK);
    ck_assert_int_eq(vt_auroc_delong_ci(y, s, BIG, 0.95, &dl_big), VT_OK);
    /* width ~ 1/sqrt(n): 16x the samples, about a quarter of the width */
    double ws = small.hi - small.lo, wb = big.hi - big.lo;
    ck_assert_msg(wb < 0.4 * ws && wb > 0.15 * ws, "widths %g (n=%d) %g (n=%d)", ws, SMALL, wb, BIG);
    ck_assert(dl_big.hi - dl_big.lo < 0.4 * (dl_small.hi - dl_small.lo));
    /* two estimates of the same sampling spread agree at n = 1600 */
    ck_assert_msg(fabs(big.lo - dl_big.lo) < 0.01 && fabs(big.hi - dl_big.hi) < 0.01,
                  "bootstrap [%g, %g] DeLong [%g, %g]", big.lo, big.hi, dl_big.lo, dl_big.hi);
    ck_assert_double_eq_tol(big.std_err, dl_big.std_err, 0.15 * dl_big.std_err);
}
END_TEST

/* one positive among four: a resample misses it with probability (3/4)^4 = 0.316 and has
 * only positives with (1/4)^4 = 0.004, so about 640 of 2000 resamples are skipped */
START_TEST(single_class_resamples_are_counted_and_skipped) {
    vt_auroc_ci a;
    ck_assert_int_eq(vt_auroc_bootstrap_ci((int[]){0, 0, 1, 0}, (float[]){.1f, .3f, .2f, .4f}, 4, 2000, 0.95, 9, &a), VT_OK);
    ck_assert_int_eq(a.n_valid + a.n_skipped, 2000);
    ck_assert_msg(a.n_skipped > 560 && a.n_skipped < 720, "skipped %d", a.n_skipped);
    ck_assert(a.lo >= 0 && a.hi <= 1 && a.lo <= a.auc && a.auc <= a.hi);
}
END_TEST

START_TEST(delong_matches_its_definition) {
    int64_t n;
    int *y = fixture_ints("metrics_delong.y", &n);
    vt_tensor *s = vt_fixture("metrics_delong.scores");
    vt_auroc_ci d;
    ck_assert_int_eq(vt_auroc_delong_ci(y, s->data, n, 0.95, &d), VT_OK);
    double want_auc = fixture_scalar("metrics_delong.auc_var", 0), want_var = fixture_scalar("metrics_delong.auc_var", 1);
    ck_assert_double_eq_tol(d.auc, want_auc, 1e-6);
    ck_assert_double_eq_tol(d.std_err * d.std_err, want_var, 1e-6 * want_var);
    /* z(0.975) = 1.959963985 */
    ck_assert_double_eq_tol(d.hi - d.auc, 1.959963985 * d.std_err, 1e-8);
    ck_assert_double_eq_tol(d.auc - d.lo, 1.959963985 * d.std_err, 1e-8);
    free(y);
    vt_tensor_free(s);
}
END_TEST

START_TEST(degenerate_inputs_give_errors) {
    double auc;
    vt_auroc_ci ci;
    const int one[] = {1, 1, 1};
    const float s3[] = {.1f, .2f, .3f};
    ck_assert_int_eq(vt_auroc(one, s3, 3, &auc), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "auroc: only one class present"), "%s", vt_last_error());
    ck_assert_int_eq(vt_auroc_bootstrap_ci(one, s3, 3, 100, 0.95, 0, &ci), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "auroc_bootstrap_ci: only one class"), "%s", vt_last_error());
    ck_assert_int_eq(vt_auroc_delong_ci(one, s3, 3, 0.95, &ci), VT_ERR);
    ck_assert_int_eq(vt_auroc_bootstrap_ci((int[]){0, 1}, (float[]){0, 1}, 2, 100, 1.5, 0, &ci), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "level 1.5"), "%s", vt_last_error());
    ck_assert_int_eq(vt_auroc_delong_ci((int[]){0, 1, 1}, (float[]){0, 1, 2}, 3, 0.95, &ci), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), ">= 2 positives and >= 2 negatives"), "%s", vt_last_error());
    ck_assert_int_eq(vt_auroc((int[]){0, 2}, (float[]){0, 1}, 2, &auc), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "label 2 at sample 1"), "%s", vt_last_error());
    ck_assert_int_eq(vt_auroc((int[]){0, 1}, (float[]){0, NAN}, 2, &auc), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "NaN"), "%s", vt_last_error());
    ck_assert_int_eq(vt_auroc_weighted((int[]){0, 1}, (float[]){0, 1}, (double[]){1, -1}, 2, &auc), VT_ERR);
    ck_assert_int_eq(vt_auroc_weighted((int[]){0, 1}, (float[]){0, 1}, (double[]){1, 0}, 2, &auc), VT_ERR);
    ck_assert_int_eq(vt_auroc(one, s3, 0, &auc), VT_ERR);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("metrics/roc");
    TCase *tc = tcase_create("roc");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, auroc_with_ties_and_weights_matches_sklearn);
    tcase_add_test(tc, roc_curve_matches_sklearn_without_dropping_points);
    tcase_add_test(tc, ovr_macro_matches_sklearn);
    tcase_add_test(tc, hand_cases);
    tcase_add_test(tc, large_input_matches_histogram_count);
    tcase_add_test(tc, bootstrap_is_deterministic_and_covers_the_estimate);
    tcase_add_test(tc, interval_width_shrinks_with_more_samples);
    tcase_add_test(tc, single_class_resamples_are_counted_and_skipped);
    tcase_add_test(tc, delong_matches_its_definition);
    tcase_add_test(tc, degenerate_inputs_give_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
