/* test_ctbq.c: the CT bone-quality method: vertebra phantom labels, SPL weights at a known
 * lambda, the SPL-weighted multi-task loss against a hand computation, vertebra-level
 * aggregation on a hand example, loss going down in a few steps, command errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "ctbq.h"
#include "losses.h"
#include "optim.h"
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

START_TEST(spl_weights_at_known_lambda) {
    const float l[5] = {0.1f, 0.5f, 0.75f, 1.0f, 2.0f};
    float w[5];
    ck_assert_int_eq(vt_ctbq_spl_weights(l, 5, VT_CTBQ_SPL_HARD, 1.0f, 0.5f, w), VT_OK);
    const float hard[5] = {1, 1, 1, 0, 0};
    vt_expect_close(w, hard, 5, 0, 0, "hard");
    ck_assert_int_eq(vt_ctbq_spl_weights(l, 5, VT_CTBQ_SPL_LINEAR, 1.0f, 0.5f, w), VT_OK);
    const float lin[5] = {0.9f, 0.5f, 0.25f, 0, 0};
    vt_expect_close(w, lin, 5, 1e-6, 1e-6, "linear");
    /* lambda 1, lambda2 0.5, zeta = 1 * 0.5 / 0.5 = 1: 0.75 -> 1/0.75 - 1 = 1/3 */
    ck_assert_int_eq(vt_ctbq_spl_weights(l, 5, VT_CTBQ_SPL_MIXTURE, 1.0f, 0.5f, w), VT_OK);
    const float mix[5] = {1, 1, 1.f / 3.f, 0, 0};
    vt_expect_close(w, mix, 5, 1e-6, 1e-6, "mixture");
    ck_assert_int_eq(vt_ctbq_spl_weights(l, 5, VT_CTBQ_SPL_MIXTURE, 1.0f, 1.5f, w), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "mixture ratio 1.5") != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_ctbq_spl_weights(l, 5, VT_CTBQ_SPL_HARD, 0.f, 0.5f, w), VT_ERR);
    /* lambda from the admitted fraction: k = ceil(0.5 * 4) = 2 easiest of {3, 1, 2, 4} */
    const float l4[4] = {3, 1, 2, 4};
    float lam = vt_ctbq_spl_lambda(l4, 4, 0.5);
    ck_assert(lam > 2.f && lam < 2.0001f);
    ck_assert_int_eq(vt_ctbq_spl_weights(l4, 4, VT_CTBQ_SPL_HARD, lam, 0.5f, w), VT_OK);
    const float sel[4] = {0, 1, 1, 0};
    vt_expect_close(w, sel, 4, 0, 0, "hard at fraction 0.5");
    ck_assert(fabs(vt_ctbq_spl_fraction(0.5, 0.2, 1) - 0.5) < 1e-12);
    ck_assert(fabs(vt_ctbq_spl_fraction(0.5, 0.2, 3) - 0.9) < 1e-12);
    ck_assert(vt_ctbq_spl_fraction(0.5, 0.2, 4) == 1.0);
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

static int run(const char *args, char *out, size_t n) {
    const char *bin = getenv("VT_BIN") ? getenv("VT_BIN") : "build/vertebra";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t k = fread(out, 1, n - 1, p);
    out[k] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(command_errors_and_a_tiny_run) {
    static char out[1 << 16];
    ck_assert_int_eq(run("ctbq --mode foo", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--mode: 'foo' is not baseline, mtl or mtl_spl") != NULL, "%s", out);
    ck_assert_int_eq(run("ctbq --spl quadratic", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--spl: 'quadratic' is not hard, linear or mixture") != NULL, "%s", out);
    ck_assert_int_eq(run("ctbq --select auc", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "unknown metric 'auc'") != NULL, "%s", out);
    ck_assert_int_eq(run("ctbq --mode baseline --kendall", out, sizeof out), 2);
    ck_assert_int_eq(run("ctbq --arch alexnet --size 16 --patients 3 --vertebrae 1 --slices 1", out, sizeof out), 1);
    ck_assert_msg(strstr(out, "unknown trunk 'alexnet'") != NULL, "%s", out);
    ck_assert_int_eq(run("ctbq --patients 2", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "out of range") != NULL, "%s", out);
    char dir[] = "/tmp/vt_ctbq_XXXXXX", args[512], path[600];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(args, sizeof args, "ctbq --mode mtl_spl --arch smallcnn --size 16 --patients 5 --vertebrae 2 --slices 3 "
                                "--epochs 2 --batch 8 --out %s", dir);
    ck_assert_msg(run(args, out, sizeof out) == 0, "%s", out);
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
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
