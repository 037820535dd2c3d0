/* fcos_head.c: the FCOS head shared by every pyramid level (see detector.h). */
#include <math.h>
#include <stdio.h>
#include "detector.h"

static vt_status conv(vt_conv2d_layer *l, vt_params *p, const char *name, const char *part, int i,
                      int c_in, int c_out, float bias) {
    char key[256];
    if (i >= 0) snprintf(key, sizeof key, "%s.%s.%d", name, part, i);
    else snprintf(key, sizeof key, "%s.%s", name, part);
    if (vt_conv2d_layer_init(l, p, key, c_in, c_out, 3, 1, 1, 1)) return VT_ERR;
    vt_tensor_normal_(l->weight, 0.f, 0.01f); /* FCOS init */
    vt_tensor_fill(l->bias, bias);
    return VT_OK;
}

vt_status vt_fcos_head_init(vt_fcos_head *h, vt_params *p, const char *name, int channels,
                            int n_convs, int n_classes, float prior) {
    if (channels < 8 || channels % 8 || n_convs < 0 || n_convs > VT_FCOS_MAX_CONVS || n_classes < 1 ||
        !(prior > 0 && prior < 1))
        return vt_error("fcos head %s: channels %d (multiple of 8), convs %d (0..%d), classes %d (>= 1), "
                        "prior %g (0..1)", name, channels, n_convs, VT_FCOS_MAX_CONVS, n_classes, (double)prior);
    h->n_classes = n_classes, h->channels = channels, h->n_convs = n_convs;
    char key[256];
    for (int i = 0; i < n_convs; i++) {
        if (conv(&h->cls_conv[i], p, name, "cls_tower", i, channels, channels, 0) ||
            conv(&h->box_conv[i], p, name, "bbox_tower", i, channels, channels, 0)) return VT_ERR;
        snprintf(key, sizeof key, "%s.cls_tower_gn.%d", name, i);
        if (vt_group_norm_layer_init(&h->cls_gn[i], p, key, 8, channels)) return VT_ERR;
        snprintf(key, sizeof key, "%s.bbox_tower_gn.%d", name, i);
        if (vt_group_norm_layer_init(&h->box_gn[i], p, key, 8, channels)) return VT_ERR;
    }
    if (conv(&h->cls_out, p, name, "cls_logits", -1, channels, n_classes, -logf((1 - prior) / prior)) ||
        conv(&h->box_out, p, name, "bbox_pred", -1, channels, 4, 0) ||
        conv(&h->ctr_out, p, name, "centerness", -1, channels, 1, 0)) return VT_ERR;
    return VT_OK;
}

/* (N, C, H, W) -> (N, H W, C) */
static vt_tensor *to_locations(vt_tensor *x) {
    if (!x) return NULL;
    vt_tensor *r = vt_reshape(x, VT_DIMS(x->shape[0], x->shape[1], x->shape[2] * x->shape[3]));
    return vt_permute(r, (const int[]){0, 2, 1});
}

vt_status vt_fcos_head_forward(const vt_fcos_head *h, int n_levels, vt_tensor *const *feats,
                               vt_tensor **cls, vt_tensor **box, vt_tensor **ctr) {
    vt_tensor *c[VT_FPN_MAX_LEVELS], *b[VT_FPN_MAX_LEVELS], *z[VT_FPN_MAX_LEVELS];
    if (n_levels < 1 || n_levels > VT_FPN_MAX_LEVELS) return vt_error("fcos head: %d levels (1..%d)", n_levels, VT_FPN_MAX_LEVELS);
    for (int l = 0; l < n_levels; l++) {
        if (!feats[l] || feats[l]->ndim != 4 || feats[l]->shape[1] != h->channels) {
            char s[64] = "NULL";
            if (feats[l]) vt_shape_str(feats[l], s, sizeof s);
            return vt_error("fcos head: level %d features %s must be (N, %d, H, W)", l, s, h->channels);
        }
        vt_tensor *tc = feats[l], *tb = feats[l];
        for (int i = 0; i < h->n_convs; i++) {
            tc = vt_relu(vt_group_norm_layer_forward(&h->cls_gn[i], vt_conv2d_layer_forward(&h->cls_conv[i], tc)));
            tb = vt_relu(vt_group_norm_layer_forward(&h->box_gn[i], vt_conv2d_layer_forward(&h->box_conv[i], tb)));
        }
        c[l] = to_locations(vt_conv2d_layer_forward(&h->cls_out, tc));
        /* exp of a clamped output: positive distances, no overflow early in training */
        b[l] = to_locations(vt_exp(vt_clamp(vt_conv2d_layer_forward(&h->box_out, tb), -6.f, 6.f)));
        z[l] = to_locations(vt_conv2d_layer_forward(&h->ctr_out, tb));
    }
    *cls = vt_concat(n_levels, c, 1);  /* (N, L, K) */
    *box = vt_concat(n_levels, b, 1);  /* (N, L, 4) */
    vt_tensor *zz = vt_concat(n_levels, z, 1);
    *ctr = zz ? vt_reshape(zz, VT_DIMS(zz->shape[0], zz->shape[1])) : NULL; /* (N, L) */
    return *cls && *box && *ctr ? VT_OK : VT_ERR;
}
