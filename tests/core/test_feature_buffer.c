/* test_feature_buffer.c: vt_batch_norm_prefix and the dense-block feature buffer
 * (vt_feature_buffer_new / _append) against the plain slice + concat formulation they
 * replace, and finite differences through a two-layer dense chain. */
#include <math.h>
#include "vt_test.h"

static vt_tensor *bn_w, *bn_b;

/* BN (train) of the first 3 of 5 channels, in place vs. slice-then-normalise */
static vt_tensor *f_prefix(vt_tensor **in, void *ctx) {
    int training = ctx != NULL;
    vt_tensor *rm = vt_tensor_new(VT_DIMS(3)), *rv = vt_tensor_new(VT_DIMS(3));
    vt_tensor_fill(rv, 1.f);
    vt_tensor *y = vt_batch_norm_prefix(in[0], 3, in[1], in[2], rm, rv, training, 0.1f, 1e-5f);
    vt_tensor_free(rm);
    vt_tensor_free(rv);
    return y;
}
static vt_tensor *f_slice(vt_tensor **in, void *ctx) {
    int training = ctx != NULL;
    vt_tensor *rm = vt_tensor_new(VT_DIMS(3)), *rv = vt_tensor_new(VT_DIMS(3));
    vt_tensor_fill(rv, 1.f);
    vt_tensor *y = vt_batch_norm(vt_slice(in[0], 1, 0, 3), in[1], in[2], rm, rv, training, 0.1f, 1e-5f);
    vt_tensor_free(rm);
    vt_tensor_free(rv);
    return y;
}

static void compare(vt_test_fn a, vt_test_fn b, void *ctx, int n_in, vt_tensor **in, int64_t gy_n,
                    const char *what) {
    vt_tensor *ya = a(in, ctx);
    ck_assert_msg(ya != NULL, "%s", vt_last_error());
    vt_tensor *gy = vt_test_rand(ya->ndim, ya->shape, -1, 1, 99);
    ck_assert_int_eq(ya->numel, gy_n);
    ck_assert_int_eq(vt_backward_with(ya, gy), VT_OK);
    vt_tensor *ya_c = vt_tensor_clone(ya), *ga[4];
    for (int i = 0; i < n_in; i++) { ga[i] = vt_tensor_clone(in[i]->grad); vt_tensor_zero_grad(in[i]); }
    vt_tensor *yb = b(in, ctx);
    ck_assert_msg(yb != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_backward_with(yb, gy), VT_OK);
    vt_expect_tensor_close(ya_c, yb, 1e-6, 1e-5, what);
    for (int i = 0; i < n_in; i++) {
        vt_expect_tensor_close(ga[i], in[i]->grad, 1e-5, 1e-4, what);
        vt_tensor_zero_grad(in[i]);
        vt_tensor_free(ga[i]);
    }
    vt_tensor_free(ya_c);
    vt_tensor_free(gy);
    vt_arena_reset(NULL);
}

START_TEST(batch_norm_prefix_equals_slice_then_batch_norm) {
    vt_tensor *x = vt_test_rand(VT_DIMS(2, 5, 3, 4), -2, 2, 1);
    bn_w = vt_test_rand(VT_DIMS(3), 0.5f, 1.5f, 2);
    bn_b = vt_test_rand(VT_DIMS(3), -1, 1, 3);
    vt_tensor *in[3] = {x, bn_w, bn_b};
    compare(f_prefix, f_slice, (void *)1, 3, in, 2 * 3 * 12, "bn prefix (train)");
    compare(f_prefix, f_slice, NULL, 3, in, 2 * 3 * 12, "bn prefix (eval)");
    vt_check_gradient(f_prefix, (void *)1, 3, in, 1e-3, 2e-3, 2e-3, 0);
    vt_tensor_free(x);
    vt_tensor_free(bn_w);
    vt_tensor_free(bn_b);
}
END_TEST

/* two dense layers, growth 2, on x (2, 2, 3, 3): layer l normalises all channels so far,
 * a 3x3 conv makes 2 new channels. Buffer version vs. concatenation version. */
static vt_tensor *dense_buffer(vt_tensor **in, void *ctx) {
    vt_conv2d_params p = {{1, 1}, {1, 1}, {1, 1}, 1};
    vt_tensor *b = vt_feature_buffer_new(in[0], 6);
    vt_tensor *f1 = vt_conv2d(vt_relu(vt_batch_norm_prefix(b, 2, NULL, NULL, NULL, NULL, 1, 0.1f, 1e-5f)), in[1], NULL, &p);
    b = vt_feature_buffer_append(b, f1, 2);
    vt_tensor *f2 = vt_conv2d(vt_relu(vt_batch_norm_prefix(b, 4, NULL, NULL, NULL, NULL, 1, 0.1f, 1e-5f)), in[2], NULL, &p);
    return vt_feature_buffer_append(b, f2, 4);
}
static vt_tensor *dense_concat(vt_tensor **in, void *ctx) {
    vt_conv2d_params p = {{1, 1}, {1, 1}, {1, 1}, 1};
    vt_tensor *b = in[0];
    vt_tensor *f1 = vt_conv2d(vt_relu(vt_batch_norm(b, NULL, NULL, NULL, NULL, 1, 0.1f, 1e-5f)), in[1], NULL, &p);
    b = vt_concat(2, (vt_tensor *[]){b, f1}, 1);
    vt_tensor *f2 = vt_conv2d(vt_relu(vt_batch_norm(b, NULL, NULL, NULL, NULL, 1, 0.1f, 1e-5f)), in[2], NULL, &p);
    return vt_concat(2, (vt_tensor *[]){b, f2}, 1);
}

START_TEST(feature_buffer_equals_concatenation) {
    vt_tensor *x = vt_test_rand(VT_DIMS(2, 2, 3, 3), -1, 1, 4);
    vt_tensor *w1 = vt_test_rand(VT_DIMS(2, 2, 3, 3), -0.5f, 0.5f, 5);
    vt_tensor *w2 = vt_test_rand(VT_DIMS(2, 4, 3, 3), -0.5f, 0.5f, 6);
    vt_tensor *in[3] = {x, w1, w2};
    compare(dense_buffer, dense_concat, NULL, 3, in, 2 * 6 * 9, "dense buffer vs concat");
    vt_check_gradient(dense_buffer, NULL, 3, in, 1e-3, 3e-3, 3e-3, 0);
    vt_tensor_free(x);
    vt_tensor_free(w1);
    vt_tensor_free(w2);
}
END_TEST

START_TEST(bad_arguments_give_errors) {
    vt_tensor *x = vt_test_rand(VT_DIMS(2, 3, 4, 4), -1, 1, 7);
    ck_assert_ptr_null(vt_batch_norm_prefix(x, 4, NULL, NULL, NULL, NULL, 1, 0.1f, 1e-5f));
    ck_assert_msg(strstr(vt_last_error(), "4 channels to normalise, input (2, 3, 4, 4) has 3") != NULL, "%s", vt_last_error());
    ck_assert_ptr_null(vt_feature_buffer_new(x, 2));
    ck_assert_msg(strstr(vt_last_error(), "2 channels cannot hold input (2, 3, 4, 4)") != NULL, "%s", vt_last_error());
    vt_tensor *b = vt_feature_buffer_new(x, 5);
    ck_assert_ptr_nonnull(b);
    for (int64_t i = 3 * 16; i < 5 * 16; i++) ck_assert_float_eq(b->data[i], 0.f); /* unwritten: zeros */
    vt_tensor *f = vt_test_rand(VT_DIMS(2, 3, 4, 4), -1, 1, 8);
    ck_assert_ptr_null(vt_feature_buffer_append(b, f, 3));
    ck_assert_msg(strstr(vt_last_error(), "does not fit buffer") != NULL, "%s", vt_last_error());
    vt_tensor *g = vt_test_rand(VT_DIMS(2, 2, 4, 5), -1, 1, 9);
    ck_assert_ptr_null(vt_feature_buffer_append(b, g, 3));
    ck_assert_msg(strstr(vt_last_error(), "equal N and spatial sizes") != NULL, "%s", vt_last_error());
    ck_assert_ptr_null(vt_feature_buffer_append(x, f, 0));
    vt_arena_reset(NULL);
    vt_tensor_free(x);
    vt_tensor_free(f);
    vt_tensor_free(g);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("feature_buffer");
    TCase *t = tcase_create("feature_buffer");
    tcase_add_test(t, batch_norm_prefix_equals_slice_then_batch_norm);
    tcase_add_test(t, feature_buffer_equals_concatenation);
    tcase_add_test(t, bad_arguments_give_errors);
    suite_add_tcase(s, t);
    return s;
}

VT_TEST_MAIN(suite)
