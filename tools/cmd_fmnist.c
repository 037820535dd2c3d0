/* cmd_fmnist.c: `vertebra fmnist`: the first end-to-end example. The network and settings
 * match ../shared/peer/fmnist_torch.py (conv32-BN-ReLU-pool, conv64-BN-ReLU-pool, fc128,
 * fc10; SGD momentum 0.9, lr 0.01, batch 64, no augmentation). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "args.h"
#include "classify.h"
#include "commands.h"
#include "data.h"
#include "layers.h"

static vt_tensor *forward(void *model, vt_tensor *x, int training) {
    return vt_smallcnn_forward(model, x, training);
}

int vt_cmd_fmnist(int argc, char **argv) {
    vt_classify_config cfg;
    vt_classify_config_default(&cfg);
    const char *data = "/usr/share/datasets/fashion-mnist", *opt = "sgd", *out = NULL;
    int threads = 2, no_bn = 0;
    int64_t limit_train = 0, limit_test = 0, seed = 0;
    const vt_arg spec[] = {
        {"--data", VT_ARG_STR, &data, "folder with the 4 IDX .gz files (default /usr/share/datasets/fashion-mnist)", 1, 0},
        {"--epochs", VT_ARG_INT, &cfg.epochs, "epochs (default 2)", 1, VT_MAX_EPOCHS},
        {"--batch", VT_ARG_INT, &cfg.batch_size, "batch size (default 64)", 1, 65536},
        {"--lr", VT_ARG_FLOAT, &cfg.lr, "learning rate (default 0.01)", 0, 10},
        {"--momentum", VT_ARG_FLOAT, &cfg.momentum, "SGD momentum (default 0.9)", 0, 0.9999},
        {"--weight-decay", VT_ARG_FLOAT, &cfg.weight_decay, "weight decay (default 0)", 0, 1},
        {"--optimizer", VT_ARG_STR, &opt, "sgd | adam | adamw (default sgd)", 1, 0},
        {"--clip", VT_ARG_FLOAT, &cfg.clip_grad_norm, "clip the gradient norm to X (default off)", 0, 1e9},
        {"--threads", VT_ARG_INT, &threads, "CPU threads (default 2; 0 = all cores)", 0, 1024},
        {"--seed", VT_ARG_INT64, &seed, "seed of init and shuffling (default 0)", 0, 9.2e18},
        {"--log-every", VT_ARG_INT64, &cfg.log_every, "progress line every N steps off a terminal (default 100)", 1, 1e9},
        {"--limit-train", VT_ARG_INT64, &limit_train, "use only the first N training images", 0, 1e9},
        {"--limit-test", VT_ARG_INT64, &limit_test, "use only the first N test images", 0, 1e9},
        {"--no-bn", VT_ARG_FLAG, &no_bn, "drop the batch-norm layers", 1, 0},
        {"--out", VT_ARG_STR, &out, "run folder for metrics.jsonl (created)", 1, 0},
    };
    const char *summary = "train the small CNN on Fashion-MNIST, test accuracy after each epoch";
    int rc = vt_args_parse("fmnist", summary, argc, argv, 2, spec, (int)(sizeof spec / sizeof spec[0]));
    if (rc) return rc == 1 ? 0 : rc;
    if (!strcmp(opt, "sgd")) cfg.optimizer = VT_OPT_SGD;
    else if (!strcmp(opt, "adam")) cfg.optimizer = VT_OPT_ADAM;
    else if (!strcmp(opt, "adamw")) cfg.optimizer = VT_OPT_ADAMW;
    else { fprintf(stderr, "vertebra fmnist: --optimizer: '%s' is not sgd, adam or adamw\n", opt); return 2; }
    if (out && mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vertebra fmnist: %s: cannot create: %s\n", out, strerror(errno));
        return 1;
    }
    cfg.run_dir = out;
    cfg.seed = (uint64_t)seed;
    vt_set_num_threads(threads);

    char p[4][4096];
    const char *names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    for (int i = 0; i < 4; i++) snprintf(p[i], sizeof p[i], "%s/%s", data, names[i]);
    vt_tensor *xtr = vt_idx_load_images(p[0], limit_train), *ytr = vt_idx_load_labels(p[1], limit_train);
    vt_tensor *xte = vt_idx_load_images(p[2], limit_test), *yte = vt_idx_load_labels(p[3], limit_test);
    int status = 1;
    vt_params *params = vt_params_new();
    vt_smallcnn model;
    if (!xtr || !ytr || !xte || !yte) {
        fprintf(stderr, "vertebra fmnist: %s\n  (Debian: apt-get install dataset-fashion-mnist, or pass --data)\n", vt_last_error());
        goto done;
    }
    printf("vertebra fmnist: %lld train / %lld test images, %d threads, %s lr %g, batch %d, %d epochs\n",
           (long long)xtr->shape[0], (long long)xte->shape[0], vt_get_num_threads(), opt,
           (double)cfg.lr, cfg.batch_size, cfg.epochs);
    vt_seed((uint64_t)seed);
    if (vt_smallcnn_init(&model, params, 1, 10, !no_bn) || vt_params_finalize(params)) {
        fprintf(stderr, "vertebra fmnist: %s\n", vt_last_error());
        goto done;
    }
    vt_classify_report rep;
    if (vt_train_classifier(&cfg, &model, forward, params, xtr, ytr, xte, yte, &rep) != VT_OK) {
        fprintf(stderr, "vertebra fmnist: %s\n", vt_last_error());
        goto done;
    }
    double total = 0;
    for (int e = 0; e < rep.epochs_done; e++) total += rep.epoch_seconds[e];
    printf("final: test accuracy %.2f%% after %d epochs, %.1f s/epoch, %.0f img/s\n",
           100.0 * rep.test_accuracy[rep.epochs_done - 1], rep.epochs_done,
           total / rep.epochs_done, rep.images_per_second);
    status = 0;
done:
    vt_params_free(params);
    vt_tensor_free(xtr); vt_tensor_free(ytr); vt_tensor_free(xte); vt_tensor_free(yte);
    return status;
}
