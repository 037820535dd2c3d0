/* cmd_ctbq.c: `vertebra ctbq`: the spinal-metastasis CT bone-quality method (issue 5,
 * section 1) on the built-in vertebra phantom: baseline 4-way classifier, multi-task model
 * (MTL), or MTL with self-paced learning; patient-level train/val/test split, best epoch on
 * a validation metric, metrics.jsonl + summary.json, a results table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "args.h"
#include "commands.h"
#include "ctbq.h"

static int fail(const char *what) {
    fprintf(stderr, "vertebra ctbq: %s\n", what);
    return 1;
}

static void print_row(const char *name, const vt_ctbq_level *l) {
    printf("  %-16s %6lld", name, (long long)l->n);
    for (int c = 0; c < 4; c++) printf("  %7.3f", l->cls[c].sensitivity);
    printf("  %7.3f  %7.3f\n", l->sum.accuracy, l->sum.macro.f1);
}

int vt_cmd_ctbq(int argc, char **argv) {
    const char *mode = "mtl", *arch = "densenet121", *spl = "hard", *out = NULL, *select = "vertebra_macro_f1";
    int threads = 2, kendall = 0, fuse_features = 0;
    int64_t seed = 0;
    float val_frac = 0.2f, test_frac = 0.2f;
    vt_ctbq_train_config tc;
    vt_ctbq_train_config_default(&tc);
    vt_ctbq_model_config mc;
    vt_ctbq_model_config_default(&mc);
    vt_phantom_vertebra_config pc;
    vt_phantom_vertebra_config_default(&pc);
    pc.n_patients = 40;
    mc.size = pc.size;
    const vt_arg spec[] = {
        {"--mode", VT_ARG_STR, &mode, "baseline | mtl | mtl_spl (default mtl)", 1, 0},
        {"--arch", VT_ARG_STR, &arch, "trunk: densenet121 (default), densenet169, resnet18/34/50, vgg11_bn, vgg16_bn, smallcnn", 1, 0},
        {"--epochs", VT_ARG_INT, &tc.epochs, "epochs (default 10)", 1, 1000},
        {"--batch", VT_ARG_INT, &tc.batch, "batch size (default 32)", 1, 65536},
        {"--lr", VT_ARG_FLOAT, &tc.lr, "Adam learning rate (default 0.001)", 0, 10},
        {"--weight-decay", VT_ARG_FLOAT, &tc.weight_decay, "Adam L2 weight decay (default 0)", 0, 1},
        {"--threads", VT_ARG_INT, &threads, "CPU threads (default 2; 0 = all cores)", 0, 1024},
        {"--seed", VT_ARG_INT64, &seed, "seed of the phantom, init, split and shuffling (default 0)", 0, 9.2e18},
        {"--out", VT_ARG_STR, &out, "run folder for metrics.jsonl and summary.json (created)", 1, 0},
        {"--size", VT_ARG_INT, &pc.size, "image side (default 32)", 16, 1024},
        {"--patients", VT_ARG_INT, &pc.n_patients, "phantom patients (default 40)", 3, 100000},
        {"--vertebrae", VT_ARG_INT, &pc.vertebrae_per_patient, "vertebrae per patient (default 4)", 1, 1000},
        {"--slices", VT_ARG_INT, &pc.slices_per_vertebra, "slices per vertebra (default 6)", 1, 1000},
        {"--val-frac", VT_ARG_FLOAT, &val_frac, "fraction of patients for validation (default 0.2)", 0, 0.9},
        {"--test-frac", VT_ARG_FLOAT, &test_frac, "fraction of patients for test (default 0.2)", 0, 0.9},
        {"--select", VT_ARG_STR, &select, "validation metric that picks the best epoch (default vertebra_macro_f1)", 1, 0},
        {"--embed", VT_ARG_INT, &mc.embed, "trunk embedding width (default 128)", 1, 65536},
        {"--fusion-hidden", VT_ARG_INT, &mc.fusion_hidden, "fusion MLP hidden width (default 16)", 1, 65536},
        {"--fuse-features", VT_ARG_FLAG, &fuse_features, "the fusion MLP also sees the trunk embedding", 1, 0},
        {"--w-blastic", VT_ARG_FLOAT, &tc.loss.w_blastic, "loss weight of blastic? (default 1)", 0, 1000},
        {"--w-lytic", VT_ARG_FLOAT, &tc.loss.w_lytic, "loss weight of lytic? (default 1)", 0, 1000},
        {"--w-quality", VT_ARG_FLOAT, &tc.loss.w_quality, "loss weight of the fused 4-way output (default 1)", 0, 1000},
        {"--w-postero", VT_ARG_FLOAT, &tc.loss.w_postero, "loss weight of posterolateral? (default 1)", 0, 1000},
        {"--kendall", VT_ARG_FLAG, &kendall, "learned uncertainty weighting (Kendall et al.) instead of the weights", 1, 0},
        {"--spl", VT_ARG_STR, &spl, "self-paced weighting for mtl_spl: hard | linear | mixture (default hard)", 1, 0},
        {"--spl-start", VT_ARG_FLOAT, &tc.loss.spl_start, "fraction of samples admitted in epoch 1 (default 0.5)", 0.01, 1},
        {"--spl-growth", VT_ARG_FLOAT, &tc.loss.spl_growth, "fraction added per epoch (default 0.15)", 0, 1},
        {"--spl-mix", VT_ARG_FLOAT, &tc.loss.spl_mix, "mixture: lambda2 / lambda (default 0.5)", 0.01, 0.99},
        {"--log-every", VT_ARG_INT64, &tc.log_every, "progress line every N steps off a terminal (default 20)", 1, 1e9},
    };
    int rc = vt_args_parse("ctbq", "train the CT bone-quality method (baseline / MTL / MTL+SPL) on the vertebra phantom",
                           argc, argv, 2, spec, (int)(sizeof spec / sizeof spec[0]));
    if (rc) return rc == 1 ? 0 : rc;
    int spl_mode = !strcmp(mode, "mtl_spl");
    if (!spl_mode && strcmp(mode, "mtl") && strcmp(mode, "baseline")) {
        fprintf(stderr, "vertebra ctbq: --mode: '%s' is not baseline, mtl or mtl_spl\n", mode);
        return 2;
    }
    vt_ctbq_spl kind = !strcmp(spl, "hard") ? VT_CTBQ_SPL_HARD : !strcmp(spl, "linear") ? VT_CTBQ_SPL_LINEAR
                     : !strcmp(spl, "mixture") ? VT_CTBQ_SPL_MIXTURE : VT_CTBQ_SPL_OFF;
    if (kind == VT_CTBQ_SPL_OFF) { fprintf(stderr, "vertebra ctbq: --spl: '%s' is not hard, linear or mixture\n", spl); return 2; }
    if (!vt_ctbq_metric_known(select)) {
        fprintf(stderr, "vertebra ctbq: --select: unknown metric '%s' (slice_accuracy, slice_macro_f1, slice_macro_sensitivity, "
                        "vertebra_accuracy, vertebra_macro_f1, vertebra_macro_sensitivity, vertebra_max_accuracy, "
                        "vertebra_max_macro_f1, neg_loss)\n", select);
        return 2;
    }
    if (!strcmp(mode, "baseline") && kendall) { fprintf(stderr, "vertebra ctbq: --kendall needs --mode mtl or mtl_spl\n"); return 2; }
    if (out && mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vertebra ctbq: %s: cannot create: %s\n", out, strerror(errno));
        return 1;
    }
    vt_set_num_threads(threads);
    tc.loss.spl = spl_mode ? kind : VT_CTBQ_SPL_OFF;
    tc.loss.kendall = kendall;
    tc.select = select;
    tc.out_dir = out;
    tc.seed = (uint64_t)seed * 3 + 1;
    pc.seed = (uint64_t)seed;
    mc.arch = arch;
    mc.size = pc.size;
    mc.kind = !strcmp(mode, "baseline") ? VT_CTBQ_BASELINE : VT_CTBQ_MTL;
    mc.kendall = kendall;
    mc.fuse_features = fuse_features;

    vt_phantom_slices d;
    if (vt_phantom_vertebrae_make(&pc, &d) != VT_OK) return fail(vt_last_error());
    int64_t *idx[3] = {NULL, NULL, NULL}, n[3];
    int status = 1;
    vt_ctbq_model *m = NULL;
    if (vt_ctbq_split_by_patient(&d, val_frac, test_frac, (uint64_t)seed, idx, n) != VT_OK) { fail(vt_last_error()); goto done; }
    vt_seed((uint64_t)seed);
    if (!(m = vt_ctbq_model_new(&mc))) { fail(vt_last_error()); goto done; }
    printf("vertebra ctbq: mode %s, trunk %s, %d threads; phantom %d patients x %d vertebrae x %d slices of %dx%d; "
           "split by patient: %lld / %lld / %lld slices; Adam lr %g, batch %d, %d epochs%s\n",
           mode, arch, vt_get_num_threads(), pc.n_patients, pc.vertebrae_per_patient, pc.slices_per_vertebra, pc.size,
           pc.size, (long long)n[0], (long long)n[1], (long long)n[2], (double)tc.lr, tc.batch, tc.epochs,
           kendall ? ", Kendall weighting" : "");
    if (spl_mode) printf("self-paced: %s, fraction %.2f + %.2f per epoch\n", spl, (double)tc.loss.spl_start, (double)tc.loss.spl_growth);
    vt_ctbq_result r;
    if (vt_ctbq_train(m, &tc, &d, idx, n, &r) != VT_OK) { fail(vt_last_error()); goto done; }
    printf("best epoch %d (val %s %.4f), %.1f s\n", r.best_epoch, select, r.best_val, r.seconds);
    printf("test results (%s): sensitivity per class\n  %-16s %6s  %7s  %7s  %7s  %7s  %7s  %7s\n", mode, "level", "n",
           "normal", "blastic", "lytic", "mixed", "acc", "macroF1");
    print_row("slice", &r.test.slice);
    print_row("vertebra (mean)", &r.test.vertebra_mean);
    print_row("vertebra (max)", &r.test.vertebra_max);
    if (mc.kind == VT_CTBQ_MTL)
        printf("  posterolateral (slice): sensitivity %.3f, specificity %.3f\n", r.test.postero_slice.sensitivity,
               r.test.postero_slice.specificity);
    status = 0;
done:
    vt_ctbq_model_free(m);
    for (int k = 0; k < 3; k++) free(idx[k]);
    vt_phantom_slices_free(&d);
    return status;
}
