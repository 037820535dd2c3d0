/* cmd_ctbq.c: `vertebra ctbq`: the spinal-metastasis CT bone-quality method (issue 5,
 * section 1) on the built-in vertebra phantom: baseline 4-way classifier, multi-task model
 * (MTL), or MTL with self-paced learning; patient-level train/val/test split, best epoch on
 * a validation metric, early stopping, checkpoints + resume, transfer learning,
 * metrics.jsonl + summary.json, a results table; --evaluate / --predict from a checkpoint. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "args.h"
#include "commands.h"
#include "config.h"
#include "checkpoint.h"
#include "ctbq.h"
#include "imgcls.h" /* vt_imgcls_resize */
#include "png_io.h"

/* The config-file form (examples/ct_bone_quality/config; `vertebra train` passes it here):
 * every key mirrors a command-line option. */
static const vt_cfg_key schema[] = {
    {"", "method", VT_CFG_ENUM, "ctbq", 0, 0, "ctbq", "the trainer this file is for (vertebra train)"},
    {"", "mode", VT_CFG_ENUM, "mtl", 0, 0, "baseline|mtl|mtl_spl", "4-way baseline, multi-task, or multi-task + self-paced"},
    {"", "seed", VT_CFG_INT, "0", 0, 9e18, NULL, "seed of the phantom, init, split and shuffling"},
    {"", "threads", VT_CFG_INT, "2", 0, 1024, NULL, "CPU threads (0: all cores)"},
    {"", "out", VT_CFG_STRING, "runs/ctbq", 0, 0, NULL, "run folder: config.resolved, metrics.jsonl, summary.json, checkpoint.vtck, best.vtck"},
    {"", "resume", VT_CFG_STRING, "", 0, 0, NULL, "RUN/checkpoint.vtck to continue from (empty: a fresh run)"},
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
    {"model", "pretrained", VT_CFG_STRING, "", 0, 0, NULL, "safetensors weights for the trunk (transfer learning; names: docs/weights.md)"},
    {"model", "pretrained_strip", VT_CFG_STRING, "", 0, 0, NULL, "prefix removed from the pretrained file's keys (e.g. module.)"},
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
    {"eval", "patience", VT_CFG_INT, "0", 0, 1000, NULL, "early stopping: epochs without improvement of select (0: off)"},
    {"eval", "min_delta", VT_CFG_FLOAT, "0", 0, 1, NULL, "smallest change of select that counts as an improvement"},
    {0},
};


/* Every option that has a config key: the config becomes the command line (one code path,
 * one set of checks) and a command line becomes the config text stored in the checkpoints
 * (so --evaluate / --predict rebuild the same data split and model). */
static const struct { const char *flag, *key; } FLAGS[] = {
    {"--mode", "mode"}, {"--seed", "seed"}, {"--threads", "threads"}, {"--out", "out"}, {"--resume", "resume"},
    {"--size", "data.size"}, {"--patients", "data.patients"}, {"--vertebrae", "data.vertebrae_per_patient"},
    {"--slices", "data.slices_per_vertebra"}, {"--p-postero", "data.p_posterolateral"},
    {"--val-frac", "data.val_fraction"}, {"--test-frac", "data.test_fraction"},
    {"--arch", "model.arch"}, {"--embed", "model.embed"}, {"--fusion-hidden", "model.fusion_hidden"},
    {"--fuse-features", "model.fuse_features"}, {"--pretrained", "model.pretrained"},
    {"--pretrained-strip", "model.pretrained_strip"},
    {"--w-blastic", "loss.w_blastic"}, {"--w-lytic", "loss.w_lytic"}, {"--w-quality", "loss.w_quality"},
    {"--w-postero", "loss.w_posterolateral"}, {"--kendall", "loss.kendall"},
    {"--spl", "spl.scheme"}, {"--spl-start", "spl.start_fraction"}, {"--spl-growth", "spl.growth"},
    {"--spl-mix", "spl.mixture_ratio"},
    {"--lr", "optim.lr"}, {"--weight-decay", "optim.weight_decay"}, {"--batch", "optim.batch"},
    {"--epochs", "optim.epochs"},
    {"--select", "eval.select"}, {"--patience", "eval.patience"}, {"--min-delta", "eval.min_delta"},
};
#define N_FLAGS ((int)(sizeof FLAGS / sizeof FLAGS[0]))

static const vt_cfg_key *schema_key(const char *key) {
    for (const vt_cfg_key *k = schema; k->name; k++) {
        size_t ls = strlen(k->section);
        if (ls ? !strncmp(key, k->section, ls) && key[ls] == '.' && !strcmp(key + ls + 1, k->name) : !strcmp(key, k->name)) return k;
    }
    return NULL;
}

/* c -> argv[0], argv[1], --flag value ... (strings copied: c may be freed afterwards) */
static void config_argv(const vt_config *c, char *argv0, char *argv1, int *out_argc, char ***out_argv) {
    static char *av[2 + 2 * N_FLAGS + 1];
    int n = 0;
    av[n++] = argv0;
    av[n++] = argv1;
    for (int i = 0; i < N_FLAGS; i++) {
        const vt_cfg_key *k = schema_key(FLAGS[i].key);
        char buf[64];
        const char *v = buf;
        if (k->type == VT_CFG_BOOL) {
            if (vt_config_bool(c, FLAGS[i].key)) av[n++] = (char *)FLAGS[i].flag;
            continue;
        }
        if (k->type == VT_CFG_INT) snprintf(buf, sizeof buf, "%lld", (long long)vt_config_int(c, FLAGS[i].key));
        else if (k->type == VT_CFG_FLOAT) snprintf(buf, sizeof buf, "%.17g", vt_config_float(c, FLAGS[i].key));
        else v = vt_config_string(c, FLAGS[i].key);
        if (!*v) continue; /* empty string: the option's default (none) */
        av[n++] = (char *)FLAGS[i].flag;
        av[n++] = strdup(v);
    }
    av[n] = NULL;
    *out_argc = n;
    *out_argv = av;
}

/* `--config FILE [--set k=v]...` */
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
    config_argv(c, argv[0], argv[1], out_argc, out_argv);
    *out_cfg = c;
    return 0;
}

/* the (already validated) command line as config text for the checkpoints; NULL on error */
static char *args_to_config_text(int argc, char **argv) {
    vt_config *c = vt_config_new(schema);
    for (int i = 2; c && i < argc; i++)
        for (int f = 0; f < N_FLAGS; f++) {
            if (strcmp(argv[i], FLAGS[f].flag)) continue;
            int is_bool = schema_key(FLAGS[f].key)->type == VT_CFG_BOOL;
            if (!is_bool && i + 1 >= argc) break;
            char set[4200];
            snprintf(set, sizeof set, "%s=%s", FLAGS[f].key, is_bool ? "true" : argv[i + 1]);
            if (strcmp(FLAGS[f].flag, "--resume") && vt_config_set(c, set) != VT_OK) { vt_config_free(c); return NULL; }
            i += !is_bool;
            break;
        }
    char *text = c ? vt_config_to_string(c) : NULL;
    vt_config_free(c);
    return text;
}

typedef struct ctbq_opts {
    const char *mode, *arch, *spl, *out, *select, *resume, *pretrained, *pretrained_strip;
    int threads, kendall, fuse_features;
    int64_t seed;
    float val_frac, test_frac, min_delta;
    vt_ctbq_train_config tc;
    vt_ctbq_model_config mc;
    vt_phantom_vertebra_config pc;
} ctbq_opts;

/* 0: ok, 1: --help shown, 2: usage error (message printed) */
static int parse_opts(int argc, char **argv, ctbq_opts *o) {
    *o = (ctbq_opts){.mode = "mtl", .arch = "densenet121", .spl = "hard", .select = "vertebra_macro_f1",
                     .resume = "", .pretrained = "", .pretrained_strip = "", .threads = 2, .val_frac = 0.2f, .test_frac = 0.2f};
    vt_ctbq_train_config_default(&o->tc);
    vt_ctbq_model_config_default(&o->mc);
    vt_phantom_vertebra_config_default(&o->pc);
    o->pc.n_patients = 40;
    vt_ctbq_train_config *tc = &o->tc;
    vt_phantom_vertebra_config *pc = &o->pc;
    const vt_arg spec[] = {
        {"--mode", VT_ARG_STR, &o->mode, "baseline | mtl | mtl_spl (default mtl)", 1, 0},
        {"--arch", VT_ARG_STR, &o->arch, "trunk: densenet121 (default), densenet169, resnet18/34/50, vgg11_bn, vgg16_bn, smallcnn", 1, 0},
        {"--epochs", VT_ARG_INT, &tc->epochs, "epochs (default 10)", 1, 1000},
        {"--batch", VT_ARG_INT, &tc->batch, "batch size (default 32)", 1, 65536},
        {"--lr", VT_ARG_FLOAT, &tc->lr, "Adam learning rate (default 0.001)", 0, 10},
        {"--weight-decay", VT_ARG_FLOAT, &tc->weight_decay, "Adam L2 weight decay (default 0)", 0, 1},
        {"--threads", VT_ARG_INT, &o->threads, "CPU threads (default 2; 0 = all cores)", 0, 1024},
        {"--seed", VT_ARG_INT64, &o->seed, "seed of the phantom, init, split and shuffling (default 0)", 0, 9.2e18},
        {"--out", VT_ARG_STR, &o->out, "run folder (created): metrics.jsonl, summary.json, checkpoint.vtck, best.vtck", 1, 0},
        {"--resume", VT_ARG_STR, &o->resume, "RUN/checkpoint.vtck to continue from (same options; writes to --out, default its folder)", 1, 0},
        {"--patience", VT_ARG_INT, &tc->patience, "early stopping: epochs without improvement of --select (default 0: off)", 0, 1000},
        {"--min-delta", VT_ARG_FLOAT, &o->min_delta, "smallest change of --select that counts as an improvement (default 0)", 0, 1},
        {"--pretrained", VT_ARG_STR, &o->pretrained, "safetensors weights for the trunk (transfer learning; names: docs/weights.md)", 1, 0},
        {"--pretrained-strip", VT_ARG_STR, &o->pretrained_strip, "prefix removed from the pretrained keys (e.g. module.)", 1, 0},
        {"--size", VT_ARG_INT, &pc->size, "image side (default 32)", 16, 1024},
        {"--patients", VT_ARG_INT, &pc->n_patients, "phantom patients (default 40)", 3, 100000},
        {"--vertebrae", VT_ARG_INT, &pc->vertebrae_per_patient, "vertebrae per patient (default 4)", 1, 1000},
        {"--slices", VT_ARG_INT, &pc->slices_per_vertebra, "slices per vertebra (default 6)", 1, 1000},
        {"--val-frac", VT_ARG_FLOAT, &o->val_frac, "fraction of patients for validation (default 0.2)", 0, 0.9},
        {"--test-frac", VT_ARG_FLOAT, &o->test_frac, "fraction of patients for test (default 0.2)", 0, 0.9},
        {"--select", VT_ARG_STR, &o->select, "validation metric that picks the best epoch (default vertebra_macro_f1)", 1, 0},
        {"--embed", VT_ARG_INT, &o->mc.embed, "trunk embedding width (default 128)", 1, 65536},
        {"--fusion-hidden", VT_ARG_INT, &o->mc.fusion_hidden, "fusion MLP hidden width (default 16)", 1, 65536},
        {"--fuse-features", VT_ARG_FLAG, &o->fuse_features, "the fusion MLP also sees the trunk embedding", 1, 0},
        {"--w-blastic", VT_ARG_FLOAT, &tc->loss.w_blastic, "loss weight of blastic? (default 1)", 0, 1000},
        {"--w-lytic", VT_ARG_FLOAT, &tc->loss.w_lytic, "loss weight of lytic? (default 1)", 0, 1000},
        {"--w-quality", VT_ARG_FLOAT, &tc->loss.w_quality, "loss weight of the fused 4-way output (default 1)", 0, 1000},
        {"--w-postero", VT_ARG_FLOAT, &tc->loss.w_postero, "loss weight of posterolateral? (default 1)", 0, 1000},
        {"--kendall", VT_ARG_FLAG, &o->kendall, "learned uncertainty weighting (Kendall et al.) instead of the weights", 1, 0},
        {"--spl", VT_ARG_STR, &o->spl, "self-paced weighting for mtl_spl: hard | linear | mixture (default hard)", 1, 0},
        {"--spl-start", VT_ARG_FLOAT, &tc->loss.spl_start, "fraction of samples admitted in epoch 1 (default 0.5)", 0.01, 1},
        {"--spl-growth", VT_ARG_FLOAT, &tc->loss.spl_growth, "fraction added per epoch (default 0.15)", 0, 1},
        {"--spl-mix", VT_ARG_FLOAT, &tc->loss.spl_mix, "mixture: lambda2 / lambda (default 0.5)", 0.01, 0.99},
        {"--p-postero", VT_ARG_FLOAT, &pc->p_posterolateral, "probability that a lesion involves the posterior elements (default 0.4)", 0, 1},
        {"--log-every", VT_ARG_INT64, &tc->log_every, "progress line every N steps off a terminal (default 20)", 1, 1e9},
    };
    int rc = vt_args_parse("ctbq", "train the CT bone-quality method (baseline / MTL / MTL+SPL) on the vertebra phantom\n"
                           "  (or: vertebra ctbq --config FILE [--set section.key=value]...; keys in examples/ct_bone_quality/config)\n"
                           "  (or: vertebra ctbq --evaluate RUN/best.vtck [--threads N]: test-split metrics as JSON + table)\n"
                           "  (or: vertebra ctbq --predict IMAGE.png|.npy --checkpoint RUN/best.vtck: probabilities as JSON)",
                           argc, argv, 2, spec, (int)(sizeof spec / sizeof spec[0]));
    if (rc) return rc;
    int spl_mode = !strcmp(o->mode, "mtl_spl");
    if (!spl_mode && strcmp(o->mode, "mtl") && strcmp(o->mode, "baseline")) {
        fprintf(stderr, "vertebra ctbq: --mode: '%s' is not baseline, mtl or mtl_spl\n", o->mode);
        return 2;
    }
    vt_ctbq_spl kind = !strcmp(o->spl, "hard") ? VT_CTBQ_SPL_HARD : !strcmp(o->spl, "linear") ? VT_CTBQ_SPL_LINEAR
                     : !strcmp(o->spl, "mixture") ? VT_CTBQ_SPL_MIXTURE : VT_CTBQ_SPL_OFF;
    if (kind == VT_CTBQ_SPL_OFF) { fprintf(stderr, "vertebra ctbq: --spl: '%s' is not hard, linear or mixture\n", o->spl); return 2; }
    if (!vt_ctbq_metric_known(o->select)) {
        fprintf(stderr, "vertebra ctbq: --select: unknown metric '%s' (slice_accuracy, slice_macro_f1, slice_macro_sensitivity, "
                        "vertebra_accuracy, vertebra_macro_f1, vertebra_macro_sensitivity, vertebra_max_accuracy, "
                        "vertebra_max_macro_f1, neg_loss)\n", o->select);
        return 2;
    }
    if (!strcmp(o->mode, "baseline") && o->kendall) { fprintf(stderr, "vertebra ctbq: --kendall needs --mode mtl or mtl_spl\n"); return 2; }
    tc->loss.spl = spl_mode ? kind : VT_CTBQ_SPL_OFF;
    tc->loss.kendall = o->kendall;
    tc->select = o->select;
    tc->min_delta = o->min_delta;
    tc->resume = o->resume;
    tc->seed = (uint64_t)o->seed * 3 + 1;
    pc->seed = (uint64_t)o->seed;
    o->mc.arch = o->arch;
    o->mc.size = pc->size;
    o->mc.kind = !strcmp(o->mode, "baseline") ? VT_CTBQ_BASELINE : VT_CTBQ_MTL;
    o->mc.kendall = o->kendall;
    o->mc.fuse_features = o->fuse_features;
    return 0;
}

/* the phantom, its patient split and the model, drawing the RNGs in the same order as
 * every run of these options (so a checkpoint's options rebuild the same split) */
static vt_status build(const ctbq_opts *o, vt_phantom_slices *d, int64_t *idx[3], int64_t n[3], vt_ctbq_model **m) {
    *m = NULL;
    idx[0] = idx[1] = idx[2] = NULL;
    if (vt_phantom_vertebrae_make(&o->pc, d) != VT_OK) return VT_ERR;
    if (vt_ctbq_split_by_patient(d, o->val_frac, o->test_frac, (uint64_t)o->seed, idx, n) != VT_OK) return VT_ERR;
    vt_seed((uint64_t)o->seed);
    return (*m = vt_ctbq_model_new(&o->mc)) ? VT_OK : VT_ERR;
}

static void free_built(vt_phantom_slices *d, int64_t *idx[3], vt_ctbq_model *m) {
    vt_ctbq_model_free(m);
    for (int k = 0; k < 3; k++) free(idx[k]);
    vt_phantom_slices_free(d);
}

static int fail(const char *what) {
    fprintf(stderr, "vertebra ctbq: %s\n", what);
    return 1;
}

static void print_table(const char *title, const vt_ctbq_eval *e, int mtl) {
    static const char *const rows[3] = {"slice", "vertebra (mean)", "vertebra (max)"};
    const vt_ctbq_level *lv[3] = {&e->slice, &e->vertebra_mean, &e->vertebra_max};
    printf("%s: sensitivity per class\n  %-16s %6s  %7s  %7s  %7s  %7s  %7s  %7s\n", title, "level", "n",
           "normal", "blastic", "lytic", "mixed", "acc", "macroF1");
    for (int r = 0; r < 3; r++) {
        printf("  %-16s %6lld", rows[r], (long long)lv[r]->n);
        for (int c = 0; c < 4; c++) printf("  %7.3f", lv[r]->cls[c].sensitivity);
        printf("  %7.3f  %7.3f\n", lv[r]->sum.accuracy, lv[r]->sum.macro.f1);
    }
    if (mtl) printf("  posterolateral (slice): sensitivity %.3f, specificity %.3f\n", e->postero_slice.sensitivity, e->postero_slice.specificity);
}

/* the options stored in checkpoint `path` (its text record), parsed like a command line;
 * ck receives the loaded checkpoint (free it) */
static int opts_from_checkpoint(const char *path, char *argv0, char *argv1, ctbq_opts *o, vt_checkpoint **ck) {
    if (!(*ck = vt_checkpoint_load(path))) return fail(vt_last_error());
    const char *text = vt_checkpoint_text(*ck);
    if (!*text) { fprintf(stderr, "vertebra ctbq: %s: no options record: not a ctbq checkpoint\n", path); return 1; }
    vt_config *c = vt_config_new(schema);
    char name[4200];
    snprintf(name, sizeof name, "%s (options)", path);
    if (!c || vt_config_parse_string(c, text, strlen(text), name) != VT_OK) {
        vt_config_free(c);
        return fail(vt_last_error());
    }
    int ac;
    char **av;
    config_argv(c, argv0, argv1, &ac, &av);
    vt_config_free(c);
    int rc = parse_opts(ac, av, o);
    o->pretrained = o->resume = ""; /* the checkpoint's weights replace both */
    o->tc.resume = "";
    return rc ? 1 : 0;
}

/* (1, 1, size, size) from a grey PNG (scaled to [0, 1]) or an .npy of (H, W), (1, H, W) or
 * (1, 1, H, W) in the training images' units, resized bilinearly when its side differs */
static vt_tensor *load_image(const char *path, int size) {
    size_t len = strlen(path);
    int npy = len > 4 && !strcmp(path + len - 4, ".npy");
    vt_png_options po = {.grey = 1};
    vt_tensor *raw = npy ? vt_npy_load(path) : vt_png_load(path, &po, NULL);
    if (!raw) return NULL;
    char b[64];
    int nd = raw->ndim;
    int64_t h = raw->shape[nd - 2], w = nd >= 2 ? raw->shape[nd - 1] : 0;
    if (nd < 2 || nd > 4 || raw->numel != h * w) {
        vt_error("%s: image %s must be one grey image (H, W), (1, H, W) or (1, 1, H, W)", path, vt_shape_str(raw, b, sizeof b));
        vt_tensor_free(raw);
        return NULL;
    }
    vt_tensor *x = vt_tensor_from_data(4, (int64_t[]){1, 1, h, w}, raw->data);
    vt_tensor_free(raw);
    if (x && (h != size || w != size)) {
        vt_tensor *r = vt_imgcls_resize(x, size);
        vt_tensor_free(x);
        x = r;
    }
    return x;
}

static int cmd_evaluate(const char *ckpt, int threads, char **argv) {
    ctbq_opts o;
    vt_checkpoint *ck = NULL;
    int rc = opts_from_checkpoint(ckpt, argv[0], argv[1], &o, &ck);
    vt_phantom_slices d = {0};
    int64_t *idx[3] = {NULL, NULL, NULL}, n[3];
    vt_ctbq_model *m = NULL;
    int64_t best_epoch = -1;
    vt_ctbq_eval e;
    if (!rc) {
        vt_set_num_threads(threads >= 0 ? threads : o.threads);
        vt_checkpoint_get_int(ck, "best_epoch", &best_epoch);
        if (build(&o, &d, idx, n, &m) != VT_OK || vt_checkpoint_restore_params(ck, m->params) != VT_OK ||
            vt_ctbq_evaluate(m, &d, idx[2], n[2], o.tc.eval_batch, &e) != VT_OK)
            rc = fail(vt_last_error());
    }
    if (!rc) {
        int mtl = m->cfg.kind == VT_CTBQ_MTL;
        char *js = vt_ctbq_eval_json(&e, mtl);
        if (!js) rc = fail(vt_last_error());
        else {
            printf("{\"checkpoint\": \"%s\", \"mode\": \"%s\", \"arch\": \"%s\", \"best_epoch\": %lld, \"split\": \"test\", "
                   "\"n_test\": %lld, \"test\": %s}\n", ckpt, o.mode, o.arch, (long long)best_epoch, (long long)n[2], js);
            free(js);
            print_table("test results", &e, mtl);
        }
    }
    free_built(&d, idx, m);
    vt_checkpoint_free(ck);
    return rc;
}

static void jprob(const char *name, float p, int last) {
    if (isfinite(p)) printf("\"%s\": %.6f%s", name, (double)p, last ? "" : ", ");
    else printf("\"%s\": null%s", name, last ? "" : ", ");
}

static int cmd_predict(const char *image, const char *ckpt, int threads, char **argv) {
    ctbq_opts o;
    vt_checkpoint *ck = NULL;
    int rc = opts_from_checkpoint(ckpt, argv[0], argv[1], &o, &ck);
    vt_ctbq_model *m = NULL;
    vt_tensor *x = NULL;
    float p[7];
    if (!rc) {
        vt_set_num_threads(threads >= 0 ? threads : o.threads);
        vt_seed((uint64_t)o.seed);
        if (!(m = vt_ctbq_model_new(&o.mc)) || vt_checkpoint_restore_params(ck, m->params) != VT_OK ||
            !(x = load_image(image, o.mc.size)) || vt_ctbq_predict(m, x, p) != VT_OK)
            rc = fail(vt_last_error());
    }
    if (!rc) {
        static const char *const cls[4] = {"normal", "blastic", "lytic", "mixed"};
        int best = 0;
        for (int c = 1; c < 4; c++) if (p[c] > p[best]) best = c;
        printf("{\"image\": \"%s\", \"checkpoint\": \"%s\", \"mode\": \"%s\", \"predicted\": \"%s\", \"quality\": {", image, ckpt,
               o.mode, cls[best]);
        for (int c = 0; c < 4; c++) jprob(cls[c], p[c], c == 3);
        printf("}, \"heads\": {");
        jprob("blastic", p[4], 0), jprob("lytic", p[5], 0), jprob("posterolateral", p[6], 1);
        printf("}}\n");
    }
    vt_tensor_free(x);
    vt_ctbq_model_free(m);
    vt_checkpoint_free(ck);
    return rc;
}

static int mkdir_p(const char *dir) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') { *p = 0; if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1; *p = '/'; }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* strips "/checkpoint.vtck": the run folder of a resume without --out */
static char *dir_of(const char *path) {
    char *d = strdup(path);
    char *slash = d ? strrchr(d, '/') : NULL;
    if (slash) *slash = 0;
    else if (d) strcpy(d, ".");
    return d;
}

int vt_cmd_ctbq(int argc, char **argv) {
    const char *evaluate = NULL, *predict = NULL, *ckpt = NULL;
    int threads = -1;
    for (int i = 2; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--evaluate")) evaluate = argv[i + 1];
        else if (!strcmp(argv[i], "--predict")) predict = argv[i + 1];
        else if (!strcmp(argv[i], "--checkpoint")) ckpt = argv[i + 1];
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    }
    if (evaluate || predict) {
        for (int i = 2; i < argc; i += 2)
            if (i + 1 >= argc || (strcmp(argv[i], "--evaluate") && strcmp(argv[i], "--predict") && strcmp(argv[i], "--checkpoint") &&
                                  strcmp(argv[i], "--threads"))) {
                fprintf(stderr, "vertebra ctbq: --evaluate CKPT / --predict IMAGE --checkpoint CKPT take only --threads N besides (got '%s')\n", argv[i]);
                return 2;
            }
        if (evaluate && predict) { fprintf(stderr, "vertebra ctbq: --evaluate and --predict: one at a time\n"); return 2; }
        if (predict && !ckpt) { fprintf(stderr, "vertebra ctbq: --predict IMAGE needs --checkpoint RUN/best.vtck\n"); return 2; }
        return evaluate ? cmd_evaluate(evaluate, threads, argv) : cmd_predict(predict, ckpt, threads, argv);
    }
    vt_config *file_cfg = NULL;
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--config")) {
            int rc = config_to_args(argc, argv, &argc, &argv, &file_cfg);
            if (rc) return rc;
            break;
        }
    ctbq_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc) { vt_config_free(file_cfg); return rc == 1 ? 0 : rc; }
    char *resume_dir = NULL;
    if (!o.out && *o.resume) o.out = resume_dir = dir_of(o.resume);
    if (o.out && mkdir_p(o.out) != 0) {
        fprintf(stderr, "vertebra ctbq: %s: cannot create: %s\n", o.out, strerror(errno));
        vt_config_free(file_cfg);
        free(resume_dir);
        return 1;
    }
    if (file_cfg && o.out) { /* the run folder records exactly what ran */
        char path[4096];
        snprintf(path, sizeof path, "%s/config.resolved", o.out);
        if (vt_config_write(file_cfg, path) != VT_OK) fprintf(stderr, "vertebra ctbq: warning: %s\n", vt_last_error());
    }
    vt_config_free(file_cfg);
    vt_set_num_threads(o.threads);
    o.tc.out_dir = o.out;
    char *text = NULL;
    vt_phantom_slices d = {0};
    int64_t *idx[3] = {NULL, NULL, NULL}, n[3];
    int status = 1;
    vt_ctbq_model *m = NULL;
    vt_ctbq_result r;
    if (build(&o, &d, idx, n, &m) != VT_OK) { fail(vt_last_error()); goto done; }
    if (!(o.tc.config_text = text = args_to_config_text(argc, argv))) { fail(vt_last_error()); goto done; }
    if (*o.pretrained) {
        vt_load_report rep;
        if (vt_ctbq_load_pretrained(m, o.pretrained, o.pretrained_strip, &rep) != VT_OK) { fail(vt_last_error()); goto done; }
        printf("pretrained %s: %d tensors loaded into the trunk (%d skipped heads/projection, %d missing, %d unexpected, %d adapted RGB->grey)\n",
               o.pretrained, rep.loaded, rep.skipped, rep.missing, rep.unexpected, rep.adapted);
    }
    printf("vertebra ctbq: mode %s, trunk %s, %d threads; phantom %d patients x %d vertebrae x %d slices of %dx%d; "
           "split by patient: %lld / %lld / %lld slices; Adam lr %g, batch %d, %d epochs%s\n",
           o.mode, o.arch, vt_get_num_threads(), o.pc.n_patients, o.pc.vertebrae_per_patient, o.pc.slices_per_vertebra, o.pc.size,
           o.pc.size, (long long)n[0], (long long)n[1], (long long)n[2], (double)o.tc.lr, o.tc.batch, o.tc.epochs,
           o.kendall ? ", Kendall weighting" : "");
    if (o.tc.loss.spl != VT_CTBQ_SPL_OFF)
        printf("self-paced: %s, fraction %.2f + %.2f per epoch\n", o.spl, (double)o.tc.loss.spl_start, (double)o.tc.loss.spl_growth);
    if (vt_ctbq_train(m, &o.tc, &d, idx, n, &r) != VT_OK) {
        fail(vt_last_error());
        if (r.interrupted) status = 130; /* as a shell reports SIGINT */
        goto done;
    }
    printf("best epoch %d (val %s %.4f), %d epochs%s, %.1f s\n", r.best_epoch, o.select, r.best_val, r.epochs_done,
           r.stopped_early ? " (early stop)" : "", r.seconds);
    char title[64];
    snprintf(title, sizeof title, "test results (%s)", o.mode);
    print_table(title, &r.test, o.mc.kind == VT_CTBQ_MTL);
    status = 0;
done:
    free_built(&d, idx, m);
    free(text);
    free(resume_dir);
    return status;
}
