/* unet.c: UNet 2D and 3D (Ronneberger et al. 2015; 3D: Cicek et al. 2016), as the `UNet` of
 * ../shared/peer/torch_bench.py and the nnU-Net family of choices.
 *
 * x (N, C_in, S...) with every spatial size divisible by 2^depth ->
 *   encoder: depth blocks of [conv3 -> norm -> ReLU] x 2 (widths base, 2 base, ...), each
 *   followed by max pool 2; bottom block (bottleneck channels, default base * 2^depth);
 *   decoder: per stage up (transposed conv 2/2, or nearest upsample x2 + conv3) to the skip's
 *   width, concat [up, skip] on channels, block; head conv 1x1 -> num_classes channels with
 *   an optional sigmoid/softmax.
 * Names (documented in docs/weights.md, same as the PyTorch peer): down.<i>.{0,3}.weight convs
 * and down.<i>.{1,4}.* norms, mid.*, up.<i>.{weight,bias}, dec.<i>.*, head.{weight,bias},
 * aux.<i>.* (deep supervision 1x1 heads). Convs in blocks have no bias (a norm follows).
 * Norm: batch norm, or instance norm with affine weight/bias (nnU-Net's choice).
 * features: encoder block outputs (fine to coarse) then the bottom block output.
 * Deep supervision: m->aux holds 1x1-conv outputs of the decoder stages above the last
 * (coarse to fine, at their own resolution). Init: PyTorch defaults. */
#include <stdlib.h>
#include <string.h>
#include "init.h"
#include "model_util.h"

#define MAX_DEPTH 6

typedef struct {
    vt_tensor *w; /* (C_out, C_in, k...) */
    vt_tensor *b; /* (C_out) or NULL */
} conv_nd;

typedef struct {
    vt_tensor *weight, *bias, *running_mean, *running_var; /* running stats: batch norm only */
} norm_nd;

typedef struct {
    conv_nd conv[2];
    norm_nd norm[2];
} unet_block;

typedef struct {
    int dims, depth, instance, upsample_conv, head, deep_supervision;
    unet_block down[MAX_DEPTH], mid, dec[MAX_DEPTH];
    conv_nd up[MAX_DEPTH]; /* transposed: (C_in, C_out, 2...) ; upsample+conv: (C_out, C_in, 3...) */
    conv_nd head_conv, aux[MAX_DEPTH];
} unet;

static vt_status conv_init(conv_nd *c, vt_params *p, const char *name, int dims, int ci, int co,
                           int k, int bias, int transposed) {
    char key[256];
    int64_t shape[5] = {transposed ? ci : co, transposed ? co : ci, k, k, k};
    c->w = vt_params_add(p, vt_name2(key, sizeof key, name, "weight"), 2 + dims, shape);
    if (!c->w) return VT_ERR;
    int64_t fan_in = vt_init_fan_in(c->w); /* torch: from weight.shape[1], also for transposed */
    vt_init_default_uniform(c->w, fan_in);
    c->b = NULL;
    if (bias) {
        if (!(c->b = vt_params_add(p, vt_name2(key, sizeof key, name, "bias"), VT_DIMS(co)))) return VT_ERR;
        vt_init_default_uniform(c->b, fan_in);
    }
    return VT_OK;
}

static vt_status norm_init(norm_nd *n, vt_params *p, const char *name, int c, int instance) {
    char key[256];
    memset(n, 0, sizeof *n);
    if (!(n->weight = vt_params_add(p, vt_name2(key, sizeof key, name, "weight"), VT_DIMS(c))) ||
        !(n->bias = vt_params_add(p, vt_name2(key, sizeof key, name, "bias"), VT_DIMS(c))))
        return VT_ERR;
    vt_tensor_fill(n->weight, 1.f);
    if (instance) return VT_OK;
    if (!(n->running_mean = vt_params_add_buffer(p, vt_name2(key, sizeof key, name, "running_mean"), VT_DIMS(c))) ||
        !(n->running_var = vt_params_add_buffer(p, vt_name2(key, sizeof key, name, "running_var"), VT_DIMS(c))))
        return VT_ERR;
    vt_tensor_fill(n->running_var, 1.f);
    return VT_OK;
}

static vt_status block_init(unet_block *b, vt_params *p, const char *name, int dims, int ci, int co,
                            int instance) {
    char key[128];
    snprintf(key, sizeof key, "%s.0", name);
    if (conv_init(&b->conv[0], p, key, dims, ci, co, 3, 0, 0)) return VT_ERR;
    snprintf(key, sizeof key, "%s.1", name);
    if (norm_init(&b->norm[0], p, key, co, instance)) return VT_ERR;
    snprintf(key, sizeof key, "%s.3", name);
    if (conv_init(&b->conv[1], p, key, dims, co, co, 3, 0, 0)) return VT_ERR;
    snprintf(key, sizeof key, "%s.4", name);
    return norm_init(&b->norm[1], p, key, co, instance);
}

/* conv with "same" padding (k = 1 or 3) */
static vt_tensor *conv_fwd(const unet *u, const conv_nd *c, vt_tensor *x) {
    int k = (int)c->w->shape[2], pad = k / 2;
    if (u->dims == 2) {
        vt_conv2d_params p = {{1, 1}, {pad, pad}, {1, 1}, 1};
        return vt_conv2d(x, c->w, c->b, &p);
    }
    vt_conv3d_params p = {{1, 1, 1}, {pad, pad, pad}, {1, 1, 1}, 1};
    return vt_conv3d(x, c->w, c->b, &p);
}

static vt_tensor *norm_fwd(const unet *u, const norm_nd *n, vt_tensor *x, int tr) {
    if (u->instance) return vt_instance_norm(x, n->weight, n->bias, 1e-5f);
    return vt_batch_norm(x, n->weight, n->bias, n->running_mean, n->running_var, tr, 0.1f, 1e-5f);
}

static vt_tensor *block_fwd(const unet *u, const unet_block *b, vt_tensor *x, int tr) {
    for (int i = 0; i < 2; i++) x = vt_relu(norm_fwd(u, &b->norm[i], conv_fwd(u, &b->conv[i], x), tr));
    return x;
}

static vt_tensor *pool_fwd(const unet *u, vt_tensor *x) {
    if (u->dims == 2) {
        vt_pool2d_params p = {{2, 2}, {2, 2}, {0, 0}, 0, 1};
        return vt_max_pool2d(x, &p);
    }
    vt_pool3d_params p = {{2, 2, 2}, {2, 2, 2}, {0, 0, 0}, 0, 1};
    return vt_max_pool3d(x, &p);
}

static vt_tensor *up_fwd(const unet *u, const conv_nd *c, vt_tensor *x) {
    if (u->upsample_conv) {
        vt_upsample_params p = {VT_UPSAMPLE_NEAREST, 0, {0, 0, 0}, {2, 2, 2}};
        return conv_fwd(u, c, vt_upsample(x, &p));
    }
    if (u->dims == 2) {
        vt_conv_transpose2d_params p = {{2, 2}, {0, 0}, {0, 0}, {1, 1}, 1};
        return vt_conv_transpose2d(x, c->w, c->b, &p);
    }
    vt_conv_transpose3d_params p = {{2, 2, 2}, {0, 0, 0}, {0, 0, 0}, {1, 1, 1}, 1};
    return vt_conv_transpose3d(x, c->w, c->b, &p);
}

static vt_tensor *apply_head(int head, vt_tensor *x) {
    if (head == VT_HEAD_SIGMOID) return vt_sigmoid(x);
    if (head == VT_HEAD_SOFTMAX) return vt_softmax(x, 1);
    return x;
}

static vt_tensor *unet_forward(vt_model *m, vt_tensor *x, int tr) {
    const unet *u = m->net;
    if (x->ndim != 2 + u->dims || x->shape[1] != m->cfg.in_channels) {
        char want[16];
        snprintf(want, sizeof want, "%dD", u->dims);
        vt_error("%s: input (%lld channels, %d dims) must be (N, %d, %s) for a %s UNet", m->arch,
                 (long long)(x->ndim > 1 ? x->shape[1] : 0), x->ndim, m->cfg.in_channels,
                 u->dims == 2 ? "H, W" : "D, H, W", want);
        return NULL;
    }
    for (int k = 2; k < x->ndim; k++)
        if (x->shape[k] % (1 << u->depth)) {
            vt_error("%s: spatial size %lld is not divisible by 2^depth = %d (pad or crop the input)",
                     m->arch, (long long)x->shape[k], 1 << u->depth);
            return NULL;
        }
    vt_tensor *skips[MAX_DEPTH];
    for (int i = 0; i < u->depth; i++) {
        x = skips[i] = block_fwd(u, &u->down[i], x, tr); /* (N, base 2^i, S / 2^i) */
        vt_model_keep(m, x);
        x = pool_fwd(u, x);
    }
    x = block_fwd(u, &u->mid, x, tr);                  /* (N, bottleneck, S / 2^depth) */
    vt_model_keep(m, x);
    for (int j = 0; j < u->depth; j++) {
        int i = u->depth - 1 - j;
        vt_tensor *cat[2] = {up_fwd(u, &u->up[j], x), skips[i]};
        if (!cat[0]) return NULL;
        x = block_fwd(u, &u->dec[j], vt_concat(2, cat, 1), tr); /* (N, base 2^i, S / 2^i) */
        if (u->deep_supervision && j + 1 < u->depth && m->n_aux < VT_MODEL_MAX_FEATURES)
            m->aux[m->n_aux++] = apply_head(u->head, conv_fwd(u, &u->aux[j], x));
    }
    return apply_head(u->head, conv_fwd(u, &u->head_conv, x));
}

vt_status vt_unet_build(vt_model *m, int dims) {
    const vt_model_config *c = &m->cfg;
    if (c->depth < 1 || c->depth > MAX_DEPTH || c->base_width < 1 || c->base_width > 4096 ||
        c->bottleneck < 0 || c->bottleneck > 65536)
        return vt_error("%s: depth %d must be in [1, %d], base_width %d in [1, 4096], bottleneck %d in [0, 65536]",
                        m->arch, c->depth, MAX_DEPTH, c->base_width, c->bottleneck);
    unet *u = calloc(1, sizeof *u);
    if (!u) return vt_error("unet: out of memory");
    m->net = u;
    m->forward = unet_forward;
    u->dims = dims;
    u->depth = c->depth;
    u->instance = c->norm == VT_NORM_INSTANCE;
    u->upsample_conv = c->upsample_conv;
    u->head = c->head;
    u->deep_supervision = c->deep_supervision;
    vt_params *p = m->params;
    char name[64];
    int in = c->in_channels, w = c->base_width;
    for (int i = 0; i < u->depth; i++, w *= 2) {
        snprintf(name, sizeof name, "down.%d", i);
        if (block_init(&u->down[i], p, name, dims, in, w, u->instance)) return VT_ERR;
        in = w;
    }
    int bottom = c->bottleneck ? c->bottleneck : w;
    if (block_init(&u->mid, p, "mid", dims, in, bottom, u->instance)) return VT_ERR;
    in = bottom;
    for (int j = 0; j < u->depth; j++) {
        w /= 2;
        snprintf(name, sizeof name, "up.%d", j);
        if (u->upsample_conv ? conv_init(&u->up[j], p, name, dims, in, w, 3, 1, 0)
                             : conv_init(&u->up[j], p, name, dims, in, w, 2, 1, 1))
            return VT_ERR;
        snprintf(name, sizeof name, "dec.%d", j);
        if (block_init(&u->dec[j], p, name, dims, 2 * w, w, u->instance)) return VT_ERR;
        if (u->deep_supervision && j + 1 < u->depth) {
            snprintf(name, sizeof name, "aux.%d", j);
            if (conv_init(&u->aux[j], p, name, dims, w, c->num_classes, 1, 1, 0)) return VT_ERR;
        }
        in = w;
    }
    return conv_init(&u->head_conv, p, "head", dims, in, c->num_classes, 1, 1, 0);
}
