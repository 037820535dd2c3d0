/* test_loader.c: the prefetching loader: same bits with 0, 1 and 3 workers, per-epoch
 * shuffling, drop_last, error propagation, early shutdown (run under ASan: no leak or hang). */
#include <stdlib.h>

#include "loader.h"
#include "vt_test.h"

/* sample i: image (2, 3) = i + 0.001 * uniform draws of its stream; target (1) = i.
 * Fails for i == fail_at (when >= 0). */
typedef struct { int64_t fail_at; } probe_ctx;

static vt_status probe_get(const vt_dataset *ds, int64_t i, vt_tensor *image, vt_tensor *target,
                           vt_rng *rng) {
    const probe_ctx *c = ds->ctx;
    if (i == c->fail_at) return vt_error("probe: cannot read sample file %lld.nii", (long long)i);
    vt_rng_uniform(rng, image->data, image->numel, 0, 1);
    for (int64_t k = 0; k < image->numel; k++) image->data[k] = (float)i + 0.001f * image->data[k];
    target->data[0] = (float)i;
    return VT_OK;
}

static vt_dataset make_probe(int64_t n, probe_ctx *c) {
    vt_dataset ds = {.length = n, .image_ndim = 2, .image_shape = {2, 3}, .target_ndim = 1,
                     .target_shape = {1}, .get = probe_get, .ctx = c};
    return ds;
}

/* all batches of epochs 0..n_epochs-1 concatenated (images, then indices) */
static float *run_epochs(const vt_dataset *ds, int workers, int64_t batch, int drop_last, int n_epochs,
                         int64_t *n_out) {
    vt_loader_config cfg;
    vt_loader_config_default(&cfg);
    cfg.batch_size = batch;
    cfg.num_workers = workers;
    cfg.drop_last = drop_last;
    cfg.seed = 42;
    vt_loader *l = vt_loader_new(ds, &cfg);
    ck_assert_msg(l, "%s", vt_last_error());
    float *all = malloc(sizeof(float) * 7 * ds->length * n_epochs);
    int64_t n = 0;
    for (int e = 0; e < n_epochs; e++) {
        ck_assert_int_eq(vt_loader_start_epoch(l, e), VT_OK);
        vt_batch b;
        int r, nb = 0;
        while ((r = vt_loader_next(l, &b)) == 1) {
            ck_assert_int_eq(b.number, nb++);
            ck_assert_int_eq(b.image->shape[0], b.size);
            ck_assert_int_eq(b.target->shape[0], b.size);
            for (int64_t k = 0; k < b.size; k++) {
                ck_assert_float_eq(b.target->data[k], (float)b.indices[k]);
                memcpy(all + n * 7, b.image->data + k * 6, 6 * sizeof(float));
                all[n * 7 + 6] = (float)b.indices[k];
                n++;
            }
        }
        ck_assert_int_eq(r, 0);
        ck_assert_int_eq(nb, vt_loader_num_batches(l));
    }
    vt_loader_free(l);
    *n_out = n;
    return all;
}

START_TEST(same_bits_for_any_worker_count) {
    probe_ctx c = {-1};
    vt_dataset ds = make_probe(23, &c);
    int64_t n0, n1, n3;
    float *a0 = run_epochs(&ds, 0, 4, 0, 2, &n0), *a1 = run_epochs(&ds, 1, 4, 0, 2, &n1),
          *a3 = run_epochs(&ds, 3, 4, 0, 2, &n3);
    ck_assert_int_eq(n0, 46);
    ck_assert_int_eq(n1, 46);
    ck_assert_int_eq(n3, 46);
    ck_assert_int_eq(memcmp(a0, a1, 46 * 7 * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(a0, a3, 46 * 7 * sizeof(float)), 0);
    /* every epoch is a permutation, and the two epochs are shuffled differently */
    int seen[2][23] = {{0}}, same_order = 1;
    for (int e = 0; e < 2; e++)
        for (int k = 0; k < 23; k++) seen[e][(int)a0[(e * 23 + k) * 7 + 6]]++;
    for (int k = 0; k < 23; k++) {
        ck_assert_int_eq(seen[0][k], 1);
        ck_assert_int_eq(seen[1][k], 1);
        same_order &= a0[k * 7 + 6] == a0[(23 + k) * 7 + 6];
    }
    ck_assert(!same_order);
    /* the sample stream depends on the epoch: sample i's noise differs between epochs */
    vt_rng r0, r1;
    vt_loader_sample_rng(42, 0, 5, &r0);
    vt_loader_sample_rng(42, 1, 5, &r1);
    ck_assert_uint_ne(vt_rng_u32(&r0), vt_rng_u32(&r1));
    free(a0), free(a1), free(a3);
}
END_TEST

START_TEST(drop_last_and_batch_counts) {
    probe_ctx c = {-1};
    vt_dataset ds = make_probe(10, &c);
    int64_t n;
    float *a = run_epochs(&ds, 2, 4, 1, 1, &n);
    ck_assert_int_eq(n, 8); /* 2 full batches, the last 2 samples dropped */
    free(a);
    a = run_epochs(&ds, 2, 4, 0, 1, &n);
    ck_assert_int_eq(n, 10); /* 4 + 4 + 2 */
    free(a);
}
END_TEST

START_TEST(get_errors_reach_the_consumer) {
    for (int workers = 0; workers <= 3; workers += 3) {
        probe_ctx c = {7};
        vt_dataset ds = make_probe(20, &c);
        vt_loader_config cfg;
        vt_loader_config_default(&cfg);
        cfg.batch_size = 3;
        cfg.num_workers = workers;
        cfg.shuffle = 0;
        vt_loader *l = vt_loader_new(&ds, &cfg);
        vt_loader_start_epoch(l, 0);
        vt_batch b;
        ck_assert_int_eq(vt_loader_next(l, &b), 1);
        ck_assert_int_eq(vt_loader_next(l, &b), 1);
        ck_assert_int_eq(vt_loader_next(l, &b), VT_ERR); /* batch 2 holds samples 6, 7, 8 */
        ck_assert_ptr_nonnull(strstr(vt_last_error(), "sample 7: probe: cannot read sample file 7.nii"));
        ck_assert_int_eq(vt_loader_next(l, &b), 0); /* the epoch is over */
        /* a new epoch runs again up to the failure */
        vt_loader_start_epoch(l, 1);
        ck_assert_int_eq(vt_loader_next(l, &b), 1);
        vt_loader_free(l);
    }
}
END_TEST

/* consumer stops after one batch, mid-epoch and mid-prefetch, repeatedly */
START_TEST(early_shutdown_is_clean) {
    probe_ctx c = {-1};
    vt_dataset ds = make_probe(200, &c);
    vt_loader_config cfg;
    vt_loader_config_default(&cfg);
    cfg.batch_size = 2;
    cfg.num_workers = 3;
    cfg.queue_depth = 4;
    for (int rep = 0; rep < 20; rep++) {
        vt_loader *l = vt_loader_new(&ds, &cfg);
        vt_batch b;
        ck_assert_int_eq(vt_loader_next(l, &b), VT_ERR); /* no epoch started */
        vt_loader_start_epoch(l, 0);
        for (int k = 0; k <= rep % 3; k++) ck_assert_int_eq(vt_loader_next(l, &b), 1);
        if (rep % 2) vt_loader_start_epoch(l, 1); /* restart mid-epoch, then stop */
        vt_loader_free(l);
    }
    vt_loader_free(NULL);
    /* a loader that never started an epoch */
    vt_loader_free(vt_loader_new(&ds, &cfg));
}
END_TEST

/* many small batches through 3 workers and a depth-1 queue: all delivered, in order */
START_TEST(throughput_sanity) {
    probe_ctx c = {-1};
    vt_dataset ds = make_probe(3000, &c);
    vt_loader_config cfg;
    vt_loader_config_default(&cfg);
    cfg.batch_size = 1;
    cfg.num_workers = 3;
    cfg.queue_depth = 1;
    cfg.shuffle = 0;
    vt_loader *l = vt_loader_new(&ds, &cfg);
    vt_loader_start_epoch(l, 0);
    vt_batch b;
    int64_t n = 0;
    while (vt_loader_next(l, &b) == 1) {
        ck_assert_int_eq(b.indices[0], n);
        n++;
    }
    ck_assert_int_eq(n, 3000);
    vt_loader_free(l);
}
END_TEST

START_TEST(bad_config_errors) {
    probe_ctx c = {-1};
    vt_dataset ds = make_probe(5, &c);
    vt_loader_config cfg;
    vt_loader_config_default(&cfg);
    cfg.batch_size = 0;
    ck_assert_ptr_null(vt_loader_new(&ds, &cfg));
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "batch_size 0"));
}
END_TEST

/* a dataset of heap tensors through the loader: batches equal the stacked samples */
START_TEST(tensor_dataset_batches) {
    vt_tensor *x = vt_tensor_new(VT_DIMS(5, 1, 2, 2)), *y = vt_tensor_new(VT_DIMS(5));
    for (int64_t i = 0; i < x->numel; i++) x->data[i] = (float)i;
    for (int64_t i = 0; i < 5; i++) y->data[i] = (float)(10 + i);
    vt_dataset *ds = vt_dataset_tensors(x, y);
    vt_tensor_free(x), vt_tensor_free(y); /* retained by the dataset */
    vt_loader_config cfg;
    vt_loader_config_default(&cfg);
    cfg.batch_size = 2;
    cfg.shuffle = 0;
    vt_loader *l = vt_loader_new(ds, &cfg);
    vt_loader_start_epoch(l, 0);
    vt_batch b;
    int64_t seen = 0;
    while (vt_loader_next(l, &b) == 1) {
        ck_assert_int_eq(b.image->ndim, 4);
        ck_assert_int_eq(b.target->ndim, 2);
        for (int64_t k = 0; k < b.size; k++, seen++) {
            ck_assert_float_eq(b.image->data[k * 4 + 3], (float)(seen * 4 + 3));
            ck_assert_float_eq(b.target->data[k], (float)(10 + seen));
        }
    }
    ck_assert_int_eq(seen, 5);
    vt_loader_free(l);
    vt_dataset_free(ds);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("loader");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, same_bits_for_any_worker_count);
    tcase_add_test(tc, drop_last_and_batch_counts);
    tcase_add_test(tc, get_errors_reach_the_consumer);
    tcase_add_test(tc, early_shutdown_is_clean);
    tcase_add_test(tc, throughput_sanity);
    tcase_add_test(tc, bad_config_errors);
    tcase_add_test(tc, tensor_dataset_batches);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
