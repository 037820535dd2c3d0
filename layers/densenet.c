/* densenet.c: DenseNet-121/169 as torchvision.models.densenet (growth 32, bn_size 4,
 * compression 0.5, 64 initial features, no dropout), with in_channels input planes.
 *
 * x (N, C_in, H, W) -> conv0 7x7/2 -> norm0 -> ReLU -> pool0 max 3/2 (H/4) ->
 * denseblock1 -> transition1 (H/8) -> ... -> denseblock4 -> norm5 -> ReLU -> global avg
 * pool -> classifier -> (N, classes). features: the output of each dense block.
 *
 * A dense block with C0 input channels and L layers writes into one feature buffer
 * (N, C0 + 32 L, H, W) (vt_feature_buffer_*): layer l normalises the channel prefix it needs
 * in place and appends its 32 new channels, so the block copies each feature map once
 * instead of torchvision's concatenation before every layer. Init as torchvision: convs
 * kaiming_normal (fan_in), BN 1/0, classifier bias 0. */
#include <stdlib.h>
#include "init.h"
#include "model_util.h"

#define GROWTH 32
#define BN_SIZE 4

typedef struct {
    vt_batch_norm_layer norm1, norm2;
    vt_conv2d_layer conv1, conv2;
} dense_layer;

typedef struct {
    int c_in, n_layers;
    dense_layer *layers;
    vt_batch_norm_layer tnorm; /* transition after the block (not after the last) */
    vt_conv2d_layer tconv;
    int has_transition;
} dense_block;

typedef struct {
    vt_conv2d_layer conv0;
    vt_batch_norm_layer norm0, norm5;
    dense_block blocks[4];
    vt_linear_layer classifier;
} densenet;

static vt_status conv(vt_conv2d_layer *c, vt_params *p, const char *name, int ci, int co, int k,
                      int stride, int pad) {
    if (vt_conv2d_layer_init(c, p, name, ci, co, k, stride, pad, 0)) return VT_ERR;
    vt_init_kaiming_normal(c->weight, 0);
    return VT_OK;
}

static vt_tensor *block_forward(const dense_block *b, vt_tensor *x, int tr) {
    int64_t c = b->c_in;
    vt_tensor *buf = vt_feature_buffer_new(x, b->c_in + (int64_t)b->n_layers * GROWTH); /* (N, C0 + 32 L, H, W) */
    for (int l = 0; l < b->n_layers; l++, c += GROWTH) {
        const dense_layer *d = &b->layers[l];
        const vt_batch_norm_layer *n1 = &d->norm1;
        vt_tensor *z = vt_relu(vt_batch_norm_prefix(buf, c, n1->weight, n1->bias, n1->running_mean,
                                                    n1->running_var, tr, n1->momentum, n1->eps)); /* (N, c, H, W) */
        z = vt_relu(vt_batch_norm_layer_forward(&d->norm2, vt_conv2d_layer_forward(&d->conv1, z), tr)); /* (N, 128, H, W) */
        buf = vt_feature_buffer_append(buf, vt_conv2d_layer_forward(&d->conv2, z), c);                /* + (N, 32, H, W) */
    }
    return buf;
}

static vt_tensor *densenet_forward(vt_model *m, vt_tensor *x, int tr) {
    const densenet *d = m->net;
    const vt_pool2d_params pool0 = {{3, 3}, {2, 2}, {1, 1}, 0, 1}, pool = {{2, 2}, {2, 2}, {0, 0}, 0, 1};
    x = vt_relu(vt_batch_norm_layer_forward(&d->norm0, vt_conv2d_layer_forward(&d->conv0, x), tr));
    x = vt_max_pool2d(x, &pool0); /* (N, 64, H/4, W/4) */
    for (int i = 0; i < 4; i++) {
        const dense_block *b = &d->blocks[i];
        x = block_forward(b, x, tr);
        vt_model_keep(m, x);
        if (b->has_transition) /* (N, C/2, H/2, W/2) */
            x = vt_avg_pool2d(vt_conv2d_layer_forward(&b->tconv, vt_relu(vt_batch_norm_layer_forward(&b->tnorm, x, tr))), &pool);
    }
    x = vt_relu(vt_batch_norm_layer_forward(&d->norm5, x, tr));
    return vt_linear_layer_forward(&d->classifier, vt_global_avg_pool(x));
}

static void densenet_destroy(void *net) {
    densenet *d = net;
    for (int i = 0; i < 4; i++) free(d->blocks[i].layers);
    free(d);
}

vt_status vt_densenet_build(vt_model *m, int depth) {
    static const int cfg121[4] = {6, 12, 24, 16}, cfg169[4] = {6, 12, 32, 32};
    const int *cfg = depth == 169 ? cfg169 : cfg121;
    densenet *d = calloc(1, sizeof *d);
    if (!d) return vt_error("densenet: out of memory");
    m->net = d;
    m->forward = densenet_forward;
    m->destroy = densenet_destroy;
    vt_params *p = m->params;
    char k[256], name[128];
    if (conv(&d->conv0, p, "features.conv0", m->cfg.in_channels, 64, 7, 2, 3) ||
        vt_batch_norm_layer_init(&d->norm0, p, "features.norm0", 64))
        return VT_ERR;
    int c = 64;
    for (int i = 0; i < 4; i++) {
        dense_block *b = &d->blocks[i];
        b->c_in = c;
        b->n_layers = cfg[i];
        if (!(b->layers = calloc((size_t)cfg[i], sizeof *b->layers))) return vt_error("densenet: out of memory");
        for (int l = 0; l < cfg[i]; l++, c += GROWTH) {
            dense_layer *dl = &b->layers[l];
            snprintf(name, sizeof name, "features.denseblock%d.denselayer%d", i + 1, l + 1);
            if (vt_batch_norm_layer_init(&dl->norm1, p, vt_name2(k, sizeof k, name, "norm1"), c) ||
                conv(&dl->conv1, p, vt_name2(k, sizeof k, name, "conv1"), c, BN_SIZE * GROWTH, 1, 1, 0) ||
                vt_batch_norm_layer_init(&dl->norm2, p, vt_name2(k, sizeof k, name, "norm2"), BN_SIZE * GROWTH) ||
                conv(&dl->conv2, p, vt_name2(k, sizeof k, name, "conv2"), BN_SIZE * GROWTH, GROWTH, 3, 1, 1))
                return VT_ERR;
        }
        if ((b->has_transition = i < 3)) {
            snprintf(name, sizeof name, "features.transition%d", i + 1);
            if (vt_batch_norm_layer_init(&b->tnorm, p, vt_name2(k, sizeof k, name, "norm"), c) ||
                conv(&b->tconv, p, vt_name2(k, sizeof k, name, "conv"), c, c / 2, 1, 1, 0))
                return VT_ERR;
            c /= 2;
        }
    }
    if (vt_batch_norm_layer_init(&d->norm5, p, "features.norm5", c) ||
        vt_linear_layer_init(&d->classifier, p, "classifier", c, m->cfg.num_classes, 1))
        return VT_ERR;
    vt_tensor_fill(d->classifier.bias, 0.f);
    return VT_OK;
}
