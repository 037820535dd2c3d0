/* test_losses.c: cross-entropy (class weights, ignore_index, label smoothing, spatial,
 * sample weights, every reduction), BCE with logits (pos_weight, sample weights) and MSE
 * against torch.nn.functional (tests/ref/ref_softmax_losses.py), finite-difference
 * gradients, and argument errors. */
#include <math.h>
#include "losses.h"
#include "vt_test.h"

/* ---- cross-entropy wrappers: x[0] logits, x[1] targets, x[2] class weights, x[3] samples */
static vt_tensor *ce_with(vt_tensor **x, int n_in, vt_reduction r, float smooth, int ignore) {
    vt_ce_options o = vt_ce_options_default();
    o.class_weights = n_in > 2 ? x[2] : NULL;
    o.sample_weights = n_in > 3 ? x[3] : NULL;
    o.reduction = r;
    o.label_smoothing = smooth;
    o.ignore_index = ignore;
    return vt_cross_entropy(x[0], x[1], &o);
}
static vt_tensor *ce_default(vt_tensor **x, void *c) { return vt_cross_entropy(x[0], x[1], NULL); }
static vt_tensor *ce_w(vt_tensor **x, void *c) { return ce_with(x, 3, VT_REDUCE_MEAN, 0, -100); }
static vt_tensor *ce_w_smooth(vt_tensor **x, void *c) { return ce_with(x, 3, VT_REDUCE_MEAN, 0.1f, -100); }
static vt_tensor *ce_smooth02(vt_tensor **x, void *c) { return ce_with(x, 2, VT_REDUCE_MEAN, 0.2f, -100); }
static vt_tensor *ce_w_sum(vt_tensor **x, void *c) { return ce_with(x, 3, VT_REDUCE_SUM, 0, -100); }
static vt_tensor *ce_w_none(vt_tensor **x, void *c) { return ce_with(x, 3, VT_REDUCE_NONE, 0, -100); }
static vt_tensor *ce_w_smooth015(vt_tensor **x, void *c) { return ce_with(x, 3, VT_REDUCE_MEAN, 0.15f, -100); }
static vt_tensor *ce_none_ig1(vt_tensor **x, void *c) { return ce_with(x, 2, VT_REDUCE_NONE, 0, 1); }
static vt_tensor *ce_ws(vt_tensor **x, void *c) { return ce_with(x, 4, VT_REDUCE_MEAN, 0, -100); }
static vt_tensor *ce_ws_smooth(vt_tensor **x, void *c) { return ce_with(x, 4, VT_REDUCE_MEAN, 0.1f, -100); }
static vt_tensor *ce_ws_per_sample(vt_tensor **x, void *c) { return ce_with(x, 4, VT_REDUCE_PER_SAMPLE, 0, -100); }

/* ---- BCE / MSE wrappers */
static vt_tensor *bce_plain(vt_tensor **x, void *c) { return vt_bce_with_logits(x[0], x[1], NULL); }
static vt_tensor *bce_pw(vt_tensor **x, void *c) {
    vt_bce_options o = vt_bce_options_default();
    o.pos_weight = x[2];
    return vt_bce_with_logits(x[0], x[1], &o);
}
static vt_tensor *bce_sum(vt_tensor **x, void *c) {
    vt_bce_options o = vt_bce_options_default();
    o.reduction = VT_REDUCE_SUM;
    return vt_bce_with_logits(x[0], x[1], &o);
}
static vt_tensor *bce_pw_none(vt_tensor **x, void *c) {
    vt_bce_options o = {.pos_weight = x[2], .reduction = VT_REDUCE_NONE};
    return vt_bce_with_logits(x[0], x[1], &o);
}
static vt_tensor *bce_sw(vt_tensor **x, void *c) {
    vt_bce_options o = {.sample_weights = x[2], .reduction = VT_REDUCE_MEAN};
    return vt_bce_with_logits(x[0], x[1], &o);
}
static vt_tensor *bce_per_sample(vt_tensor **x, void *c) {
    vt_bce_options o = {.reduction = VT_REDUCE_PER_SAMPLE};
    return vt_bce_with_logits(x[0], x[1], &o);
}
static vt_tensor *mse_mean(vt_tensor **x, void *c) { return vt_mse_loss(x[0], x[1], VT_REDUCE_MEAN); }
static vt_tensor *mse_sum(vt_tensor **x, void *c) { return vt_mse_loss(x[0], x[1], VT_REDUCE_SUM); }
static vt_tensor *mse_none(vt_tensor **x, void *c) { return vt_mse_loss(x[0], x[1], VT_REDUCE_NONE); }

static const struct { const char *name; vt_test_fn fn; int n_in; } cases[] = {
    {"ce_plain", ce_default, 2},
    {"ce_weights", ce_w, 3},
    {"ce_ignore", ce_w, 3},
    {"ce_smooth", ce_w_smooth, 3},
    {"ce_smooth_plain", ce_smooth02, 2},
    {"ce_sum", ce_w_sum, 3},
    {"ce_none", ce_w_none, 3},
    {"ce_large", ce_default, 2},
    {"ce_spatial", ce_default, 2},
    {"ce_spatial_weights_smooth", ce_w_smooth015, 3},
    {"ce_spatial_none", ce_none_ig1, 2},
    {"ce_sample_weights", ce_ws, 4},
    {"ce_sample_weights_smooth", ce_ws_smooth, 4},
    {"ce_per_sample", ce_ws_per_sample, 4},
    {"ce_spatial_sample_weights", ce_ws, 4},
    {"bce_plain", bce_plain, 2},
    {"bce_pos_weight", bce_pw, 3},
    {"bce_large", bce_sum, 2},
    {"bce_none_pos_weight", bce_pw_none, 3},
    {"bce_sample_weights", bce_sw, 3},
    {"bce_per_sample", bce_per_sample, 2},
    {"mse_mean", mse_mean, 2},
    {"mse_sum", mse_sum, 2},
    {"mse_none", mse_none, 2},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

/* forward and the gradient of every input PyTorch differentiates (logits; BCE/MSE targets) */
START_TEST(parity_with_pytorch) {
    vt_check_fixture(cases[_i].name, cases[_i].n_in, cases[_i].fn, NULL, 2e-6, 2e-5);
    vt_arena_reset(NULL);
}
END_TEST

/* finite differences w.r.t. the logits / predictions (input 0) */
START_TEST(gradient_matches_finite_differences) {
    vt_check_gradient_at_fixture(cases[_i].name, cases[_i].n_in, 1u, cases[_i].fn, NULL, 1e-2, 1e-3,
                                 1e-2, 0);
}
END_TEST

/* Independent of torch: with uniform logits CE = log(C), and with label smoothing 1 the
 * loss does not depend on the target. */
START_TEST(cross_entropy_closed_forms) {
    vt_tensor *x = vt_tensor_new(VT_DIMS(3, 4)); /* zeros: softmax uniform */
    vt_tensor *t = vt_tensor_from_data(VT_DIMS(3), (float[]){0, 3, 1});
    vt_tensor *l = vt_cross_entropy(x, t, NULL);
    ck_assert_msg(l != NULL, "%s", vt_last_error());
    ck_assert_int_eq(l->numel, 1);
    ck_assert_float_eq_tol(l->data[0], logf(4.f), 1e-6);
    vt_tensor_uniform_(x, -2.f, 2.f);
    vt_ce_options o = vt_ce_options_default();
    o.label_smoothing = 1.f;
    float a = vt_cross_entropy(x, t, &o)->data[0];
    t->data[0] = 2.f;
    float b = vt_cross_entropy(x, t, &o)->data[0];
    ck_assert_float_eq_tol(a, b, 1e-6);
    /* all positions ignored: 0/0 = NaN, as PyTorch */
    for (int i = 0; i < 3; i++) t->data[i] = -100.f;
    ck_assert(isnan(vt_cross_entropy(x, t, NULL)->data[0]));
    vt_tensor_free(x);
    vt_tensor_free(t);
    vt_arena_reset(NULL);
}
END_TEST

START_TEST(bad_arguments_are_errors) {
    vt_tensor *x = vt_tensor_new(VT_DIMS(2, 3)), *t = vt_tensor_from_data(VT_DIMS(2), (float[]){0, 3});
    ck_assert_ptr_null(vt_cross_entropy(x, t, NULL));
    ck_assert_msg(strstr(vt_last_error(), "target 3") != NULL, "%s", vt_last_error());
    vt_tensor *t2 = vt_tensor_new(VT_DIMS(3));
    ck_assert_ptr_null(vt_cross_entropy(x, t2, NULL));
    ck_assert_msg(strstr(vt_last_error(), "do not match") != NULL, "%s", vt_last_error());
    t->data[1] = 1.f;
    vt_ce_options o = vt_ce_options_default();
    o.class_weights = t2; /* (3) is right for C = 3 */
    ck_assert_ptr_nonnull(vt_cross_entropy(x, t, &o));
    o.class_weights = t; /* (2) is not */
    ck_assert_ptr_null(vt_cross_entropy(x, t, &o));
    ck_assert_msg(strstr(vt_last_error(), "class_weights") != NULL, "%s", vt_last_error());
    o = vt_ce_options_default();
    o.sample_weights = t2; /* (3) for N = 2 */
    ck_assert_ptr_null(vt_cross_entropy(x, t, &o));
    ck_assert_msg(strstr(vt_last_error(), "sample_weights") != NULL, "%s", vt_last_error());
    o = vt_ce_options_default();
    o.label_smoothing = 1.5f;
    ck_assert_ptr_null(vt_cross_entropy(x, t, &o));
    o = vt_ce_options_default();
    o.reduction = (vt_reduction)42;
    ck_assert_ptr_null(vt_cross_entropy(x, t, &o));
    ck_assert_ptr_null(vt_cross_entropy(NULL, t, NULL));
    ck_assert_ptr_null(vt_bce_with_logits(x, t, NULL));
    ck_assert_msg(strstr(vt_last_error(), "one shape") != NULL, "%s", vt_last_error());
    vt_tensor *pw = vt_tensor_new(VT_DIMS(2));
    vt_bce_options bo = {.pos_weight = pw};
    ck_assert_ptr_null(vt_bce_with_logits(x, x, &bo));
    ck_assert_msg(strstr(vt_last_error(), "pos_weight") != NULL, "%s", vt_last_error());
    ck_assert_ptr_null(vt_mse_loss(x, t, VT_REDUCE_MEAN));
    vt_tensor_free(x); vt_tensor_free(t); vt_tensor_free(t2); vt_tensor_free(pw);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("losses");
    TCase *tc = tcase_create("losses");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, parity_with_pytorch, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, cross_entropy_closed_forms);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
