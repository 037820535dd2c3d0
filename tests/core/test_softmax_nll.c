/* test_softmax_nll.c: softmax / log-softmax over an inner axis (axis 1 of 4-D, strided) and
 * the last axis, and the nll gather: PyTorch parity (tests/ref/ref_softmax_losses.py),
 * finite differences and argument errors. */
#include <math.h>
#include "vt_test.h"

static vt_tensor *f_softmax1(vt_tensor **x, void *c) { return vt_softmax(x[0], 1); }
static vt_tensor *f_log_softmax1(vt_tensor **x, void *c) { return vt_log_softmax(x[0], 1); }
static vt_tensor *f_softmax_last(vt_tensor **x, void *c) { return vt_softmax(x[0], -1); }
static vt_tensor *f_log_softmax_last(vt_tensor **x, void *c) { return vt_log_softmax(x[0], -1); }
static vt_tensor *f_nll_weighted(vt_tensor **x, void *c) { return vt_nll(x[0], x[1], x[2], -100); }
static vt_tensor *f_nll_spatial(vt_tensor **x, void *c) { return vt_nll(x[0], x[1], NULL, 255); }

static const struct { const char *name; vt_test_fn fn; int n_in; } cases[] = {
    {"softmax_axis1", f_softmax1, 1},        {"log_softmax_axis1", f_log_softmax1, 1},
    {"softmax_last", f_softmax_last, 1},     {"log_softmax_last", f_log_softmax_last, 1},
    {"softmax_tiles", f_softmax1, 1},        {"log_softmax_tiles", f_log_softmax1, 1},
    {"nll_weighted", f_nll_weighted, 3},     {"nll_spatial", f_nll_spatial, 2},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

START_TEST(parity_with_pytorch) {
    vt_check_fixture(cases[_i].name, cases[_i].n_in, cases[_i].fn, NULL, 2e-6, 2e-5);
    vt_arena_reset(NULL);
}
END_TEST

/* finite differences on the fixture inputs; only the first input (x or logp) is probed */
START_TEST(gradient_matches_finite_differences) {
    /* the tiles case has |x| up to 80: softmax saturates, a larger step stays accurate */
    vt_check_gradient_at_fixture(cases[_i].name, cases[_i].n_in, 1u, cases[_i].fn, NULL, 1e-2, 2e-3,
                                 2e-2, 200);
}
END_TEST

/* rows of softmax sum to 1, log_softmax = log(softmax), and shifting a row changes nothing */
START_TEST(softmax_identities_hold) {
    vt_tensor *x = vt_test_rand(VT_DIMS(3, 5, 2, 2), -20.f, 20.f, 7);
    vt_tensor *y = vt_softmax(x, 1), *ly = vt_log_softmax(x, 1);
    ck_assert_ptr_nonnull(y);
    for (int n = 0; n < 3; n++)
        for (int s = 0; s < 4; s++) {
            double sum = 0;
            for (int c = 0; c < 5; c++) {
                int64_t i = (n * 5 + c) * 4 + s;
                sum += y->data[i];
                ck_assert_float_eq_tol(logf(y->data[i] + 1e-30f), ly->data[i], 1e-4 + 1e-5 * fabsf(ly->data[i]));
            }
            ck_assert_double_eq_tol(sum, 1.0, 1e-6);
        }
    vt_tensor *shifted = vt_softmax(vt_add_scalar(x, 1000.f), 1); /* no overflow */
    vt_expect_tensor_close(shifted, y, 1e-6, 1e-3, "softmax(x + 1000)");
    vt_tensor_free(x);
    vt_arena_reset(NULL);
}
END_TEST

START_TEST(bad_arguments_are_errors) {
    vt_tensor *x = vt_tensor_new(VT_DIMS(2, 3, 4));
    ck_assert_ptr_null(vt_softmax(x, 3));
    ck_assert_msg(strstr(vt_last_error(), "softmax") != NULL, "%s", vt_last_error());
    ck_assert_ptr_null(vt_log_softmax(NULL, 0));
    vt_tensor *t_bad_shape = vt_tensor_new(VT_DIMS(2, 3));
    ck_assert_ptr_null(vt_nll(x, t_bad_shape, NULL, -100));
    ck_assert_msg(strstr(vt_last_error(), "do not match") != NULL, "%s", vt_last_error());
    vt_tensor *t = vt_tensor_from_data(VT_DIMS(2, 4), (float[]){0, 1, 2, 3, 0, 1, 2, -100});
    ck_assert_ptr_null(vt_nll(x, t, NULL, -100)); /* 3 is out of [0, 3) */
    ck_assert_msg(strstr(vt_last_error(), "target 3") != NULL, "%s", vt_last_error());
    t->data[3] = 1.5f;                            /* not an integer */
    ck_assert_ptr_null(vt_nll(x, t, NULL, -100));
    t->data[3] = 2.f;
    vt_tensor *w_bad = vt_tensor_new(VT_DIMS(4));
    ck_assert_ptr_null(vt_nll(x, t, w_bad, -100));
    ck_assert_msg(strstr(vt_last_error(), "class_weights") != NULL, "%s", vt_last_error());
    vt_tensor *y = vt_nll(x, t, NULL, -100);
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    ck_assert_float_eq(y->data[7], 0.f); /* ignored position */
    vt_tensor_free(x); vt_tensor_free(t_bad_shape); vt_tensor_free(t); vt_tensor_free(w_bad);
    vt_arena_reset(NULL);
}
END_TEST

/* Big enough to run multithreaded: the result is the same bits for 1 and 4 threads. */
START_TEST(threads_do_not_change_results) {
    vt_tensor *x = vt_test_rand(VT_DIMS(4, 8, 40, 40), -5.f, 5.f, 3);
    int prev = vt_get_num_threads();
    vt_set_num_threads(1);
    vt_tensor *a = vt_log_softmax(x, 1);
    vt_set_num_threads(4);
    vt_tensor *b = vt_log_softmax(x, 1);
    vt_set_num_threads(prev);
    ck_assert_int_eq(memcmp(a->data, b->data, (size_t)a->numel * sizeof(float)), 0);
    vt_tensor_free(x);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/softmax_nll");
    TCase *tc = tcase_create("ops");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, parity_with_pytorch, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, softmax_identities_hold);
    tcase_add_test(tc, bad_arguments_are_errors);
    tcase_add_test(tc, threads_do_not_change_results);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
