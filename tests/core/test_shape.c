/* test_shape.c: permute, transpose, concat and slice: PyTorch parity
 * (tests/ref/ref_shape_matmul.py), finite-difference gradients and argument errors. */
#include "vt_test.h"

static vt_tensor *f_perm_3d(vt_tensor **x, void *c) { return vt_permute(x[0], (int[]){2, 0, 1}); }
static vt_tensor *f_perm_3d_neg(vt_tensor **x, void *c) { return vt_permute(x[0], (int[]){-1, 0, -2}); }
static vt_tensor *f_perm_4d(vt_tensor **x, void *c) { return vt_permute(x[0], (int[]){0, 2, 3, 1}); }
static vt_tensor *f_perm_5d(vt_tensor **x, void *c) { return vt_permute(x[0], (int[]){4, 1, 3, 0, 2}); }
static vt_tensor *f_transpose_2d(vt_tensor **x, void *c) { return vt_transpose(x[0], 0, 1); }
static vt_tensor *f_transpose_4d(vt_tensor **x, void *c) { return vt_transpose(x[0], -1, 1); }
static vt_tensor *f_concat_axis0(vt_tensor **x, void *c) { return vt_concat(2, x, 0); }
static vt_tensor *f_concat_axis1(vt_tensor **x, void *c) { return vt_concat(3, x, 1); }
static vt_tensor *f_concat_last(vt_tensor **x, void *c) { return vt_concat(2, x, 2); }
static vt_tensor *f_concat_last_neg(vt_tensor **x, void *c) { return vt_concat(2, x, -1); }
static vt_tensor *f_concat_neg(vt_tensor **x, void *c) { return vt_concat(3, x, -2); }
static vt_tensor *f_concat_many(vt_tensor **x, void *c) { return vt_concat(6, x, 0); }
static vt_tensor *f_slice_mid(vt_tensor **x, void *c) { return vt_slice(x[0], 1, 1, 5); }
static vt_tensor *f_slice_neg(vt_tensor **x, void *c) { return vt_slice(x[0], -1, -5, -1); }
/* x[2:] written with an end past the dim: clamped like Python */
static vt_tensor *f_slice_first(vt_tensor **x, void *c) { return vt_slice(x[0], 0, 2, 100); }

static const struct { const char *fixture; vt_test_fn fn; int n_in; } cases[] = {
    {"perm_3d", f_perm_3d, 1}, {"perm_3d", f_perm_3d_neg, 1}, {"perm_4d", f_perm_4d, 1},
    {"perm_5d", f_perm_5d, 1}, {"transpose_2d", f_transpose_2d, 1},
    {"transpose_4d", f_transpose_4d, 1}, {"concat_axis0", f_concat_axis0, 2},
    {"concat_axis1", f_concat_axis1, 3}, {"concat_last", f_concat_last, 2},
    {"concat_last", f_concat_last_neg, 2}, {"concat_neg", f_concat_neg, 3},
    {"concat_many", f_concat_many, 6}, {"slice_mid", f_slice_mid, 1},
    {"slice_neg", f_slice_neg, 1}, {"slice_first", f_slice_first, 1},
};
#define N_CASES (int)(sizeof cases / sizeof cases[0])

/* Copies are exact: forward and gradients must match PyTorch bit for bit (gradients of
 * concat/slice/permute are pure copies of gy). */
START_TEST(parity_with_pytorch) {
    vt_check_fixture(cases[_i].fixture, cases[_i].n_in, cases[_i].fn, NULL, 0, 0);
}
END_TEST

START_TEST(gradient_matches_finite_differences) {
    vt_check_gradient_at_fixture(cases[_i].fixture, cases[_i].n_in, VT_PROBE_ALL, cases[_i].fn, NULL,
                                 1e-2, 1e-4, 1e-4, 0);
}
END_TEST

/* Only the inputs that require grad receive one; the others are left alone. */
START_TEST(concat_gradient_only_to_inputs_that_require_it) {
    vt_tensor *a = vt_test_rand(VT_DIMS(2, 3), -1, 1, 1), *b = vt_test_rand(VT_DIMS(2, 2), -1, 1, 2);
    vt_tensor_set_requires_grad(a, 0);
    vt_tensor *y = vt_concat(2, (vt_tensor *[]){a, b}, 1);
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_backward(vt_sum(y, 0, NULL, 0)), VT_OK);
    ck_assert_ptr_null(a->grad);
    ck_assert_ptr_nonnull(b->grad);
    for (int i = 0; i < 4; i++) ck_assert_float_eq(b->grad->data[i], 1.f);
    vt_tensor_free(a);
    vt_tensor_free(b);
    vt_arena_reset(NULL);
}
END_TEST

static void expect_error(vt_tensor *y, const char *needle) {
    ck_assert_msg(y == NULL, "expected an error containing \"%s\"", needle);
    ck_assert_msg(strstr(vt_last_error(), needle) != NULL, "error \"%s\" lacks \"%s\"",
                  vt_last_error(), needle);
}

START_TEST(bad_arguments_are_errors) {
    vt_tensor *x = vt_tensor_new(VT_DIMS(2, 3, 4)), *b = vt_tensor_new(VT_DIMS(2, 5, 3));
    expect_error(vt_permute(x, (int[]){0, 1, 1}), "appears twice");
    expect_error(vt_permute(x, (int[]){0, 1, -2}), "appears twice"); /* -2 is axis 1 */
    expect_error(vt_permute(x, (int[]){0, 1, 3}), "out of range");
    expect_error(vt_permute(x, (int[]){-4, 0, 1}), "out of range");
    expect_error(vt_transpose(x, 0, 3), "out of range");
    expect_error(vt_concat(2, (vt_tensor *[]){x, b}, 1), "does not match");
    expect_error(vt_concat(2, (vt_tensor *[]){x, vt_tensor_zeros(VT_DIMS(2, 3))}, 0), "does not match");
    expect_error(vt_concat(0, (vt_tensor *[]){x}, 0), "at least one");
    expect_error(vt_concat(1, (vt_tensor *[]){x}, 3), "out of range");
    expect_error(vt_slice(x, 1, 2, 2), "empty");
    expect_error(vt_slice(x, 1, 2, 1), "empty");
    expect_error(vt_slice(x, 1, 3, 10), "empty");   /* start == dim after clamping */
    expect_error(vt_slice(x, 2, -10, -4), "empty"); /* both clamp to 0 */
    expect_error(vt_slice(x, 3, 0, 1), "out of range");
    /* NULL in, NULL out */
    ck_assert_ptr_null(vt_permute(NULL, (int[]){0}));
    ck_assert_ptr_null(vt_transpose(NULL, 0, 1));
    ck_assert_ptr_null(vt_concat(2, (vt_tensor *[]){x, NULL}, 0));
    ck_assert_ptr_null(vt_slice(NULL, 0, 0, 1));
    vt_tensor_free(x);
    vt_tensor_free(b);
    vt_arena_reset(NULL);
}
END_TEST

/* Large enough to take the OpenMP path of copy_strided; checks values by index. */
START_TEST(large_permute_and_slice_by_index) {
    int64_t A = 64, B = 48, C = 40;
    vt_tensor *x = vt_test_rand(VT_DIMS(A, B, C), -1, 1, 7);
    vt_tensor *y = vt_permute(x, (int[]){1, 2, 0});
    ck_assert_msg(y != NULL, "%s", vt_last_error());
    for (int64_t a = 0; a < A; a++)
        for (int64_t b = 0; b < B; b++)
            for (int64_t c = 0; c < C; c++)
                if (y->data[(b * C + c) * A + a] != x->data[(a * B + b) * C + c])
                    ck_abort_msg("permute mismatch at (%lld, %lld, %lld)", (long long)a, (long long)b, (long long)c);
    vt_tensor *s = vt_slice(x, 2, 5, 37);
    ck_assert_msg(s != NULL, "%s", vt_last_error());
    ck_assert_int_eq(s->shape[2], 32);
    for (int64_t a = 0; a < A; a++)
        for (int64_t b = 0; b < B; b++)
            for (int64_t c = 0; c < 32; c++)
                if (s->data[(a * B + b) * 32 + c] != x->data[(a * B + b) * C + c + 5])
                    ck_abort_msg("slice mismatch at (%lld, %lld, %lld)", (long long)a, (long long)b, (long long)c);
    vt_tensor_free(x);
    vt_arena_reset(NULL);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/shape");
    TCase *tc = tcase_create("ops");
    tcase_add_loop_test(tc, parity_with_pytorch, 0, N_CASES);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, N_CASES);
    tcase_add_test(tc, concat_gradient_only_to_inputs_that_require_it);
    tcase_add_test(tc, bad_arguments_are_errors);
    tcase_add_test(tc, large_permute_and_slice_by_index);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
