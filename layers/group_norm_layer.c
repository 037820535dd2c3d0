/* group_norm_layer.c: group normalisation with per-channel weight and bias. */
#include <stdio.h>
#include "layers.h"

vt_status vt_group_norm_layer_init(vt_group_norm_layer *l, vt_params *p, const char *name,
                                   int num_groups, int channels) {
    if (channels <= 0 || num_groups <= 0 || channels % num_groups)
        return vt_error("group_norm %s: %d groups must be >= 1 and divide %d channels", name,
                        num_groups, channels);
    char key[256];
    snprintf(key, sizeof key, "%s.weight", name);
    if (!(l->weight = vt_params_add(p, key, VT_DIMS(channels)))) return VT_ERR;
    snprintf(key, sizeof key, "%s.bias", name);
    if (!(l->bias = vt_params_add(p, key, VT_DIMS(channels)))) return VT_ERR;
    vt_tensor_fill(l->weight, 1.f);
    l->num_groups = num_groups;
    l->eps = 1e-5f;
    return VT_OK;
}

vt_tensor *vt_group_norm_layer_forward(const vt_group_norm_layer *l, vt_tensor *x) {
    return vt_group_norm(x, l->num_groups, l->weight, l->bias, l->eps);
}
