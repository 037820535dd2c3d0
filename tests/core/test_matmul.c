/* test_matmul.c: matmul and linear through the backend GEMM: PyTorch parity
 * (tests/ref/ref_shape_matmul.py), finite-difference gradients, argument errors. */
#include <math.h>
#include "vt_test.h"

static vt_tensor *f_matmul(vt_tensor **x, void *c) { return vt_matmul(x[0], x[1]); }
static vt_tensor *f_linear(vt_tensor **x, void *c) { return vt_linear(x[0], x[1], x[2]); }
static vt_tensor *f_linear_nobias(vt_tensor **x, void *c) { return vt_linear(x[0], x[1], NULL); }

static const struct { const char *fixture; vt_test_fn fn; int n_in; } cases[] = {
    {"matmul_2d", f_matmul, 2}, {"matmul_batched", f_matmul, 2},
    {"matmul_bcast_b", f_matmul, 2}, {"matmul_bcast_a", f_matmul, 2},
    {"linear_bias", f_linear, 3}, {"linear_nobias", f_linear_nobias, 2},
    {"linear_3d", f_linear, 3},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

START_TEST(parity_with_pytorch) {
    vt_check_fixture(cases[_i].fixture, cases[_i].n_in, cases[_i].fn, NULL, 1e-6, 1e-5);
}
END_TEST

START_TEST(gradient_matches_finite_differences) {
    vt_check_gradient_at_fixture(cases[_i].fixture, cases[_i].n_in, VT_PROBE_ALL, cases[_i].fn, NULL,
                                 1e-2, 1e-3, 1e-3, 0);
}
END_TEST

/* Against a naive triple loop in double, at sizes where OpenBLAS blocks and threads. */
START_TEST(large_matmul_matches_naive_loop) {
    int64_t M = 67, K = 129, N = 93;
    vt_tensor *a = vt_test_rand(VT_DIMS(M, K), -1, 1, 3), *b = vt_test_rand(VT_DIMS(K, N), -1, 1, 4);
    vt_tensor *y = vt_matmul(a, b);
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    ck_assert_int_eq(y->ndim, 2);
    ck_assert_int_eq(y->shape[0], M);
    ck_assert_int_eq(y->shape[1], N);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++) s += (double)a->data[i * K + k] * b->data[k * N + j];
            ck_assert_msg(fabs(y->data[i * N + j] - s) < 1e-4, "y[%lld,%lld] = %g, want %g",
                          (long long)i, (long long)j, (double)y->data[i * N + j], s);
        }
    vt_tensor_free(a);
    vt_tensor_free(b);
    vt_arena_reset(NULL);
}
END_TEST

/* A parameter used twice accumulates both contributions (GEMM with beta = 1). */
START_TEST(linear_gradients_accumulate) {
    vt_tensor *x = vt_test_rand(VT_DIMS(4, 3), -1, 1, 5), *w = vt_test_rand(VT_DIMS(2, 3), -1, 1, 6);
    vt_tensor *b = vt_test_rand(VT_DIMS(2), -1, 1, 7);
    vt_tensor *y = vt_sum(vt_linear(x, w, b), 0, NULL, 0);
    ck_assert_int_eq(vt_backward(y), VT_OK);
    float gw0 = w->grad->data[0], gb0 = b->grad->data[0];
    ck_assert_float_eq_tol(gb0, 4.f, 1e-6); /* d/db sum(x w^T + b) = rows */
    float colsum = 0;
    for (int i = 0; i < 4; i++) colsum += x->data[i * 3];
    ck_assert_float_eq_tol(gw0, colsum, 1e-5);
    y = vt_add(vt_sum(vt_linear(x, w, b), 0, NULL, 0), vt_sum(vt_linear(x, w, NULL), 0, NULL, 0));
    ck_assert_int_eq(vt_backward(y), VT_OK);
    ck_assert_float_eq_tol(w->grad->data[0], 3 * gw0, 1e-5);
    ck_assert_float_eq_tol(b->grad->data[0], 2 * gb0, 1e-5);
    vt_tensor_free(x);
    vt_tensor_free(w);
    vt_tensor_free(b);
    vt_arena_reset(NULL);
}
END_TEST

static void expect_error(vt_tensor *y, const char *needle) {
    ck_assert_msg(y == NULL, "expected an error containing \"%s\"", needle);
    ck_assert_msg(strstr(vt_last_error(), needle) != NULL, "error \"%s\" lacks \"%s\"",
                  vt_last_error(), needle);
}

START_TEST(bad_arguments_are_errors) {
    vt_tensor *a = vt_tensor_new(VT_DIMS(3, 4)), *b = vt_tensor_new(VT_DIMS(5, 6));
    vt_tensor *a3 = vt_tensor_new(VT_DIMS(2, 3, 4)), *b3 = vt_tensor_new(VT_DIMS(3, 4, 5));
    vt_tensor *v = vt_tensor_new(VT_DIMS(4));
    expect_error(vt_matmul(a, b), "inner dims differ");
    expect_error(vt_matmul(a3, b3), "batch sizes differ");
    expect_error(vt_matmul(a, v), "must be 2-D");
    expect_error(vt_linear(a, b, NULL), "in_features");              /* x (3,4), w (5,6) */
    vt_tensor *w = vt_tensor_new(VT_DIMS(5, 4));
    expect_error(vt_linear(a, w, v), "bias");                         /* b (4) for out 5 */
    expect_error(vt_linear(a, v, NULL), "must be (out, in)");
    ck_assert_ptr_null(vt_matmul(NULL, a));
    ck_assert_ptr_null(vt_linear(a, NULL, NULL));
    ck_assert_ptr_nonnull(vt_linear(a, w, NULL));
    vt_tensor_free(a); vt_tensor_free(b); vt_tensor_free(a3); vt_tensor_free(b3);
    vt_tensor_free(v); vt_tensor_free(w);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/matmul");
    TCase *tc = tcase_create("ops");
    tcase_add_loop_test(tc, parity_with_pytorch, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, large_matmul_matches_naive_loop);
    tcase_add_test(tc, linear_gradients_accumulate);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
