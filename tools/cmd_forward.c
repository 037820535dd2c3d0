/* cmd_forward.c: `vertebra forward`, the parity command: one forward pass of a model-zoo
 * architecture (layers/model.h) with weights from a safetensors file, so outputs can be
 * compared with PyTorch's on the same weights and input (docs/weights.md).
 *
 *   eval (default): no-grad forward in eval mode (BN running stats) -> --output
 *   --train-step:   train-mode forward (batch statistics, running stats updated), loss
 *                   mean(y^2) (MSE against zeros of y's shape), backward, one plain SGD step
 *                   (lr, no momentum / weight decay) -> train-mode y to --output and every
 *                   parameter and buffer to --out-weights. */
#include <stdio.h>
#include <string.h>
#include "args.h"
#include "commands.h"
#include "losses.h"
#include "model.h"
#include "optim.h"
#include "safetensors.h"

#define CMD "forward"
#define SUMMARY "run a model on an .npy input with safetensors weights (eval, or one SGD step on mean(y^2))"

typedef struct options {
    const char *arch, *weights, *input, *output, *out_weights, *norm, *head;
    int in_ch, classes, depth, base_width, bottleneck, upsample_conv, train_step, threads;
    float lr, dropout;
} options;

/* UNet option strings -> config; 2 (usage error) with a message on a bad value */
static int unet_options(const options *o, vt_model_config *c) {
    if (!strcmp(o->norm, "batch")) c->norm = VT_NORM_BATCH;
    else if (!strcmp(o->norm, "instance")) c->norm = VT_NORM_INSTANCE;
    else { fprintf(stderr, "vertebra " CMD ": --norm: '%s' is not batch or instance\n", o->norm); return 2; }
    if (!strcmp(o->head, "none")) c->head = VT_HEAD_NONE;
    else if (!strcmp(o->head, "sigmoid")) c->head = VT_HEAD_SIGMOID;
    else if (!strcmp(o->head, "softmax")) c->head = VT_HEAD_SOFTMAX;
    else { fprintf(stderr, "vertebra " CMD ": --head: '%s' is not none, sigmoid or softmax\n", o->head); return 2; }
    if (o->depth) c->depth = o->depth;
    if (o->base_width) c->base_width = o->base_width;
    c->bottleneck = o->bottleneck;
    c->upsample_conv = o->upsample_conv;
    return 0;
}

/* The input's layout for the architecture: (N, C, H, W), (N, C, D, H, W) for unet3d,
 * (N, features...) for the MLP. VT_ERR with a message naming both shapes otherwise. */
static vt_status check_input(const vt_model_config *c, const vt_tensor *x, const char *path) {
    char s[96];
    vt_shape_str(x, s, sizeof s);
    if (!strcmp(c->arch, "mlp")) {
        if (x->ndim < 2) return vt_error("%s: input %s must be (N, features...) for mlp", path, s);
        return VT_OK;
    }
    int nd = !strcmp(c->arch, "unet3d") ? 5 : 4;
    if (x->ndim != nd || x->shape[1] != c->in_channels || x->numel == 0)
        return vt_error("%s: input %s must be (N, %d, %s) for %s (--in-ch %d)", path, s, c->in_channels,
                        nd == 5 ? "D, H, W" : "H, W", c->arch, c->in_channels);
    return VT_OK;
}

/* eval: y = model(x) without a tape. train: y = model(x) in train mode, then one SGD step
 * on mean(y^2). Returns y (arena) or NULL with vt_last_error set. */
static vt_tensor *run_model(vt_model *m, vt_tensor *x, const options *o) {
    if (!o->train_step) {
        int g = vt_no_grad_begin();
        vt_tensor *y = vt_model_forward(m, x, 0);
        vt_no_grad_end(g);
        return y;
    }
    vt_optim *sgd = vt_sgd_new(m->params, o->lr, 0, 0, 0, 0);
    if (!sgd) return NULL;
    vt_params_zero_grad(m->params);
    vt_tensor *y = vt_model_forward(m, x, 1);
    vt_tensor *loss = y ? vt_mse_loss(y, vt_tensor_zeros(y->ndim, y->shape), VT_REDUCE_MEAN) : NULL;
    if (!loss || vt_backward(loss) != VT_OK || vt_optim_step(sgd) != VT_OK) y = NULL;
    else printf("vertebra " CMD ": train step, loss mean(y^2) = %.9g, lr %g\n", (double)vt_tensor_item(loss),
                (double)o->lr);
    vt_optim_free(sgd);
    return y;
}

int vt_cmd_forward(int argc, char **argv) {
    options o = {.norm = "batch", .head = "none", .in_ch = 1, .classes = 2, .lr = 0.01f, .dropout = -1,
                 .threads = 2};
    const vt_arg spec[] = {
        {"--arch", VT_ARG_STR, &o.arch, "architecture (required): resnet18, densenet121, vgg16_bn, unet2d, ...", 1, 0},
        {"--in-ch", VT_ARG_INT, &o.in_ch, "input channels (default 1)", 1, 4096},
        {"--classes", VT_ARG_INT, &o.classes, "classes / output channels (default 2)", 1, 100000},
        {"--weights", VT_ARG_STR, &o.weights, "safetensors file, loaded strictly (required)", 1, 0},
        {"--input", VT_ARG_STR, &o.input, "input .npy, (N, C, H, W) or (N, C, D, H, W) (required)", 1, 0},
        {"--output", VT_ARG_STR, &o.output, "output .npy to write (required)", 1, 0},
        {"--train-step", VT_ARG_FLAG, &o.train_step, "train mode + one SGD step on mean(y^2) instead of eval", 1, 0},
        {"--lr", VT_ARG_FLOAT, &o.lr, "SGD learning rate of --train-step (default 0.01)", 0, 10},
        {"--out-weights", VT_ARG_STR, &o.out_weights, "safetensors file for the weights after --train-step", 1, 0},
        {"--depth", VT_ARG_INT, &o.depth, "UNet downsamplings (default 4)", 1, 6},
        {"--base-width", VT_ARG_INT, &o.base_width, "UNet first-stage channels (default 32)", 1, 4096},
        {"--bottleneck", VT_ARG_INT, &o.bottleneck, "UNet bottom-block channels (default base * 2^depth)", 0, 65536},
        {"--norm", VT_ARG_STR, &o.norm, "UNet norm: batch | instance (default batch)", 1, 0},
        {"--upsample-conv", VT_ARG_FLAG, &o.upsample_conv, "UNet decoder: nearest upsample + conv3 (default transposed conv)", 1, 0},
        {"--head", VT_ARG_STR, &o.head, "UNet head: none | sigmoid | softmax (default none)", 1, 0},
        {"--dropout", VT_ARG_FLOAT, &o.dropout, "VGG classifier / MLP dropout (default 0.5 VGG, 0 MLP; 0 to compare train steps)", 0, 0.99},
        {"--threads", VT_ARG_INT, &o.threads, "CPU threads (default 2; 0 = all cores)", 0, 1024},
    };
    const int n_spec = (int)(sizeof spec / sizeof spec[0]);
    int rc = vt_args_parse(CMD, SUMMARY, argc, argv, 2, spec, n_spec);
    if (rc) return rc == 1 ? 0 : rc;
    const char *required[][2] = {{"--arch", o.arch}, {"--weights", o.weights}, {"--input", o.input},
                                 {"--output", o.output}};
    for (int i = 0; i < 4; i++)
        if (!required[i][1]) {
            fprintf(stderr, "vertebra " CMD ": %s is required\n", required[i][0]);
            vt_args_usage(CMD, SUMMARY, spec, n_spec);
            return 2;
        }
    if (o.train_step != (o.out_weights != NULL)) {
        fprintf(stderr, "vertebra " CMD ": --train-step and --out-weights go together\n");
        return 2;
    }
    vt_model_config cfg;
    vt_model_config_default(&cfg, o.arch);
    cfg.in_channels = o.in_ch;
    cfg.num_classes = o.classes;
    if (o.dropout >= 0) cfg.dropout = o.dropout;
    if ((rc = unet_options(&o, &cfg))) return rc;
    vt_set_num_threads(o.threads);

    int status = 1;
    vt_tensor *x = NULL, *y = NULL;
    vt_model *m = vt_model_new(&cfg);
    if (!m) {
        /* an unknown architecture is a usage error, a bad combination of sizes too */
        fprintf(stderr, "vertebra " CMD ": %s\n", vt_last_error());
        return 2;
    }
    vt_load_report rep;
    vt_load_options lo = {.strict = 1, .report = &rep};
    if (vt_params_load_safetensors(m->params, o.weights, &lo) != VT_OK ||
        !(x = vt_npy_load(o.input)) || check_input(&cfg, x, o.input) != VT_OK ||
        !(y = run_model(m, x, &o)) || vt_npy_save(o.output, y) != VT_OK) {
        fprintf(stderr, "vertebra " CMD ": %s\n", vt_last_error());
        goto done;
    }
    if (o.train_step) {
        char meta[128];
        snprintf(meta, sizeof meta, "{\"arch\":\"%s\",\"source\":\"vertebra forward --train-step\"}", m->arch);
        if (vt_params_save_safetensors(m->params, o.out_weights, meta) != VT_OK) {
            fprintf(stderr, "vertebra " CMD ": %s\n", vt_last_error());
            goto done;
        }
    }
    char s[96];
    printf("vertebra " CMD ": %s, %d tensors loaded (%d ignored), output %s -> %s%s%s\n", m->arch, rep.loaded,
           rep.ignored, vt_shape_str(y, s, sizeof s), o.output, o.train_step ? ", weights -> " : "",
           o.train_step ? o.out_weights : "");
    status = 0;
done:
    vt_arena_reset(NULL);
    vt_tensor_free(x);
    vt_model_free(m);
    return status;
}
