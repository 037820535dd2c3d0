/* test_optim.c: SGD (plain, momentum, nesterov, weight decay, dampening), Adam (with L2
 * decay) and AdamW against torch.optim after each of 5 steps with fixed gradients; state
 * checkpoint round trip; LR schedules against torch.optim.lr_scheduler over 50 steps;
 * clip_grad_norm_ (fixtures: tests/ref/ref_optim.py). */
#include <math.h>
#include "optim.h"
#include "vt_test.h"

#define N_FLAT 23 /* (4, 3) + (3) + (2, 2, 2) */
#define STEPS 5

/* three parameters (padded apart in the flat buffer), values from optim.init */
static vt_params *make_params(void) {
    vt_params *p = vt_params_new();
    ck_assert_ptr_nonnull(vt_params_add(p, "a", VT_DIMS(4, 3)));
    ck_assert_ptr_nonnull(vt_params_add(p, "b", VT_DIMS(3)));
    ck_assert_ptr_nonnull(vt_params_add(p, "c", VT_DIMS(2, 2, 2)));
    ck_assert_int_eq(vt_params_finalize(p), VT_OK);
    vt_tensor *init = vt_fixture("optim.init");
    ck_assert_int_eq(init->numel, N_FLAT);
    for (int i = 0, off = 0; i < 3; off += (int)vt_params_tensor(p, i)->numel, i++)
        memcpy(vt_params_tensor(p, i)->data, init->data + off, sizeof(float) * (size_t)vt_params_tensor(p, i)->numel);
    vt_tensor_free(init);
    return p;
}

/* concatenation of the parameters (or of their gradients) in registration order */
static void gather(vt_params *p, float *out, int grads) {
    for (int i = 0, off = 0; i < vt_params_count(p); i++) {
        vt_tensor *t = vt_params_tensor(p, i);
        memcpy(out + off, grads ? t->grad->data : t->data, sizeof(float) * (size_t)t->numel);
        off += (int)t->numel;
    }
}

static void set_grads(vt_params *p, const float *g) {
    for (int i = 0, off = 0; i < vt_params_count(p); i++) {
        vt_tensor *t = vt_params_tensor(p, i);
        memcpy(t->grad->data, g + off, sizeof(float) * (size_t)t->numel);
        off += (int)t->numel;
    }
}

static vt_optim *make_optim(int which, vt_params *p) {
    switch (which) {
    case 0: return vt_sgd_new(p, 0.1f, 0.f, 0.f, 0.f, 0);
    case 1: return vt_sgd_new(p, 0.1f, 0.9f, 0.f, 0.f, 0);
    case 2: return vt_sgd_new(p, 0.1f, 0.9f, 0.f, 0.01f, 1);
    case 3: return vt_sgd_new(p, 0.05f, 0.8f, 0.3f, 0.05f, 0);
    case 4: return vt_adam_new(p, 0.01f, 0.9f, 0.999f, 1e-8f, 0.f);
    case 5: return vt_adam_new(p, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f);
    case 6: return vt_adamw_new(p, 0.01f, 0.9f, 0.999f, 1e-8f, VT_ADAMW_DEFAULT_WEIGHT_DECAY);
    default: return vt_adamw_new(p, 0.05f, 0.8f, 0.99f, 1e-6f, 0.1f);
    }
}
static const char *const optim_names[] = {"sgd_plain", "sgd_momentum", "sgd_nesterov",
                                          "sgd_wd_damp", "adam", "adam_wd", "adamw", "adamw_wd"};
#define N_OPTIM 8

START_TEST(steps_match_torch_optim) {
    char key[128];
    vt_params *p = make_params();
    vt_optim *o = make_optim(_i, p);
    ck_assert_msg(o != NULL, "%s", vt_last_error());
    vt_tensor *grads = vt_fixture("optim.grads");
    snprintf(key, sizeof key, "optim.%s", optim_names[_i]);
    vt_tensor *want = vt_fixture(key);
    float got[N_FLAT];
    for (int s = 0; s < STEPS; s++) {
        set_grads(p, grads->data + s * N_FLAT);
        ck_assert_int_eq(vt_optim_step(o), VT_OK);
        gather(p, got, 0);
        snprintf(key, sizeof key, "%s after step %d", optim_names[_i], s + 1);
        vt_expect_close(got, want->data + s * N_FLAT, N_FLAT, 1e-7, 1e-6, key);
    }
    ck_assert_int_eq(vt_optim_get_step(o), STEPS);
    vt_tensor_free(grads);
    vt_tensor_free(want);
    vt_optim_free(o);
    vt_params_free(p);
}
END_TEST

/* 3 steps, copy the flat state and step counter into a fresh optimizer, 2 more steps:
 * the same parameters as 5 uninterrupted steps (PyTorch fixture). */
START_TEST(state_round_trip_resumes_exactly) {
    char key[128];
    int which = (int[]){1, 3, 5, 7}[_i];
    vt_params *p = make_params();
    vt_optim *o = make_optim(which, p);
    vt_tensor *grads = vt_fixture("optim.grads");
    for (int s = 0; s < 3; s++) { set_grads(p, grads->data + s * N_FLAT); vt_optim_step(o); }
    vt_optim *r = make_optim(which, p);
    ck_assert_int_eq(vt_optim_state_count(r), vt_optim_state_count(o));
    ck_assert_int_eq(vt_optim_state_count(o), which < 4 ? 1 : 2);
    ck_assert_int_eq(vt_optim_state_numel(o), vt_params_numel(p));
    for (int i = 0; i < vt_optim_state_count(o); i++)
        memcpy(vt_optim_state(r, i), vt_optim_state(o, i), sizeof(float) * (size_t)vt_optim_state_numel(o));
    vt_optim_set_step(r, vt_optim_get_step(o));
    vt_optim_free(o);
    for (int s = 3; s < STEPS; s++) { set_grads(p, grads->data + s * N_FLAT); vt_optim_step(r); }
    snprintf(key, sizeof key, "optim.%s", optim_names[which]);
    vt_tensor *want = vt_fixture(key);
    float got[N_FLAT];
    gather(p, got, 0);
    vt_expect_close(got, want->data + (STEPS - 1) * N_FLAT, N_FLAT, 1e-7, 1e-6, optim_names[which]);
    vt_tensor_free(want);
    vt_tensor_free(grads);
    vt_optim_free(r);
    vt_params_free(p);
}
END_TEST

START_TEST(set_lr_changes_the_update) {
    vt_params *p = make_params();
    vt_optim *o = vt_sgd_new(p, 0.1f, 0.f, 0.f, 0.f, 0);
    vt_optim_set_lr(o, 0.5f);
    ck_assert_float_eq(vt_optim_get_lr(o), 0.5f);
    float before = vt_params_tensor(p, 0)->data[0];
    vt_params_tensor(p, 0)->grad->data[0] = 2.f;
    vt_optim_step(o);
    ck_assert_float_eq_tol(vt_params_tensor(p, 0)->data[0], before - 1.f, 1e-6);
    ck_assert_str_eq(vt_optim_name(o), "sgd");
    vt_optim_free(o);
    vt_params_free(p);
}
END_TEST

START_TEST(bad_hyperparameters_are_errors) {
    vt_params *p = make_params();
    ck_assert_ptr_null(vt_sgd_new(p, 0.1f, 0.f, 0.f, 0.f, 1));
    ck_assert_msg(strstr(vt_last_error(), "nesterov") != NULL, "%s", vt_last_error());
    ck_assert_ptr_null(vt_sgd_new(p, 0.1f, 0.9f, 0.1f, 0.f, 1)); /* nesterov with dampening */
    ck_assert_ptr_null(vt_sgd_new(p, -0.1f, 0.9f, 0.f, 0.f, 0));
    ck_assert_msg(strstr(vt_last_error(), "learning rate") != NULL, "%s", vt_last_error());
    ck_assert_ptr_null(vt_sgd_new(p, 0.1f, -0.9f, 0.f, 0.f, 0));
    ck_assert_ptr_null(vt_adam_new(p, 0.1f, 1.f, 0.999f, 1e-8f, 0.f));
    ck_assert_msg(strstr(vt_last_error(), "betas") != NULL, "%s", vt_last_error());
    ck_assert_ptr_null(vt_adamw_new(p, 0.1f, 0.9f, 0.999f, -1e-8f, 0.f));
    ck_assert_ptr_null(vt_adam_new(p, 0.1f, 0.9f, 0.999f, 1e-8f, -1.f));
    vt_params *q = vt_params_new(); /* not finalized */
    vt_params_add(q, "w", VT_DIMS(2));
    ck_assert_ptr_null(vt_adam_new(q, 0.1f, 0.9f, 0.999f, 1e-8f, 0.f));
    ck_assert_msg(strstr(vt_last_error(), "finalize") != NULL, "%s", vt_last_error());
    ck_assert_float_eq(vt_clip_grad_norm(q, 1.f), -1.f);
    ck_assert_float_eq(vt_clip_grad_norm(p, -1.f), -1.f);
    ck_assert_int_ne(vt_optim_step(NULL), VT_OK);
    vt_params_free(q);
    vt_params_free(p);
}
END_TEST

/* ---- schedules ------------------------------------------------------------------------- */
static vt_lr_schedule schedule(int which, const char **name) {
    vt_lr_schedule s;
    switch (which) {
    case 0:
        *name = "step";
        s = vt_lr_schedule_default(VT_LR_STEP, 0.1f);
        s.step_size = 7; s.gamma = 0.5f;
        break;
    case 1:
        *name = "multistep";
        s = vt_lr_schedule_default(VT_LR_MULTISTEP, 0.1f);
        s.n_milestones = 3; s.milestones[0] = 10; s.milestones[1] = 25; s.milestones[2] = 40;
        s.gamma = 0.2f;
        break;
    case 2:
        *name = "cosine";
        s = vt_lr_schedule_default(VT_LR_COSINE, 0.1f);
        s.total_steps = 50; s.min_lr = 1e-3f;
        break;
    case 3:
        *name = "poly";
        s = vt_lr_schedule_default(VT_LR_POLY, 0.01f);
        s.total_steps = 50; s.power = 0.9f;
        break;
    case 4:
        *name = "warmup_cosine";
        s = vt_lr_schedule_default(VT_LR_COSINE, 0.1f);
        s.total_steps = 50; s.min_lr = 1e-4f; s.warmup_steps = 5; s.warmup_start_factor = 0.1f;
        break;
    default:
        *name = "warmup_poly";
        s = vt_lr_schedule_default(VT_LR_POLY, 0.01f);
        s.total_steps = 50; s.warmup_steps = 8; s.warmup_start_factor = 0.25f;
        break;
    }
    return s;
}

START_TEST(schedules_match_torch_schedulers) {
    const char *name;
    char key[128];
    vt_lr_schedule s = schedule(_i, &name);
    ck_assert_msg(vt_lr_schedule_check(&s) == VT_OK, "%s", vt_last_error());
    snprintf(key, sizeof key, "sched.%s", name);
    vt_tensor *want = vt_fixture(key);
    float got[64];
    ck_assert_int_le(want->numel, 64);
    for (int t = 0; t < want->numel; t++) got[t] = vt_lr_at(&s, t);
    vt_expect_close(got, want->data, want->numel, 1e-9, 2e-6, key);
    vt_tensor_free(want);
}
END_TEST

START_TEST(schedule_edges_and_errors) {
    vt_lr_schedule s = vt_lr_schedule_default(VT_LR_COSINE, 0.1f);
    s.total_steps = 10; s.min_lr = 0.01f;
    ck_assert_float_eq_tol(vt_lr_at(&s, 10), 0.01f, 1e-9); /* held at min_lr after the end */
    ck_assert_float_eq_tol(vt_lr_at(&s, 1000), 0.01f, 1e-9);
    s.warmup_steps = 10;
    ck_assert_int_ne(vt_lr_schedule_check(&s), VT_OK);
    ck_assert_msg(strstr(vt_last_error(), "total_steps") != NULL, "%s", vt_last_error());
    vt_lr_schedule c = vt_lr_schedule_default(VT_LR_CONSTANT, 0.3f);
    ck_assert_float_eq(vt_lr_at(&c, 123), 0.3f);
    vt_lr_schedule st = vt_lr_schedule_default(VT_LR_STEP, 0.1f);
    st.step_size = 0;
    ck_assert_int_ne(vt_lr_schedule_check(&st), VT_OK);
}
END_TEST

/* ---- clipping -------------------------------------------------------------------------- */
START_TEST(clip_matches_clip_grad_norm) {
    const char *name = _i == 0 ? "optim.clip_small" : "optim.clip_large";
    float max_norm = _i == 0 ? 0.5f : 100.f;
    char key[128];
    vt_params *p = make_params();
    snprintf(key, sizeof key, "%s.grads_in", name);
    vt_tensor *gin = vt_fixture(key);
    set_grads(p, gin->data);
    float norm = vt_clip_grad_norm(p, max_norm);
    snprintf(key, sizeof key, "%s.norm", name);
    vt_tensor *wn = vt_fixture(key);
    vt_expect_close(&norm, wn->data, 1, 0, 1e-6, "total norm");
    snprintf(key, sizeof key, "%s.grads_out", name);
    vt_tensor *gout = vt_fixture(key);
    float got[N_FLAT];
    gather(p, got, 1);
    vt_expect_close(got, gout->data, N_FLAT, 1e-8, 1e-6, "clipped gradients");
    if (_i == 0) { /* after clipping the norm is max_norm (up to the 1e-6 guard) */
        float again = vt_clip_grad_norm(p, 1e9f);
        ck_assert_float_eq_tol(again, max_norm, 1e-5);
    }
    vt_tensor_free(gin); vt_tensor_free(wn); vt_tensor_free(gout);
    vt_params_free(p);
}
END_TEST

/* sum of squares over a multi-block buffer is bit-identical for 1 and 4 threads */
START_TEST(clip_norm_does_not_depend_on_threads) {
    vt_params *p = vt_params_new();
    vt_params_add(p, "big", VT_DIMS(1 << 20));
    vt_params_finalize(p);
    vt_rng r;
    vt_rng_init(&r, 5);
    vt_rng_uniform(&r, vt_params_grads(p), vt_params_numel(p), -1.f, 1.f);
    int prev = vt_get_num_threads();
    vt_set_num_threads(1);
    float a = vt_clip_grad_norm(p, 1e9f);
    vt_set_num_threads(4);
    float b = vt_clip_grad_norm(p, 1e9f);
    vt_set_num_threads(prev);
    ck_assert(a == b);
    ck_assert_float_eq_tol(a, sqrtf((1 << 20) / 3.f), 2.f); /* E[g^2] = 1/3 */
    vt_params_free(p);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("optim");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, steps_match_torch_optim, 0, N_OPTIM);
    tcase_add_loop_test(tc, state_round_trip_resumes_exactly, 0, 4);
    tcase_add_test(tc, set_lr_changes_the_update);
    tcase_add_test(tc, bad_hyperparameters_are_errors);
    tcase_add_loop_test(tc, schedules_match_torch_schedulers, 0, 6);
    tcase_add_test(tc, schedule_edges_and_errors);
    tcase_add_loop_test(tc, clip_matches_clip_grad_norm, 0, 2);
    tcase_add_test(tc, clip_norm_does_not_depend_on_threads);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
