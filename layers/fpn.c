/* fpn.c: feature pyramid network (Lin et al. CVPR 2017) over backbone stages C2..C5:
 * lateral 1x1 convs to a common width, a top-down path of nearest upsampling added to the
 * finer lateral, and a 3x3 smoothing conv per level (removes the upsampling's aliasing). */
#include <stdio.h>
#include "detector.h"

vt_status vt_fpn_init(vt_fpn *f, vt_params *p, const char *name, int n_levels,
                      const int *in_channels, int channels) {
    if (n_levels < 1 || n_levels > VT_FPN_MAX_LEVELS || channels < 1)
        return vt_error("fpn %s: %d levels (1..%d) of %d channels (>= 1)", name, n_levels,
                        VT_FPN_MAX_LEVELS, channels);
    f->n_levels = n_levels;
    f->channels = channels;
    char key[256];
    for (int l = 0; l < n_levels; l++) {
        snprintf(key, sizeof key, "%s.lateral.%d", name, l);
        if (vt_conv2d_layer_init(&f->lateral[l], p, key, in_channels[l], channels, 1, 1, 0, 1)) return VT_ERR;
        snprintf(key, sizeof key, "%s.smooth.%d", name, l);
        if (vt_conv2d_layer_init(&f->smooth[l], p, key, channels, channels, 3, 1, 1, 1)) return VT_ERR;
    }
    return VT_OK;
}

vt_status vt_fpn_forward(const vt_fpn *f, vt_tensor *const *in, vt_tensor **out) {
    vt_tensor *top = NULL; /* merged map of the level above (before smoothing) */
    for (int l = f->n_levels - 1; l >= 0; l--) {
        if (!in[l]) return vt_error("fpn forward: no input for level %d", l);
        if (in[l]->ndim != 4 || in[l]->shape[1] != f->lateral[l].weight->shape[1]) {
            char b[64];
            return vt_error("fpn forward: level %d input %s must be (N, %lld, H, W)", l,
                            vt_shape_str(in[l], b, sizeof b), (long long)f->lateral[l].weight->shape[1]);
        }
        vt_tensor *lat = vt_conv2d_layer_forward(&f->lateral[l], in[l]); /* (N, C, H_l, W_l) */
        if (top) {
            vt_upsample_params up = {.mode = VT_UPSAMPLE_NEAREST, .size = {in[l]->shape[2], in[l]->shape[3]}};
            lat = vt_add(lat, vt_upsample(top, &up));
        }
        top = lat;
        out[l] = vt_conv2d_layer_forward(&f->smooth[l], lat);
        if (!out[l]) return VT_ERR;
    }
    return VT_OK;
}
