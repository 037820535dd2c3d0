/* resnet.c: ResNet-18/34/50 as torchvision.models.resnet (v1.5: the stride of a bottleneck
 * sits on its 3x3 conv), with in_channels input planes.
 *
 * x (N, C_in, H, W) -> conv1 7x7/2 -> BN -> ReLU -> maxpool 3/2 -> layer1..4 (64, 128, 256,
 * 512 planes x expansion; stride 2 from layer2 on) -> global avg pool -> fc -> (N, classes).
 * features: the outputs of layer1..layer4 (strides 4, 8, 16, 32). Init as torchvision:
 * convs kaiming_normal(fan_out, relu), BN 1/0, fc PyTorch's default. */
#include <stdlib.h>
#include "init.h"
#include "model_util.h"

typedef struct {
    vt_conv2d_layer conv1, conv2, conv3, down;
    vt_batch_norm_layer bn1, bn2, bn3, down_bn;
    int has_down, bottleneck;
} res_block;

typedef struct {
    vt_conv2d_layer conv1;
    vt_batch_norm_layer bn1;
    res_block *blocks;
    int n_blocks;
    int stage_last[4]; /* index of the last block of each stage */
    vt_linear_layer fc;
} resnet;

static vt_status conv(vt_conv2d_layer *c, vt_params *p, const char *name, int ci, int co, int k,
                      int stride, int pad) {
    if (vt_conv2d_layer_init(c, p, name, ci, co, k, stride, pad, 0)) return VT_ERR;
    vt_init_kaiming_normal(c->weight, 1);
    return VT_OK;
}

static vt_status block_init(res_block *b, vt_params *p, const char *name, int in, int planes,
                            int stride, int bottleneck) {
    char k[256];
    int exp = bottleneck ? 4 : 1;
    b->bottleneck = bottleneck;
    if (bottleneck) {
        if (conv(&b->conv1, p, vt_name2(k, sizeof k, name, "conv1"), in, planes, 1, 1, 0) ||
            vt_batch_norm_layer_init(&b->bn1, p, vt_name2(k, sizeof k, name, "bn1"), planes) ||
            conv(&b->conv2, p, vt_name2(k, sizeof k, name, "conv2"), planes, planes, 3, stride, 1) ||
            vt_batch_norm_layer_init(&b->bn2, p, vt_name2(k, sizeof k, name, "bn2"), planes) ||
            conv(&b->conv3, p, vt_name2(k, sizeof k, name, "conv3"), planes, planes * 4, 1, 1, 0) ||
            vt_batch_norm_layer_init(&b->bn3, p, vt_name2(k, sizeof k, name, "bn3"), planes * 4))
            return VT_ERR;
    } else {
        if (conv(&b->conv1, p, vt_name2(k, sizeof k, name, "conv1"), in, planes, 3, stride, 1) ||
            vt_batch_norm_layer_init(&b->bn1, p, vt_name2(k, sizeof k, name, "bn1"), planes) ||
            conv(&b->conv2, p, vt_name2(k, sizeof k, name, "conv2"), planes, planes, 3, 1, 1) ||
            vt_batch_norm_layer_init(&b->bn2, p, vt_name2(k, sizeof k, name, "bn2"), planes))
            return VT_ERR;
    }
    b->has_down = stride != 1 || in != planes * exp;
    if (b->has_down &&
        (conv(&b->down, p, vt_name2(k, sizeof k, name, "downsample.0"), in, planes * exp, 1, stride, 0) ||
         vt_batch_norm_layer_init(&b->down_bn, p, vt_name2(k, sizeof k, name, "downsample.1"), planes * exp)))
        return VT_ERR;
    return VT_OK;
}

static vt_tensor *block_forward(const res_block *b, vt_tensor *x, int tr) {
    vt_tensor *y = vt_relu(vt_batch_norm_layer_forward(&b->bn1, vt_conv2d_layer_forward(&b->conv1, x), tr));
    y = vt_batch_norm_layer_forward(&b->bn2, vt_conv2d_layer_forward(&b->conv2, y), tr);
    if (b->bottleneck)
        y = vt_batch_norm_layer_forward(&b->bn3, vt_conv2d_layer_forward(&b->conv3, vt_relu(y)), tr);
    vt_tensor *id = b->has_down ? vt_batch_norm_layer_forward(&b->down_bn, vt_conv2d_layer_forward(&b->down, x), tr) : x;
    return vt_relu(vt_add(y, id));
}

static vt_tensor *resnet_forward(vt_model *m, vt_tensor *x, int tr) {
    const resnet *r = m->net;
    const vt_pool2d_params pool = {{3, 3}, {2, 2}, {1, 1}, 0, 1};
    x = vt_relu(vt_batch_norm_layer_forward(&r->bn1, vt_conv2d_layer_forward(&r->conv1, x), tr)); /* (N, 64, H/2, W/2) */
    x = vt_max_pool2d(x, &pool);                                                                   /* (N, 64, H/4, W/4) */
    for (int i = 0, s = 0; i < r->n_blocks; i++) {
        x = block_forward(&r->blocks[i], x, tr);
        if (s < 4 && i == r->stage_last[s]) { vt_model_keep(m, x); s++; }
    }
    return vt_linear_layer_forward(&r->fc, vt_global_avg_pool(x)); /* (N, classes) */
}

static void resnet_destroy(void *net) {
    resnet *r = net;
    free(r->blocks);
    free(r);
}

vt_status vt_resnet_build(vt_model *m, int depth) {
    static const int counts18[4] = {2, 2, 2, 2}, counts34[4] = {3, 4, 6, 3};
    const int *counts = depth == 18 ? counts18 : counts34;
    int bottleneck = depth == 50, exp = bottleneck ? 4 : 1;
    resnet *r = calloc(1, sizeof *r);
    if (!r) return vt_error("resnet: out of memory");
    m->net = r;
    m->forward = resnet_forward;
    m->destroy = resnet_destroy;
    for (int s = 0; s < 4; s++) r->n_blocks += counts[s];
    if (!(r->blocks = calloc((size_t)r->n_blocks, sizeof *r->blocks))) return vt_error("resnet: out of memory");
    vt_params *p = m->params;
    if (conv(&r->conv1, p, "conv1", m->cfg.in_channels, 64, 7, 2, 3) ||
        vt_batch_norm_layer_init(&r->bn1, p, "bn1", 64))
        return VT_ERR;
    int in = 64, i = 0;
    for (int s = 0; s < 4; s++) {
        int planes = 64 << s;
        for (int j = 0; j < counts[s]; j++, i++) {
            char name[64];
            snprintf(name, sizeof name, "layer%d.%d", s + 1, j);
            if (block_init(&r->blocks[i], p, name, in, planes, j == 0 && s > 0 ? 2 : 1, bottleneck)) return VT_ERR;
            in = planes * exp;
        }
        r->stage_last[s] = i - 1;
    }
    return vt_linear_layer_init(&r->fc, p, "fc", in, m->cfg.num_classes, 1);
}
