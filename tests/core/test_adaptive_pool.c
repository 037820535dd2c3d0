/* test_adaptive_pool.c: adaptive average / max pooling (2D and 3D): PyTorch parity
 * (tests/ref/ref_norm_resample.py) of the output and input gradient with output sizes that
 * do not divide the input or exceed it, finite differences, window rule, errors. */
#include <math.h>
#include "vt_test.h"

typedef struct {
    const char *name;
    int is_max;
    int64_t out[3];
} ap_case;

/* same parameters as ref_norm_resample.py */
static const ap_case cases[] = {
    {"ap_avg_4d", 0, {3, 2}},
    {"ap_avg_4d_up", 0, {5, 6}},
    {"ap_avg_5d", 0, {2, 3, 3}},
    {"ap_avg_4d_1x1", 0, {1, 1}},
    {"ap_max_4d", 1, {3, 2}},
    {"ap_max_4d_up", 1, {5, 6}},
    {"ap_max_5d", 1, {2, 3, 3}},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static vt_tensor *f_ap(vt_tensor **x, void *ctx) {
    const ap_case *c = ctx;
    return c->is_max ? vt_adaptive_max_pool(x[0], c->out) : vt_adaptive_avg_pool(x[0], c->out);
}

START_TEST(parity_with_pytorch) {
    vt_check_fixture(cases[_i].name, 1, f_ap, (void *)&cases[_i], 1e-6, 1e-5);
    vt_arena_reset(NULL);
}
END_TEST

/* max inputs have distinct values >= 2/numel apart, more than the step: argmax stays put */
START_TEST(gradient_matches_finite_differences) {
    vt_check_gradient_at_fixture(cases[_i].name, 1, VT_PROBE_ALL, f_ap, (void *)&cases[_i], 5e-3,
                                 1e-3, 1e-3, 0);
}
END_TEST

/* in 5 -> out 3: windows [0, 2), [1, 4), [3, 5) (overlapping) */
START_TEST(windows_overlap_when_out_does_not_divide) {
    vt_tensor *x = vt_tensor_from_data(VT_DIMS(1, 1, 1, 5), (float[]){1, 2, 4, 8, 16});
    vt_tensor *y = vt_adaptive_avg_pool(x, (int64_t[]){1, 3});
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    vt_expect_close(y->data, (float[]){1.5f, 14.f / 3, 12}, 3, 1e-6, 0, "avg windows");
    y = vt_adaptive_max_pool(x, (int64_t[]){1, 3});
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    vt_expect_close(y->data, (float[]){2, 8, 16}, 3, 0, 0, "max windows");
    vt_tensor_free(x);
    vt_arena_reset(NULL);
}
END_TEST

static void expect_error(vt_tensor *y, const char *needle) {
    ck_assert_msg(y == NULL, "expected an error containing '%s'", needle);
    ck_assert_msg(strstr(vt_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                  vt_last_error(), needle);
}

START_TEST(bad_arguments_are_errors) {
    vt_tensor *x = vt_tensor_new(VT_DIMS(1, 2, 3, 4)), *x3 = vt_tensor_new(VT_DIMS(1, 2, 3));
    vt_tensor *empty = vt_tensor_new(VT_DIMS(1, 2, 0, 4));
    expect_error(vt_adaptive_avg_pool(x3, (int64_t[]){2}), "adaptive_avg_pool: input (1, 2, 3) must be");
    expect_error(vt_adaptive_max_pool(x3, (int64_t[]){2}), "adaptive_max_pool: input (1, 2, 3)");
    expect_error(vt_adaptive_avg_pool(x, (int64_t[]){2, 0}), "output size 0 along spatial dim 1");
    expect_error(vt_adaptive_max_pool(x, (int64_t[]){-1, 2}), "output size -1 along spatial dim 0");
    expect_error(vt_adaptive_avg_pool(x, NULL), "out_sizes is NULL");
    expect_error(vt_adaptive_avg_pool(empty, (int64_t[]){1, 1}), "is empty");
    ck_assert_ptr_null(vt_adaptive_max_pool(NULL, (int64_t[]){1, 1}));
    vt_tensor_free(x);
    vt_tensor_free(x3);
    vt_tensor_free(empty);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/adaptive_pool");
    TCase *tc = tcase_create("adaptive_pool");
    tcase_add_loop_test(tc, parity_with_pytorch, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, windows_overlap_when_out_does_not_divide);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
