/* batch_norm_layer.c: batch normalisation with running statistics. */
#include <stdio.h>
#include "layers.h"

vt_status vt_batch_norm_layer_init(vt_batch_norm_layer *l, vt_params *p, const char *name,
                                   int channels) {
    if (channels <= 0) return vt_error("batch_norm %s: %d channels", name, channels);
    char key[256];
    vt_tensor **slots[4] = {&l->weight, &l->bias, &l->running_mean, &l->running_var};
    const char *suffix[4] = {"weight", "bias", "running_mean", "running_var"};
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "%s.%s", name, suffix[i]);
        *slots[i] = i < 2 ? vt_params_add(p, key, VT_DIMS(channels))
                          : vt_params_add_buffer(p, key, VT_DIMS(channels));
        if (!*slots[i]) return VT_ERR;
    }
    vt_tensor_fill(l->weight, 1.f);
    vt_tensor_fill(l->running_var, 1.f);
    l->momentum = 0.1f;
    l->eps = 1e-5f;
    return VT_OK;
}

vt_tensor *vt_batch_norm_layer_forward(const vt_batch_norm_layer *l, vt_tensor *x, int training) {
    return vt_batch_norm(x, l->weight, l->bias, l->running_mean, l->running_var, training,
                         l->momentum, l->eps);
}
