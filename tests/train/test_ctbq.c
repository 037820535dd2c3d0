/* test_ctbq.c: the CT bone-quality method: vertebra phantom labels, SPL weights at a known
 * lambda, the SPL-weighted multi-task loss against a hand computation, vertebra-level
 * aggregation on a hand example, loss going down in a few steps, command errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "checkpoint.h"
#include "losses_extra.h"
#include "safetensors.h"
#include "ctbq.h"
#include "losses.h"
#include "optim.h"
#include "run_watch_check.h"
#include "vt_test.h"

static vt_phantom_slices make(int patients, int vpp, int slices, int size, float p_post, uint64_t seed) {
    vt_phantom_vertebra_config c;
    vt_phantom_vertebra_config_default(&c);
    c.n_patients = patients; c.vertebrae_per_patient = vpp; c.slices_per_vertebra = slices;
    c.size = size; c.p_posterolateral = p_post; c.seed = seed;
    vt_phantom_slices d;
    ck_assert_msg(vt_phantom_vertebrae_make(&c, &d) == VT_OK, "%s", vt_last_error());
    return d;
}

/* mixed iff blastic and lytic; a vertebra's slices share every label; normal vertebrae
 * show nothing and are never posterolateral; lesioned vertebrae have slices with and
 * without a visible lesion; ids consistent. */
START_TEST(phantom_labels_are_consistent) {
    const int P = 12, V = 4, K = 6;
    vt_phantom_slices d = make(P, V, K, 16, 0.4f, 5);
    ck_assert_int_eq(d.images->shape[0], P * V * K);
    int seen_class[4] = {0}, postero = 0, lesion_vert = 0, lesion_hidden = 0, lesion_shown = 0;
    for (int v = 0; v < P * V; v++) {
        int shown = 0, hidden = 0;
        for (int k = 0; k < K; k++) {
            int i = v * K + k;
            int q = (int)d.quality->data[i], b = (int)d.blastic->data[i], l = (int)d.lytic->data[i];
            ck_assert_int_eq(q, b + 2 * l);
            ck_assert_int_eq(q == VT_BONE_MIXED, b && l);
            ck_assert_int_eq((int)d.vertebra->data[i], v);
            ck_assert_int_eq((int)d.patient->data[i], v / V);
            ck_assert(d.quality->data[i] == d.quality->data[v * K] && d.posterolateral->data[i] == d.posterolateral->data[v * K]);
            if (q == VT_BONE_NORMAL) {
                ck_assert(d.visible->data[i] == 0.f && d.posterolateral->data[i] == 0.f);
            }
            shown += d.visible->data[i] != 0.f;
            hidden += d.visible->data[i] == 0.f;
        }
        int q = (int)d.quality->data[v * K];
        seen_class[q]++;
        postero += d.posterolateral->data[v * K] != 0.f;
        if (q != VT_BONE_NORMAL) {
            lesion_vert++;
            ck_assert_msg(shown > 0, "vertebra %d (class %d) shows its lesion on no slice", v, q);
            lesion_hidden += hidden > 0;
            lesion_shown += shown;
        }
    }
    for (int c = 0; c < 4; c++) ck_assert_int_gt(seen_class[c], 4);
    ck_assert_int_gt(postero, lesion_vert / 5);
    ck_assert_int_lt(postero, lesion_vert);
    ck_assert_int_gt(lesion_hidden, lesion_vert / 4); /* end slices miss the lesion often */
    vt_phantom_slices e = make(12, 4, 6, 16, 0.4f, 5); /* deterministic */
    vt_expect_close(e.images->data, d.images->data, d.images->numel, 0, 0, "same seed");
    vt_phantom_slices_free(&d);
    vt_phantom_slices_free(&e);
    vt_phantom_vertebra_config c;
    vt_phantom_vertebra_config_default(&c);
    c.slices_per_vertebra = 0;
    ck_assert_int_eq(vt_phantom_vertebrae_make(&c, &d), VT_ERR);
    ck_assert_ptr_null(d.images);
    ck_assert_msg(strstr(vt_last_error(), "slices per vertebra 0") != NULL, "%s", vt_last_error());
}
END_TEST

/* Posterolateral involvement is rendered, in the posterior elements only: with the same
 * seed, p_posterolateral 0 and 1 give the same vertebrae except for the posterior lesion, so
 * normal vertebrae are identical, and every lesioned one differs clearly (> 0.3 on some
 * pixel) behind the body (rows below the middle) and (almost) nowhere in front of it. */
START_TEST(posterolateral_is_rendered) {
    const int S = 32, K = 4;
    vt_phantom_slices a = make(6, 4, K, S, 0.f, 9), b = make(6, 4, K, S, 1.f, 9);
    int64_t nv = a.images->shape[0] / K;
    int lesioned = 0;
    for (int64_t v = 0; v < nv; v++) {
        double front = 0, back = 0, peak = 0;
        for (int k = 0; k < K; k++) {
            const float *x0 = a.images->data + (v * K + k) * S * S, *x1 = b.images->data + (v * K + k) * S * S;
            for (int p = 0; p < S * S; p++) {
                double dd = fabs(x1[p] - x0[p]);
                if (p / S < (int)(0.4 * S)) front += dd;
                else if (p / S >= S / 2) back += dd;
                peak = dd > peak ? dd : peak;
            }
        }
        int q = (int)a.quality->data[v * K];
        ck_assert(a.posterolateral->data[v * K] == 0.f);
        ck_assert(b.posterolateral->data[v * K] == (q != VT_BONE_NORMAL));
        if (q == VT_BONE_NORMAL) {
            ck_assert_msg(peak == 0, "normal vertebra %lld changed by %g", (long long)v, peak);
            continue;
        }
        lesioned++;
        ck_assert_msg(peak > 0.3, "vertebra %lld (class %d): posterior lesion peak %.3f", (long long)v, q, peak);
        ck_assert_msg(front < 0.05 * back, "vertebra %lld: change in front %.3f, behind %.3f", (long long)v, front, back);
    }
    ck_assert_int_gt(lesioned, 10);
    vt_phantom_slices_free(&a);
    vt_phantom_slices_free(&b);
}
END_TEST

/* the shared SPL weights (losses_extra.h) at a known lambda, and the ctbq schedule */
START_TEST(spl_weights_at_known_lambda) {
    float l[5] = {0.1f, 0.5f, 0.75f, 1.0f, 2.0f};
    vt_tensor *lt = vt_tensor_from_data(1, (int64_t[]){5}, l);
    /* lambda 1, lambda2 0.5, zeta = 1 * 0.5 / 0.5 = 1: 0.75 -> 1/0.75 - 1 = 1/3 */
    vt_tensor *w = vt_spl_weights(lt, VT_SPL_MIXTURE, 1.0f, 0.5f);
    const float mix[5] = {1, 1, 1.f / 3.f, 0, 0};
    ck_assert_ptr_nonnull(w);
    vt_expect_close(w->data, mix, 5, 1e-6, 1e-6, "mixture");
    ck_assert(fabs(vt_ctbq_spl_fraction(0.5, 0.2, 1) - 0.5) < 1e-12);
    ck_assert(fabs(vt_ctbq_spl_fraction(0.5, 0.2, 3) - 0.9) < 1e-12);
    ck_assert(vt_ctbq_spl_fraction(0.5, 0.2, 4) == 1.0);
    vt_tensor_free(lt);
    vt_arena_reset(NULL);
}
END_TEST

static vt_ctbq_model *tiny_model(vt_ctbq_kind kind, int kendall) {
    vt_ctbq_model_config c;
    vt_ctbq_model_config_default(&c);
    c.arch = "smallcnn"; c.size = 16; c.embed = 16; c.kind = kind; c.kendall = kendall;
    vt_seed(3);
    vt_ctbq_model *m = vt_ctbq_model_new(&c);
    ck_assert_msg(m != NULL, "%s", vt_last_error());
    return m;
}

static float sum_smallest(const float *v, int n, int k) {
    float s[64], t = 0;
    memcpy(s, v, sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) if (s[j] < s[i]) { float x = s[i]; s[i] = s[j]; s[j] = x; }
    for (int i = 0; i < k; i++) t += s[i];
    return t;
}

/* The SPL multi-task loss at epoch 1 (fraction 0.5, HARD) equals the sum over the four
 * sub-tasks of (the N/2 smallest per-sample losses) / N, computed here by hand. */
START_TEST(spl_loss_matches_hand_computation) {
    vt_phantom_slices d = make(2, 2, 4, 16, 0.5f, 1);
    vt_ctbq_model *m = tiny_model(VT_CTBQ_MTL, 0);
    const int N = 16;
    vt_ctbq_output o;
    ck_assert_int_eq(vt_ctbq_forward(m, d.images, 1, &o), VT_OK);
    vt_ctbq_loss_config lc;
    vt_ctbq_loss_config_default(&lc);
    lc.spl = VT_CTBQ_SPL_HARD; lc.spl_start = 0.5f; lc.spl_growth = 0.25f;
    vt_tensor *loss = vt_ctbq_loss(m, &o, d.quality, d.blastic, d.lytic, d.posterolateral, &lc, 1, NULL);
    ck_assert_ptr_nonnull(loss);
    vt_ce_options ce = vt_ce_options_default();
    ce.reduction = VT_REDUCE_PER_SAMPLE;
    vt_bce_options bo = vt_bce_options_default();
    bo.reduction = VT_REDUCE_PER_SAMPLE;
    vt_tensor *per[4] = {vt_bce_with_logits(o.blastic, vt_reshape(d.blastic, VT_DIMS(N, 1)), &bo),
                         vt_bce_with_logits(o.lytic, vt_reshape(d.lytic, VT_DIMS(N, 1)), &bo),
                         vt_cross_entropy(o.quality, d.quality, &ce),
                         vt_bce_with_logits(o.posterolateral, vt_reshape(d.posterolateral, VT_DIMS(N, 1)), &bo)};
    double want = 0, full = 0;
    for (int t = 0; t < 4; t++) {
        want += sum_smallest(per[t]->data, N, N / 2) / N;
        full += sum_smallest(per[t]->data, N, N) / N;
    }
    ck_assert_msg(fabs(vt_tensor_item(loss) - want) < 1e-5, "spl loss %g, by hand %g", (double)vt_tensor_item(loss), want);
    /* MIXTURE: per task lambda at fraction 0.5, lambda2 = 0.5 lambda, weights by losses_extra.h */
    lc.spl = VT_CTBQ_SPL_MIXTURE; lc.spl_mix = 0.5f;
    loss = vt_ctbq_loss(m, &o, d.quality, d.blastic, d.lytic, d.posterolateral, &lc, 1, NULL);
    ck_assert_ptr_nonnull(loss);
    double want_mix = 0;
    for (int t = 0; t < 4; t++) {
        vt_tensor *l1 = vt_reshape(per[t], VT_DIMS(N));
        float lam;
        ck_assert_int_eq(vt_spl_lambda_for_fraction(l1, 0.5, &lam), VT_OK);
        vt_tensor *w = vt_spl_weights(l1, VT_SPL_MIXTURE, lam, 0.5f * lam);
        ck_assert_ptr_nonnull(w);
        for (int i = 0; i < N; i++) want_mix += (double)l1->data[i] * w->data[i] / N;
    }
    ck_assert_msg(fabs(vt_tensor_item(loss) - want_mix) < 1e-5, "mixture loss %g, want %g", (double)vt_tensor_item(loss), want_mix);
    lc.spl = VT_CTBQ_SPL_HARD;
    /* epoch 3: fraction 1, plain mean */
    loss = vt_ctbq_loss(m, &o, d.quality, d.blastic, d.lytic, d.posterolateral, &lc, 3, NULL);
    ck_assert_msg(fabs(vt_tensor_item(loss) - full) < 1e-5, "loss %g, by hand %g", (double)vt_tensor_item(loss), full);
    vt_arena_reset(NULL);
    vt_ctbq_model_free(m);
    vt_phantom_slices_free(&d);
}
END_TEST

/* 25 Adam steps on one batch cut the multi-task loss (Kendall weighting) and the baseline
 * loss well below their start. */
START_TEST(a_few_steps_reduce_the_loss) {
    vt_phantom_slices d = make(4, 2, 4, 16, 0.5f, 2);
    for (int kind = 0; kind < 2; kind++) {
        vt_ctbq_model *m = tiny_model(kind ? VT_CTBQ_MTL : VT_CTBQ_BASELINE, kind);
        vt_ctbq_loss_config lc;
        vt_ctbq_loss_config_default(&lc);
        lc.kendall = kind;
        vt_optim *opt = vt_adam_new(m->params, 3e-3f, 0.9f, 0.999f, 1e-8f, 0.f);
        double first = 0, last = 0;
        for (int s = 0; s < 25; s++) {
            vt_ctbq_output o;
            ck_assert_int_eq(vt_ctbq_forward(m, d.images, 1, &o), VT_OK);
            vt_tensor *loss = vt_ctbq_loss(m, &o, d.quality, d.blastic, d.lytic, d.posterolateral, &lc, 1, NULL);
            ck_assert_ptr_nonnull(loss);
            last = vt_tensor_item(loss);
            if (s == 0) first = last;
            vt_params_zero_grad(m->params);
            ck_assert_int_eq(vt_backward(loss), VT_OK);
            vt_optim_step(opt);
            vt_arena_reset(NULL);
        }
        ck_assert_msg(isfinite(last) && last < first - 0.3 * fabs(first), "kind %d: loss %g -> %g", kind, first, last);
        vt_optim_free(opt);
        vt_ctbq_model_free(m);
    }
    vt_phantom_slices_free(&d);
}
END_TEST

/* two vertebrae, ids 7 and 3, slices interleaved */
START_TEST(vertebra_aggregation_by_hand) {
    const float p[5 * 4] = {0.7f, 0.1f, 0.1f, 0.1f,   /* v7 */
                            0.3f, 0.05f, 0.6f, 0.05f, /* v3 */
                            0.2f, 0.6f, 0.1f, 0.1f,   /* v7 */
                            0.7f, 0.1f, 0.1f, 0.1f,   /* v3 */
                            0.6f, 0.1f, 0.2f, 0.1f};  /* v7 */
    const int vid[5] = {7, 3, 7, 3, 7};
    int pred[5], slot[5];
    /* mean: v7 (0.5, 0.267, 0.133, 0.1) -> normal; v3 (0.5, 0.075, 0.35, 0.075) -> normal */
    ck_assert_int_eq(vt_ctbq_aggregate(p, vid, 5, VT_CTBQ_AGG_MEAN, pred, slot), 2);
    ck_assert_int_eq(pred[0], VT_BONE_NORMAL);
    ck_assert_int_eq(pred[1], VT_BONE_NORMAL);
    const int want_slot[5] = {0, 1, 0, 1, 0};
    for (int i = 0; i < 5; i++) ck_assert_int_eq(slot[i], want_slot[i]);
    /* max lesion: v7 p_blastic max(0.2, 0.7, 0.2) = 0.7, p_lytic max(0.2, 0.2, 0.3) -> blastic;
     * v3 p_blastic max(0.1, 0.2), p_lytic max(0.65, 0.2) = 0.65 -> lytic */
    ck_assert_int_eq(vt_ctbq_aggregate(p, vid, 5, VT_CTBQ_AGG_MAX_LESION, pred, NULL), 2);
    ck_assert_int_eq(pred[0], VT_BONE_BLASTIC);
    ck_assert_int_eq(pred[1], VT_BONE_LYTIC);
    ck_assert_int_eq(vt_ctbq_aggregate(p, vid, 5, (vt_ctbq_agg)9, pred, NULL), -1);
}
END_TEST

START_TEST(command_errors_and_a_tiny_run) {
    static char out[1 << 16];
    ck_assert_int_eq(vt_test_cli("ctbq --mode foo", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--mode: 'foo' is not baseline, mtl or mtl_spl") != NULL, "%s", out);
    ck_assert_int_eq(vt_test_cli("ctbq --spl quadratic", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--spl: 'quadratic' is not hard, linear or mixture") != NULL, "%s", out);
    ck_assert_int_eq(vt_test_cli("ctbq --select auc", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "unknown metric 'auc'") != NULL, "%s", out);
    ck_assert_int_eq(vt_test_cli("ctbq --mode baseline --kendall", out, sizeof out), 2);
    ck_assert_int_eq(vt_test_cli("ctbq --arch alexnet --size 16 --patients 3 --vertebrae 1 --slices 1", out, sizeof out), 1);
    ck_assert_msg(strstr(out, "unknown trunk 'alexnet'") != NULL, "%s", out);
    ck_assert_int_eq(vt_test_cli("ctbq --patients 2", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "out of range") != NULL, "%s", out);
    char dir[] = "/tmp/vt_ctbq_XXXXXX", args[512], path[600];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(args, sizeof args, "ctbq --mode mtl_spl --arch smallcnn --size 16 --patients 5 --vertebrae 2 --slices 3 "
                                "--epochs 2 --batch 8 --out %s", dir);
    ck_assert_msg(vt_test_cli(args, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "vertebra (max)") != NULL, "%s", out);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    size_t k = fread(out, 1, sizeof out - 1, f);
    out[k] = 0;
    fclose(f);
    ck_assert_msg(strstr(out, "\"test\": {\"loss\": ") && strstr(out, "\"vertebra_mean\"") && !strstr(out, "nan"), "%s", out);
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    ck_assert_ptr_nonnull(f = fopen(path, "r"));
    int lines = 0;
    while (fgets(out, sizeof out, f)) lines++;
    fclose(f);
    ck_assert_int_eq(lines, 2);
    assert_run_is_watchable(dir, "loss.png");
    snprintf(args, sizeof args, "rm -rf %s", dir);
    ck_assert_int_eq(system(args), 0);
}
END_TEST

/* ---- runs: resume, patience, pretrained, evaluate / predict, SIGINT ------------------ */
typedef struct tiny_run {
    vt_phantom_slices d;
    int64_t *idx[3], n[3];
} tiny_run;

static void tiny_data(tiny_run *r) {
    r->d = make(5, 2, 3, 16, 0.5f, 4);
    ck_assert_int_eq(vt_ctbq_split_by_patient(&r->d, 0.2, 0.2, 4, r->idx, r->n), VT_OK);
}

static void tiny_free(tiny_run *r) {
    for (int k = 0; k < 3; k++) free(r->idx[k]);
    vt_phantom_slices_free(&r->d);
}

static vt_ctbq_train_config tiny_cfg(const char *out, int epochs) {
    vt_ctbq_train_config c;
    vt_ctbq_train_config_default(&c);
    c.epochs = epochs; c.batch = 6; c.out_dir = out; c.log_every = 1000000; c.seed = 11;
    c.loss.spl = VT_CTBQ_SPL_LINEAR;
    c.config_text = "mode = mtl_spl\n";
    return c;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char buf[1 << 16];
    size_t k = fread(buf, 1, sizeof buf - 1, f);
    buf[k] = 0;
    fclose(f);
    char *s = strdup(buf), *sec = strstr(s, "\"seconds\": "); /* the one field that may differ */
    if (sec) for (char *p = sec + 11; *p && *p != ','; p++) *p = '0';
    return s;
}

/* 2 epochs straight == 1 step, interrupted (SIGINT), resumed to the end: the same weights
 * (bit for bit), best weights and summary.json (seconds aside) */
START_TEST(resume_after_sigint_is_bit_identical) {
    tiny_run r;
    tiny_data(&r);
    char da[] = "/tmp/vt_ctbq_a_XXXXXX", db[] = "/tmp/vt_ctbq_b_XXXXXX", path[600], cmd[700];
    ck_assert_ptr_nonnull(mkdtemp(da));
    ck_assert_ptr_nonnull(mkdtemp(db));
    vt_ctbq_result ra, rb;
    vt_ctbq_model *a = tiny_model(VT_CTBQ_MTL, 1), *b = tiny_model(VT_CTBQ_MTL, 1);
    vt_ctbq_train_config ca = tiny_cfg(da, 2), cb = tiny_cfg(db, 2);
    ca.loss.kendall = cb.loss.kendall = 1;
    ck_assert_msg(vt_ctbq_train(a, &ca, &r.d, r.idx, r.n, &ra) == VT_OK, "%s", vt_last_error());
    ck_assert_int_gt((r.n[0] + 5) / 6, 1); /* the interruption falls inside epoch 1 */
    cb.interrupt_after_steps = 1;
    ck_assert_int_eq(vt_ctbq_train(b, &cb, &r.d, r.idx, r.n, &rb), VT_ERR);
    ck_assert_int_eq(rb.interrupted, 1);
    ck_assert_msg(strstr(vt_last_error(), "interrupted by SIGINT after epoch 1 step 1; continue with --resume"), "%s", vt_last_error());
    vt_ctbq_model_free(b);
    b = tiny_model(VT_CTBQ_MTL, 1); /* a fresh process would start from a new model */
    snprintf(path, sizeof path, "%s/checkpoint.vtck", db);
    cb.interrupt_after_steps = 0;
    cb.resume = path;
    ck_assert_msg(vt_ctbq_train(b, &cb, &r.d, r.idx, r.n, &rb) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(rb.resumed_from, 1);
    ck_assert_int_eq(rb.best_epoch, ra.best_epoch);
    int64_t np = vt_params_numel(a->params), nb = vt_params_buffer_numel(a->params);
    ck_assert(memcmp(vt_params_values(a->params), vt_params_values(b->params), sizeof(float) * (size_t)np) == 0);
    ck_assert(nb > 0 && memcmp(vt_params_buffer_values(a->params), vt_params_buffer_values(b->params), sizeof(float) * (size_t)nb) == 0);
    /* the last epoch's weights too (checkpoint.vtck after epoch 2) */
    char pa[600];
    snprintf(pa, sizeof pa, "%s/checkpoint.vtck", da);
    vt_checkpoint *ka = vt_checkpoint_load(pa), *kb = vt_checkpoint_load(path);
    ck_assert(ka && kb);
    for (int i = 0; i < vt_checkpoint_count(ka); i++) {
        const char *nm = vt_checkpoint_name(ka, i);
        int64_t k = vt_checkpoint_numel(ka, nm);
        if (k < 1) continue;
        float *x = malloc(sizeof(float) * (size_t)k), *y = malloc(sizeof(float) * (size_t)k);
        if (vt_checkpoint_get_array(ka, nm, x, k) == VT_OK) {
            ck_assert_msg(vt_checkpoint_get_array(kb, nm, y, k) == VT_OK, "%s", nm);
            ck_assert_msg(memcmp(x, y, sizeof(float) * (size_t)k) == 0, "record %s differs", nm);
        } else vt_clear_error();
        free(x), free(y);
    }
    vt_checkpoint_free(ka), vt_checkpoint_free(kb);
    snprintf(pa, sizeof pa, "%s/summary.json", da);
    snprintf(path, sizeof path, "%s/summary.json", db);
    char *sa = slurp(pa), *sb = slurp(path);
    ck_assert_msg(!strcmp(sa, sb), "straight:\n%s\nresumed:\n%s", sa, sb);
    free(sa), free(sb);
    /* metrics.jsonl: 2 lines in both */
    snprintf(path, sizeof path, "%s/metrics.jsonl", db);
    sb = slurp(path);
    int lines = 0;
    for (char *p = sb; *p; p++) lines += *p == '\n';
    ck_assert_int_eq(lines, 2);
    free(sb);
    vt_ctbq_model_free(a), vt_ctbq_model_free(b);
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", da, db);
    ck_assert_int_eq(system(cmd), 0);
    tiny_free(&r);
}
END_TEST

/* min_delta 1 (no metric in [0, 1] can improve by more) and patience 2: epoch 1 is the
 * best, epochs 2 and 3 are not, the run stops after epoch 3 of 20 */
START_TEST(patience_stops_early) {
    tiny_run r;
    tiny_data(&r);
    vt_ctbq_model *m = tiny_model(VT_CTBQ_MTL, 0);
    vt_ctbq_train_config c = tiny_cfg(NULL, 20);
    c.patience = 2; c.min_delta = 1.0;
    vt_ctbq_result res;
    ck_assert_msg(vt_ctbq_train(m, &c, &r.d, r.idx, r.n, &res) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(res.epochs_done, 3);
    ck_assert_int_eq(res.best_epoch, 1);
    ck_assert_int_eq(res.stopped_early, 1);
    c.patience = -1;
    ck_assert_int_eq(vt_ctbq_train(m, &c, &r.d, r.idx, r.n, &res), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "patience -1"), "%s", vt_last_error());
    vt_ctbq_model_free(m);
    tiny_free(&r);
}
END_TEST

static vt_tensor *param_named(vt_params *p, const char *name) {
    for (int i = 0; i < vt_params_count(p); i++)
        if (!strcmp(vt_params_name(p, i), name)) return vt_params_tensor(p, i);
    return NULL;
}

static int same_tensor(vt_params *a, vt_params *b, const char *name) {
    vt_tensor *x = param_named(a, name), *y = param_named(b, name);
    ck_assert_msg(x && y, "no tensor %s", name);
    return memcmp(x->data, y->data, sizeof(float) * (size_t)x->numel) == 0;
}

/* a safetensors file of a whole model (trunk and heads) under "module.": with the prefix
 * stripped, the trunk loads and the projection + heads keep their own initialisation */
START_TEST(pretrained_fills_the_trunk_and_skips_heads) {
    vt_ctbq_model *src = tiny_model(VT_CTBQ_MTL, 0);
    vt_ctbq_model_config c = src->cfg;
    vt_seed(99);
    vt_ctbq_model *dst = vt_ctbq_model_new(&c);
    ck_assert_ptr_nonnull(dst);
    /* the source's tensors renamed "module.<name>" */
    vt_params *renamed = vt_params_new();
    for (int i = 0; i < vt_params_count(src->params); i++) {
        const char *nm = vt_params_name(src->params, i);
        vt_tensor *t = vt_params_tensor(src->params, i);
        char name[256];
        snprintf(name, sizeof name, "module.%s", nm);
        ck_assert_ptr_nonnull(vt_params_add(renamed, name, t->ndim, t->shape));
    }
    ck_assert_int_eq(vt_params_finalize(renamed), VT_OK);
    for (int i = 0; i < vt_params_count(src->params); i++) {
        vt_tensor *t = vt_params_tensor(src->params, i);
        memcpy(vt_params_tensor(renamed, i)->data, t->data, sizeof(float) * (size_t)t->numel);
    }
    char path[] = "/tmp/vt_ctbq_pre_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_msg(vt_params_save_safetensors(renamed, path, NULL) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(vt_ctbq_load_pretrained(dst, path, NULL, NULL), VT_ERR); /* no name matches without the map */
    ck_assert_msg(strstr(vt_last_error(), "no tensor matches the smallcnn trunk"), "%s", vt_last_error());
    vt_load_report rep;
    ck_assert_msg(vt_ctbq_load_pretrained(dst, path, "module.", &rep) == VT_OK, "%s", vt_last_error());
    const char *trunk[] = {"conv1.weight", "conv1.bias", "bn1.weight", "bn1.running_mean", "conv2.weight", "fc1.weight", "fc1.bias"};
    for (size_t i = 0; i < sizeof trunk / sizeof trunk[0]; i++) ck_assert_msg(same_tensor(src->params, dst->params, trunk[i]), "%s not loaded", trunk[i]);
    const char *kept[] = {"fc2.weight", "head.blastic.weight", "head.lytic.weight", "head.posterolateral.weight", "fusion.0.weight", "fusion.2.weight"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) ck_assert_msg(!same_tensor(src->params, dst->params, kept[i]), "%s was overwritten", kept[i]);
    ck_assert_int_eq(rep.missing, 0);
    ck_assert_int_eq(rep.unexpected, 0);
    ck_assert_int_gt(rep.skipped, 10); /* fc2.*, head.*.{weight,bias}, fusion.* */
    unlink(path);
    vt_params_free(renamed);
    vt_ctbq_model_free(src), vt_ctbq_model_free(dst);
}
END_TEST

/* The command: --evaluate of best.vtck reproduces summary.json's test metrics (the
 * checkpoint rebuilds data split and model from its options); --predict gives 4 class
 * probabilities summing to 1 and 3 head probabilities in [0, 1]; SIGINT mid-run exits 130
 * with a checkpoint that --resume finishes. */
START_TEST(command_evaluate_predict_and_sigint) {
    static char out[1 << 16];
    char dir[] = "/tmp/vt_ctbq_cli_XXXXXX", args[1024], path[700];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *opts = "--mode mtl --arch smallcnn --size 16 --patients 5 --vertebrae 2 --slices 3 --batch 8 --log-every 1000000";
    snprintf(args, sizeof args, "ctbq %s --epochs 2 --out %s/run", opts, dir);
    ck_assert_msg(vt_test_cli(args, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/run/summary.json", dir);
    char *summary = slurp(path), *st = strstr(summary, "\"test\": ");
    ck_assert_ptr_nonnull(st);
    st[strcspn(st, "\n")] = 0;
    snprintf(args, sizeof args, "ctbq --evaluate %s/run/best.vtck --threads 1", dir);
    ck_assert_msg(vt_test_cli(args, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, st) != NULL, "evaluate:\n%s\nsummary: %s", out, st);
    ck_assert_msg(strstr(out, "vertebra (mean)") && !strstr(out, "nan\"") && out[0] == '{', "%s", out);
    free(summary);
    /* predict on a test-sized image and on a larger one (resized) */
    for (int side = 16; side <= 24; side += 8) {
        vt_tensor *img = vt_tensor_new(2, (int64_t[]){side, side});
        for (int64_t i = 0; i < img->numel; i++) img->data[i] = (float)((i * 37) % 11) / 10.f;
        snprintf(path, sizeof path, "%s/img%d.npy", dir, side);
        ck_assert_int_eq(vt_npy_save(path, img), VT_OK);
        vt_tensor_free(img);
        snprintf(args, sizeof args, "ctbq --predict %s --checkpoint %s/run/best.vtck", path, dir);
        ck_assert_msg(vt_test_cli(args, out, sizeof out) == 0, "%s", out);
        const char *names[7] = {"\"normal\": ", "\"blastic\": ", "\"lytic\": ", "\"mixed\": ", "\"blastic\": ", "\"lytic\": ", "\"posterolateral\": "};
        const char *q = strstr(out, "\"quality\": {"), *h = strstr(out, "\"heads\": {");
        ck_assert_msg(q && h, "%s", out);
        double sum = 0;
        for (int k = 0; k < 7; k++) {
            const char *at = strstr(k < 4 ? q : h, names[k]);
            ck_assert_msg(at != NULL, "%s missing: %s", names[k], out);
            double v = strtod(at + strlen(names[k]), NULL);
            ck_assert_msg(isfinite(v) && v >= 0 && v <= 1, "%s %g: %s", names[k], v, out);
            if (k < 4) sum += v;
        }
        ck_assert_msg(fabs(sum - 1) < 1e-5, "class probabilities sum to %g: %s", sum, out);
    }
    snprintf(args, sizeof args, "ctbq --predict %s/none.npy --checkpoint %s/run/best.vtck", dir, dir);
    ck_assert_int_eq(vt_test_cli(args, out, sizeof out), 1);
    snprintf(args, sizeof args, "ctbq --evaluate %s/run/metrics.jsonl", dir);
    ck_assert_int_eq(vt_test_cli(args, out, sizeof out), 1);
    /* SIGINT once the first checkpoint exists */
    snprintf(args, sizeof args, "exec %s ctbq %s --epochs 1000 --out %s/sig > %s/sig.log 2>&1", vt_test_bin(), opts, dir, dir);
    pid_t pid = fork();
    if (pid == 0) { execl("/bin/sh", "sh", "-c", args, (char *)NULL); _exit(127); }
    snprintf(path, sizeof path, "%s/sig/checkpoint.vtck", dir);
    struct stat sb;
    for (int i = 0; i < 15000 && stat(path, &sb) != 0; i++) usleep(2000); /* handler installed by then */
    ck_assert_int_eq(kill(pid, SIGINT), 0);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    snprintf(path, sizeof path, "%s/sig.log", dir);
    char *log = slurp(path);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 130, "status %d: %s", status, log);
    const char *at = strstr(log, "interrupted by SIGINT after epoch ");
    ck_assert_msg(at != NULL, "%s", log);
    int ep = atoi(at + strlen("interrupted by SIGINT after epoch "));
    free(log);
    ck_assert_int_ge(ep, 1);
    /* finish the epoch it stopped in, then test */
    snprintf(args, sizeof args, "ctbq %s --epochs %d --resume %s/sig/checkpoint.vtck", opts, ep + 1, dir);
    ck_assert_msg(vt_test_cli(args, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "resumed from") && strstr(out, "test results"), "%s", out);
    snprintf(path, sizeof path, "%s/sig/summary.json", dir);
    ck_assert_int_eq(stat(path, &sb), 0);
    snprintf(args, sizeof args, "rm -rf %s", dir);
    ck_assert_int_eq(system(args), 0);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("train/ctbq");
    TCase *tc = tcase_create("ctbq");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, phantom_labels_are_consistent);
    tcase_add_test(tc, posterolateral_is_rendered);
    tcase_add_test(tc, spl_weights_at_known_lambda);
    tcase_add_test(tc, spl_loss_matches_hand_computation);
    tcase_add_test(tc, a_few_steps_reduce_the_loss);
    tcase_add_test(tc, vertebra_aggregation_by_hand);
    tcase_add_test(tc, command_errors_and_a_tiny_run);
    tcase_add_test(tc, resume_after_sigint_is_bit_identical);
    tcase_add_test(tc, patience_stops_early);
    tcase_add_test(tc, pretrained_fills_the_trunk_and_skips_heads);
    tcase_add_test(tc, command_evaluate_predict_and_sigint);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
