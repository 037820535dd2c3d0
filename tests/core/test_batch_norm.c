/* test_batch_norm.c: batch norm in training and eval mode: PyTorch parity
 * (tests/ref/ref_conv_pool_bn.py) of the output, of the gradients of x, weight and bias and
 * of the running statistics after one call; finite differences; bad-argument errors. */
#include <math.h>
#include "vt_test.h"

typedef struct {
    const char *name;
    int affine, training;
    float momentum, eps;
    vt_tensor *rm, *rv; /* running stats, loaded per test */
} bn_case;

/* same parameters as ref_conv_pool_bn.py */
static bn_case cases[] = {
    {"bn_train_2d", 1, 1, 0.1f, 1e-5f, NULL, NULL},
    {"bn_train_3d", 1, 1, 0.3f, 1e-5f, NULL, NULL},
    {"bn_train_4d", 1, 1, 0.1f, 1e-3f, NULL, NULL},
    {"bn_train_5d_noaffine", 0, 1, 0.1f, 1e-5f, NULL, NULL},
    {"bn_eval_4d", 1, 0, 0.1f, 1e-5f, NULL, NULL},
    {"bn_eval_2d_noaffine", 0, 0, 0.1f, 1e-5f, NULL, NULL},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static vt_tensor *f_bn(vt_tensor **x, void *ctx) {
    const bn_case *c = ctx;
    return vt_batch_norm(x[0], c->affine ? x[1] : NULL, c->affine ? x[2] : NULL, c->rm, c->rv,
                         c->training, c->momentum, c->eps);
}

static vt_tensor *fixture_part(const char *name, const char *part) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", name, part);
    return vt_fixture(key);
}

START_TEST(parity_with_pytorch) {
    bn_case *c = &cases[_i];
    c->rm = fixture_part(c->name, "rm0");
    c->rv = fixture_part(c->name, "rv0");
    vt_check_fixture(c->name, c->affine ? 3 : 1, f_bn, c, 1e-5, 1e-4);
    /* one call moved the running stats (unbiased variance) exactly as PyTorch; eval kept them */
    vt_tensor *rm = fixture_part(c->name, "rm"), *rv = fixture_part(c->name, "rv");
    vt_expect_tensor_close(c->rm, rm, 1e-6, 1e-5, "running_mean after one call");
    vt_expect_tensor_close(c->rv, rv, 1e-6, 1e-5, "running_var after one call");
    vt_tensor_free(rm); vt_tensor_free(rv); vt_tensor_free(c->rm); vt_tensor_free(c->rv);
    c->rm = c->rv = NULL;
}
END_TEST

/* Training mode probes without running stats (each probe would move them). */
START_TEST(gradient_matches_finite_differences) {
    bn_case c = cases[_i];
    int n_in = c.affine ? 3 : 1;
    vt_tensor *in[3];
    for (int i = 0; i < n_in; i++) {
        char part[8];
        snprintf(part, sizeof part, "x%d", i);
        in[i] = fixture_part(c.name, part);
        vt_tensor_set_requires_grad(in[i], 1);
    }
    if (!c.training) { c.rm = fixture_part(c.name, "rm0"); c.rv = fixture_part(c.name, "rv0"); }
    vt_check_gradient(f_bn, &c, n_in, in, 1e-2, 3e-3, 3e-3, 0);
    for (int i = 0; i < n_in; i++) vt_tensor_free(in[i]);
    vt_tensor_free(c.rm);
    vt_tensor_free(c.rv);
}
END_TEST

/* Running stats move in training mode whether or not gradients are recorded. */
START_TEST(running_stats_update_under_no_grad) {
    vt_tensor *x = vt_tensor_from_data(VT_DIMS(4, 1), (float[]){1, 2, 3, 6});
    vt_tensor *rm = vt_tensor_new(VT_DIMS(1)), *rv = vt_tensor_new(VT_DIMS(1));
    vt_tensor_fill(rv, 1.f);
    int prev = vt_set_grad_enabled(0);
    vt_tensor *y = vt_batch_norm(x, NULL, NULL, rm, rv, 1, 0.5f, 0.f);
    vt_set_grad_enabled(prev);
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    /* mean 3, biased var 3.5, unbiased 14/3 */
    ck_assert_float_eq_tol(rm->data[0], 1.5f, 1e-6);
    ck_assert_float_eq_tol(rv->data[0], 0.5f + 0.5f * 14.f / 3.f, 1e-6);
    ck_assert_float_eq_tol(y->data[3], 3.f / sqrtf(3.5f), 1e-6);
    vt_tensor_free(x); vt_tensor_free(rm); vt_tensor_free(rv);
    vt_arena_reset(NULL);
}
END_TEST

static void expect_error(vt_tensor *y, const char *needle) {
    ck_assert_msg(y == NULL, "expected an error containing '%s'", needle);
    ck_assert_msg(strstr(vt_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                  vt_last_error(), needle);
}

START_TEST(bad_arguments_are_errors) {
    vt_tensor *x = vt_tensor_new(VT_DIMS(2, 3, 4, 4)), *c3 = vt_tensor_new(VT_DIMS(3));
    vt_tensor *c4 = vt_tensor_new(VT_DIMS(4)), *x1 = vt_tensor_new(VT_DIMS(6));
    vt_tensor *single = vt_tensor_new(VT_DIMS(1, 3));
    expect_error(vt_batch_norm(x, c4, c3, NULL, NULL, 1, 0.1f, 1e-5f), "weight (4)");
    expect_error(vt_batch_norm(x, c3, c4, NULL, NULL, 1, 0.1f, 1e-5f), "bias (4)");
    expect_error(vt_batch_norm(x, c3, c3, c4, c3, 1, 0.1f, 1e-5f), "running_mean (4)");
    expect_error(vt_batch_norm(x, c3, c3, c3, c4, 0, 0.1f, 1e-5f), "running_var (4)");
    expect_error(vt_batch_norm(x1, NULL, NULL, NULL, NULL, 1, 0.1f, 1e-5f), "(N, C)");
    expect_error(vt_batch_norm(single, NULL, NULL, NULL, NULL, 1, 0.1f, 1e-5f),
                 "more than 1 value per channel");
    expect_error(vt_batch_norm(x, NULL, NULL, NULL, NULL, 0, 0.1f, 1e-5f), "running_mean and running_var");
    expect_error(vt_batch_norm(x, NULL, NULL, NULL, NULL, 1, 0.1f, -1.f), "eps");
    ck_assert_ptr_null(vt_batch_norm(NULL, c3, c3, NULL, NULL, 1, 0.1f, 1e-5f));
    ck_assert_ptr_nonnull(vt_batch_norm(single, NULL, NULL, c3, c3, 0, 0.1f, 1e-5f)); /* eval ok */
    vt_tensor *all[] = {x, c3, c4, x1, single};
    for (int i = 0; i < 5; i++) vt_tensor_free(all[i]);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/batch_norm");
    TCase *tc = tcase_create("batch_norm");
    tcase_add_loop_test(tc, parity_with_pytorch, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, running_stats_update_under_no_grad);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
