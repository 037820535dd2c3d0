/* test_dropout.c: inverted dropout. Masks cannot be compared with PyTorch (different
 * generators), so the tests check statistics and exact properties: the kept fraction,
 * the 1/(1-p) scaling, gradient = mask * scale, seed determinism, eval = identity. */
#include <math.h>
#include <omp.h>
#include "vt_test.h"

#define N 100000

/* x = 1 + i/N: every element nonzero, so a zero in y means "dropped" */
static vt_tensor *ramp(int64_t n) {
    vt_tensor *x = vt_tensor_new(VT_DIMS(n));
    for (int64_t i = 0; i < n; i++) x->data[i] = 1.f + (float)i / (float)n;
    vt_tensor_set_requires_grad(x, 1);
    return x;
}

START_TEST(kept_fraction_and_scaling) {
    const float ps[] = {0.1f, 0.5f, 0.8f};
    for (int k = 0; k < 3; k++) {
        float p = ps[k], scale = 1.f / (1.f - p);
        vt_tensor *x = ramp(N);
        vt_seed(42);
        vt_tensor *y = vt_dropout(x, p, 1);
        ck_assert_msg(y != NULL, "%s", vt_last_error());
        ck_assert(y != x);
        int64_t kept = 0;
        for (int64_t i = 0; i < N; i++) {
            if (y->data[i] == 0.f) continue;
            kept++;
            ck_assert_msg(y->data[i] == x->data[i] * scale, "p %g: y[%lld] = %.9g, want %.9g",
                          (double)p, (long long)i, (double)y->data[i], (double)(x->data[i] * scale));
        }
        /* binomial: sd = sqrt(N p (1-p)) <= 158; allow 5 sd */
        double want = N * (1.0 - p), sd = sqrt(N * p * (1.0 - p));
        ck_assert_msg(fabs(kept - want) < 5 * sd, "p %g: kept %lld of %d, want %.0f +- %.0f",
                      (double)p, (long long)kept, N, want, 5 * sd);
        /* mean is preserved in expectation */
        double sx = 0, sy = 0;
        for (int64_t i = 0; i < N; i++) { sx += x->data[i]; sy += y->data[i]; }
        ck_assert_msg(fabs(sy / sx - 1) < 0.03, "p %g: mean ratio %g", (double)p, sy / sx);
        vt_tensor_free(x);
        vt_arena_reset(NULL);
    }
}
END_TEST

START_TEST(gradient_is_mask_times_scale) {
    float p = 0.3f, scale = 1.f / (1.f - p);
    vt_tensor *x = ramp(N);
    vt_tensor *gy = vt_test_rand(VT_DIMS(N), -1, 1, 9);
    vt_seed(7);
    vt_tensor *y = vt_dropout(x, p, 1);
    ck_assert_int_eq(vt_backward_with(y, gy), VT_OK);
    for (int64_t i = 0; i < N; i++) {
        float want = y->data[i] != 0.f ? gy->data[i] * scale : 0.f;
        ck_assert_msg(x->grad->data[i] == want, "gx[%lld] = %g, want %g", (long long)i,
                      (double)x->grad->data[i], (double)want);
    }
    vt_tensor_free(x);
    vt_tensor_free(gy);
    vt_arena_reset(NULL);
}
END_TEST

/* Finite differences through a small dropout: the mask is redrawn on every call, so the
 * probe reseeds the global stream to get the same mask each time. */
static vt_tensor *f_dropout_seeded(vt_tensor **x, void *c) {
    vt_seed(123);
    return vt_dropout(x[0], 0.4f, 1);
}

START_TEST(gradient_matches_finite_differences) {
    vt_tensor *x = vt_test_rand(VT_DIMS(4, 25), -1, 1, 11);
    vt_check_gradient(f_dropout_seeded, NULL, 1, &x, 1e-2, 1e-4, 1e-4, 0);
    vt_tensor_free(x);
}
END_TEST

static void mask_of(uint64_t seed, int64_t n, uint8_t *mask) {
    vt_tensor *x = ramp(n);
    vt_seed(seed);
    vt_tensor *y = vt_dropout(x, 0.5f, 1);
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    for (int64_t i = 0; i < n; i++) mask[i] = y->data[i] != 0.f;
    vt_tensor_free(x);
    vt_arena_reset(NULL);
}

START_TEST(same_seed_same_mask_and_stream_advances) {
    static uint8_t m1[N], m2[N], m3[N];
    mask_of(5, N, m1);
    mask_of(5, N, m2);
    mask_of(6, N, m3);
    ck_assert_msg(memcmp(m1, m2, N) == 0, "same seed gave different masks");
    int64_t diff = 0;
    for (int64_t i = 0; i < N; i++) diff += m1[i] != m3[i];
    ck_assert_msg(diff > N / 4, "seeds 5 and 6: masks differ in only %lld places", (long long)diff);
    /* two calls in a row draw fresh numbers: the offset advanced by numel */
    vt_tensor *x = ramp(1000);
    vt_seed(5);
    uint64_t off0 = vt_rng_global()->offset;
    vt_tensor *a = vt_dropout(x, 0.5f, 1), *b = vt_dropout(x, 0.5f, 1);
    ck_assert_int_eq(vt_rng_global()->offset, off0 + 2000);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= (a->data[i] == 0.f) == (b->data[i] == 0.f);
    ck_assert_msg(!same, "consecutive dropout calls reused the mask");
    vt_tensor_free(x);
    vt_arena_reset(NULL);
}
END_TEST

/* n > the kernels' OpenMP threshold: the mask must not depend on the thread count */
START_TEST(mask_independent_of_thread_count) {
    static uint8_t m1[4 * N], m4[4 * N];
    int prev = omp_get_max_threads();
    omp_set_num_threads(1);
    mask_of(99, 4 * N, m1);
    omp_set_num_threads(4);
    mask_of(99, 4 * N, m4);
    omp_set_num_threads(prev);
    ck_assert_msg(memcmp(m1, m4, 4 * N) == 0, "1 and 4 threads gave different masks");
}
END_TEST

START_TEST(eval_and_p_zero_are_identity) {
    vt_tensor *x = ramp(100);
    uint64_t off = vt_rng_global()->offset;
    ck_assert_ptr_eq(vt_dropout(x, 0.5f, 0), x);
    ck_assert_ptr_eq(vt_dropout(x, 0.f, 1), x);
    ck_assert_int_eq(vt_rng_global()->offset, off); /* no draw consumed */
    vt_tensor_free(x);
}
END_TEST

START_TEST(bad_p_is_an_error) {
    vt_tensor *x = ramp(10);
    const float bad[] = {1.f, 1.5f, -0.1f, NAN};
    for (int k = 0; k < 4; k++) {
        ck_assert_ptr_null(vt_dropout(x, bad[k], 1));
        ck_assert_msg(strstr(vt_last_error(), "must be in [0, 1)"), "%s", vt_last_error());
    }
    ck_assert_ptr_null(vt_dropout(x, 1.f, 0)); /* checked in eval too */
    ck_assert_ptr_null(vt_dropout(NULL, 0.5f, 1));
    vt_tensor_free(x);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/dropout");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, kept_fraction_and_scaling);
    tcase_add_test(tc, gradient_is_mask_times_scale);
    tcase_add_test(tc, gradient_matches_finite_differences);
    tcase_add_test(tc, same_seed_same_mask_and_stream_advances);
    tcase_add_test(tc, mask_independent_of_thread_count);
    tcase_add_test(tc, eval_and_p_zero_are_identity);
    tcase_add_test(tc, bad_p_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
