/* linear_layer.c: fully connected layer. */
#include <math.h>
#include <stdio.h>
#include "layers.h"

vt_status vt_linear_layer_init(vt_linear_layer *l, vt_params *p, const char *name, int in,
                               int out, int bias) {
    if (in <= 0 || out <= 0) return vt_error("linear %s: sizes in=%d out=%d must be positive", name, in, out);
    char key[256];
    snprintf(key, sizeof key, "%s.weight", name);
    l->weight = vt_params_add(p, key, VT_DIMS(out, in));
    if (!l->weight) return VT_ERR;
    float bound = 1.f / sqrtf((float)in);
    vt_tensor_uniform_(l->weight, -bound, bound);
    l->bias = NULL;
    if (bias) {
        snprintf(key, sizeof key, "%s.bias", name);
        if (!(l->bias = vt_params_add(p, key, VT_DIMS(out)))) return VT_ERR;
        vt_tensor_uniform_(l->bias, -bound, bound);
    }
    return VT_OK;
}

vt_tensor *vt_linear_layer_forward(const vt_linear_layer *l, vt_tensor *x) {
    return vt_linear(x, l->weight, l->bias);
}
