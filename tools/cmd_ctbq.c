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
#include "config.h"
#include "ctbq.h"

/* The config-file form (examples/ct_bone_quality/config; `vertebra train` passes it here):
 * every key mirrors a command-line option. */
static const vt_cfg_key schema[] = {
    {"", "method", VT_CFG_ENUM, "ctbq", 0, 0, "ctbq", "the trainer this file is for (vertebra train)"},
    {"", "mode", VT_CFG_ENUM, "mtl", 0, 0, "baseline|mtl|mtl_spl", "4-way baseline, multi-task, or multi-task + self-paced"},
    {"", "seed", VT_CFG_INT, "0", 0, 9e18, NULL, "seed of the phantom, init, split and shuffling"},
    {"", "threads", VT_CFG_INT, "2", 0, 1024, NULL, "CPU threads (0: all cores)"},
    {"", "out", VT_CFG_STRING, "runs/ctbq", 0, 0, NULL, "run folder: config.resolved, metrics.jsonl, summary.json"},
    {"data", "source", VT_CFG_ENUM, "phantom", 0, 0, "phantom", "built-in vertebra phantom (data/phantom_ct.h)"},
    {"data", "size", VT_CFG_INT, "32", 16, 1024, NULL, "image side"},
    {"data", "patients", VT_CFG_INT, "40", 3, 100000, NULL, "phantom patients"},
    {"data", "vertebrae_per_patient", VT_CFG_INT, "4", 1, 1000, NULL, "vertebrae per patient"},
    {"data", "slices_per_vertebra", VT_CFG_INT, "6", 1, 1000, NULL, "axial slices per vertebra"},
    {"data", "p_posterolateral", VT_CFG_FLOAT, "0.4", 0, 1, NULL, "probability that a lesion involves the posterior elements"},
    {"data", "val_fraction", VT_CFG_FLOAT, "0.2", 0, 0.9, NULL, "fraction of patients for validation"},
    {"data", "test_fraction", VT_CFG_FLOAT, "0.2", 0, 0.9, NULL, "fraction of patients for test"},
    {"model", "arch", VT_CFG_ENUM, "densenet121", 0, 0, "densenet121|densenet169|resnet18|resnet34|resnet50|vgg11_bn|vgg16_bn|smallcnn", "trunk"},
    {"model", "embed", VT_CFG_INT, "128", 1, 65536, NULL, "trunk embedding width"},
    {"model", "fusion_hidden", VT_CFG_INT, "16", 1, 65536, NULL, "fusion MLP hidden width"},
    {"model", "fuse_features", VT_CFG_BOOL, "false", 0, 0, NULL, "the fusion MLP also sees the trunk embedding"},
    {"loss", "w_blastic", VT_CFG_FLOAT, "1", 0, 1000, NULL, "loss weight of blastic?"},
    {"loss", "w_lytic", VT_CFG_FLOAT, "1", 0, 1000, NULL, "loss weight of lytic?"},
    {"loss", "w_quality", VT_CFG_FLOAT, "1", 0, 1000, NULL, "loss weight of the fused 4-way output"},
    {"loss", "w_posterolateral", VT_CFG_FLOAT, "1", 0, 1000, NULL, "loss weight of posterolateral?"},
    {"loss", "kendall", VT_CFG_BOOL, "false", 0, 0, NULL, "learned uncertainty weighting (Kendall et al. 2018)"},
    {"spl", "scheme", VT_CFG_ENUM, "hard", 0, 0, "hard|linear|mixture", "self-paced weighting (mtl_spl)"},
    {"spl", "start_fraction", VT_CFG_FLOAT, "0.5", 0.01, 1, NULL, "fraction of samples admitted in epoch 1"},
    {"spl", "growth", VT_CFG_FLOAT, "0.15", 0, 1, NULL, "fraction added per epoch"},
    {"spl", "mixture_ratio", VT_CFG_FLOAT, "0.5", 0.01, 0.99, NULL, "mixture: lambda2 / lambda"},
    {"optim", "optimizer", VT_CFG_ENUM, "adam", 0, 0, "adam", "optimizer"},
    {"optim", "lr", VT_CFG_FLOAT, "0.001", 0, 10, NULL, "learning rate"},
    {"optim", "weight_decay", VT_CFG_FLOAT, "0", 0, 1, NULL, "L2 weight decay"},
    {"optim", "batch", VT_CFG_INT, "32", 1, 65536, NULL, "batch size"},
    {"optim", "epochs", VT_CFG_INT, "10", 1, 1000, NULL, "epochs"},
    {"eval", "select", VT_CFG_STRING, "vertebra_macro_f1", 0, 0, NULL, "validation metric that picks the best epoch"},
    {0},
};

/* `--config FILE [--set k=v]...`: the config becomes the command line, so both forms share
 * one code path (and one set of checks). */
static int config_to_args(int argc, char **argv, int *out_argc, char ***out_argv, vt_config **out_cfg) {
    const char *path = NULL, *sets[64];
    int n_sets = 0;
    for (int i = 2; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--config")) path = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--set") && n_sets < 64) sets[n_sets++] = argv[++i];
        else { fprintf(stderr, "vertebra ctbq: with --config only --set section.key=value may follow (got '%s')\n", argv[i]); return 2; }
    }
    vt_config *c = vt_config_load(schema, path, n_sets, sets);
    if (!c) { fprintf(stderr, "vertebra ctbq: %s\n", vt_last_error()); return 2; }
    static char buf[40][64];
    static char *av[96];
    int n = 0, b = 0;
    av[n++] = argv[0];
    av[n++] = argv[1];
/* copies: the config is freed before the options are used (static av keeps them reachable) */
#define OPT(flag, key) do { av[n++] = flag; av[n++] = strdup(vt_config_string(c, key)); } while (0)
#define NUM(flag, fmt, val) do { av[n++] = flag; snprintf(buf[b], sizeof buf[b], fmt, val); av[n++] = buf[b++]; } while (0)
    OPT("--mode", "mode"); OPT("--out", "out"); OPT("--arch", "model.arch"); OPT("--spl", "spl.scheme");
    OPT("--select", "eval.select");
    NUM("--seed", "%lld", (long long)vt_config_int(c, "seed"));
    NUM("--threads", "%lld", (long long)vt_config_int(c, "threads"));
    NUM("--size", "%lld", (long long)vt_config_int(c, "data.size"));
    NUM("--patients", "%lld", (long long)vt_config_int(c, "data.patients"));
    NUM("--vertebrae", "%lld", (long long)vt_config_int(c, "data.vertebrae_per_patient"));
    NUM("--slices", "%lld", (long long)vt_config_int(c, "data.slices_per_vertebra"));
    NUM("--p-postero", "%.17g", vt_config_float(c, "data.p_posterolateral"));
    NUM("--val-frac", "%.17g", vt_config_float(c, "data.val_fraction"));
    NUM("--test-frac", "%.17g", vt_config_float(c, "data.test_fraction"));
    NUM("--embed", "%lld", (long long)vt_config_int(c, "model.embed"));
    NUM("--fusion-hidden", "%lld", (long long)vt_config_int(c, "model.fusion_hidden"));
    NUM("--w-blastic", "%.17g", vt_config_float(c, "loss.w_blastic"));
    NUM("--w-lytic", "%.17g", vt_config_float(c, "loss.w_lytic"));
    NUM("--w-quality", "%.17g", vt_config_float(c, "loss.w_quality"));
    NUM("--w-postero", "%.17g", vt_config_float(c, "loss.w_posterolateral"));
    NUM("--spl-start", "%.17g", vt_config_float(c, "spl.start_fraction"));
    NUM("--spl-growth", "%.17g", vt_config_float(c, "spl.growth"));
    NUM("--spl-mix", "%.17g", vt_config_float(c, "spl.mixture_ratio"));
    NUM("--lr", "%.17g", vt_config_float(c, "optim.lr"));
    NUM("--weight-decay", "%.17g", vt_config_float(c, "optim.weight_decay"));
    NUM("--batch", "%lld", (long long)vt_config_int(c, "optim.batch"));
    NUM("--epochs", "%lld", (long long)vt_config_int(c, "optim.epochs"));
    if (vt_config_bool(c, "model.fuse_features")) av[n++] = "--fuse-features";
    if (vt_config_bool(c, "loss.kendall")) av[n++] = "--kendall";
#undef OPT
#undef NUM
    *out_argc = n;
    *out_argv = av;
    *out_cfg = c;
    return 0;
}

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
    vt_config *file_cfg = NULL;
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--config")) {
            int rc = config_to_args(argc, argv, &argc, &argv, &file_cfg);
            if (rc) return rc;
            break;
        }
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
        {"--p-postero", VT_ARG_FLOAT, &pc.p_posterolateral, "probability that a lesion involves the posterior elements (default 0.4)", 0, 1},
        {"--log-every", VT_ARG_INT64, &tc.log_every, "progress line every N steps off a terminal (default 20)", 1, 1e9},
    };
    int rc = vt_args_parse("ctbq", "train the CT bone-quality method (baseline / MTL / MTL+SPL) on the vertebra phantom\n"
                           "  (or: vertebra ctbq --config FILE [--set section.key=value]...; keys in examples/ct_bone_quality/config)",
                           argc, argv, 2, spec, (int)(sizeof spec / sizeof spec[0]));
    if (rc) { vt_config_free(file_cfg); return rc == 1 ? 0 : rc; }
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
    if (file_cfg && out) { /* the run folder records exactly what ran */
        char path[4096];
        snprintf(path, sizeof path, "%s/config.resolved", out);
        if (vt_config_write(file_cfg, path) != VT_OK) fprintf(stderr, "vertebra ctbq: warning: %s\n", vt_last_error());
    }
    vt_config_free(file_cfg);
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
