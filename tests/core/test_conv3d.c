/* test_conv3d.c: 3D convolution: PyTorch parity (tests/ref/ref_conv3d_transpose.py) for
 * forward and the gradients of x, w and b, finite differences, the banded-tile path against
 * a direct loop, thread-count independence, the workspace bound, and bad-argument errors. */
#include <math.h>
#include <stdlib.h>
#include "backend.h"
#include "vt_test.h"

typedef struct {
    const char *name;
    int n_in; /* 3 with bias, 2 without */
    vt_conv3d_params p;
} conv_case;

/* same parameters as ref_conv3d_transpose.py: {stride, pad, dilation, groups} */
static const conv_case cases[] = {
    {"conv3d_basic", 3, {{1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 1}},
    {"conv3d_stride2_pad1", 3, {{2, 2, 2}, {1, 1, 1}, {1, 1, 1}, 1}},
    {"conv3d_dil2_n1", 3, {{1, 1, 1}, {2, 2, 2}, {2, 2, 2}, 1}},
    {"conv3d_groups2", 3, {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}, 2}},
    {"conv3d_aniso", 3, {{1, 2, 1}, {0, 1, 2}, {2, 1, 1}, 1}},
    {"conv3d_1x1", 3, {{1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 1}},
    {"conv3d_nobias", 2, {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}, 1}},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static vt_tensor *f_conv(vt_tensor **x, void *ctx) {
    const conv_case *c = ctx;
    return vt_conv3d(x[0], x[1], c->n_in > 2 ? x[2] : NULL, &c->p);
}

START_TEST(parity_with_pytorch) {
    vt_check_fixture(cases[_i].name, cases[_i].n_in, f_conv, (void *)&cases[_i], 1e-5, 1e-4);
}
END_TEST

/* conv is linear in each input, so a large step keeps f32 rounding out of the difference */
START_TEST(gradient_matches_finite_differences) {
    const conv_case *c = &cases[_i];
    vt_check_gradient_at_fixture(c->name, c->n_in, VT_PROBE_ALL, f_conv, (void *)c, 1e-2, 2e-3,
                                 2e-3, 40);
}
END_TEST

/* Direct loops: y = conv(x, w) (no bias), gx and gw for upstream gradient gy. */
static void direct_conv3d(const vt_conv3d_desc *d, const float *x, const float *w,
                          const float *gy, float *y, float *gx, float *gw) {
    const int cin_g = d->c_in / d->groups, cout_g = d->c_out / d->groups;
    for (int n = 0; n < d->n; n++)
        for (int co = 0; co < d->c_out; co++)
            for (int oz = 0; oz < d->od; oz++)
                for (int oy = 0; oy < d->oh; oy++)
                    for (int ox = 0; ox < d->ow; ox++) {
                        int64_t o = (((int64_t)n * d->c_out + co) * d->od + oz) * d->oh * d->ow +
                                    (int64_t)oy * d->ow + ox;
                        double acc = 0;
                        for (int ci = 0; ci < cin_g; ci++)
                            for (int kz = 0; kz < d->kd; kz++)
                                for (int ky = 0; ky < d->kh; ky++)
                                    for (int kx = 0; kx < d->kw; kx++) {
                                        int iz = oz * d->stride_d - d->pad_d + kz * d->dil_d;
                                        int iy = oy * d->stride_h - d->pad_h + ky * d->dil_h;
                                        int ix = ox * d->stride_w - d->pad_w + kx * d->dil_w;
                                        if (iz < 0 || iz >= d->d || iy < 0 || iy >= d->h ||
                                            ix < 0 || ix >= d->w)
                                            continue;
                                        int c = co / cout_g * cin_g + ci;
                                        int64_t xi = ((((int64_t)n * d->c_in + c) * d->d + iz) *
                                                      d->h + iy) * d->w + ix;
                                        int64_t wi = (((int64_t)co * cin_g + ci) * d->kd + kz) *
                                                     d->kh * d->kw + ky * d->kw + kx;
                                        acc += (double)w[wi] * x[xi];
                                        gx[xi] += w[wi] * gy[o];
                                        gw[wi] += x[xi] * gy[o];
                                    }
                        y[o] = (float)acc;
                    }
}

/* With 32 input channels and ow = 64 the column matrix of a sample (K = 864) is cut into
 * bands of 18 output rows (4 MB each): 72 rows -> 4 bands per sample, N = 2. Output and
 * gradients must equal the direct loops. */
START_TEST(banded_tiles_match_direct_loops) {
    const int N = 2, C = 32, F = 4, D = 3, H = 24, W = 64;
    vt_conv3d_params p = {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}, 1};
    vt_tensor *x = vt_test_rand(VT_DIMS(N, C, D, H, W), -1, 1, 11);
    vt_tensor *w = vt_test_rand(VT_DIMS(F, C, 3, 3, 3), -0.1f, 0.1f, 12);
    vt_tensor *gy = vt_test_rand(VT_DIMS(N, F, D, H, W), -1, 1, 13);
    vt_tensor_set_requires_grad(gy, 0);
    vt_tensor *y = vt_conv3d(x, w, NULL, &p);
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_backward_with(y, gy), VT_OK);
    vt_conv3d_desc d = {N, C, D, H, W, F, 3, 3, 3, D, H, W, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    float *ry = calloc((size_t)y->numel, sizeof(float)), *rgx = calloc((size_t)x->numel, sizeof(float)),
          *rgw = calloc((size_t)w->numel, sizeof(float));
    direct_conv3d(&d, x->data, w->data, gy->data, ry, rgx, rgw);
    vt_expect_close(y->data, ry, y->numel, 1e-4, 1e-4, "banded output");
    vt_expect_close(x->grad->data, rgx, x->numel, 1e-4, 1e-4, "banded grad x");
    vt_expect_close(w->grad->data, rgw, w->numel, 1e-3, 1e-4, "banded grad w");
    free(ry); free(rgx); free(rgw);
    vt_tensor_free(x); vt_tensor_free(w); vt_tensor_free(gy);
    vt_arena_reset(NULL);
}
END_TEST

/* The brief's UNet-sized case: 1x32x64^3 input, 3x3x3 kernel, 32 outputs. The workspace
 * (vol2col bands + gW partials) must stay a few MB per thread, not the 450 MB column matrix. */
START_TEST(workspace_is_bounded) {
    vt_conv3d_desc d = {1, 32, 64, 64, 64, 32, 3, 3, 3, 64, 64, 64, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    size_t bytes = vt_backend_cpu()->conv3d_workspace(&d);
    size_t per_thread = 5u << 20, partials = 16 * (size_t)32 * 864 * sizeof(float);
    ck_assert_msg(bytes <= (size_t)vt_get_num_threads() * per_thread + partials,
                  "workspace %zu bytes", bytes);
    ck_assert_uint_gt(bytes, 0);
}
END_TEST

/* 1 and 2 OpenMP threads give the same output and gradients (tiles, partials in order). */
START_TEST(thread_count_does_not_change_results) {
    vt_conv3d_params p = {{1, 2, 1}, {1, 1, 1}, {1, 1, 1}, 2};
    vt_tensor *x = vt_test_rand(VT_DIMS(3, 4, 5, 6, 7), -1, 1, 21);
    vt_tensor *w = vt_test_rand(VT_DIMS(6, 2, 3, 3, 3), -1, 1, 22);
    vt_tensor *b = vt_test_rand(VT_DIMS(6), -1, 1, 23);
    vt_tensor *out[2][4];
    int prev = vt_get_num_threads();
    for (int t = 0; t < 2; t++) {
        vt_set_num_threads(t + 1);
        vt_tensor_zero_grad(x); vt_tensor_zero_grad(w); vt_tensor_zero_grad(b);
        vt_tensor *y = vt_conv3d(x, w, b, &p);
        ck_assert_msg(y != NULL, "%s", vt_last_error());
        ck_assert_int_eq(vt_backward(vt_sum(vt_mul(y, y), 0, NULL, 0)), VT_OK);
        out[t][0] = vt_tensor_clone(y);
        out[t][1] = vt_tensor_clone(x->grad);
        out[t][2] = vt_tensor_clone(w->grad);
        out[t][3] = vt_tensor_clone(b->grad);
        vt_arena_reset(NULL);
    }
    vt_set_num_threads(prev);
    const char *what[4] = {"output", "grad x", "grad w", "grad b"};
    for (int k = 0; k < 4; k++) {
        vt_expect_tensor_close(out[1][k], out[0][k], 1e-5, 1e-5, what[k]);
        vt_tensor_free(out[0][k]);
        vt_tensor_free(out[1][k]);
    }
    vt_tensor_free(x); vt_tensor_free(w); vt_tensor_free(b);
}
END_TEST

/* p == NULL is stride 1, pad 0, dilation 1, groups 1; bias-only gradient works */
START_TEST(default_params_and_bias_only_gradient) {
    vt_tensor *x = vt_test_rand(VT_DIMS(2, 3, 4, 5, 5), -1, 1, 5);
    vt_tensor *w = vt_test_rand(VT_DIMS(4, 3, 3, 3, 3), -1, 1, 6);
    vt_tensor *b = vt_test_rand(VT_DIMS(4), -1, 1, 7);
    vt_tensor_set_requires_grad(x, 0);
    vt_tensor_set_requires_grad(w, 0);
    vt_conv3d_params p = {{1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 1};
    vt_tensor *y0 = vt_conv3d(x, w, b, NULL), *y1 = vt_conv3d(x, w, b, &p);
    ck_assert_msg(y0 && y1, "%s", vt_last_error());
    ck_assert_int_eq(y0->shape[2], 2);
    ck_assert_int_eq(y0->shape[4], 3);
    vt_expect_tensor_close(y0, y1, 0, 0, "default params");
    ck_assert_int_eq(vt_backward(vt_sum(y0, 0, NULL, 0)), VT_OK);
    for (int c = 0; c < 4; c++) ck_assert_float_eq_tol(b->grad->data[c], 2 * 2 * 3 * 3, 1e-5);
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
    vt_tensor *x = vt_tensor_new(VT_DIMS(2, 4, 5, 5, 5));
    vt_tensor *w3 = vt_tensor_new(VT_DIMS(6, 3, 3, 3, 3)); /* wants 3 input channels */
    vt_tensor *w4 = vt_tensor_new(VT_DIMS(6, 4, 3, 3, 3));
    vt_tensor *w_deep = vt_tensor_new(VT_DIMS(6, 4, 6, 3, 3));
    vt_tensor *w_g = vt_tensor_new(VT_DIMS(6, 2, 3, 3, 3));
    vt_tensor *w2d = vt_tensor_new(VT_DIMS(6, 4, 3, 3));
    vt_tensor *b5 = vt_tensor_new(VT_DIMS(5));
    vt_tensor *x4 = vt_tensor_new(VT_DIMS(2, 4, 5, 5));
    expect_error(vt_conv3d(x, w3, NULL, NULL), "input channels per group");
    expect_error(vt_conv3d(x, w_deep, NULL, NULL), "larger than the padded input");
    expect_error(vt_conv3d(x, w_deep, NULL, NULL), "along D");
    vt_conv3d_params pad1 = {{1, 1, 1}, {1, 0, 0}, {1, 1, 1}, 1};
    ck_assert_ptr_nonnull(vt_conv3d(x, w_deep, NULL, &pad1)); /* 6 <= 5 + 2 fits */
    vt_conv3d_params dil = {{1, 1, 1}, {0, 0, 0}, {1, 1, 3}, 1};
    expect_error(vt_conv3d(x, w4, NULL, &dil), "along W"); /* 7 > 5 */
    vt_conv3d_params g3 = {{1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 3};
    expect_error(vt_conv3d(x, w_g, NULL, &g3), "groups 3");
    vt_conv3d_params g2 = {{1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 2};
    ck_assert_ptr_nonnull(vt_conv3d(x, w_g, NULL, &g2));
    expect_error(vt_conv3d(x, w4, b5, NULL), "bias (5)");
    vt_conv3d_params s0 = {{1, 0, 1}, {0, 0, 0}, {1, 1, 1}, 1};
    expect_error(vt_conv3d(x, w4, NULL, &s0), "stride (1, 0, 1)");
    vt_conv3d_params neg = {{1, 1, 1}, {0, -1, 0}, {1, 1, 1}, 1};
    expect_error(vt_conv3d(x, w4, NULL, &neg), "pad (0, -1, 0)");
    expect_error(vt_conv3d(x4, w4, NULL, NULL), "(N, C_in, D, H, W)");
    expect_error(vt_conv3d(x, w2d, NULL, NULL), "(C_out, C_in/groups, kd, kh, kw)");
    ck_assert_ptr_null(vt_conv3d(NULL, w4, NULL, NULL));
    ck_assert_ptr_null(vt_conv3d(x, NULL, NULL, NULL));
    vt_tensor *all[] = {x, w3, w4, w_deep, w_g, w2d, b5, x4};
    for (int i = 0; i < 8; i++) vt_tensor_free(all[i]);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/conv3d");
    TCase *tc = tcase_create("conv3d");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, parity_with_pytorch, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, banded_tiles_match_direct_loops);
    tcase_add_test(tc, workspace_is_bounded);
    tcase_add_test(tc, thread_count_does_not_change_results);
    tcase_add_test(tc, default_params_and_bias_only_gradient);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
