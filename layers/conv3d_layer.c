/* conv3d_layer.c: 3D convolution layer (cubic kernel, same stride/padding on every axis). */
#include <math.h>
#include <stdio.h>
#include "conv_layers.h"

vt_status vt_conv3d_layer_init(vt_conv3d_layer *l, vt_params *p, const char *name, int c_in,
                               int c_out, int kernel, int stride, int pad, int bias) {
    if (c_in <= 0 || c_out <= 0 || kernel <= 0 || stride <= 0 || pad < 0)
        return vt_error("conv3d %s: bad geometry (c_in %d, c_out %d, kernel %d, stride %d, pad %d)",
                        name, c_in, c_out, kernel, stride, pad);
    char key[256];
    snprintf(key, sizeof key, "%s.weight", name);
    l->weight = vt_params_add(p, key, VT_DIMS(c_out, c_in, kernel, kernel, kernel));
    if (!l->weight) return VT_ERR;
    /* kaiming_uniform_(a = sqrt(5)) reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
    float bound = 1.f / sqrtf((float)c_in * kernel * kernel * kernel);
    vt_tensor_uniform_(l->weight, -bound, bound);
    l->bias = NULL;
    if (bias) {
        snprintf(key, sizeof key, "%s.bias", name);
        if (!(l->bias = vt_params_add(p, key, VT_DIMS(c_out)))) return VT_ERR;
        vt_tensor_uniform_(l->bias, -bound, bound);
    }
    l->p = (vt_conv3d_params){{stride, stride, stride}, {pad, pad, pad}, {1, 1, 1}, 1};
    return VT_OK;
}

vt_tensor *vt_conv3d_layer_forward(const vt_conv3d_layer *l, vt_tensor *x) {
    return vt_conv3d(x, l->weight, l->bias, &l->p);
}
