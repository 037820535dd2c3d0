/* test_core.c: tensors, arena, parameter store, autograd bookkeeping, npy, errors. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include "vt_test.h"

START_TEST(tensor_shapes_and_errors) {
    vt_tensor *t = vt_tensor_new(VT_DIMS(2, 3, 4));
    ck_assert_int_eq(t->numel, 24);
    ck_assert_int_eq(t->ndim, 3);
    char buf[64];
    ck_assert_str_eq(vt_shape_str(t, buf, sizeof buf), "(2, 3, 4)");
    for (int i = 0; i < 24; i++) ck_assert(t->data[i] == 0.f);
    ck_assert_ptr_null(vt_tensor_new(VT_DIMS(1, 2, 3, 4, 5, 6)));
    ck_assert_msg(strstr(vt_last_error(), "6 dims") != NULL, "%s", vt_last_error());
    ck_assert_ptr_null(vt_tensor_new(VT_DIMS(-2)));
    ck_assert_ptr_null(vt_tensor_new(VT_DIMS(1LL << 40, 1LL << 40)));
    vt_tensor *r = vt_tensor_retain(t);
    vt_tensor_free(t);
    ck_assert_int_eq(r->refcount, 1); /* still alive */
    vt_tensor_free(r);
}
END_TEST

/* After the first step the arena has grown to fit: later identical steps allocate nothing. */
START_TEST(arena_steady_state_makes_no_malloc) {
    vt_arena *a = vt_arena_new(1 << 20);
    vt_arena *prev = vt_arena_set(a);
    vt_tensor *w = vt_tensor_new(VT_DIMS(256, 256));
    vt_tensor_set_requires_grad(w, 1);
    uint64_t after_first = 0;
    for (int step = 0; step < 5; step++) {
        vt_tensor *y = w;
        for (int k = 0; k < 20; k++) y = vt_tanh(vt_add_scalar(y, 0.1f)); /* ~20 x 256 KB */
        ck_assert_int_eq(vt_backward(vt_sum(y, 0, NULL, 0)), VT_OK);
        vt_arena_reset(a);
        if (step == 1) after_first = vt_arena_mallocs(a);
        if (step > 1) ck_assert_int_eq(vt_arena_mallocs(a), after_first);
    }
    ck_assert_uint_ge(vt_arena_capacity(a), 20 * 256 * 256 * 4);
    vt_tensor_free(w);
    vt_arena_set(prev);
    vt_arena_free(a);
}
END_TEST

/* internal scratch API (core/internal.h), used by conv workspaces */
typedef struct { const void *chunk; size_t used, total; } mark_t;
mark_t vt_arena_get_mark(vt_arena *a);
void vt_arena_release(vt_arena *a, mark_t m);

START_TEST(arena_scratch_is_given_back) {
    vt_arena *a = vt_arena_new(1 << 20);
    void *keep = vt_arena_alloc(a, 1000);
    size_t used = vt_arena_used(a);
    mark_t m = vt_arena_get_mark(a);
    void *s1 = vt_arena_alloc(a, 100000);
    vt_arena_release(a, m);
    ck_assert_uint_eq(vt_arena_used(a), used);
    void *s2 = vt_arena_alloc(a, 100000);
    ck_assert_ptr_eq(s1, s2); /* same memory serves the next workspace */
    ck_assert_ptr_ne(keep, s2);
    vt_arena_free(a);
}
END_TEST

START_TEST(params_are_contiguous_views) {
    vt_params *p = vt_params_new();
    vt_tensor *w = vt_params_add(p, "fc.weight", VT_DIMS(3, 5));
    vt_tensor *b = vt_params_add(p, "fc.bias", VT_DIMS(3));
    vt_tensor *rm = vt_params_add_buffer(p, "bn.running_mean", VT_DIMS(7));
    ck_assert_ptr_null(vt_params_add(p, "fc.bias", VT_DIMS(3))); /* duplicate */
    for (int i = 0; i < 15; i++) w->data[i] = (float)i;
    b->data[2] = 42.f;
    rm->data[6] = -1.f;
    ck_assert_int_eq(vt_params_finalize(p), VT_OK);
    ck_assert_ptr_null(vt_params_add(p, "late", VT_DIMS(1)));
    float *v = vt_params_values(p);
    ck_assert_ptr_eq(w->data, v);          /* values kept, now inside the flat buffer */
    ck_assert(w->data[14] == 14.f && b->data[2] == 42.f && rm->data[6] == -1.f);
    ck_assert_ptr_eq(b->data, v + 16);     /* 64-byte aligned slots */
    ck_assert_int_eq(vt_params_numel(p), 32);
    /* gradients land in the flat grad buffer */
    vt_tensor *x = vt_tensor_full(VT_DIMS(3), 1.f);
    ck_assert_int_eq(vt_backward(vt_sum(vt_mul(b, x), 0, NULL, 0)), VT_OK);
    ck_assert(vt_params_grads(p)[16] == 1.f && vt_params_grads(p)[18] == 1.f);
    vt_params_zero_grad(p);
    ck_assert(vt_params_grads(p)[16] == 0.f);
    ck_assert_ptr_eq(vt_params_find(p, "bn.running_mean"), rm);
    ck_assert(vt_params_is_buffer(p, 2) && !vt_params_is_buffer(p, 0));
    vt_params_free(p);
    vt_arena_reset(NULL);
}
END_TEST

/* Two losses sharing a trunk in one step: each backward sees only its own graph. */
START_TEST(separate_backward_passes_do_not_double_count) {
    vt_tensor *x = vt_tensor_from_data(VT_DIMS(2), (float[]){1, 2});
    vt_tensor_set_requires_grad(x, 1);
    vt_tensor *h = vt_mul_scalar(x, 3.f);
    vt_tensor *l1 = vt_sum(h, 0, NULL, 0);
    vt_tensor *l2 = vt_sum(vt_mul(h, h), 0, NULL, 0);
    ck_assert_int_eq(vt_backward(l1), VT_OK); /* dx = 3 */
    ck_assert_int_eq(vt_backward(l2), VT_OK); /* dx += 18 x */
    ck_assert_float_eq_tol(x->grad->data[0], 3.f + 18.f, 1e-5);
    ck_assert_float_eq_tol(x->grad->data[1], 3.f + 36.f, 1e-5);
    vt_tensor_free(x);
    vt_arena_reset(NULL);
}
END_TEST

START_TEST(npy_roundtrip_and_corrupt_files) {
    char path[] = "/tmp/vt_npy_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    vt_tensor *t = vt_tensor_new(VT_DIMS(2, 3));
    for (int i = 0; i < 6; i++) t->data[i] = (float)i * 0.5f;
    ck_assert_int_eq(vt_npy_save(path, t), VT_OK);
    vt_tensor *u = vt_npy_load(path);
    ck_assert_ptr_nonnull(u);
    ck_assert(vt_shape_equal(t, u));
    vt_expect_close(u->data, t->data, 6, 0, 0, "npy roundtrip");
    /* truncate the data: clear error, no crash */
    ck_assert_int_eq(truncate(path, 128 + 8), 0);
    ck_assert_ptr_null(vt_npy_load(path));
    ck_assert_msg(strstr(vt_last_error(), "truncated") != NULL, "%s", vt_last_error());
    FILE *f = fopen(path, "wb");
    fputs("not an npy file at all", f);
    fclose(f);
    ck_assert_ptr_null(vt_npy_load(path));
    ck_assert_msg(strstr(vt_last_error(), path) != NULL, "error names the file: %s", vt_last_error());
    ck_assert_ptr_null(vt_npy_load("/nonexistent/x.npy"));
    unlink(path);
    vt_tensor_free(t);
    vt_tensor_free(u);
}
END_TEST

START_TEST(reductions_over_axes) {
    vt_tensor *x = vt_tensor_new(VT_DIMS(2, 3, 4));
    for (int i = 0; i < 24; i++) x->data[i] = (float)i;
    vt_tensor *s = vt_sum(x, 2, (int[]){0, 2}, 0); /* (3) */
    ck_assert_int_eq(s->ndim, 1);
    ck_assert_int_eq(s->shape[0], 3);
    /* row j: sum over i,k of 12i + 4j + k = 2*(0+1+2+3) + 8*4j... computed directly */
    for (int j = 0; j < 3; j++) {
        float want = 0;
        for (int i = 0; i < 2; i++)
            for (int k = 0; k < 4; k++) want += (float)(12 * i + 4 * j + k);
        ck_assert_float_eq(s->data[j], want);
    }
    vt_tensor *m = vt_mean(x, 1, (int[]){-1}, 1); /* (2, 3, 1) */
    ck_assert_int_eq(m->ndim, 3);
    ck_assert_float_eq(m->data[0], 1.5f);
    ck_assert_ptr_null(vt_sum(x, 1, (int[]){3}, 0));
    ck_assert_ptr_null(vt_sum(x, 2, (int[]){1, -2}, 0)); /* same axis twice */
    vt_tensor_free(x);
    vt_arena_reset(NULL);
}
END_TEST

static vt_tensor *f_sum_axes(vt_tensor **x, void *c) { return vt_sum(x[0], 2, (int[]){0, 2}, 0); }
static vt_tensor *f_mean_last(vt_tensor **x, void *c) { return vt_mean(x[0], 1, (int[]){-1}, 1); }
static vt_tensor *f_mean_all(vt_tensor **x, void *c) { return vt_mean(x[0], 0, NULL, 0); }

START_TEST(reduction_gradients) {
    vt_tensor *x = vt_test_rand(VT_DIMS(2, 3, 4), -1, 1, 7);
    vt_check_gradient(f_sum_axes, NULL, 1, &x, 1e-3, 2e-3, 2e-3, 0);
    vt_check_gradient(f_mean_last, NULL, 1, &x, 1e-3, 2e-3, 2e-3, 0);
    vt_check_gradient(f_mean_all, NULL, 1, &x, 1e-3, 2e-3, 2e-3, 0);
    vt_tensor_free(x);
}
END_TEST

START_TEST(reduction_parity) {
    vt_check_fixture("sum_axes", 1, f_sum_axes, NULL, 1e-5, 1e-5);
    vt_check_fixture("mean_last", 1, f_mean_last, NULL, 1e-6, 1e-5);
    vt_check_fixture("mean_all", 1, f_mean_all, NULL, 1e-6, 1e-5);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("core/core");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, tensor_shapes_and_errors);
    tcase_add_test(tc, arena_steady_state_makes_no_malloc);
    tcase_add_test(tc, arena_scratch_is_given_back);
    tcase_add_test(tc, params_are_contiguous_views);
    tcase_add_test(tc, separate_backward_passes_do_not_double_count);
    tcase_add_test(tc, npy_roundtrip_and_corrupt_files);
    tcase_add_test(tc, reductions_over_axes);
    tcase_add_test(tc, reduction_gradients);
    tcase_add_test(tc, reduction_parity);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
