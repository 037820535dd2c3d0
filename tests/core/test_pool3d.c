/* test_pool3d.c: max / average 3D pooling: PyTorch parity (tests/ref/ref_conv3d_transpose.py),
 * finite differences, a 3D pool of depth 1 against the 2D pool, and errors. */
#include <math.h>
#include "vt_test.h"

typedef struct {
    const char *name;
    int is_max;
    vt_pool3d_params p;
} pool_case;

/* same parameters as ref_conv3d_transpose.py: {kernel, stride, pad, ceil_mode, count_include_pad} */
static const pool_case cases[] = {
    {"pool3d_max_k2", 1, {{2, 2, 2}, {0, 0, 0}, {0, 0, 0}, 0, 1}},
    {"pool3d_max_k3s2p1", 1, {{3, 3, 3}, {2, 2, 2}, {1, 1, 1}, 0, 1}},
    {"pool3d_max_ceil", 1, {{2, 3, 2}, {2, 2, 2}, {1, 1, 0}, 1, 1}},
    {"pool3d_avg_k2", 0, {{2, 2, 2}, {0, 0, 0}, {0, 0, 0}, 0, 1}},
    {"pool3d_avg_k3s2p1", 0, {{3, 3, 3}, {2, 2, 2}, {1, 1, 1}, 0, 1}},
    {"pool3d_avg_k3s2p1_nopadcount", 0, {{3, 3, 3}, {2, 2, 2}, {1, 1, 1}, 0, 0}},
    {"pool3d_avg_ceil", 0, {{3, 3, 3}, {2, 2, 2}, {1, 1, 1}, 1, 1}},
    {"pool3d_avg_ceil_nopadcount", 0, {{3, 2, 3}, {2, 2, 2}, {1, 1, 1}, 1, 0}},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static vt_tensor *f_pool(vt_tensor **x, void *ctx) {
    const pool_case *c = ctx;
    return c->is_max ? vt_max_pool3d(x[0], &c->p) : vt_avg_pool3d(x[0], &c->p);
}

START_TEST(parity_with_pytorch) {
    vt_check_fixture(cases[_i].name, 1, f_pool, (void *)&cases[_i], 1e-6, 1e-5);
}
END_TEST

/* Max pool inputs have distinct values spaced 2/numel >= 0.006 apart, more than twice the
 * step, so the argmax does not move while probing. */
START_TEST(gradient_matches_finite_differences) {
    vt_check_gradient_at_fixture(cases[_i].name, 1, VT_PROBE_ALL, f_pool, (void *)&cases[_i],
                                 2e-3, 1e-3, 1e-3, 0);
}
END_TEST

/* A kernel of depth 1 over a (N, C, 1, H, W) input is the 2D pool of the (N, C, H, W) plane. */
START_TEST(depth_one_matches_pool2d) {
    vt_tensor *x = vt_test_rand(VT_DIMS(2, 3, 1, 7, 6), -1, 1, 51);
    vt_tensor *x2 = vt_reshape(x, VT_DIMS(2, 3, 7, 6));
    for (int is_max = 0; is_max < 2; is_max++)
        for (int cip = 0; cip < 2; cip++) {
            vt_pool3d_params p3 = {{1, 3, 2}, {1, 2, 2}, {0, 1, 1}, 1, cip};
            vt_pool2d_params p2 = {{3, 2}, {2, 2}, {1, 1}, 1, cip};
            vt_tensor *y3 = is_max ? vt_max_pool3d(x, &p3) : vt_avg_pool3d(x, &p3);
            vt_tensor *y2 = is_max ? vt_max_pool2d(x2, &p2) : vt_avg_pool2d(x2, &p2);
            ck_assert_msg(y3 && y2, "%s", vt_last_error());
            ck_assert_int_eq(y3->numel, y2->numel);
            ck_assert_int_eq(y3->shape[2], 1);
            vt_expect_close(y3->data, y2->data, y2->numel, 0, 0, is_max ? "max pool" : "avg pool");
        }
    vt_tensor_free(x);
    vt_arena_reset(NULL);
}
END_TEST

/* stride 0 means stride = kernel; ceil mode adds the partial last window */
START_TEST(output_sizes) {
    vt_tensor *x = vt_tensor_new(VT_DIMS(1, 2, 5, 6, 7));
    vt_pool3d_params p = {{2, 2, 2}, {0, 0, 0}, {0, 0, 0}, 0, 1};
    vt_tensor *y = vt_max_pool3d(x, &p);
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    ck_assert_int_eq(y->shape[2], 2);
    ck_assert_int_eq(y->shape[3], 3);
    ck_assert_int_eq(y->shape[4], 3);
    p.ceil_mode = 1;
    y = vt_avg_pool3d(x, &p);
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    ck_assert_int_eq(y->shape[2], 3);
    ck_assert_int_eq(y->shape[3], 3);
    ck_assert_int_eq(y->shape[4], 4);
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
    vt_tensor *x = vt_tensor_new(VT_DIMS(1, 2, 4, 4, 4));
    vt_tensor *x4 = vt_tensor_new(VT_DIMS(1, 2, 4, 4));
    vt_pool3d_params ok = {{2, 2, 2}, {0, 0, 0}, {0, 0, 0}, 0, 1};
    expect_error(vt_max_pool3d(x4, &ok), "max_pool3d: input (1, 2, 4, 4) must be (N, C, D, H, W)");
    expect_error(vt_avg_pool3d(x, NULL), "avg_pool3d: parameters are NULL");
    vt_pool3d_params k0 = {{2, 0, 2}, {0, 0, 0}, {0, 0, 0}, 0, 1};
    expect_error(vt_max_pool3d(x, &k0), "kernel (2, 0, 2) must be >= 1");
    vt_pool3d_params bigpad = {{2, 3, 2}, {0, 0, 0}, {0, 2, 0}, 0, 1};
    expect_error(vt_avg_pool3d(x, &bigpad), "pad (0, 2, 0) must be at most half the kernel");
    vt_pool3d_params too_big = {{5, 2, 2}, {0, 0, 0}, {0, 0, 0}, 0, 1};
    expect_error(vt_max_pool3d(x, &too_big), "does not fit input (1, 2, 4, 4, 4)");
    ck_assert_ptr_null(vt_max_pool3d(NULL, &ok));
    vt_tensor_free(x);
    vt_tensor_free(x4);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/pool3d");
    TCase *tc = tcase_create("pool3d");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, parity_with_pytorch, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, depth_one_matches_pool2d);
    tcase_add_test(tc, output_sizes);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
