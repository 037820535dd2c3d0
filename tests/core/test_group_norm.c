/* test_group_norm.c: group norm and instance norm: PyTorch parity
 * (tests/ref/ref_norm_resample.py) of the output and of the gradients of x, weight and bias;
 * finite differences; instance norm == group norm with one channel per group; errors. */
#include <math.h>
#include "vt_test.h"

typedef struct {
    const char *name;
    int groups; /* 0: instance norm */
    int affine;
    float eps;
} norm_case;

/* same parameters as ref_norm_resample.py */
static const norm_case cases[] = {
    {"gn_4d_g2", 2, 1, 1e-5f},
    {"gn_5d_g1", 1, 1, 1e-5f},
    {"gn_4d_gC_noaffine", 4, 0, 1e-5f},
    {"gn_3d_g3_eps", 3, 1, 1e-3f},
    {"gn_2d_g2", 2, 1, 1e-5f},
    {"gn_5d_g2_noaffine", 2, 0, 1e-5f},
    {"in_4d", 0, 0, 1e-5f},
    {"in_4d_affine", 0, 1, 1e-5f},
    {"in_5d_affine", 0, 1, 1e-3f},
    {"in_3d", 0, 0, 1e-5f},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static vt_tensor *f_norm(vt_tensor **x, void *ctx) {
    const norm_case *c = ctx;
    vt_tensor *w = c->affine ? x[1] : NULL, *b = c->affine ? x[2] : NULL;
    return c->groups ? vt_group_norm(x[0], c->groups, w, b, c->eps)
                     : vt_instance_norm(x[0], w, b, c->eps);
}

START_TEST(parity_with_pytorch) {
    const norm_case *c = &cases[_i];
    vt_check_fixture(c->name, c->affine ? 3 : 1, f_norm, (void *)c, 2e-5, 1e-4);
    vt_arena_reset(NULL);
}
END_TEST

/* Normalisation divides by a standard deviation of a few values: a 1e-2 step moves it
 * visibly in f32, so the tolerance is loose but still catches any wrong term (each is O(1)). */
START_TEST(gradient_matches_finite_differences) {
    const norm_case *c = &cases[_i];
    vt_check_gradient_at_fixture(c->name, c->affine ? 3 : 1, VT_PROBE_ALL, f_norm, (void *)c,
                                 1e-2, 3e-3, 3e-3, 0);
}
END_TEST

/* instance norm is group norm with groups == C, forward and every gradient */
START_TEST(instance_norm_is_group_norm_per_channel) {
    vt_tensor *x = vt_test_rand(VT_DIMS(2, 3, 2, 4), -1, 2, 7);
    vt_tensor *w = vt_test_rand(VT_DIMS(3), 0.5f, 1.5f, 8), *b = vt_test_rand(VT_DIMS(3), -1, 1, 9);
    vt_tensor *g = vt_test_rand(VT_DIMS(2, 3, 2, 4), -1, 1, 10);
    float grads[3][48];
    vt_tensor *in[3] = {x, w, b};
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 3; i++) vt_tensor_zero_grad(in[i]);
        vt_tensor *y = pass ? vt_group_norm(x, 3, w, b, 1e-5f) : vt_instance_norm(x, w, b, 1e-5f);
        ck_assert_msg(y != NULL, "%s", vt_last_error());
        ck_assert_int_eq(vt_backward_with(y, g), VT_OK);
        if (!pass) {
            for (int i = 0; i < 3; i++) memcpy(grads[i], in[i]->grad->data, in[i]->numel * sizeof(float));
        } else {
            for (int i = 0; i < 3; i++)
                vt_expect_close(in[i]->grad->data, grads[i], in[i]->numel, 0, 0, "instance vs group grad");
        }
        vt_arena_reset(NULL);
    }
    for (int i = 0; i < 3; i++) vt_tensor_free(in[i]);
    vt_tensor_free(g);
}
END_TEST

/* biased variance: [1, 3] has mean 2, variance 1 -> [-1, 1] (+ bias); a constant group
 * normalises to 0 (+ bias), eps keeping it finite */
START_TEST(statistics_of_the_output) {
    vt_tensor *x = vt_tensor_from_data(VT_DIMS(1, 2, 2), (float[]){1, 3, 5, 5});
    vt_tensor *b = vt_tensor_from_data(VT_DIMS(2), (float[]){0.25f, -2.f});
    vt_tensor *y = vt_group_norm(x, 2, NULL, b, 1e-6f);
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    vt_expect_close(y->data, (float[]){-0.75f, 1.25f, -2.f, -2.f}, 4, 1e-3, 0, "group norm of [1 3], [5 5]");
    vt_tensor_free(x);
    vt_tensor_free(b);
    vt_arena_reset(NULL);
}
END_TEST

/* above the OpenMP threshold: 1 and 2 threads give the same bits (each (sample, group) and
 * each channel is summed by one thread) */
START_TEST(results_do_not_depend_on_thread_count) {
    vt_tensor *x = vt_test_rand(VT_DIMS(2, 8, 48, 48), -1, 2, 11);
    vt_tensor *w = vt_test_rand(VT_DIMS(8), 0.5f, 1.5f, 12), *b = vt_test_rand(VT_DIMS(8), -1, 1, 13);
    vt_tensor *g = vt_test_rand(VT_DIMS(2, 8, 48, 48), -1, 1, 14);
    vt_tensor *in[3] = {x, w, b}, *ref[4] = {NULL};
    int prev = vt_get_num_threads();
    for (int threads = 1; threads <= 2; threads++) {
        vt_set_num_threads(threads);
        for (int i = 0; i < 3; i++) vt_tensor_zero_grad(in[i]);
        vt_tensor *y = vt_group_norm(x, 4, w, b, 1e-5f);
        ck_assert_msg(y != NULL, "%s", vt_last_error());
        ck_assert_int_eq(vt_backward_with(y, g), VT_OK);
        const vt_tensor *got[4] = {y, x->grad, w->grad, b->grad};
        for (int i = 0; i < 4; i++) {
            if (threads == 1) ref[i] = vt_tensor_clone(got[i]);
            else vt_expect_close(got[i]->data, ref[i]->data, ref[i]->numel, 0, 0, "2 threads vs 1");
        }
        vt_arena_reset(NULL);
    }
    vt_set_num_threads(prev);
    for (int i = 0; i < 4; i++) vt_tensor_free(ref[i]);
    for (int i = 0; i < 3; i++) vt_tensor_free(in[i]);
    vt_tensor_free(g);
}
END_TEST

static void expect_error(vt_tensor *y, const char *needle) {
    ck_assert_msg(y == NULL, "expected an error containing '%s'", needle);
    ck_assert_msg(strstr(vt_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                  vt_last_error(), needle);
}

START_TEST(bad_arguments_are_errors) {
    vt_tensor *x = vt_tensor_new(VT_DIMS(2, 6, 3, 3)), *c6 = vt_tensor_new(VT_DIMS(6));
    vt_tensor *c4 = vt_tensor_new(VT_DIMS(4)), *x1 = vt_tensor_new(VT_DIMS(6));
    vt_tensor *x2 = vt_tensor_new(VT_DIMS(2, 6)), *one = vt_tensor_new(VT_DIMS(2, 6, 1, 1));
    expect_error(vt_group_norm(x, 4, NULL, NULL, 1e-5f), "num_groups 4 must be >= 1 and divide the 6 channels");
    expect_error(vt_group_norm(x, 0, NULL, NULL, 1e-5f), "num_groups 0");
    expect_error(vt_group_norm(x, 3, c4, c6, 1e-5f), "group_norm: weight (4) must be (6)");
    expect_error(vt_group_norm(x, 3, c6, c4, 1e-5f), "bias (4)");
    expect_error(vt_group_norm(x1, 1, NULL, NULL, 1e-5f), "(N, C, ...)");
    expect_error(vt_group_norm(x, 3, NULL, NULL, -1.f), "eps");
    expect_error(vt_group_norm(x, 3, NULL, NULL, NAN), "eps");
    expect_error(vt_instance_norm(x2, NULL, NULL, 1e-5f), "instance_norm: input (2, 6)");
    expect_error(vt_instance_norm(one, NULL, NULL, 1e-5f), "more than 1 spatial element");
    expect_error(vt_instance_norm(x, c4, NULL, 1e-5f), "instance_norm: weight (4)");
    ck_assert_ptr_null(vt_group_norm(NULL, 1, c6, c6, 1e-5f));
    ck_assert_ptr_null(vt_instance_norm(NULL, NULL, NULL, 1e-5f));
    ck_assert_ptr_nonnull(vt_group_norm(x2, 2, c6, c6, 1e-5f)); /* (N, C) is fine for groups */
    vt_tensor *all[] = {x, c6, c4, x1, x2, one};
    for (int i = 0; i < 6; i++) vt_tensor_free(all[i]);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/group_norm");
    TCase *tc = tcase_create("group_norm");
    tcase_add_loop_test(tc, parity_with_pytorch, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, instance_norm_is_group_norm_per_channel);
    tcase_add_test(tc, statistics_of_the_output);
    tcase_add_test(tc, results_do_not_depend_on_thread_count);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
