/* ctbq_model.c: the CT bone-quality model (see ctbq.h): zoo trunk -> embedding -> heads.
 *
 * The zoo model is built with num_classes = embed, so its classifier layer is the
 * projection of the global-average-pooled trunk features (densenet121: 1024, resnet18: 512)
 * to h; building it by hand (instead of vt_model_new) lets the heads join its parameter
 * store before the store is finalized. */
#include <stdlib.h>
#include <string.h>
#include "ctbq.h"

void vt_ctbq_model_config_default(vt_ctbq_model_config *c) {
    *c = (vt_ctbq_model_config){.arch = "densenet121", .kind = VT_CTBQ_MTL, .size = 64,
                                .embed = 128, .fusion_hidden = 16};
}

static vt_status build_zoo(vt_model *z, const char *a) {
    if (!strcmp(a, "resnet18")) return vt_resnet_build(z, 18);
    if (!strcmp(a, "resnet34")) return vt_resnet_build(z, 34);
    if (!strcmp(a, "resnet50")) return vt_resnet_build(z, 50);
    if (!strcmp(a, "densenet121")) return vt_densenet_build(z, 121);
    if (!strcmp(a, "densenet169")) return vt_densenet_build(z, 169);
    if (!strcmp(a, "vgg11_bn")) return vt_vgg_build(z, 11, 1);
    if (!strcmp(a, "vgg16_bn")) return vt_vgg_build(z, 16, 1);
    return vt_error("ctbq: unknown trunk '%s' (known: densenet121, densenet169, resnet18, resnet34, "
                    "resnet50, vgg11_bn, vgg16_bn, smallcnn)", a);
}

static vt_status build_trunk(vt_ctbq_model *m) {
    const vt_ctbq_model_config *c = &m->cfg;
    if (!strcmp(c->arch, "smallcnn")) {
        if (!(m->small = calloc(1, sizeof *m->small))) return vt_error("ctbq: out of memory");
        return vt_smallcnn_init(m->small, m->params, 1, c->size, c->embed, 1);
    }
    if (!(m->zoo = calloc(1, sizeof *m->zoo))) return vt_error("ctbq: out of memory");
    vt_model *z = m->zoo;
    strcpy(z->arch, m->arch);
    vt_model_config_default(&z->cfg, z->arch);
    z->cfg.in_channels = 1;
    z->cfg.num_classes = c->embed;
    z->params = m->params; /* shared; detached again before vt_model_free */
    return build_zoo(z, z->arch);
}

vt_ctbq_model *vt_ctbq_model_new(const vt_ctbq_model_config *c) {
    if (!c || !c->arch) { vt_error("ctbq: no trunk architecture given"); return NULL; }
    if (strlen(c->arch) >= sizeof ((vt_ctbq_model *)0)->arch) { vt_error("ctbq: unknown trunk '%.40s...'", c->arch); return NULL; }
    if (c->embed < 1 || c->embed > 65536 || c->fusion_hidden < 1 || c->fusion_hidden > 65536) {
        vt_error("ctbq: embed %d and fusion_hidden %d must be in 1..65536", c->embed, c->fusion_hidden);
        return NULL;
    }
    if (c->size < 16 || c->size > 1024) { vt_error("ctbq: image size %d must be in 16..1024", c->size); return NULL; }
    if (c->kind != VT_CTBQ_BASELINE && c->kind != VT_CTBQ_MTL) { vt_error("ctbq: unknown model kind %d", (int)c->kind); return NULL; }
    vt_ctbq_model *m = calloc(1, sizeof *m);
    if (!m) { vt_error("ctbq: out of memory"); return NULL; }
    m->cfg = *c;
    strcpy(m->arch, c->arch);
    m->cfg.arch = m->arch;
    vt_status st = (m->params = vt_params_new()) ? build_trunk(m) : VT_ERR;
    vt_params *p = m->params;
    int e = c->embed;
    if (st == VT_OK && c->kind == VT_CTBQ_MTL) {
        int fin = 2 + (c->fuse_features ? e : 0);
        st = vt_linear_layer_init(&m->head_blastic, p, "head.blastic", e, 1, 1) ||
             vt_linear_layer_init(&m->head_lytic, p, "head.lytic", e, 1, 1) ||
             vt_linear_layer_init(&m->head_postero, p, "head.posterolateral", e, 1, 1) ||
             vt_linear_layer_init(&m->fuse1, p, "fusion.0", fin, c->fusion_hidden, 1) ||
             vt_linear_layer_init(&m->fuse2, p, "fusion.2", c->fusion_hidden, 4, 1) ? VT_ERR : VT_OK;
        if (st == VT_OK && c->kendall && !(m->log_vars = vt_params_add(p, "loss.log_vars", VT_DIMS(4)))) st = VT_ERR;
    } else if (st == VT_OK) {
        st = vt_linear_layer_init(&m->head_quality, p, "head.quality", e, 4, 1);
    }
    if (st == VT_OK) st = vt_params_finalize(p);
    if (st != VT_OK) { vt_ctbq_model_free(m); return NULL; }
    return m;
}

void vt_ctbq_model_free(vt_ctbq_model *m) {
    if (!m) return;
    if (m->zoo) {
        m->zoo->params = NULL; /* ours */
        vt_model_free(m->zoo);
    }
    free(m->small);
    vt_params_free(m->params);
    free(m);
}

vt_status vt_ctbq_forward(vt_ctbq_model *m, vt_tensor *x, int training, vt_ctbq_output *out) {
    memset(out, 0, sizeof *out);
    if (!m || !x) return vt_error("ctbq forward: NULL %s", m ? "input" : "model");
    if (x->ndim != 4 || x->shape[1] != 1) {
        char b[64];
        return vt_error("ctbq forward: input %s must be (N, 1, H, W)", vt_shape_str(x, b, sizeof b));
    }
    vt_tensor *h = m->zoo ? vt_model_forward(m->zoo, x, training) : vt_smallcnn_forward(m->small, x, training);
    if (!h) return VT_ERR;
    h = vt_relu(h); /* (N, embed) */
    if (m->cfg.kind == VT_CTBQ_BASELINE) {
        out->quality = vt_linear_layer_forward(&m->head_quality, h);
        return out->quality ? VT_OK : VT_ERR;
    }
    out->blastic = vt_linear_layer_forward(&m->head_blastic, h); /* (N, 1) */
    out->lytic = vt_linear_layer_forward(&m->head_lytic, h);
    out->posterolateral = vt_linear_layer_forward(&m->head_postero, h);
    vt_tensor *in[3] = {vt_sigmoid(out->blastic), vt_sigmoid(out->lytic), h};
    vt_tensor *f = vt_concat(m->cfg.fuse_features ? 3 : 2, in, 1); /* (N, 2 [+ embed]) */
    out->quality = vt_linear_layer_forward(&m->fuse2, vt_relu(vt_linear_layer_forward(&m->fuse1, f)));
    return out->quality ? VT_OK : VT_ERR;
}
