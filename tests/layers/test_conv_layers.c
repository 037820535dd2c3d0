/* test_conv_layers.c: conv3d and transposed-conv layers: PyTorch's default init bounds
 * (sample statistics of the drawn weights), parameter names and shapes, output shapes, and
 * bad-geometry errors. */
#include <math.h>
#include "layers.h"
#include "vt_test.h"

/* Every |v| <= bound, the largest near the bound, mean ~ 0 and variance ~ bound^2 / 3 (the
 * uniform distribution's), with margins of > 5 standard errors for n values. */
static void expect_uniform(const vt_tensor *t, float bound, const char *what) {
    double sum = 0, sq = 0, top = 0;
    for (int64_t i = 0; i < t->numel; i++) {
        double v = t->data[i];
        ck_assert_msg(fabs(v) <= bound, "%s: |%g| exceeds bound %g", what, v, bound);
        sum += v;
        sq += v * v;
        if (fabs(v) > top) top = fabs(v);
    }
    double n = (double)t->numel, mean = sum / n, var = sq / n - mean * mean;
    ck_assert_msg(top >= 0.9 * bound, "%s: max |w| %g far below bound %g", what, top, bound);
    ck_assert_msg(fabs(mean) <= 6 * bound / sqrt(3 * n), "%s: mean %g", what, mean);
    double want = (double)bound * bound / 3;
    ck_assert_msg(fabs(var - want) <= 6 * sqrt(0.8 / n) * want, "%s: variance %g, want %g", what,
                  var, want);
}

/* torch: ConvTranspose fan_in = weight.shape[1] * prod(kernel) = C_out * k^d. C_in != C_out
 * here, so the conv formula (C_in * k^d) would give a bound 1.41x too large and fail. */
START_TEST(transposed_init_matches_pytorch_formula) {
    vt_seed(7);
    vt_params *ps = vt_params_new();
    vt_conv_transpose2d_layer up2;
    ck_assert_int_eq(vt_conv_transpose2d_layer_init(&up2, ps, "up2", 6, 12, 4, 2, 1, 0, 1), VT_OK);
    ck_assert_ptr_eq(vt_params_find(ps, "up2.weight"), up2.weight);
    ck_assert_ptr_eq(vt_params_find(ps, "up2.bias"), up2.bias);
    ck_assert_int_eq(up2.weight->shape[0], 6);
    ck_assert_int_eq(up2.weight->shape[1], 12);
    expect_uniform(up2.weight, 1.f / sqrtf(12 * 16), "conv_transpose2d weight");
    for (int64_t i = 0; i < up2.bias->numel; i++)
        ck_assert_float_le(fabsf(up2.bias->data[i]), 1.f / sqrtf(12 * 16));

    vt_conv_transpose3d_layer up3;
    ck_assert_int_eq(vt_conv_transpose3d_layer_init(&up3, ps, "dec.up", 4, 8, 2, 2, 0, 0, 0), VT_OK);
    ck_assert_ptr_null(up3.bias);
    ck_assert_ptr_null(vt_params_find(ps, "dec.up.bias"));
    ck_assert_int_eq(up3.weight->ndim, 5);
    expect_uniform(up3.weight, 1.f / sqrtf(8 * 8), "conv_transpose3d weight");
    vt_params_free(ps);
}
END_TEST

START_TEST(conv3d_init_matches_pytorch_formula) {
    vt_seed(8);
    vt_params *ps = vt_params_new();
    vt_conv3d_layer c;
    ck_assert_int_eq(vt_conv3d_layer_init(&c, ps, "enc.conv1", 4, 16, 3, 1, 1, 1), VT_OK);
    ck_assert_ptr_eq(vt_params_find(ps, "enc.conv1.weight"), c.weight);
    ck_assert_int_eq(c.weight->shape[0], 16);
    ck_assert_int_eq(c.weight->shape[1], 4);
    expect_uniform(c.weight, 1.f / sqrtf(4 * 27), "conv3d weight");
    for (int64_t i = 0; i < c.bias->numel; i++) /* 16 values: only the bound is sharp */
        ck_assert_float_le(fabsf(c.bias->data[i]), 1.f / sqrtf(4 * 27));
    vt_params_free(ps);
}
END_TEST

/* UNet-style: conv3d keeps the size with pad 1, the transposed layers double it. */
START_TEST(forward_shapes) {
    vt_seed(9);
    vt_params *ps = vt_params_new();
    vt_conv3d_layer c;
    vt_conv_transpose2d_layer t2;
    vt_conv_transpose3d_layer t3;
    ck_assert_int_eq(vt_conv3d_layer_init(&c, ps, "c", 2, 4, 3, 1, 1, 1), VT_OK);
    ck_assert_int_eq(vt_conv_transpose3d_layer_init(&t3, ps, "t3", 4, 2, 2, 2, 0, 0, 1), VT_OK);
    ck_assert_int_eq(vt_conv_transpose2d_layer_init(&t2, ps, "t2", 3, 5, 3, 2, 1, 1, 1), VT_OK);
    vt_tensor *x = vt_test_rand(VT_DIMS(2, 2, 3, 4, 5), -1, 1, 3);
    vt_tensor *y = vt_conv_transpose3d_layer_forward(&t3, vt_conv3d_layer_forward(&c, x));
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    int64_t want[5] = {2, 2, 6, 8, 10};
    for (int k = 0; k < 5; k++) ck_assert_int_eq(y->shape[k], want[k]);
    vt_tensor *x2 = vt_test_rand(VT_DIMS(1, 3, 4, 7), -1, 1, 4);
    vt_tensor *y2 = vt_conv_transpose2d_layer_forward(&t2, x2);
    ck_assert_msg(y2 != NULL, "%s", vt_last_error());
    ck_assert_int_eq(y2->shape[1], 5);
    ck_assert_int_eq(y2->shape[2], 8); /* (4-1)*2 - 2 + 3 + 1 */
    ck_assert_int_eq(y2->shape[3], 14);
    ck_assert_int_eq(vt_backward(vt_sum(y, 0, NULL, 0)), VT_OK);
    ck_assert_ptr_nonnull(c.weight->grad);
    ck_assert_ptr_nonnull(t3.bias->grad);
    vt_tensor_free(x);
    vt_tensor_free(x2);
    vt_params_free(ps);
    vt_arena_reset(NULL);
}
END_TEST

START_TEST(bad_geometry_is_an_error) {
    vt_params *ps = vt_params_new();
    vt_conv_transpose2d_layer t2;
    vt_conv3d_layer c;
    ck_assert_int_eq(vt_conv_transpose2d_layer_init(&t2, ps, "up", 4, 4, 2, 2, 0, 2, 1), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "conv_transpose2d up: bad geometry") != NULL, "%s",
                  vt_last_error());
    ck_assert_int_eq(vt_conv3d_layer_init(&c, ps, "c", 0, 4, 3, 1, 1, 1), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "conv3d c: bad geometry (c_in 0") != NULL, "%s",
                  vt_last_error());
    vt_params_free(ps);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("layers/conv_layers");
    TCase *tc = tcase_create("conv_layers");
    tcase_add_test(tc, transposed_init_matches_pytorch_formula);
    tcase_add_test(tc, conv3d_init_matches_pytorch_formula);
    tcase_add_test(tc, forward_shapes);
    tcase_add_test(tc, bad_geometry_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
