/* test_conv_transpose.c: 2D and 3D transposed convolution: PyTorch parity
 * (tests/ref/ref_conv3d_transpose.py) for forward and the gradients of x, w and b, finite
 * differences, the adjoint identity with vt_conv2d/vt_conv3d, output sizes, and errors. */
#include <math.h>
#include "vt_test.h"

typedef struct {
    const char *name;
    int n_in; /* 3 with bias, 2 without */
    int sp;   /* spatial dims */
    vt_conv_transpose2d_params p2;
    vt_conv_transpose3d_params p3;
} ct_case;

/* same parameters as ref_conv3d_transpose.py: {stride, pad, output_padding, dilation, groups} */
static const ct_case cases[] = {
    {"convt2d_basic", 3, 2, .p2 = {{1, 1}, {0, 0}, {0, 0}, {1, 1}, 1}},
    {"convt2d_stride2_pad1_outpad1", 3, 2, .p2 = {{2, 2}, {1, 1}, {1, 1}, {1, 1}, 1}},
    {"convt2d_dil2_n1", 3, 2, .p2 = {{1, 1}, {1, 1}, {0, 0}, {2, 2}, 1}},
    {"convt2d_groups2", 3, 2, .p2 = {{2, 2}, {0, 0}, {0, 0}, {1, 1}, 2}},
    {"convt2d_outpad_dil", 3, 2, .p2 = {{1, 1}, {0, 0}, {1, 1}, {2, 2}, 1}},
    {"convt2d_up2_nobias", 2, 2, .p2 = {{2, 2}, {0, 0}, {0, 0}, {1, 1}, 1}},
    {"convt2d_rect", 3, 2, .p2 = {{2, 1}, {1, 0}, {1, 0}, {1, 2}, 1}},
    {"convt3d_basic", 3, 3, .p3 = {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}, {1, 1, 1}, 1}},
    {"convt3d_up2_nobias", 2, 3, .p3 = {{2, 2, 2}, {0, 0, 0}, {0, 0, 0}, {1, 1, 1}, 1}},
    {"convt3d_stride2_pad1_outpad1", 3, 3, .p3 = {{2, 2, 2}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, 1}},
    {"convt3d_groups2_dil2", 3, 3, .p3 = {{1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {2, 2, 2}, 2}},
    {"convt3d_aniso", 3, 3, .p3 = {{2, 1, 2}, {0, 1, 1}, {1, 0, 0}, {1, 2, 1}, 1}},
    {"convt3d_outpad_dil", 3, 3, .p3 = {{1, 1, 1}, {0, 0, 0}, {1, 1, 1}, {2, 2, 2}, 1}},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static vt_tensor *f_ct(vt_tensor **x, void *ctx) {
    const ct_case *c = ctx;
    vt_tensor *b = c->n_in > 2 ? x[2] : NULL;
    return c->sp == 2 ? vt_conv_transpose2d(x[0], x[1], b, &c->p2)
                      : vt_conv_transpose3d(x[0], x[1], b, &c->p3);
}

START_TEST(parity_with_pytorch) {
    vt_check_fixture(cases[_i].name, cases[_i].n_in, f_ct, (void *)&cases[_i], 1e-5, 1e-4);
}
END_TEST

/* linear in each input: a large step keeps f32 rounding out of the difference */
START_TEST(gradient_matches_finite_differences) {
    const ct_case *c = &cases[_i];
    vt_check_gradient_at_fixture(c->name, c->n_in, VT_PROBE_ALL, f_ct, (void *)c, 1e-2, 2e-3,
                                 2e-3, 40);
}
END_TEST

static double dot(const vt_tensor *a, const vt_tensor *b) {
    double s = 0;
    for (int64_t i = 0; i < a->numel; i++) s += (double)a->data[i] * b->data[i];
    return s;
}

/* <conv_transpose(x, w), u> == <x, conv(u, w)> for the same stride/pad/dilation/groups:
 * the transposed conv is the adjoint of the conv, checked against the independent front-end
 * (vt_conv2d / vt_conv3d), with output_padding 0 so the shapes agree. */
START_TEST(adjoint_of_conv) {
    vt_tensor *x2 = vt_test_rand(VT_DIMS(2, 4, 3, 4), -1, 1, 31);
    vt_tensor *w2 = vt_test_rand(VT_DIMS(4, 3, 3, 3), -1, 1, 32); /* groups 2: C_out 6 */
    vt_conv_transpose2d_params t2 = {{2, 2}, {1, 1}, {0, 0}, {1, 1}, 2};
    vt_tensor *y2 = vt_conv_transpose2d(x2, w2, NULL, &t2);
    ck_assert_msg(y2 != NULL, "%s", vt_last_error());
    ck_assert_int_eq(y2->shape[1], 6);
    ck_assert_int_eq(y2->shape[2], 5); /* (3-1)*2 - 2 + 2 + 1 */
    ck_assert_int_eq(y2->shape[3], 7);
    vt_tensor *u2 = vt_test_rand(y2->ndim, y2->shape, -1, 1, 33);
    vt_conv2d_params c2 = {{2, 2}, {1, 1}, {1, 1}, 2};
    vt_tensor *z2 = vt_conv2d(u2, w2, NULL, &c2);
    ck_assert_msg(z2 != NULL && vt_shape_equal(z2, x2), "%s", vt_last_error());
    ck_assert_double_eq_tol(dot(y2, u2), dot(x2, z2), 1e-4 * (1 + fabs(dot(x2, z2))));

    vt_tensor *x3 = vt_test_rand(VT_DIMS(2, 2, 3, 2, 4), -1, 1, 34);
    vt_tensor *w3 = vt_test_rand(VT_DIMS(2, 3, 3, 2, 3), -1, 1, 35);
    vt_conv_transpose3d_params t3 = {{2, 1, 2}, {1, 0, 1}, {0, 0, 0}, {1, 2, 1}, 1};
    vt_tensor *y3 = vt_conv_transpose3d(x3, w3, NULL, &t3);
    ck_assert_msg(y3 != NULL, "%s", vt_last_error());
    vt_tensor *u3 = vt_test_rand(y3->ndim, y3->shape, -1, 1, 36);
    vt_conv3d_params c3 = {{2, 1, 2}, {1, 0, 1}, {1, 2, 1}, 1};
    vt_tensor *z3 = vt_conv3d(u3, w3, NULL, &c3);
    ck_assert_msg(z3 != NULL && vt_shape_equal(z3, x3), "%s", vt_last_error());
    ck_assert_double_eq_tol(dot(y3, u3), dot(x3, z3), 1e-4 * (1 + fabs(dot(x3, z3))));
    vt_tensor *all[] = {x2, w2, u2, x3, w3, u3};
    for (int i = 0; i < 6; i++) vt_tensor_free(all[i]);
    vt_arena_reset(NULL);
}
END_TEST

/* p == NULL: stride 1, pad 0, no output padding: O = I + k - 1; bias only gradient */
START_TEST(default_params_and_bias_only_gradient) {
    vt_tensor *x = vt_test_rand(VT_DIMS(2, 3, 2, 3, 4), -1, 1, 41);
    vt_tensor *w = vt_test_rand(VT_DIMS(3, 2, 2, 3, 1), -1, 1, 42);
    vt_tensor *b = vt_test_rand(VT_DIMS(2), -1, 1, 43);
    vt_tensor_set_requires_grad(x, 0);
    vt_tensor_set_requires_grad(w, 0);
    vt_tensor *y = vt_conv_transpose3d(x, w, b, NULL);
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    ck_assert_int_eq(y->shape[1], 2);
    ck_assert_int_eq(y->shape[2], 3);
    ck_assert_int_eq(y->shape[3], 5);
    ck_assert_int_eq(y->shape[4], 4);
    ck_assert_int_eq(vt_backward(vt_sum(y, 0, NULL, 0)), VT_OK);
    for (int c = 0; c < 2; c++) ck_assert_float_eq_tol(b->grad->data[c], 2 * 3 * 5 * 4, 1e-4);
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
    vt_tensor *x = vt_tensor_new(VT_DIMS(2, 4, 3, 3));
    vt_tensor *w = vt_tensor_new(VT_DIMS(4, 2, 3, 3));
    vt_tensor *w3 = vt_tensor_new(VT_DIMS(3, 2, 3, 3)); /* C_in 3, input has 4 */
    vt_tensor *x5 = vt_tensor_new(VT_DIMS(2, 4, 3, 3, 3));
    vt_tensor *w5 = vt_tensor_new(VT_DIMS(4, 2, 3, 3, 3));
    vt_tensor *w1 = vt_tensor_new(VT_DIMS(4, 2, 1, 1));
    vt_tensor *b3 = vt_tensor_new(VT_DIMS(3));
    vt_conv_transpose2d_params op2 = {{2, 2}, {0, 0}, {2, 0}, {1, 1}, 1};
    expect_error(vt_conv_transpose2d(x, w, NULL, &op2),
                 "output_padding (2, 0) must be smaller than either stride (2, 2) or dilation (1, 1)");
    vt_conv_transpose2d_params op_dil = {{1, 1}, {0, 0}, {1, 1}, {2, 2}, 1};
    ck_assert_ptr_nonnull(vt_conv_transpose2d(x, w, NULL, &op_dil)); /* 1 < dilation 2 */
    vt_conv_transpose3d_params op3 = {{1, 1, 2}, {0, 0, 0}, {0, 1, 1}, {1, 1, 1}, 1};
    expect_error(vt_conv_transpose3d(x5, w5, NULL, &op3), "output_padding (0, 1, 1)");
    expect_error(vt_conv_transpose2d(x, w3, NULL, NULL), "expects 3 input channels");
    vt_conv_transpose2d_params g3 = {{1, 1}, {0, 0}, {0, 0}, {1, 1}, 3};
    expect_error(vt_conv_transpose2d(x, w, NULL, &g3), "groups 3");
    vt_conv_transpose2d_params g2 = {{1, 1}, {0, 0}, {0, 0}, {1, 1}, 2};
    expect_error(vt_conv_transpose2d(x, w, b3, &g2), "bias (3) must be (4)");
    ck_assert_ptr_nonnull(vt_conv_transpose2d(x, w, NULL, &g2));
    vt_conv_transpose2d_params big_pad = {{1, 1}, {3, 0}, {0, 0}, {1, 1}, 1};
    expect_error(vt_conv_transpose2d(x, w, NULL, &big_pad), "output size -1 along H");
    vt_conv_transpose2d_params s0 = {{0, 1}, {0, 0}, {0, 0}, {1, 1}, 1};
    expect_error(vt_conv_transpose2d(x, w, NULL, &s0), "stride (0, 1)");
    expect_error(vt_conv_transpose2d(x5, w, NULL, NULL), "(N, C_in, H, W)");
    expect_error(vt_conv_transpose3d(x, w5, NULL, NULL), "(N, C_in, D, H, W)");
    expect_error(vt_conv_transpose3d(x5, w, NULL, NULL), "(C_in, C_out/groups, kd, kh, kw)");
    vt_conv_transpose2d_params pw = {{1, 1}, {0, 0}, {1, 0}, {2, 1}, 1};
    expect_error(vt_conv_transpose2d(x, w1, NULL, &pw), "not supported");
    ck_assert_ptr_null(vt_conv_transpose2d(NULL, w, NULL, NULL));
    ck_assert_ptr_null(vt_conv_transpose3d(x5, NULL, NULL, NULL));
    vt_tensor *all[] = {x, w, w3, x5, w5, w1, b3};
    for (int i = 0; i < 7; i++) vt_tensor_free(all[i]);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/conv_transpose");
    TCase *tc = tcase_create("conv_transpose");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, parity_with_pytorch, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, adjoint_of_conv);
    tcase_add_test(tc, default_params_and_bias_only_gradient);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
