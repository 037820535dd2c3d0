/* instance_norm_layer.c: instance normalisation, optionally affine, no running statistics. */
#include <stdio.h>
#include "layers.h"

vt_status vt_instance_norm_layer_init(vt_instance_norm_layer *l, vt_params *p, const char *name,
                                      int channels, int affine) {
    if (channels <= 0) return vt_error("instance_norm %s: %d channels", name, channels);
    l->weight = l->bias = NULL;
    l->channels = channels;
    l->eps = 1e-5f;
    if (!affine) return VT_OK;
    char key[256];
    snprintf(key, sizeof key, "%s.weight", name);
    if (!(l->weight = vt_params_add(p, key, VT_DIMS(channels)))) return VT_ERR;
    snprintf(key, sizeof key, "%s.bias", name);
    if (!(l->bias = vt_params_add(p, key, VT_DIMS(channels)))) return VT_ERR;
    vt_tensor_fill(l->weight, 1.f);
    return VT_OK;
}

/* without affine, like PyTorch, any channel count is accepted; with it the op checks C */
vt_tensor *vt_instance_norm_layer_forward(const vt_instance_norm_layer *l, vt_tensor *x) {
    return vt_instance_norm(x, l->weight, l->bias, l->eps);
}
