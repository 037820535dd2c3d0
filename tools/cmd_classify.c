/* cmd_classify.c: `vertebra fmnist` and `vertebra phantom`: train the small CNN on
 * in-memory images and report test accuracy. fmnist matches ../shared/peer/fmnist_torch.py
 * (conv32-BN-ReLU-pool, conv64-BN-ReLU-pool, fc128, fc10; SGD momentum 0.9, lr 0.01,
 * batch 64); phantom is the main job: bone quality (normal/blastic/lytic/mixed) on the
 * built-in synthetic vertebra CT slices. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "args.h"
#include "classify.h"
#include "commands.h"
#include "data.h"
#include "distributed.h"
#include "layers.h"
#include "phantom_ct.h"

#define MAX_SPEC 32

static vt_tensor *forward(void *model, vt_tensor *x, int training) {
    return vt_smallcnn_forward(model, x, training);
}

typedef struct options {
    vt_classify_config cfg;
    const char *data, *opt, *out, *schedule, *on_nan;
    int threads, no_bn, size;
    int64_t limit_train, limit_test, seed;
} options;

static int n_common(options *o, vt_arg *spec) {
    const vt_arg common[] = {
        {"--epochs", VT_ARG_INT, &o->cfg.epochs, "epochs", 1, VT_MAX_EPOCHS},
        {"--batch", VT_ARG_INT, &o->cfg.batch_size, "batch size (default 64)", 1, 65536},
        {"--lr", VT_ARG_FLOAT, &o->cfg.lr, "learning rate (default 0.01)", 0, 10},
        {"--momentum", VT_ARG_FLOAT, &o->cfg.momentum, "SGD momentum (default 0.9)", 0, 0.9999},
        {"--weight-decay", VT_ARG_FLOAT, &o->cfg.weight_decay, "weight decay (default 0)", 0, 1},
        {"--optimizer", VT_ARG_STR, &o->opt, "sgd | adam | adamw (default sgd)", 1, 0},
        {"--schedule", VT_ARG_STR, &o->schedule, "constant | step | cosine | poly (default constant)", 1, 0},
        {"--on-nan", VT_ARG_STR, &o->on_nan, "stop | skip: a NaN/Inf loss stops the run or skips the step (default stop)", 1, 0},
        {"--warmup", VT_ARG_INT64, &o->cfg.warmup_steps, "linear warm-up steps from lr/3 (default 0)", 0, 1e9},
        {"--clip", VT_ARG_FLOAT, &o->cfg.clip_grad_norm, "clip the gradient norm to X (default off)", 0, 1e9},
        {"--threads", VT_ARG_INT, &o->threads, "CPU threads (default 2; 0 = all cores)", 0, 1024},
        {"--seed", VT_ARG_INT64, &o->seed, "seed of init, data and shuffling (default 0)", 0, 9.2e18},
        {"--log-every", VT_ARG_INT64, &o->cfg.log_every, "progress line every N steps off a terminal (default 100)", 1, 1e9},
        {"--no-bn", VT_ARG_FLAG, &o->no_bn, "drop the batch-norm layers", 1, 0},
        {"--out", VT_ARG_STR, &o->out, "run folder for metrics.jsonl and checkpoint.vtck (created)", 1, 0},
        {"--resume", VT_ARG_STR, &o->cfg.resume, "continue from a checkpoint.vtck (same options)", 1, 0},
    };
    int n = (int)(sizeof common / sizeof common[0]);
    memcpy(spec, common, sizeof common);
    return n;
}

/* Parses options, trains, prints the final line. Data loaded by `load`. */
static int run(const char *cmd, const char *summary, options *o, vt_arg *spec, int n_spec, int argc,
               char **argv, int (*load)(options *, vt_tensor **, vt_tensor **, vt_tensor **, vt_tensor **)) {
    int rc = vt_args_parse(cmd, summary, argc, argv, 2, spec, n_spec);
    if (rc) return rc == 1 ? 0 : rc;
    /* under mpirun: join the job; rank 0 alone prints (errors still reach stderr) */
    if (vt_dist_init(&argc, &argv) != VT_OK) { fprintf(stderr, "vertebra %s: %s\n", cmd, vt_last_error()); return 1; }
    if (!vt_dist_is_root() && !freopen("/dev/null", "w", stdout)) return 1;
    vt_classify_config *cfg = &o->cfg;
    if (!strcmp(o->opt, "sgd")) cfg->optimizer = VT_OPT_SGD;
    else if (!strcmp(o->opt, "adam")) cfg->optimizer = VT_OPT_ADAM;
    else if (!strcmp(o->opt, "adamw")) cfg->optimizer = VT_OPT_ADAMW;
    else { fprintf(stderr, "vertebra %s: --optimizer: '%s' is not sgd, adam or adamw\n", cmd, o->opt); return 2; }
    const char *kinds[] = {"constant", "step", "", "cosine", "poly"};
    cfg->lr_schedule = -1;
    for (int k = 0; k < 5; k++) if (*kinds[k] && !strcmp(o->schedule, kinds[k])) cfg->lr_schedule = k;
    if (!o->on_nan || !strcmp(o->on_nan, "stop")) cfg->nan_policy = VT_NAN_STOP;
    else if (!strcmp(o->on_nan, "skip")) cfg->nan_policy = VT_NAN_SKIP;
    else { fprintf(stderr, "vertebra %s: --on-nan: '%s' is not stop or skip\n", cmd, o->on_nan); return 2; }
    if (cfg->lr_schedule < 0) {
        fprintf(stderr, "vertebra %s: --schedule: '%s' is not constant, step, cosine or poly\n", cmd, o->schedule);
        return 2;
    }
    if (o->out && mkdir(o->out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vertebra %s: %s: cannot create: %s\n", cmd, o->out, strerror(errno));
        return 1;
    }
    cfg->run_dir = o->out;
    cfg->seed = (uint64_t)o->seed;
    vt_set_num_threads(o->threads);
    vt_tensor *xtr = NULL, *ytr = NULL, *xte = NULL, *yte = NULL;
    vt_params *params = vt_params_new();
    vt_smallcnn model;
    int status = 1;
    if (load(o, &xtr, &ytr, &xte, &yte) != 0) goto done;
    printf("vertebra %s: %lld train / %lld test images of %lldx%lld, %d threads, %s lr %g, batch %d, %d epochs\n",
           cmd, (long long)xtr->shape[0], (long long)xte->shape[0], (long long)xtr->shape[2],
           (long long)xtr->shape[3], vt_get_num_threads(), o->opt, (double)cfg->lr, cfg->batch_size, cfg->epochs);
    if (vt_dist_size() > 1) printf("distributed: %d processes, batch %d per process (global %d)\n", vt_dist_size(), cfg->batch_size, cfg->batch_size * vt_dist_size());
    vt_seed((uint64_t)o->seed);
    int classes = 0;
    for (int64_t i = 0; i < ytr->numel; i++) classes = (int)ytr->data[i] + 1 > classes ? (int)ytr->data[i] + 1 : classes;
    if (vt_smallcnn_init(&model, params, 1, (int)xtr->shape[2], classes < 2 ? 2 : classes, !o->no_bn) ||
        vt_params_finalize(params)) {
        fprintf(stderr, "vertebra %s: %s\n", cmd, vt_last_error());
        goto done;
    }
    vt_classify_report rep;
    if (vt_train_classifier(cfg, &model, forward, params, xtr, ytr, xte, yte, &rep) != VT_OK) {
        fprintf(stderr, "vertebra %s: %s\n", cmd, vt_last_error());
        if (rep.interrupted) status = 130; /* the shell's code for a SIGINT stop */
        goto done;
    }
    double total = 0;
    int timed = 0; /* epochs run by this process (a resumed run skips the earlier ones) */
    for (int e = 0; e < rep.epochs_done; e++) if (rep.epoch_seconds[e] > 0) { total += rep.epoch_seconds[e]; timed++; }
    printf("final: test accuracy %.2f%% after %d epochs, %.1f s/epoch, %.0f img/s\n",
           100.0 * rep.test_accuracy[rep.epochs_done - 1], rep.epochs_done, timed ? total / timed : 0,
           rep.images_per_second);
    status = 0;
done:
    vt_dist_finalize();
    vt_params_free(params);
    vt_tensor_free(xtr); vt_tensor_free(ytr); vt_tensor_free(xte); vt_tensor_free(yte);
    return status;
}

static int load_fmnist(options *o, vt_tensor **xtr, vt_tensor **ytr, vt_tensor **xte, vt_tensor **yte) {
    const char *names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    char p[4][4096];
    for (int i = 0; i < 4; i++) snprintf(p[i], sizeof p[i], "%s/%s", o->data, names[i]);
    if ((*xtr = vt_idx_load_images(p[0], o->limit_train)) && (*ytr = vt_idx_load_labels(p[1], o->limit_train)) &&
        (*xte = vt_idx_load_images(p[2], o->limit_test)) && (*yte = vt_idx_load_labels(p[3], o->limit_test)))
        return 0;
    fprintf(stderr, "vertebra fmnist: %s\n  (Debian: apt-get install dataset-fashion-mnist, or pass --data)\n", vt_last_error());
    return 1;
}

int vt_cmd_fmnist(int argc, char **argv) {
    options o = {.data = "/usr/share/datasets/fashion-mnist", .opt = "sgd", .schedule = "constant", .threads = 2};
    vt_classify_config_default(&o.cfg);
    vt_arg spec[MAX_SPEC];
    int n = n_common(&o, spec);
    spec[n++] = (vt_arg){"--data", VT_ARG_STR, &o.data, "folder with the 4 IDX .gz files (default /usr/share/datasets/fashion-mnist)", 1, 0};
    spec[n++] = (vt_arg){"--limit-train", VT_ARG_INT64, &o.limit_train, "use only the first N training images", 0, 1e9};
    spec[n++] = (vt_arg){"--limit-test", VT_ARG_INT64, &o.limit_test, "use only the first N test images", 0, 1e9};
    return run("fmnist", "train the small CNN on Fashion-MNIST (default 2 epochs)", &o, spec, n, argc, argv, load_fmnist);
}

static int load_phantom(options *o, vt_tensor **xtr, vt_tensor **ytr, vt_tensor **xte, vt_tensor **yte) {
    /* test set from a disjoint seed stream */
    if (vt_phantom_ct_make(o->limit_train, o->size, (uint64_t)o->seed * 2 + 1, xtr, ytr) == VT_OK &&
        vt_phantom_ct_make(o->limit_test, o->size, (uint64_t)o->seed * 2 + 2, xte, yte) == VT_OK)
        return 0;
    fprintf(stderr, "vertebra phantom: %s\n", vt_last_error());
    return 1;
}

int vt_cmd_phantom(int argc, char **argv) {
    options o = {.opt = "adam", .schedule = "constant", .threads = 2, .size = 48, .limit_train = 6000, .limit_test = 2000};
    vt_classify_config_default(&o.cfg);
    o.cfg.epochs = 6;
    o.cfg.lr = 1e-3f; /* Adam 1e-3: SGD 0.01 learns these subtle lesions slowly */
    vt_arg spec[MAX_SPEC];
    int n = n_common(&o, spec);
    spec[n++] = (vt_arg){"--train-size", VT_ARG_INT64, &o.limit_train, "synthetic training slices (default 6000)", 1, 1e7};
    spec[n++] = (vt_arg){"--test-size", VT_ARG_INT64, &o.limit_test, "synthetic test slices (default 2000)", 1, 1e7};
    spec[n++] = (vt_arg){"--size", VT_ARG_INT, &o.size, "slice size in pixels (default 48)", 16, 256};
    return run("phantom",
               "bone quality (normal/blastic/lytic/mixed) of synthetic vertebra CT slices (default: 6 epochs, adam, lr 0.001)",
               &o, spec, n, argc, argv, load_phantom);
}
