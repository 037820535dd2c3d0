/* test_upsample.c: nearest / bilinear / trilinear upsampling: PyTorch parity
 * (tests/ref/ref_norm_resample.py, F.interpolate) of the output and the input gradient,
 * finite differences, output sizes from scale factors, errors. */
#include <math.h>
#include "vt_test.h"

typedef struct {
    const char *name;
    vt_upsample_params p;
} up_case;

#define NEAREST VT_UPSAMPLE_NEAREST
#define LINEAR VT_UPSAMPLE_LINEAR
/* same parameters as ref_norm_resample.py: {mode, align_corners, size, scale} */
static const up_case cases[] = {
    {"up_nearest_size_4d", {NEAREST, 0, {5, 7}, {0}}},
    {"up_nearest_scale2_4d", {NEAREST, 0, {0}, {2, 2}}},
    {"up_nearest_scale_5d", {NEAREST, 0, {0}, {3, 2, 1.5}}},
    {"up_nearest_down_4d", {NEAREST, 0, {3, 4}, {0}}},
    {"up_nearest_size_5d", {NEAREST, 0, {3, 5, 4}, {0}}},
    {"up_bilinear_size_ac0", {LINEAR, 0, {5, 7}, {0}}},
    {"up_bilinear_size_ac1", {LINEAR, 1, {5, 7}, {0}}},
    {"up_bilinear_scale2_ac0", {LINEAR, 0, {0}, {2, 2}}},
    {"up_bilinear_scale2_ac1", {LINEAR, 1, {0}, {2, 2}}},
    {"up_bilinear_scale_frac", {LINEAR, 0, {0}, {1.7, 2.5}}},
    {"up_bilinear_down_ac0", {LINEAR, 0, {4, 3}, {0}}},
    {"up_bilinear_out1_ac1", {LINEAR, 1, {1, 5}, {0}}},
    {"up_bilinear_scale_same", {LINEAR, 0, {0}, {1.2, 1.2}}},
    {"up_trilinear_size_ac0", {LINEAR, 0, {3, 5, 6}, {0}}},
    {"up_trilinear_size_ac1", {LINEAR, 1, {3, 5, 6}, {0}}},
    {"up_trilinear_scale2_ac0", {LINEAR, 0, {0}, {2, 2, 2}}},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

static vt_tensor *f_up(vt_tensor **x, void *ctx) {
    return vt_upsample(x[0], &((const up_case *)ctx)->p);
}

START_TEST(parity_with_pytorch) {
    vt_check_fixture(cases[_i].name, 1, f_up, (void *)&cases[_i], 1e-6, 1e-5);
    vt_arena_reset(NULL);
}
END_TEST

/* upsampling is linear in x: central differences are exact up to f32 rounding */
START_TEST(gradient_matches_finite_differences) {
    vt_check_gradient_at_fixture(cases[_i].name, 1, VT_PROBE_ALL, f_up, (void *)&cases[_i], 1e-2,
                                 1e-3, 1e-3, 0);
}
END_TEST

/* F.interpolate's output size: floor(in * scale) in double */
START_TEST(output_size_from_scale) {
    static const struct { int64_t in; double scale; int64_t want; } t[] = {
        {3, 2.0, 6}, {3, 1.5, 4}, {5, 0.5, 2}, {7, 1.0 / 3, 2}, {10, 0.1, 1}, {4, 2.5, 10},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        vt_tensor *x = vt_tensor_new(VT_DIMS(1, 1, 2, t[i].in));
        vt_upsample_params p = {LINEAR, 0, {0}, {1, t[i].scale}};
        vt_tensor *y = vt_upsample(x, &p);
        ck_assert_msg(y != NULL, "case %zu: %s", i, vt_last_error());
        ck_assert_msg(y->shape[2] == 2 && y->shape[3] == t[i].want, "in %lld scale %g: got %lld want %lld",
                      (long long)t[i].in, t[i].scale, (long long)y->shape[3], (long long)t[i].want);
        vt_tensor_free(x);
    }
    vt_arena_reset(NULL);
}
END_TEST

/* align_corners keeps the corner values; nearest 2x repeats each value twice */
START_TEST(corners_and_repeats) {
    vt_tensor *x = vt_tensor_from_data(VT_DIMS(1, 1, 2, 2), (float[]){1, 2, 3, 4});
    vt_tensor *y = vt_upsample(x, &(vt_upsample_params){LINEAR, 1, {3, 3}, {0}});
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    vt_expect_close(y->data, (float[]){1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4}, 9, 1e-6, 0, "align_corners 2x2->3x3");
    y = vt_upsample(x, &(vt_upsample_params){NEAREST, 0, {0}, {2, 2}});
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    vt_expect_close(y->data, (float[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, 16, 0, 0, "nearest 2x");
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
    expect_error(vt_upsample(x, NULL), "upsample: parameters are NULL");
    expect_error(vt_upsample(x3, &(vt_upsample_params){NEAREST, 0, {4}, {0}}), "input (1, 2, 3) must be");
    expect_error(vt_upsample(x, &(vt_upsample_params){NEAREST, 1, {4, 4}, {0}}), "align_corners is only for linear");
    expect_error(vt_upsample(x, &(vt_upsample_params){7, 0, {4, 4}, {0}}), "unknown mode 7");
    expect_error(vt_upsample(x, &(vt_upsample_params){LINEAR, 0, {4, 0}, {0}}), "output size 0 along spatial dim 1");
    expect_error(vt_upsample(x, &(vt_upsample_params){LINEAR, 0, {0}, {2, 0}}), "must all be > 0");
    expect_error(vt_upsample(x, &(vt_upsample_params){LINEAR, 0, {0}, {2, -1}}), "must all be > 0");
    expect_error(vt_upsample(x, &(vt_upsample_params){LINEAR, 0, {0}, {0.2, 2}}), "floor(in * scale)");
    expect_error(vt_upsample(empty, &(vt_upsample_params){LINEAR, 0, {2, 2}, {0}}), "is empty");
    ck_assert_ptr_null(vt_upsample(NULL, &(vt_upsample_params){LINEAR, 0, {2, 2}, {0}}));
    vt_tensor_free(x);
    vt_tensor_free(x3);
    vt_tensor_free(empty);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/upsample");
    TCase *tc = tcase_create("upsample");
    tcase_add_loop_test(tc, parity_with_pytorch, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, output_size_from_scale);
    tcase_add_test(tc, corners_and_repeats);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
