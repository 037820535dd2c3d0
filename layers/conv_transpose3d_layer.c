/* conv_transpose3d_layer.c: 3D transposed convolution layer (the decoder's learned
 * upsampling; same kernel, stride and padding on every axis). */
#include <math.h>
#include <stdio.h>
#include "conv_layers.h"

vt_status vt_conv_transpose3d_layer_init(vt_conv_transpose3d_layer *l, vt_params *p,
                                         const char *name, int c_in, int c_out, int kernel,
                                         int stride, int pad, int output_padding, int bias) {
    if (c_in <= 0 || c_out <= 0 || kernel <= 0 || stride <= 0 || pad < 0 || output_padding < 0 ||
        output_padding >= stride)
        return vt_error("conv_transpose3d %s: bad geometry (c_in %d, c_out %d, kernel %d, stride %d, "
                        "pad %d, output_padding %d; output_padding must be < stride)", name, c_in,
                        c_out, kernel, stride, pad, output_padding);
    char key[256];
    snprintf(key, sizeof key, "%s.weight", name);
    l->weight = vt_params_add(p, key, VT_DIMS(c_in, c_out, kernel, kernel, kernel));
    if (!l->weight) return VT_ERR;
    /* torch computes fan_in from the weight tensor: shape[1] * prod(kernel) = C_out * k^3
     * (not C_in: a transposed conv's weight is (C_in, C_out, k...)) */
    float bound = 1.f / sqrtf((float)c_out * kernel * kernel * kernel);
    vt_tensor_uniform_(l->weight, -bound, bound);
    l->bias = NULL;
    if (bias) {
        snprintf(key, sizeof key, "%s.bias", name);
        if (!(l->bias = vt_params_add(p, key, VT_DIMS(c_out)))) return VT_ERR;
        vt_tensor_uniform_(l->bias, -bound, bound);
    }
    l->p = (vt_conv_transpose3d_params){{stride, stride, stride}, {pad, pad, pad}, {output_padding, output_padding, output_padding}, {1, 1, 1}, 1};
    return VT_OK;
}

vt_tensor *vt_conv_transpose3d_layer_forward(const vt_conv_transpose3d_layer *l, vt_tensor *x) {
    return vt_conv_transpose3d(x, l->weight, l->bias, &l->p);
}
