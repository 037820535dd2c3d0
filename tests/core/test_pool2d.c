/* test_pool2d.c: max / average / global average pooling: PyTorch parity
 * (tests/ref/ref_conv_pool_bn.py), finite differences, output sizes in ceil mode, errors. */
#include <math.h>
#include "vt_test.h"

typedef struct {
    const char *name;
    int is_max, global;
    vt_pool2d_params p;
} pool_case;

/* same parameters as ref_conv_pool_bn.py: {kernel, stride, pad, ceil_mode, count_include_pad} */
static const pool_case cases[] = {
    {"pool_max_k2", 1, 0, {{2, 2}, {0, 0}, {0, 0}, 0, 1}},
    {"pool_max_k3s2p1", 1, 0, {{3, 3}, {2, 2}, {1, 1}, 0, 1}},
    {"pool_max_ceil", 1, 0, {{3, 2}, {2, 2}, {1, 0}, 1, 1}},
    {"pool_max_rect_s1", 1, 0, {{2, 3}, {1, 1}, {1, 1}, 0, 1}},
    {"pool_avg_k2", 0, 0, {{2, 2}, {0, 0}, {0, 0}, 0, 1}},
    {"pool_avg_k3s2p1", 0, 0, {{3, 3}, {2, 2}, {1, 1}, 0, 1}},
    {"pool_avg_k3s2p1_nopadcount", 0, 0, {{3, 3}, {2, 2}, {1, 1}, 0, 0}},
    {"pool_avg_ceil", 0, 0, {{3, 3}, {2, 2}, {1, 1}, 1, 1}},
    {"pool_avg_ceil_nopadcount", 0, 0, {{3, 3}, {2, 2}, {1, 1}, 1, 0}},
    {"pool_gap_4d", 0, 1, {{0, 0}, {0, 0}, {0, 0}, 0, 0}},
    {"pool_gap_5d", 0, 1, {{0, 0}, {0, 0}, {0, 0}, 0, 0}},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static vt_tensor *f_pool(vt_tensor **x, void *ctx) {
    const pool_case *c = ctx;
    if (c->global) return vt_global_avg_pool(x[0]);
    return c->is_max ? vt_max_pool2d(x[0], &c->p) : vt_avg_pool2d(x[0], &c->p);
}

START_TEST(parity_with_pytorch) {
    vt_check_fixture(cases[_i].name, 1, f_pool, (void *)&cases[_i], 1e-6, 1e-5);
}
END_TEST

/* Max pool inputs have distinct values spaced 2/numel >= 0.03 apart, more than the step,
 * so the argmax does not move while probing. */
START_TEST(gradient_matches_finite_differences) {
    char key[128];
    snprintf(key, sizeof key, "%s.x0", cases[_i].name);
    vt_tensor *x = vt_fixture(key);
    vt_tensor_set_requires_grad(x, 1);
    vt_check_gradient(f_pool, (void *)&cases[_i], 1, &x, 5e-3, 1e-3, 1e-3, 0);
    vt_tensor_free(x);
}
END_TEST

/* PyTorch's ceil-mode rule: the last window must start inside the input or left padding. */
START_TEST(ceil_mode_output_sizes) {
    static const struct { int in, k, s, pad, ceil, want; } t[] = {
        {5, 2, 2, 0, 0, 2}, {5, 2, 2, 0, 1, 3}, {6, 2, 2, 0, 1, 3},
        {6, 3, 2, 1, 1, 4}, /* ceil(5/2)+1 = 4: last start 6-1 = 5 < 6 + 1 */
        {4, 3, 3, 1, 1, 2}, /* 4 + 2 - 3 = 3, ceil(3/3)+1 = 2; start 3 < 4 + 1 keeps it */
        {5, 2, 3, 1, 1, 2}, /* ceil((5+2-2)/3)+1 = 3, but window 2 starts at 6 >= 5+1: 2 */
        {1, 1, 1, 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        vt_tensor *x = vt_tensor_new(VT_DIMS(1, 1, t[i].in, 3));
        vt_pool2d_params p = {{t[i].k, 1}, {t[i].s, 1}, {t[i].pad, 0}, t[i].ceil, 1};
        vt_tensor *ym = vt_max_pool2d(x, &p), *ya = vt_avg_pool2d(x, &p);
        ck_assert_msg(ym && ya, "case %zu: %s", i, vt_last_error());
        ck_assert_msg(ym->shape[2] == t[i].want && ya->shape[2] == t[i].want,
                      "case %zu: in %d k %d s %d pad %d ceil %d: got %lld, want %d", i, t[i].in,
                      t[i].k, t[i].s, t[i].pad, t[i].ceil, (long long)ym->shape[2], t[i].want);
        vt_tensor_free(x);
    }
    vt_arena_reset(NULL);
}
END_TEST

/* padding acts as -inf for max pool: an all-negative input never yields a 0 from padding */
START_TEST(max_pool_padding_is_minus_infinity) {
    vt_tensor *x = vt_tensor_new(VT_DIMS(1, 1, 2, 2));
    vt_tensor_fill(x, -3.f);
    vt_pool2d_params p = {{3, 3}, {1, 1}, {1, 1}, 0, 1};
    vt_tensor *y = vt_max_pool2d(x, &p);
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    for (int i = 0; i < 4; i++) ck_assert_float_eq(y->data[i], -3.f);
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
    vt_tensor *x = vt_tensor_new(VT_DIMS(1, 2, 4, 4)), *x3 = vt_tensor_new(VT_DIMS(2, 4, 4));
    vt_tensor *x2 = vt_tensor_new(VT_DIMS(2, 4));
    vt_pool2d_params big_pad = {{2, 2}, {0, 0}, {2, 2}, 0, 1};
    expect_error(vt_max_pool2d(x, &big_pad), "at most half the kernel");
    expect_error(vt_avg_pool2d(x, &big_pad), "at most half the kernel");
    vt_pool2d_params too_big = {{5, 2}, {0, 0}, {0, 0}, 0, 1};
    expect_error(vt_max_pool2d(x, &too_big), "output too small");
    vt_pool2d_params k0 = {{0, 2}, {0, 0}, {0, 0}, 0, 1};
    expect_error(vt_avg_pool2d(x, &k0), "kernel");
    vt_pool2d_params ok = {{2, 2}, {0, 0}, {0, 0}, 0, 1};
    expect_error(vt_max_pool2d(x3, &ok), "(N, C, H, W)");
    expect_error(vt_max_pool2d(x, NULL), "NULL");
    expect_error(vt_global_avg_pool(x2), "spatial");
    ck_assert_ptr_null(vt_max_pool2d(NULL, &ok));
    ck_assert_ptr_null(vt_global_avg_pool(NULL));
    vt_tensor_free(x); vt_tensor_free(x3); vt_tensor_free(x2);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/pool2d");
    TCase *tc = tcase_create("pool2d");
    tcase_add_loop_test(tc, parity_with_pytorch, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, ceil_mode_output_sizes);
    tcase_add_test(tc, max_pool_padding_is_minus_infinity);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
