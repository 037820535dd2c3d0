/* test_norm_layers.c: instance / group norm layers: PyTorch parameter names and initial
 * values, forward equal to the op, gradients reaching the parameter store, init errors. */
#include "layers.h"
#include "vt_test.h"

START_TEST(group_norm_layer_names_init_and_forward) {
    vt_params *p = vt_params_new();
    vt_group_norm_layer gn;
    ck_assert_int_eq(vt_group_norm_layer_init(&gn, p, "enc.norm1", 2, 4), VT_OK);
    ck_assert_int_eq(vt_params_finalize(p), VT_OK);
    ck_assert_int_eq(vt_params_count(p), 2);
    ck_assert_str_eq(vt_params_name(p, 0), "enc.norm1.weight");
    ck_assert_str_eq(vt_params_name(p, 1), "enc.norm1.bias");
    ck_assert_ptr_eq(vt_params_find(p, "enc.norm1.weight"), gn.weight);
    for (int c = 0; c < 4; c++) {
        ck_assert_float_eq(gn.weight->data[c], 1.f);
        ck_assert_float_eq(gn.bias->data[c], 0.f);
    }
    vt_tensor *x = vt_test_rand(VT_DIMS(2, 4, 3, 3), -1, 1, 3);
    vt_tensor *y = vt_group_norm_layer_forward(&gn, x);
    vt_tensor *want = vt_group_norm(x, 2, NULL, NULL, 1e-5f);
    vt_expect_tensor_close(y, want, 0, 0, "layer vs op");
    ck_assert_int_eq(vt_backward(vt_sum(y, 0, NULL, 0)), VT_OK);
    /* d sum(y) / d bias = N * spatial = 18 per channel (a view into the store's gradients) */
    ck_assert_ptr_nonnull(gn.bias->grad);
    for (int c = 0; c < 4; c++) ck_assert_float_eq_tol(gn.bias->grad->data[c], 18.f, 1e-4);
    vt_tensor_free(x);
    vt_params_free(p);
    vt_arena_reset(NULL);
}
END_TEST

START_TEST(instance_norm_layer_affine_and_not) {
    vt_params *p = vt_params_new();
    vt_instance_norm_layer plain, aff;
    ck_assert_int_eq(vt_instance_norm_layer_init(&plain, p, "in0", 3, 0), VT_OK);
    ck_assert_int_eq(vt_params_count(p), 0);
    ck_assert_ptr_null(plain.weight);
    ck_assert_int_eq(vt_instance_norm_layer_init(&aff, p, "in1", 3, 1), VT_OK);
    ck_assert_int_eq(vt_params_finalize(p), VT_OK);
    ck_assert_int_eq(vt_params_count(p), 2);
    ck_assert_str_eq(vt_params_name(p, 0), "in1.weight");
    ck_assert_str_eq(vt_params_name(p, 1), "in1.bias");
    aff.bias->data[1] = 0.5f;
    vt_tensor *x = vt_test_rand(VT_DIMS(1, 3, 2, 2, 2), -1, 1, 4);
    vt_tensor *y0 = vt_instance_norm_layer_forward(&plain, x);
    vt_tensor *y1 = vt_instance_norm_layer_forward(&aff, x);
    ck_assert_msg(y0 && y1, "%s", vt_last_error());
    for (int64_t i = 0; i < y0->numel; i++)
        ck_assert_float_eq_tol(y1->data[i] - y0->data[i], i / 8 == 1 ? 0.5f : 0.f, 1e-6);
    vt_tensor *x4 = vt_test_rand(VT_DIMS(1, 4, 2, 2), -1, 1, 5);
    ck_assert_ptr_null(vt_instance_norm_layer_forward(&aff, x4));
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "weight (3) must be (4)"));
    ck_assert_ptr_nonnull(vt_instance_norm_layer_forward(&plain, x4)); /* as PyTorch */
    vt_tensor_free(x);
    vt_tensor_free(x4);
    vt_params_free(p);
    vt_arena_reset(NULL);
}
END_TEST

START_TEST(bad_init_is_an_error) {
    vt_params *p = vt_params_new();
    vt_group_norm_layer gn;
    vt_instance_norm_layer in;
    ck_assert_int_eq(vt_group_norm_layer_init(&gn, p, "gn", 3, 4), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "gn: 3 groups must be >= 1 and divide 4 channels"));
    ck_assert_int_eq(vt_group_norm_layer_init(&gn, p, "gn", 0, 4), VT_ERR);
    ck_assert_int_eq(vt_instance_norm_layer_init(&in, p, "in", 0, 1), VT_ERR);
    ck_assert_int_eq(vt_params_count(p), 0);
    vt_params_free(p);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("layers/norm_layers");
    TCase *tc = tcase_create("norm_layers");
    tcase_add_test(tc, group_norm_layer_names_init_and_forward);
    tcase_add_test(tc, instance_norm_layer_affine_and_not);
    tcase_add_test(tc, bad_init_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
