/* bench_models.c: the bench models of ../shared/peer/torch_bench.py built with vertebra, and
 * one model's timing run: training steps (forward, loss, backward, SGD momentum) and
 * inference, medians after warm-up, with the conv kernels timed separately. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "bench.h"
#include "layers.h"
#include "losses.h"
#include "model.h"
#include "optim.h"
#include "progress.h"

/* torch_bench.py's make(): shapes, losses and classes. unet3d does ~4 s per PyTorch step on
 * 2 cores (vertebra's ~10x more on a loaded machine), so vertebra times 3 steps after 1 warm-up there (the peer always does 20 + 5). */
static const vt_bench_spec SPECS[] = {
    {"smallcnn", 2, 64, 28, 10, 20, 5},
    {"resnet18", 2, 16, 64, 2, 20, 5},
    {"densenet121", 2, 8, 64, 2, 20, 5},
    {"vgg16_bn", 2, 8, 64, 2, 20, 5},
    {"unet2d", 2, 4, 128, 0, 20, 5},
    {"unet3d", 3, 2, 64, 0, 3, 1},
};

const vt_bench_spec *vt_bench_specs(int *n) {
    *n = (int)(sizeof SPECS / sizeof SPECS[0]);
    return SPECS;
}

const vt_bench_spec *vt_bench_find(const char *name) {
    for (size_t i = 0; i < sizeof SPECS / sizeof SPECS[0]; i++)
        if (!strcmp(SPECS[i].name, name)) return &SPECS[i];
    return NULL;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* smallcnn lives in layers.h (no batch norm, as torch_bench.py's), the rest in the zoo */
typedef struct bench_net {
    vt_params *params;
    vt_smallcnn cnn;
    vt_model *zoo;
} bench_net;

static vt_status net_build(bench_net *b, const vt_bench_spec *s) {
    if (!strcmp(s->name, "smallcnn")) {
        b->params = vt_params_new();
        if (!b->params) return VT_ERR;
        if (vt_smallcnn_init(&b->cnn, b->params, 1, s->size, s->classes, 0) != VT_OK) return VT_ERR;
        return vt_params_finalize(b->params);
    }
    vt_model_config c;
    vt_model_config_default(&c, s->name);
    c.in_channels = 1;
    if (s->classes) {
        c.num_classes = s->classes;
    } else { /* torch_bench.py's UNet: widths 32-64-128-256, bottom 512, 1x1 head + sigmoid */
        c.num_classes = 1;
        c.depth = 4;
        c.base_width = 32;
        c.bottleneck = 512;
        c.norm = VT_NORM_BATCH;
        c.upsample_conv = 0;
        c.head = VT_HEAD_SIGMOID;
    }
    if (!(b->zoo = vt_model_new(&c))) return VT_ERR;
    b->params = b->zoo->params;
    return VT_OK;
}

static vt_tensor *net_forward(bench_net *b, vt_tensor *x, int training) {
    return b->zoo ? vt_model_forward(b->zoo, x, training) : vt_smallcnn_forward(&b->cnn, x, training);
}

static void net_free(bench_net *b) {
    if (b->zoo) vt_model_free(b->zoo);
    else vt_params_free(b->params);
}

static vt_tensor *loss_of(const vt_bench_spec *s, vt_tensor *out, vt_tensor *y) {
    if (!out) return NULL;
    return s->classes ? vt_cross_entropy(out, y, NULL) : vt_mse_loss(out, y, VT_REDUCE_MEAN);
}

int vt_bench_run_model(const vt_bench_spec *s, int steps, int warmup, vt_bench_result *r) {
    memset(r, 0, sizeof *r);
    r->steps = steps;
    r->warmup = warmup;
    vt_seed(0);
    bench_net net = {0};
    vt_tensor *x = NULL, *y = NULL;
    vt_optim *opt = NULL;
    double *t = malloc(sizeof(double) * (size_t)steps), *tc = malloc(sizeof(double) * (size_t)steps);
    int rc = -1;
    if (!t || !tc) { snprintf(r->error, sizeof r->error, "out of memory"); goto out; }
    if (net_build(&net, s) != VT_OK) goto fail;
    int64_t shape[5] = {s->batch, 1, s->size, s->size, s->size};
    x = vt_tensor_new(2 + s->dims, shape);
    y = s->classes ? vt_tensor_new(VT_DIMS(s->batch)) : vt_tensor_new(2 + s->dims, shape);
    if (!x || !y) goto fail;
    vt_tensor_normal_(x, 0, 1);
    if (s->classes)
        for (int i = 0; i < s->batch; i++) y->data[i] = (float)(i % s->classes);
    else
        vt_tensor_uniform_(y, 0, 1); /* torch.rand: the MSE target of the sigmoid output */
    if (!(opt = vt_sgd_new(net.params, 0.01f, 0.9f, 0, 0, 0))) goto fail;

    vt_bench_conv_timer_install();
    double sec, flop, wall0 = 0, cpu0 = 0;
    for (int i = 0; i < warmup + steps; i++) {
        if (i == warmup) { wall0 = vt_now(); cpu0 = cpu_seconds(); }
        vt_bench_conv_timer_reset();
        double t0 = vt_now();
        vt_params_zero_grad(net.params);
        vt_tensor *loss = loss_of(s, net_forward(&net, x, 1), y);
        if (!loss || vt_backward(loss) != VT_OK || vt_optim_step(opt) != VT_OK) goto fail;
        vt_arena_reset(NULL);
        double dt = vt_now() - t0;
        vt_bench_conv_timer_read(&sec, &flop);
        if (i >= warmup) { t[i - warmup] = dt * 1e3; tc[i - warmup] = sec * 1e3; }
    }
    r->cpu_share = (cpu_seconds() - cpu0) / ((vt_now() - wall0) * vt_get_num_threads());
    r->conv_train_gflop = flop * 1e-9;
    r->train_ms = median(t, steps);
    r->conv_train_ms = median(tc, steps);

    int g = vt_no_grad_begin();
    for (int i = 0; i < warmup + steps; i++) {
        vt_bench_conv_timer_reset();
        double t0 = vt_now();
        vt_tensor *out = net_forward(&net, x, 0);
        vt_arena_reset(NULL);
        double dt = vt_now() - t0;
        if (!out) { vt_no_grad_end(g); goto fail; }
        vt_bench_conv_timer_read(&sec, &flop);
        if (i >= warmup) { t[i - warmup] = dt * 1e3; tc[i - warmup] = sec * 1e3; }
    }
    vt_no_grad_end(g);
    r->conv_infer_gflop = flop * 1e-9;
    r->infer_ms = median(t, steps);
    r->conv_infer_ms = median(tc, steps);
    r->ok = 1;
    rc = 0;
    goto out;
fail:
    snprintf(r->error, sizeof r->error, "%s", vt_last_error());
out:
    vt_bench_conv_timer_uninstall();
    vt_arena_reset(NULL);
    free(t);
    free(tc);
    vt_optim_free(opt);
    vt_tensor_free(x);
    vt_tensor_free(y);
    net_free(&net);
    return rc;
}
