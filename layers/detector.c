/* detector.c: ResNet trunk + FPN + FCOS head in one parameter store (see detector.h).
 * The trunk is built by hand (as train/ctbq_model.c does) so that the FPN and the head
 * join its store before it is finalized; its classifier (fc, 1 output) is never used. */
#include <stdlib.h>
#include <string.h>
#include "detector.h"

void vt_detector_config_default(vt_detector_config *c) {
    *c = (vt_detector_config){.arch = "resnet18", .in_channels = 1, .n_classes = 7, .size = 128,
                              .fpn_channels = 64, .head_convs = 2, .prior = 0.01f};
}

void vt_detector_free(vt_detector *d) {
    if (!d) return;
    if (d->trunk) {
        d->trunk->params = NULL; /* ours */
        vt_model_free(d->trunk);
    }
    vt_params_free(d->params);
    free(d);
}

vt_detector *vt_detector_new(const vt_detector_config *c) {
    static const int basic[4] = {64, 128, 256, 512}, bottleneck[4] = {256, 512, 1024, 2048};
    if (!c || !c->arch) { vt_error("detector: no trunk architecture"); return NULL; }
    int depth = !strcmp(c->arch, "resnet18") ? 18 : !strcmp(c->arch, "resnet34") ? 34 : !strcmp(c->arch, "resnet50") ? 50 : 0;
    if (!depth) { vt_error("detector: unknown trunk '%.40s' (known: resnet18, resnet34, resnet50)", c->arch); return NULL; }
    if (c->size < 64 || c->size > 1024 || c->size % 32) { vt_error("detector: image size %d must be a multiple of 32 in 64..1024", c->size); return NULL; }
    if (c->in_channels < 1 || c->in_channels > 16) { vt_error("detector: in_channels %d must be in 1..16", c->in_channels); return NULL; }
    vt_detector *d = calloc(1, sizeof *d);
    if (!d) { vt_error("detector: out of memory"); return NULL; }
    d->cfg = *c;
    strcpy(d->arch, c->arch);
    d->cfg.arch = d->arch;
    vt_status st = (d->params = vt_params_new()) && (d->trunk = calloc(1, sizeof *d->trunk)) ? VT_OK
                                                                                            : vt_error("detector: out of memory");
    if (st == VT_OK) {
        vt_model *z = d->trunk;
        strcpy(z->arch, d->arch);
        vt_model_config_default(&z->cfg, z->arch);
        z->cfg.in_channels = c->in_channels;
        z->cfg.num_classes = 1;
        z->params = d->params;
        st = vt_resnet_build(z, depth);
    }
    d->n_levels = 4;
    for (int l = 0; l < 4; l++) d->stride[l] = 4 << l, d->side[l] = c->size / (4 << l), d->n_locations += (int64_t)d->side[l] * d->side[l];
    if (st == VT_OK) st = vt_fpn_init(&d->fpn, d->params, "fpn", 4, depth == 50 ? bottleneck : basic, c->fpn_channels);
    if (st == VT_OK) st = vt_fcos_head_init(&d->head, d->params, "head", c->fpn_channels, c->head_convs, c->n_classes, c->prior);
    if (st == VT_OK) st = vt_params_finalize(d->params);
    if (st != VT_OK) { vt_detector_free(d); return NULL; }
    return d;
}

vt_status vt_detector_forward(vt_detector *d, vt_tensor *x, int training, vt_detector_output *out) {
    memset(out, 0, sizeof *out);
    if (!d || !x) return vt_error("detector forward: NULL %s", d ? "input" : "model");
    if (x->ndim != 4 || x->shape[1] != d->cfg.in_channels || x->shape[2] != d->cfg.size || x->shape[3] != d->cfg.size) {
        char b[64];
        return vt_error("detector forward: input %s must be (N, %d, %d, %d)", vt_shape_str(x, b, sizeof b),
                        d->cfg.in_channels, d->cfg.size, d->cfg.size);
    }
    if (!vt_model_forward(d->trunk, x, training)) return VT_ERR;
    if (d->trunk->n_features < 4) return vt_error("detector forward: trunk gave %d feature maps, need 4", d->trunk->n_features);
    vt_tensor *p[VT_FPN_MAX_LEVELS];
    if (vt_fpn_forward(&d->fpn, d->trunk->features, p)) return VT_ERR;
    return vt_fcos_head_forward(&d->head, d->n_levels, p, &out->cls, &out->box, &out->ctr);
}
