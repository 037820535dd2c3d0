/* test_conv2d.c: 2D convolution: PyTorch parity (tests/ref/ref_conv_pool_bn.py) for forward
 * and the gradients of x, w and b, finite differences, the batched-chunk path against the
 * per-sample path, and bad-argument errors. */
#include <math.h>
#include "vt_test.h"

typedef struct {
    const char *name;
    int n_in; /* 3 with bias, 2 without */
    vt_conv2d_params p;
} conv_case;

/* same parameters as ref_conv_pool_bn.py */
static const conv_case cases[] = {
    {"conv2d_basic", 3, {{1, 1}, {0, 0}, {1, 1}, 1}},
    {"conv2d_stride2_pad1", 3, {{2, 2}, {1, 1}, {1, 1}, 1}},
    {"conv2d_dil2_n1", 3, {{1, 1}, {2, 2}, {2, 2}, 1}},
    {"conv2d_groups2", 3, {{1, 1}, {1, 1}, {1, 1}, 2}},
    {"conv2d_rect", 3, {{2, 1}, {1, 2}, {1, 2}, 1}},
    {"conv2d_1x1", 3, {{1, 1}, {0, 0}, {1, 1}, 1}},
    {"conv2d_1x1_n1_groups3", 3, {{1, 1}, {0, 0}, {1, 1}, 3}},
    {"conv2d_1x1_stride2", 3, {{2, 2}, {0, 0}, {1, 1}, 1}},
    {"conv2d_nobias", 2, {{1, 1}, {1, 1}, {1, 1}, 1}},
    {"conv2d_bands", 3, {{1, 1}, {1, 1}, {1, 1}, 1}},
    {"conv2d_bands_stride2", 3, {{2, 2}, {1, 1}, {1, 1}, 1}},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static vt_tensor *f_conv(vt_tensor **x, void *ctx) {
    const conv_case *c = ctx;
    return vt_conv2d(x[0], x[1], c->n_in > 2 ? x[2] : NULL, &c->p);
}

START_TEST(parity_with_pytorch) {
    vt_check_fixture(cases[_i].name, cases[_i].n_in, f_conv, (void *)&cases[_i], 1e-5, 1e-4);
}
END_TEST

/* conv is linear in each input, so a large step keeps f32 rounding out of the difference */
START_TEST(gradient_matches_finite_differences) {
    const conv_case *c = &cases[_i];
    vt_check_gradient_at_fixture(c->name, c->n_in, VT_PROBE_ALL, f_conv, (void *)c, 1e-2, 2e-3, 2e-3, 60);
}
END_TEST

/* Tiles of several samples (8 samples of 11x11 per tile, the last tile partial) must give
 * the same output and gradients as running each sample alone. */
START_TEST(batched_tiles_match_per_sample) {
    const int N = 10, C = 32, F = 16, HW = 13, O = 11;
    vt_conv2d_params p = {{1, 1}, {0, 0}, {1, 1}, 1};
    vt_tensor *x = vt_test_rand(VT_DIMS(N, C, HW, HW), -1, 1, 1);
    vt_tensor *w = vt_test_rand(VT_DIMS(F, C, 3, 3), -0.1f, 0.1f, 2);
    vt_tensor *b = vt_test_rand(VT_DIMS(F), -1, 1, 3);
    vt_tensor *gy = vt_test_rand(VT_DIMS(N, F, O, O), -1, 1, 4);
    vt_tensor_set_requires_grad(gy, 0);
    vt_tensor *y = vt_conv2d(x, w, b, &p);
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_backward_with(y, gy), VT_OK);
    vt_tensor *y_all = vt_tensor_clone(y), *gx_all = vt_tensor_clone(x->grad),
              *gw_all = vt_tensor_clone(w->grad), *gb_all = vt_tensor_clone(b->grad);
    vt_arena_reset(NULL);
    vt_tensor_zero_grad(w);
    vt_tensor_zero_grad(b);
    const int64_t xs = C * HW * HW, ys = F * O * O;
    for (int n = 0; n < N; n++) {
        vt_tensor *xn = vt_tensor_from_data(VT_DIMS(1, C, HW, HW), x->data + n * xs);
        vt_tensor *gyn = vt_tensor_from_data(VT_DIMS(1, F, O, O), gy->data + n * ys);
        vt_tensor_set_requires_grad(xn, 1);
        vt_tensor *yn = vt_conv2d(xn, w, b, &p);
        ck_assert_msg(yn != NULL, "%s", vt_last_error());
        vt_expect_close(yn->data, y_all->data + n * ys, ys, 1e-5, 1e-5, "output of one sample");
        ck_assert_int_eq(vt_backward_with(yn, gyn), VT_OK);
        vt_expect_close(xn->grad->data, gx_all->data + n * xs, xs, 1e-5, 1e-5, "grad x of one sample");
        vt_tensor_free(xn);
        vt_tensor_free(gyn);
        vt_arena_reset(NULL);
    }
    vt_expect_tensor_close(w->grad, gw_all, 1e-4, 1e-4, "grad w summed over samples");
    vt_expect_tensor_close(b->grad, gb_all, 1e-4, 1e-4, "grad b summed over samples");
    vt_tensor *all[] = {x, w, b, gy, y_all, gx_all, gw_all, gb_all};
    for (int i = 0; i < 8; i++) vt_tensor_free(all[i]);
}
END_TEST

/* p == NULL is stride 1, pad 0, dilation 1, groups 1; bias-only gradient works */
START_TEST(default_params_and_bias_only_gradient) {
    vt_tensor *x = vt_test_rand(VT_DIMS(2, 3, 5, 5), -1, 1, 5);
    vt_tensor *w = vt_test_rand(VT_DIMS(4, 3, 3, 3), -1, 1, 6);
    vt_tensor *b = vt_test_rand(VT_DIMS(4), -1, 1, 7);
    vt_tensor_set_requires_grad(x, 0);
    vt_tensor_set_requires_grad(w, 0);
    vt_conv2d_params p = {{1, 1}, {0, 0}, {1, 1}, 1};
    vt_tensor *y0 = vt_conv2d(x, w, b, NULL), *y1 = vt_conv2d(x, w, b, &p);
    ck_assert_msg(y0 && y1, "%s", vt_last_error());
    ck_assert_int_eq(y0->shape[2], 3);
    vt_expect_tensor_close(y0, y1, 0, 0, "default params");
    ck_assert_int_eq(vt_backward(vt_sum(y0, 0, NULL, 0)), VT_OK);
    for (int c = 0; c < 4; c++) ck_assert_float_eq_tol(b->grad->data[c], 2 * 3 * 3, 1e-5);
    ck_assert_ptr_null(w->grad);
    vt_tensor_free(x); vt_tensor_free(w); vt_tensor_free(b);
    vt_arena_reset(NULL);
}
END_TEST

static void expect_error(vt_tensor *y, const char *needle) {
    ck_assert_msg(y == NULL, "expected an error containing '%s'", needle);
    ck_assert_msg(strstr(vt_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                  vt_last_error(), needle);
}

START_TEST(bad_arguments_are_errors) {
    vt_tensor *x = vt_tensor_new(VT_DIMS(2, 4, 5, 5));
    vt_tensor *w = vt_tensor_new(VT_DIMS(6, 3, 3, 3));  /* wants 3 input channels */
    vt_tensor *w4 = vt_tensor_new(VT_DIMS(6, 4, 3, 3));
    vt_tensor *w_big = vt_tensor_new(VT_DIMS(6, 4, 6, 3));
    vt_tensor *w_g = vt_tensor_new(VT_DIMS(6, 2, 3, 3));
    vt_tensor *b5 = vt_tensor_new(VT_DIMS(5));
    vt_tensor *x3 = vt_tensor_new(VT_DIMS(4, 5, 5));
    expect_error(vt_conv2d(x, w, NULL, NULL), "input channels");
    expect_error(vt_conv2d(x, w_big, NULL, NULL), "larger than the padded input");
    vt_conv2d_params pad1 = {{1, 1}, {1, 1}, {1, 1}, 1};
    ck_assert_ptr_nonnull(vt_conv2d(x, w_big, NULL, &pad1)); /* 6 <= 5 + 2 fits */
    vt_conv2d_params dil = {{1, 1}, {0, 0}, {3, 1}, 1};
    expect_error(vt_conv2d(x, w4, NULL, &dil), "larger than the padded input"); /* 7 > 5 */
    vt_conv2d_params g3 = {{1, 1}, {0, 0}, {1, 1}, 3};
    expect_error(vt_conv2d(x, w_g, NULL, &g3), "groups 3");
    vt_conv2d_params g0 = {{1, 1}, {0, 0}, {1, 1}, 0};
    expect_error(vt_conv2d(x, w4, NULL, &g0), "groups 0");
    vt_conv2d_params g2 = {{1, 1}, {0, 0}, {1, 1}, 2};
    ck_assert_ptr_nonnull(vt_conv2d(x, w_g, NULL, &g2));
    expect_error(vt_conv2d(x, w_g, NULL, NULL), "input channels"); /* groups 1 wants 4 */
    expect_error(vt_conv2d(x, w4, b5, NULL), "bias (5)");
    vt_conv2d_params s0 = {{0, 1}, {0, 0}, {1, 1}, 1};
    expect_error(vt_conv2d(x, w4, NULL, &s0), "stride");
    expect_error(vt_conv2d(x3, w4, NULL, NULL), "(N, C_in, H, W)");
    ck_assert_ptr_null(vt_conv2d(NULL, w4, NULL, NULL));
    ck_assert_ptr_null(vt_conv2d(x, NULL, NULL, NULL));
    vt_tensor *all[] = {x, w, w4, w_big, w_g, b5, x3};
    for (int i = 0; i < 7; i++) vt_tensor_free(all[i]);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/conv2d");
    TCase *tc = tcase_create("conv2d");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, parity_with_pytorch, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, batched_tiles_match_per_sample);
    tcase_add_test(tc, default_params_and_bias_only_gradient);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
