/* vgg.c: VGG-11/16 with and without batch norm as torchvision.models.vgg, with
 * in_channels input planes.
 *
 * x (N, C_in, H, W) -> features (3x3 convs, ReLU, max pools 2/2: H/32) -> adaptive avg pool
 * to 7x7 -> classifier Linear(25088, 4096) ReLU Dropout Linear(4096, 4096) ReLU Dropout
 * Linear(4096, classes) (dropout cfg.dropout, default 0.5 as torchvision). Names follow torchvision's nn.Sequential indices (features.0,
 * features.1 for its BN, ..., classifier.0/3/6). features: the input of each max pool.
 * Init as torchvision: convs kaiming_normal(fan_out, relu) bias 0, BN 1/0, linears
 * N(0, 0.01) bias 0. */
#include <stdlib.h>
#include "init.h"
#include "model_util.h"

#define POOL -1
#define MAX_ITEMS 24

typedef struct {
    int n;
    int kind[MAX_ITEMS]; /* channels of a conv, or POOL */
    vt_conv2d_layer conv[MAX_ITEMS];
    vt_batch_norm_layer bn[MAX_ITEMS];
    int batch_norm;
    vt_linear_layer fc[3];
} vgg;

static vt_tensor *vgg_forward(vt_model *m, vt_tensor *x, int tr) {
    const vgg *v = m->net;
    const vt_pool2d_params pool = {{2, 2}, {2, 2}, {0, 0}, 0, 1};
    for (int i = 0; i < v->n; i++) {
        if (v->kind[i] == POOL) {
            vt_model_keep(m, x);
            x = vt_max_pool2d(x, &pool);
            continue;
        }
        x = vt_conv2d_layer_forward(&v->conv[i], x);
        if (v->batch_norm) x = vt_batch_norm_layer_forward(&v->bn[i], x, tr);
        x = vt_relu(x);
    }
    x = vt_flatten(vt_adaptive_avg_pool(x, (const int64_t[]){7, 7})); /* (N, 512 * 49) */
    x = vt_dropout(vt_relu(vt_linear_layer_forward(&v->fc[0], x)), m->cfg.dropout, tr);
    x = vt_dropout(vt_relu(vt_linear_layer_forward(&v->fc[1], x)), m->cfg.dropout, tr);
    return vt_linear_layer_forward(&v->fc[2], x);
}

vt_status vt_vgg_build(vt_model *m, int depth, int batch_norm) {
    static const int cfg11[] = {64, POOL, 128, POOL, 256, 256, POOL, 512, 512, POOL, 512, 512, POOL, 0};
    static const int cfg16[] = {64, 64, POOL, 128, 128, POOL, 256, 256, 256, POOL, 512, 512, 512, POOL,
                                512, 512, 512, POOL, 0};
    const int *cfg = depth == 16 ? cfg16 : cfg11;
    vgg *v = calloc(1, sizeof *v);
    if (!v) return vt_error("vgg: out of memory");
    m->net = v;
    m->forward = vgg_forward;
    v->batch_norm = batch_norm;
    if (!(m->cfg.dropout >= 0.f && m->cfg.dropout < 1.f))
        return vt_error("%s: dropout %g must be in [0, 1)", m->arch, (double)m->cfg.dropout);
    vt_params *p = m->params;
    int in = m->cfg.in_channels, idx = 0; /* idx: torchvision's index in `features` */
    for (int i = 0; cfg[i]; i++) {
        char name[64];
        v->kind[v->n] = cfg[i];
        if (cfg[i] != POOL) {
            snprintf(name, sizeof name, "features.%d", idx);
            vt_conv2d_layer *c = &v->conv[v->n];
            if (vt_conv2d_layer_init(c, p, name, in, cfg[i], 3, 1, 1, 1)) return VT_ERR;
            vt_init_kaiming_normal(c->weight, 1);
            vt_tensor_fill(c->bias, 0.f);
            if (batch_norm) {
                snprintf(name, sizeof name, "features.%d", idx + 1);
                if (vt_batch_norm_layer_init(&v->bn[v->n], p, name, cfg[i])) return VT_ERR;
            }
            idx += batch_norm ? 3 : 2; /* conv, [bn], relu */
            in = cfg[i];
        } else {
            idx += 1;
        }
        v->n++;
    }
    const int sizes[4] = {512 * 7 * 7, 4096, 4096, m->cfg.num_classes};
    for (int j = 0; j < 3; j++) {
        char name[32];
        snprintf(name, sizeof name, "classifier.%d", 3 * j);
        if (vt_linear_layer_init(&v->fc[j], p, name, sizes[j], sizes[j + 1], 1)) return VT_ERR;
        vt_tensor_normal_(v->fc[j].weight, 0.f, 0.01f);
        vt_tensor_fill(v->fc[j].bias, 0.f);
    }
    return VT_OK;
}
