/* test_losses_extra.c: losses_extra.h against PyTorch / torchvision / MONAI-as-written /
 * ivadomed-as-written / official SupCon (tests/ref/ref_losses_extra.py): forward and every
 * differentiable input's gradient, finite differences, closed forms, SPL weights and
 * schedule by hand, and argument errors. */
#include <math.h>
#include "losses.h"
#include "vt_test.h"

/* ---- wrappers: x[] are the fixture inputs */
static vt_tensor *l1_mean(vt_tensor **x, void *c) { return vt_l1_loss(x[0], x[1], VT_REDUCE_MEAN); }
static vt_tensor *l1_none(vt_tensor **x, void *c) { return vt_l1_loss(x[0], x[1], VT_REDUCE_NONE); }
static vt_tensor *sl1_mean(vt_tensor **x, void *c) { return vt_smooth_l1_loss(x[0], x[1], 1.f, VT_REDUCE_MEAN); }
static vt_tensor *sl1_b05_sum(vt_tensor **x, void *c) { return vt_smooth_l1_loss(x[0], x[1], 0.5f, VT_REDUCE_SUM); }
static vt_tensor *sl1_b0_none(vt_tensor **x, void *c) { return vt_smooth_l1_loss(x[0], x[1], 0.f, VT_REDUCE_NONE); }
static vt_tensor *huber_d2(vt_tensor **x, void *c) { return vt_huber_loss(x[0], x[1], 2.f, VT_REDUCE_MEAN); }
static vt_tensor *huber_d03_ps(vt_tensor **x, void *c) { return vt_huber_loss(x[0], x[1], 0.3f, VT_REDUCE_PER_SAMPLE); }

static vt_tensor *focal_none(vt_tensor **x, void *c) { return vt_sigmoid_focal_loss(x[0], x[1], 0.25f, 2.f, VT_REDUCE_NONE); }
static vt_tensor *focal_mean(vt_tensor **x, void *c) { return vt_sigmoid_focal_loss(x[0], x[1], 0.25f, 2.f, VT_REDUCE_MEAN); }
static vt_tensor *focal_soft(vt_tensor **x, void *c) { return vt_sigmoid_focal_loss(x[0], x[1], -1.f, 1.5f, VT_REDUCE_SUM); }
static vt_tensor *focal_g0(vt_tensor **x, void *c) { return vt_sigmoid_focal_loss(x[0], x[1], 0.6f, 0.f, VT_REDUCE_PER_SAMPLE); }

static vt_tensor *dice_with(vt_tensor **x, vt_dice_activation act, int bg, int onehot, int sq,
                            int batch, float nr, float dr, vt_reduction r) {
    vt_dice_options o = vt_dice_options_default();
    o.activation = act; o.include_background = bg; o.to_onehot_y = onehot;
    o.squared_pred = sq; o.batch = batch; o.smooth_nr = nr; o.smooth_dr = dr; o.reduction = r;
    return vt_dice_loss(x[0], x[1], &o);
}
static vt_tensor *dice_sig(vt_tensor **x, void *c) { return vt_dice_loss(x[0], x[1], NULL); }
static vt_tensor *dice_sm_nobg(vt_tensor **x, void *c) { return dice_with(x, VT_DICE_ACT_SOFTMAX, 0, 0, 0, 0, 1e-5f, 1e-5f, VT_REDUCE_MEAN); }
static vt_tensor *dice_sq_batch(vt_tensor **x, void *c) { return dice_with(x, VT_DICE_ACT_SIGMOID, 1, 0, 1, 1, 1e-5f, 1e-5f, VT_REDUCE_SUM); }
static vt_tensor *dice_none(vt_tensor **x, void *c) { return dice_with(x, VT_DICE_ACT_NONE, 1, 0, 0, 0, 1e-5f, 1e-5f, VT_REDUCE_NONE); }
static vt_tensor *dice_onehot(vt_tensor **x, void *c) { return dice_with(x, VT_DICE_ACT_SOFTMAX, 1, 1, 0, 0, 1e-5f, 1e-5f, VT_REDUCE_MEAN); }
static vt_tensor *dice_onehot_ps(vt_tensor **x, void *c) { return dice_with(x, VT_DICE_ACT_SOFTMAX, 0, 1, 0, 0, 0.f, 1e-3f, VT_REDUCE_PER_SAMPLE); }

static vt_tensor *awing_default(vt_tensor **x, void *c) { return vt_adaptive_wing_loss(x[0], x[1], NULL); }
static vt_tensor *awing_none(vt_tensor **x, void *c) {
    vt_adaptive_wing_options o = vt_adaptive_wing_options_default();
    o.reduction = VT_REDUCE_NONE;
    return vt_adaptive_wing_loss(x[0], x[1], &o);
}
static vt_tensor *awing_params(vt_tensor **x, void *c) {
    vt_adaptive_wing_options o = {.theta = 0.3f, .alpha = 2.5f, .omega = 5.f, .epsilon = 0.5f,
                                  .reduction = VT_REDUCE_SUM};
    return vt_adaptive_wing_loss(x[0], x[1], &o);
}

static vt_tensor *supcon_mean(vt_tensor **x, void *c) { return vt_supcon_loss(x[0], x[1], 0.07f, 0.07f, VT_REDUCE_MEAN); }
static vt_tensor *supcon_none(vt_tensor **x, void *c) { return vt_supcon_loss(x[0], x[1], 0.5f, 0.07f, VT_REDUCE_NONE); }
static vt_tensor *supcon_t02(vt_tensor **x, void *c) { return vt_supcon_loss(x[0], x[1], 0.2f, 0.2f, VT_REDUCE_MEAN); }
static vt_tensor *supcon_t01(vt_tensor **x, void *c) { return vt_supcon_loss(x[0], x[1], 0.1f, 0.1f, VT_REDUCE_MEAN); }

static vt_tensor *giou_none(vt_tensor **x, void *c) { return vt_giou_loss(x[0], x[1], VT_REDUCE_NONE); }
static vt_tensor *giou_mean(vt_tensor **x, void *c) { return vt_giou_loss(x[0], x[1], VT_REDUCE_MEAN); }
static vt_tensor *giou_sum(vt_tensor **x, void *c) { return vt_giou_loss(x[0], x[1], VT_REDUCE_SUM); }

static vt_tensor *uw_plain(vt_tensor **x, void *c) { return vt_uncertainty_weighted_sum(x[0], 3, x + 1, NULL); }
static vt_tensor *uw_mixed(vt_tensor **x, void *c) {
    static const vt_uw_task kinds[3] = {VT_UW_REGRESSION, VT_UW_CLASSIFICATION, VT_UW_PLAIN};
    return vt_uncertainty_weighted_sum(x[0], 3, x + 1, kinds);
}

/* probe: inputs the finite-difference check perturbs (class labels / one-hot indices never) */
static const struct { const char *name; vt_test_fn fn; int n_in; unsigned probe; double atol; } cases[] = {
    {"l1_mean", l1_mean, 2, 3u, 2e-6},
    {"l1_none", l1_none, 2, 3u, 2e-6},
    {"smooth_l1_mean", sl1_mean, 2, 3u, 2e-6},
    {"smooth_l1_b05_sum", sl1_b05_sum, 2, 3u, 2e-5},
    {"smooth_l1_b0_none", sl1_b0_none, 2, 3u, 2e-6},
    {"huber_d2_mean", huber_d2, 2, 3u, 2e-6},
    {"huber_d03_per_sample", huber_d03_ps, 2, 3u, 2e-6},
    {"focal_default_none", focal_none, 2, 1u, 2e-6},
    {"focal_mean", focal_mean, 2, 1u, 2e-6},
    {"focal_soft_noalpha_sum", focal_soft, 2, 3u, 2e-5},
    {"focal_g0_per_sample", focal_g0, 2, 1u, 2e-6},
    {"dice_sigmoid_2d", dice_sig, 2, 3u, 2e-6},
    {"dice_softmax_nobg_2d", dice_sm_nobg, 2, 1u, 2e-6},
    {"dice_squared_batch_2d", dice_sq_batch, 2, 3u, 2e-6},
    {"dice_none_act_none_2d", dice_none, 2, 3u, 2e-6},
    {"dice_softmax_onehot_3d", dice_onehot, 2, 1u, 2e-6},
    {"dice_onehot_smooth_per_sample_3d", dice_onehot_ps, 2, 1u, 2e-6},
    {"awing_default", awing_default, 2, 1u, 2e-5}, /* not the target: at d = 0, FD in y moves q */
    {"awing_binary_target_none", awing_none, 2, 1u, 2e-5},
    {"awing_params_sum", awing_params, 2, 3u, 1e-4},
    {"supcon_mean", supcon_mean, 2, 1u, 2e-5},
    {"supcon_t05_none", supcon_none, 2, 1u, 2e-5},
    {"supcon_all_positive", supcon_t02, 2, 1u, 2e-5},
    {"supcon_infonce", supcon_t01, 2, 1u, 2e-5},
    {"giou_none", giou_none, 2, 3u, 2e-6},
    {"giou_mean", giou_mean, 2, 3u, 2e-6},
    {"giou_sum", giou_sum, 2, 3u, 2e-6},
    {"uw_plain", uw_plain, 4, 15u, 2e-6},
    {"uw_mixed", uw_mixed, 4, 15u, 2e-6},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

START_TEST(parity_with_reference) {
    vt_check_fixture(cases[_i].name, cases[_i].n_in, cases[_i].fn, NULL, cases[_i].atol, 2e-5);
    vt_arena_reset(NULL);
}
END_TEST

START_TEST(gradient_matches_finite_differences) {
    vt_check_gradient_at_fixture(cases[_i].name, cases[_i].n_in, cases[_i].probe, cases[_i].fn, NULL,
                                 1e-3, 2e-3, 1e-2, 24);
    vt_arena_reset(NULL);
}
END_TEST

/* Independent of any reference: perfect predictions, known Dice / GIoU values. */
START_TEST(closed_forms) {
    /* Dice without activation: p = t gives 1 - (2S + s)/(2S + s) = 0; p = 1 - t gives ~1 */
    vt_tensor *t = vt_tensor_from_data(VT_DIMS(1, 2, 2, 2), (float[]){1, 0, 1, 1, 0, 1, 0, 0});
    vt_tensor *nt = vt_tensor_from_data(VT_DIMS(1, 2, 2, 2), (float[]){0, 1, 0, 0, 1, 0, 1, 1});
    vt_dice_options o = vt_dice_options_default();
    o.activation = VT_DICE_ACT_NONE;
    vt_tensor *l = vt_dice_loss(t, t, &o);
    ck_assert_msg(l != NULL, "%s", vt_last_error());
    ck_assert_float_eq_tol(l->data[0], 0.f, 1e-6);
    ck_assert_float_eq_tol(vt_dice_loss(nt, t, &o)->data[0], 1.f, 1e-5);
    /* GIoU: identical boxes 0; disjoint unit boxes (0,0,1,1), (2,0,3,1): 1 - 0 + (3 - 2) / 3 */
    vt_tensor *b1 = vt_tensor_from_data(VT_DIMS(2, 4), (float[]){0, 0, 1, 1, 0, 0, 2, 2});
    vt_tensor *b2 = vt_tensor_from_data(VT_DIMS(2, 4), (float[]){2, 0, 3, 1, 0, 0, 2, 2});
    vt_tensor *g = vt_giou_loss(b1, b2, VT_REDUCE_NONE);
    ck_assert_float_eq_tol(g->data[0], 1.f + 1.f / 3.f, 1e-6);
    ck_assert_float_eq_tol(g->data[1], 0.f, 1e-6);
    /* Adaptive Wing is continuous at d = theta: both branches agree just below and above */
    vt_tensor *y = vt_tensor_from_data(VT_DIMS(1, 2), (float[]){0.3f, 0.3f});
    vt_tensor *yh = vt_tensor_from_data(VT_DIMS(1, 2), (float[]){0.3f + 0.49999f, 0.3f + 0.50001f});
    vt_adaptive_wing_options ao = vt_adaptive_wing_options_default();
    ao.reduction = VT_REDUCE_NONE;
    vt_tensor *aw = vt_adaptive_wing_loss(yh, y, &ao);
    ck_assert_float_eq_tol(aw->data[0], aw->data[1], 1e-3);
    /* SupCon with orthogonal classes collapsed to points: log(N - 1) - log(#pos) ... here
     * 4 samples, 2 classes, same-class features identical, classes orthogonal, T = 1:
     * l_i = -(1 - log(e^1 + 2 e^0)) */
    vt_tensor *f = vt_tensor_from_data(VT_DIMS(4, 2), (float[]){1, 0, 0, 2, 3, 0, 0, 1});
    vt_tensor *lab = vt_tensor_from_data(VT_DIMS(4), (float[]){0, 1, 0, 1});
    vt_tensor *sc = vt_supcon_loss(f, lab, 1.f, 1.f, VT_REDUCE_NONE);
    ck_assert_msg(sc != NULL, "%s", vt_last_error());
    for (int i = 0; i < 4; i++) ck_assert_float_eq_tol(sc->data[i], logf(expf(1.f) + 2.f) - 1.f, 1e-5);
    /* no anchor has a positive: MEAN is 0/0 */
    vt_tensor *lab2 = vt_tensor_from_data(VT_DIMS(4), (float[]){0, 1, 2, 3});
    ck_assert(isnan(vt_supcon_loss(f, lab2, 1.f, 1.f, VT_REDUCE_MEAN)->data[0]));
    vt_tensor_free(t); vt_tensor_free(nt); vt_tensor_free(b1); vt_tensor_free(b2);
    vt_tensor_free(y); vt_tensor_free(yh); vt_tensor_free(f); vt_tensor_free(lab); vt_tensor_free(lab2);
    vt_arena_reset(NULL);
}
END_TEST

START_TEST(multitask_combiners) {
    vt_tensor *a = vt_tensor_from_data(VT_DIMS(1), (float[]){2.f});
    vt_tensor *b = vt_tensor_from_data(VT_DIMS(1), (float[]){5.f});
    vt_tensor_set_requires_grad(a, 1);
    vt_tensor *ls[2] = {a, b};
    vt_tensor *w = vt_multitask_weighted_sum(2, ls, (float[]){0.5f, 3.f});
    ck_assert_msg(w != NULL, "%s", vt_last_error());
    ck_assert_float_eq_tol(w->data[0], 16.f, 1e-6);
    ck_assert_int_eq(vt_backward(w), VT_OK);
    ck_assert_float_eq_tol(a->grad->data[0], 0.5f, 1e-6);
    ck_assert_float_eq_tol(vt_multitask_weighted_sum(2, ls, NULL)->data[0], 7.f, 1e-6);
    /* uncertainty weights registered in a params store: s = 0 gives the plain sum, and the
     * gradient of s_i is 1 - L_i (PLAIN) */
    vt_params *p = vt_params_new();
    vt_tensor *s = vt_uncertainty_weights_add(p, "loss.log_var", 2);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(vt_params_finalize(p), VT_OK);
    ck_assert_ptr_eq(vt_params_find(p, "loss.log_var"), s);
    vt_tensor *u = vt_uncertainty_weighted_sum(s, 2, ls, NULL);
    ck_assert_float_eq_tol(u->data[0], 7.f, 1e-6);
    ck_assert_int_eq(vt_backward(u), VT_OK);
    ck_assert_float_eq_tol(s->grad->data[0], 1.f - 2.f, 1e-6);
    ck_assert_float_eq_tol(s->grad->data[1], 1.f - 5.f, 1e-6);
    /* errors: non-scalar loss, wrong log_vars length, bad kind */
    vt_tensor *v2 = vt_tensor_new(VT_DIMS(2));
    vt_tensor *bad[2] = {a, v2};
    ck_assert_ptr_null(vt_multitask_weighted_sum(2, bad, NULL));
    ck_assert_msg(strstr(vt_last_error(), "loss 1 is (2)") != NULL, "%s", vt_last_error());
    ck_assert_ptr_null(vt_uncertainty_weighted_sum(s, 1, ls, NULL));
    ck_assert_msg(strstr(vt_last_error(), "log_vars (2) must be (1)") != NULL, "%s", vt_last_error());
    ck_assert_ptr_null(vt_uncertainty_weighted_sum(s, 2, ls, (vt_uw_task[]){VT_UW_PLAIN, (vt_uw_task)9}));
    vt_params_free(p);
    vt_tensor_free(a); vt_tensor_free(b); vt_tensor_free(v2);
    vt_arena_reset(NULL);
}
END_TEST

/* Hand-computed weights: losses 0.1, 0.5, 1.0, 2.0, 4.0 */
START_TEST(self_paced_weights_and_schedule) {
    vt_tensor *l = vt_tensor_from_data(VT_DIMS(5), (float[]){0.5f, 4.f, 0.1f, 2.f, 1.f});
    vt_tensor *v = vt_spl_weights(l, VT_SPL_HARD, 1.f, 0.f);
    ck_assert_msg(v != NULL, "%s", vt_last_error());
    const float hard[5] = {1, 0, 1, 0, 0}; /* 1.0 < 1 is false */
    vt_expect_close(v->data, hard, 5, 0, 0, "hard");
    v = vt_spl_weights(l, VT_SPL_LINEAR, 2.f, 0.f); /* 1 - l/2 */
    const float lin[5] = {0.75f, 0, 0.95f, 0, 0.5f};
    vt_expect_close(v->data, lin, 5, 1e-7, 0, "linear");
    /* mixture lambda 4, lambda2 0.5: zeta = 2 / 3.5 = 4/7; l = 1: 4/7 - 1/7 = 3/7;
     * l = 2: 2/7 - 1/7 = 1/7; 0.5 and 0.1 -> 1; 4 -> 0 */
    v = vt_spl_weights(l, VT_SPL_MIXTURE, 4.f, 0.5f);
    const float mix[5] = {1, 0, 1, 1.f / 7.f, 3.f / 7.f};
    vt_expect_close(v->data, mix, 5, 1e-6, 0, "mixture");
    /* schedule: f_e = min(1, 0.4 + 0.25 e) and 0.4 * 1.5^e */
    ck_assert_double_eq_tol(vt_spl_fraction(0.4, 0.25, 0, 0), 0.4, 1e-12);
    ck_assert_double_eq_tol(vt_spl_fraction(0.4, 0.25, 0, 2), 0.9, 1e-12);
    ck_assert_double_eq_tol(vt_spl_fraction(0.4, 0.25, 0, 3), 1.0, 1e-12);
    ck_assert_double_eq_tol(vt_spl_fraction(0.4, 0, 1.5, 2), 0.9, 1e-12);
    /* fraction 0.4 of 5 = 2 easiest (0.1, 0.5): lambda just above 0.5 -> HARD picks them */
    float lambda = 0;
    ck_assert_int_eq(vt_spl_lambda_for_fraction(l, 0.4, &lambda), VT_OK);
    ck_assert(lambda > 0.5f && lambda < 0.5f + 1e-6f);
    v = vt_spl_weights(l, VT_SPL_HARD, lambda, 0.f);
    const float first2[5] = {1, 0, 1, 0, 0};
    vt_expect_close(v->data, first2, 5, 0, 0, "hard at fraction 0.4");
    ck_assert_int_eq(vt_spl_lambda_for_fraction(l, 0.5, &lambda), VT_OK); /* ceil(2.5) = 3 */
    ck_assert(lambda > 1.f && lambda < 1.f + 1e-6f);
    ck_assert_int_eq(vt_spl_lambda_for_fraction(l, 0.0, &lambda), VT_OK);
    ck_assert_float_eq(lambda, 0.1f); /* none: 0.1 < 0.1 is false */
    ck_assert_int_eq(vt_spl_lambda_for_fraction(l, 1.0, &lambda), VT_OK);
    ck_assert(lambda > 4.f);
    /* the weights drive per-sample cross-entropy: weight 0 samples drop out of the sum */
    vt_tensor *x = vt_test_rand(VT_DIMS(5, 3), -2.f, 2.f, 11);
    vt_tensor *y = vt_tensor_from_data(VT_DIMS(5), (float[]){0, 1, 2, 0, 1});
    vt_ce_options co = vt_ce_options_default();
    co.reduction = VT_REDUCE_NONE;
    vt_tensor *per = vt_cross_entropy(x, y, &co);
    co.sample_weights = vt_spl_weights(l, VT_SPL_HARD, 1.f, 0.f);
    co.reduction = VT_REDUCE_SUM;
    ck_assert_float_eq_tol(vt_cross_entropy(x, y, &co)->data[0], per->data[0] + per->data[2], 1e-5);
    /* errors */
    ck_assert_ptr_null(vt_spl_weights(l, VT_SPL_MIXTURE, 1.f, 2.f));
    ck_assert_msg(strstr(vt_last_error(), "lambda2") != NULL, "%s", vt_last_error());
    ck_assert_ptr_null(vt_spl_weights(l, VT_SPL_LINEAR, 0.f, 0.f));
    ck_assert_ptr_null(vt_spl_weights(x, VT_SPL_HARD, 1.f, 0.f));
    ck_assert_msg(strstr(vt_last_error(), "(5, 3)") != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_spl_lambda_for_fraction(l, 1.5, &lambda), VT_ERR);
    vt_tensor_free(l); vt_tensor_free(x); vt_tensor_free(y);
    vt_arena_reset(NULL);
}
END_TEST

#define EXPECT_ERR(call, text)                                                               \
    do {                                                                                     \
        ck_assert_ptr_null(call);                                                            \
        ck_assert_msg(strstr(vt_last_error(), text) != NULL, "want '%s' in: %s", text,       \
                      vt_last_error());                                                      \
    } while (0)

START_TEST(bad_arguments_are_errors) {
    vt_tensor *a = vt_tensor_new(VT_DIMS(2, 3)), *b = vt_tensor_new(VT_DIMS(3, 2));
    EXPECT_ERR(vt_l1_loss(a, b, VT_REDUCE_MEAN), "l1_loss: pred (2, 3) and target (3, 2)");
    EXPECT_ERR(vt_smooth_l1_loss(a, b, 1.f, VT_REDUCE_MEAN), "smooth_l1_loss: pred (2, 3)");
    EXPECT_ERR(vt_smooth_l1_loss(a, a, -1.f, VT_REDUCE_MEAN), "beta");
    EXPECT_ERR(vt_huber_loss(a, a, 0.f, VT_REDUCE_MEAN), "delta 0");
    EXPECT_ERR(vt_l1_loss(a, a, (vt_reduction)9), "unknown reduction");
    EXPECT_ERR(vt_sigmoid_focal_loss(a, b, 0.25f, 2.f, VT_REDUCE_NONE), "logits (2, 3) and targets (3, 2)");
    EXPECT_ERR(vt_sigmoid_focal_loss(a, a, 0.25f, -1.f, VT_REDUCE_NONE), "gamma -1");
    EXPECT_ERR(vt_dice_loss(a, a, NULL), "(N, C, spatial...)");
    vt_tensor *x4 = vt_tensor_new(VT_DIMS(2, 3, 4, 4)), *t4 = vt_tensor_new(VT_DIMS(2, 3, 4, 5));
    EXPECT_ERR(vt_dice_loss(x4, t4, NULL), "input (2, 3, 4, 4) and target (2, 3, 4, 5)");
    vt_dice_options o = vt_dice_options_default();
    o.to_onehot_y = 1;
    EXPECT_ERR(vt_dice_loss(x4, t4, &o), "target (2, 3, 4, 5) must hold class indices");
    vt_tensor *idx = vt_tensor_full(VT_DIMS(2, 4, 4), 3.f); /* class 3 of C = 3 */
    EXPECT_ERR(vt_dice_loss(x4, idx, &o), "target 3");
    o = vt_dice_options_default();
    o.batch = 1;
    o.reduction = VT_REDUCE_PER_SAMPLE;
    EXPECT_ERR(vt_dice_loss(x4, x4, &o), "PER_SAMPLE");
    EXPECT_ERR(vt_adaptive_wing_loss(a, b, NULL), "adaptive_wing_loss: pred (2, 3) and target (3, 2)");
    vt_adaptive_wing_options ao = vt_adaptive_wing_options_default();
    ao.theta = 0.f;
    EXPECT_ERR(vt_adaptive_wing_loss(a, a, &ao), "theta 0");
    vt_tensor *lab3 = vt_tensor_new(VT_DIMS(3));
    EXPECT_ERR(vt_supcon_loss(a, lab3, 0.1f, 0.1f, VT_REDUCE_MEAN), "features (2, 3)");
    EXPECT_ERR(vt_supcon_loss(b, lab3, 0.f, 0.1f, VT_REDUCE_MEAN), "temperature 0");
    EXPECT_ERR(vt_giou_loss(a, a, VT_REDUCE_MEAN), "boxes1 (2, 3)");
    vt_tensor *bx = vt_tensor_new(VT_DIMS(2, 4)), *by = vt_tensor_new(VT_DIMS(3, 4));
    EXPECT_ERR(vt_giou_loss(bx, by, VT_REDUCE_MEAN), "boxes2 (3, 4)");
    ck_assert_ptr_null(vt_l1_loss(NULL, a, VT_REDUCE_MEAN));
    vt_tensor_free(a); vt_tensor_free(b); vt_tensor_free(x4); vt_tensor_free(t4);
    vt_tensor_free(idx); vt_tensor_free(lab3); vt_tensor_free(bx); vt_tensor_free(by);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("losses_extra");
    TCase *tc = tcase_create("losses_extra");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, parity_with_reference, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, closed_forms);
    tcase_add_test(tc, multitask_combiners);
    tcase_add_test(tc, self_paced_weights_and_schedule);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
