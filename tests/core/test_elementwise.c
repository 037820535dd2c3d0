/* test_elementwise.c: broadcasting arithmetic, unary functions and reshape:
 * PyTorch parity (tests/ref/ref_elementwise.py) and finite-difference gradients. */
#include <math.h>
#include "vt_test.h"

static vt_tensor *f_add(vt_tensor **x, void *c) { return vt_add(x[0], x[1]); }
static vt_tensor *f_sub(vt_tensor **x, void *c) { return vt_sub(x[0], x[1]); }
static vt_tensor *f_mul(vt_tensor **x, void *c) { return vt_mul(x[0], x[1]); }
static vt_tensor *f_div(vt_tensor **x, void *c) { return vt_div(x[0], x[1]); }
static vt_tensor *f_add_scalar(vt_tensor **x, void *c) { return vt_add_scalar(x[0], 2.5f); }
static vt_tensor *f_mul_scalar(vt_tensor **x, void *c) { return vt_mul_scalar(x[0], -1.5f); }
static vt_tensor *f_exp(vt_tensor **x, void *c) { return vt_exp(x[0]); }
static vt_tensor *f_log(vt_tensor **x, void *c) { return vt_log(x[0]); }
static vt_tensor *f_pow(vt_tensor **x, void *c) { return vt_pow(x[0], 2.5f); }
static vt_tensor *f_sqrt(vt_tensor **x, void *c) { return vt_sqrt(x[0]); }
static vt_tensor *f_abs(vt_tensor **x, void *c) { return vt_abs(x[0]); }
static vt_tensor *f_clamp(vt_tensor **x, void *c) { return vt_clamp(x[0], -0.3f, 0.5f); }
static vt_tensor *f_relu(vt_tensor **x, void *c) { return vt_relu(x[0]); }
static vt_tensor *f_leaky(vt_tensor **x, void *c) { return vt_leaky_relu(x[0], 0.1f); }
static vt_tensor *f_sigmoid(vt_tensor **x, void *c) { return vt_sigmoid(x[0]); }
static vt_tensor *f_tanh(vt_tensor **x, void *c) { return vt_tanh(x[0]); }
static vt_tensor *f_softplus(vt_tensor **x, void *c) { return vt_softplus(x[0]); }
static vt_tensor *f_reshape(vt_tensor **x, void *c) { return vt_reshape(x[0], VT_DIMS(4, -1)); }

static const struct { const char *name; vt_test_fn fn; int n_in; } cases[] = {
    {"add_bcast", f_add, 2}, {"sub_bcast", f_sub, 2}, {"mul_bcast", f_mul, 2},
    {"div_bcast", f_div, 2}, {"add_scalar", f_add_scalar, 1}, {"mul_scalar", f_mul_scalar, 1},
    {"exp", f_exp, 1}, {"log", f_log, 1}, {"pow", f_pow, 1}, {"sqrt", f_sqrt, 1},
    {"abs", f_abs, 1}, {"clamp", f_clamp, 1}, {"relu", f_relu, 1}, {"leaky_relu", f_leaky, 1},
    {"sigmoid", f_sigmoid, 1}, {"tanh", f_tanh, 1}, {"softplus", f_softplus, 1},
    {"reshape", f_reshape, 1},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

START_TEST(parity_with_pytorch) {
    vt_check_fixture(cases[_i].name, cases[_i].n_in, cases[_i].fn, NULL, 1e-6, 1e-5);
}
END_TEST

/* Finite differences on the same fixture inputs (kinks of relu/abs/clamp are avoided by
 * the inputs' spacing relative to eps; a failure there names the element). */
START_TEST(gradient_matches_finite_differences) {
    vt_check_gradient_at_fixture(cases[_i].name, cases[_i].n_in, VT_PROBE_ALL, cases[_i].fn, NULL,
                                 1e-3, 2e-3, 2e-3, 0);
}
END_TEST

START_TEST(broadcast_mismatch_is_an_error) {
    vt_tensor *a = vt_tensor_new(VT_DIMS(2, 3)), *b = vt_tensor_new(VT_DIMS(4));
    ck_assert_ptr_null(vt_add(a, b));
    ck_assert_msg(strstr(vt_last_error(), "do not broadcast") != NULL, "%s", vt_last_error());
    ck_assert_ptr_null(vt_relu(NULL)); /* NULL propagates */
    ck_assert_ptr_null(vt_reshape(a, VT_DIMS(4, -1)));
    ck_assert_ptr_null(vt_clamp(a, 1.f, 0.f));
    vt_tensor_free(a);
    vt_tensor_free(b);
}
END_TEST

/* A tensor used twice gets the sum of both gradients; no_grad records nothing. */
START_TEST(gradients_accumulate_and_no_grad_records_nothing) {
    vt_tensor *x = vt_tensor_from_data(VT_DIMS(3), (float[]){1, 2, 3});
    vt_tensor_set_requires_grad(x, 1);
    vt_tensor *y = vt_sum(vt_mul(x, x), 0, NULL, 0); /* d/dx sum(x^2) = 2x */
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_backward(y), VT_OK);
    for (int i = 0; i < 3; i++) ck_assert_float_eq_tol(x->grad->data[i], 2.f * (i + 1), 1e-6);
    ck_assert_int_eq(vt_backward(y), VT_OK); /* leaf grads accumulate, like PyTorch */
    ck_assert_float_eq_tol(x->grad->data[2], 12.f, 1e-6);
    int prev = vt_set_grad_enabled(0);
    vt_tensor *z = vt_mul(x, x);
    vt_set_grad_enabled(prev);
    ck_assert_int_eq(z->requires_grad, 0);
    ck_assert_int_ne(vt_backward(z), VT_OK);
    vt_tensor_free(x);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/elementwise");
    TCase *tc = tcase_create("ops");
    tcase_add_loop_test(tc, parity_with_pytorch, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, broadcast_mismatch_is_an_error);
    tcase_add_test(tc, gradients_accumulate_and_no_grad_records_nothing);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
