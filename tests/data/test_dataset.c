/* test_dataset.c: slices with patient ids, foreground-oversampled patches, subsets and
 * patient splits (no patient in two parts, seed-deterministic, order independent). */
#include <stdlib.h>

#include "dataset.h"
#include "vt_test.h"

START_TEST(slices_carry_patient_ids_and_masks) {
    vt_tensor *v[2] = {vt_tensor_new(VT_DIMS(3, 2, 4)), vt_tensor_new(VT_DIMS(2, 2, 4))};
    vt_tensor *m[2] = {vt_tensor_new(VT_DIMS(3, 2, 4)), vt_tensor_new(VT_DIMS(2, 2, 4))};
    for (int k = 0; k < 2; k++)
        for (int64_t i = 0; i < v[k]->numel; i++) v[k]->data[i] = 100 * k + i, m[k]->data[i] = i % 2;
    const char *ids[2] = {"P7", "P3"};
    vt_dataset *ds = vt_dataset_slices(2, v, m, NULL, ids);
    ck_assert_msg(ds, "%s", vt_last_error());
    ck_assert_int_eq(ds->length, 5);
    ck_assert_int_eq(ds->image_ndim, 3);
    ck_assert_int_eq(ds->image_shape[1], 2);
    ck_assert_str_eq(vt_dataset_slices_patient(ds, 2), "P7");
    ck_assert_str_eq(vt_dataset_slices_patient(ds, 3), "P3");
    int vol;
    int64_t z;
    vt_dataset_slices_locate(ds, 4, &vol, &z);
    ck_assert_int_eq(vol, 1);
    ck_assert_int_eq(z, 1);
    vt_tensor *im, *tg;
    ck_assert_int_eq(vt_dataset_get_alloc(ds, 4, NULL, &im, &tg), VT_OK);
    ck_assert_float_eq(im->data[0], 108); /* volume 1, slice 1 starts at element 8 */
    ck_assert_float_eq(tg->data[1], 1);
    vt_tensor_free(im), vt_tensor_free(tg);
    ck_assert_int_eq(vt_dataset_get_alloc(ds, 5, NULL, &im, &tg), VT_ERR);
    vt_dataset_free(ds);
    /* per-volume labels instead of masks */
    ds = vt_dataset_slices(2, v, NULL, (float[]){0, 2}, ids);
    ck_assert_int_eq(ds->target_ndim, 1);
    ck_assert_int_eq(vt_dataset_get_alloc(ds, 3, NULL, &im, &tg), VT_OK);
    ck_assert_float_eq(tg->data[0], 2);
    vt_tensor_free(im), vt_tensor_free(tg);
    vt_dataset_free(ds);
    /* mismatched in-plane sizes are an error naming the shapes */
    vt_tensor *bad = vt_tensor_new(VT_DIMS(3, 3, 4));
    vt_tensor *vb[2] = {v[0], bad};
    ck_assert_ptr_null(vt_dataset_slices(2, vb, NULL, NULL, ids));
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "(3, 3, 4)"));
    vt_tensor_free(bad);
    for (int k = 0; k < 2; k++) vt_tensor_free(v[k]), vt_tensor_free(m[k]);
}
END_TEST

/* one foreground voxel at (5, 6, 7) of a 10^3 volume whose image is the flat index */
START_TEST(patches_oversample_foreground) {
    vt_tensor *im = vt_tensor_new(VT_DIMS(10, 10, 10)), *m = vt_tensor_new(VT_DIMS(10, 10, 10));
    for (int64_t i = 0; i < im->numel; i++) im->data[i] = (float)i + 1;
    m->data[(5 * 10 + 6) * 10 + 7] = 1;
    int64_t patch[3] = {3, 4, 5};
    vt_dataset *all = vt_dataset_patches(1, &im, &m, patch, 1.0f, 50);
    ck_assert_msg(all, "%s", vt_last_error());
    ck_assert_int_eq(all->image_shape[0], 1);
    for (int64_t i = 0; i < 50; i++) {
        vt_rng r;
        vt_rng_init(&r, (uint64_t)i);
        vt_tensor *x, *y;
        ck_assert_int_eq(vt_dataset_get_alloc(all, i, &r, &x, &y), VT_OK);
        /* centred on the foreground voxel: patch index (1, 2, 2) holds it */
        int64_t c = (1 * 4 + 2) * 5 + 2;
        ck_assert_float_eq(y->data[c], 1);
        ck_assert_float_eq(x->data[c], (float)((5 * 10 + 6) * 10 + 7) + 1);
        ck_assert_float_eq(x->data[0], (float)((4 * 10 + 4) * 10 + 5) + 1);
        vt_tensor_free(x), vt_tensor_free(y);
    }
    vt_dataset_free(all);
    /* fg_prob 0: uniform centres; the single voxel is rarely hit, borders are zero-padded */
    vt_dataset *none = vt_dataset_patches(1, &im, &m, patch, 0.0f, 400);
    int hits = 0, padded = 0;
    for (int64_t i = 0; i < 400; i++) {
        vt_rng r;
        vt_rng_init(&r, 1000 + (uint64_t)i);
        vt_tensor *x, *y;
        vt_dataset_get_alloc(none, i, &r, &x, &y);
        for (int64_t k = 0; k < y->numel; k++) hits += y->data[k] > 0, padded += x->data[k] == 0;
        vt_tensor_free(x), vt_tensor_free(y);
    }
    ck_assert_int_lt(hits, 40); /* expected 400 * 60 / 1000 = 24 */
    ck_assert_int_gt(padded, 0);
    vt_dataset_free(none);
    ck_assert_ptr_null(vt_dataset_patches(1, &im, &m, patch, 1.5f, 10));
    vt_tensor_free(im), vt_tensor_free(m);
}
END_TEST

START_TEST(split_by_patient_never_by_slice) {
    enum { N = 60 };
    const char *names[10] = {"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"};
    const char *ids[N], *rev[N];
    for (int i = 0; i < N; i++) ids[i] = names[(i * 7) % 10], rev[N - 1 - i] = ids[i];
    int split[N], split2[N], split_rev[N];
    int64_t counts[3];
    ck_assert_int_eq(vt_split_by_patient(ids, N, 0.6, 0.2, 3, split, counts), VT_OK);
    ck_assert_int_eq(counts[0] + counts[1] + counts[2], N);
    /* 6 / 2 / 2 patients of 6 samples each */
    ck_assert_int_eq(counts[0], 36);
    ck_assert_int_eq(counts[1], 12);
    ck_assert_int_eq(counts[2], 12);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (!strcmp(ids[i], ids[j])) ck_assert_int_eq(split[i], split[j]);
    vt_split_by_patient(ids, N, 0.6, 0.2, 3, split2, NULL);
    ck_assert_int_eq(memcmp(split, split2, sizeof split), 0);
    vt_split_by_patient(rev, N, 0.6, 0.2, 3, split_rev, NULL);
    for (int i = 0; i < N; i++) ck_assert_int_eq(split_rev[N - 1 - i], split[i]);
    int differs = 0;
    for (uint64_t seed = 4; seed < 8 && !differs; seed++) {
        vt_split_by_patient(ids, N, 0.6, 0.2, seed, split2, NULL);
        differs = memcmp(split, split2, sizeof split) != 0;
    }
    ck_assert(differs);
    int64_t n_val;
    int64_t *val = vt_split_indices(split, N, 1, &n_val);
    ck_assert_int_eq(n_val, 12);
    for (int64_t k = 0; k < n_val; k++) ck_assert_int_eq(split[val[k]], 1);
    /* a subset dataset over the val indices */
    vt_tensor *x = vt_tensor_new(VT_DIMS(N, 1));
    for (int i = 0; i < N; i++) x->data[i] = (float)i;
    vt_dataset *ds = vt_dataset_tensors(x, NULL);
    vt_dataset *sub = vt_dataset_subset(ds, val, n_val);
    ck_assert_int_eq(sub->length, 12);
    vt_tensor *im;
    vt_dataset_get_alloc(sub, 3, NULL, &im, NULL);
    ck_assert_float_eq(im->data[0], (float)val[3]);
    vt_tensor_free(im);
    vt_dataset_free(sub), vt_dataset_free(ds), vt_tensor_free(x), free(val);
    ck_assert_int_eq(vt_split_by_patient(ids, N, 0.8, 0.3, 0, split, NULL), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "sum <= 1"));
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("dataset");
    tcase_add_test(tc, slices_carry_patient_ids_and_masks);
    tcase_add_test(tc, patches_oversample_foreground);
    tcase_add_test(tc, split_by_patient_never_by_slice);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
