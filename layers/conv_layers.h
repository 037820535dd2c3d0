/* conv_layers.h: 3D convolution and 2D/3D transposed-convolution layers (included by
 * layers.h). Cubic/square kernels, the same stride and padding along every axis, groups 1.
 * Init as PyTorch: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with torch's fan_in
 * = weight.shape[1] * prod(kernel): C_in * k^3 for Conv3d, C_out * k^d for ConvTranspose
 * (whose weight is (C_in, C_out, k...)). Parameters are named <name>.weight, <name>.bias. */
#ifndef VT_CONV_LAYERS_H
#define VT_CONV_LAYERS_H

#include "vertebra.h"

/* x (N, C_in, D, H, W) -> (N, C_out, od, oh, ow); weight (C_out, C_in, k, k, k) */
typedef struct vt_conv3d_layer {
    vt_tensor *weight;
    vt_tensor *bias; /* (C_out) or NULL */
    vt_conv3d_params p;
} vt_conv3d_layer;
vt_status vt_conv3d_layer_init(vt_conv3d_layer *l, vt_params *p, const char *name, int c_in,
                               int c_out, int kernel, int stride, int pad, int bias);
vt_tensor *vt_conv3d_layer_forward(const vt_conv3d_layer *l, vt_tensor *x);

/* x (N, C_in, H, W) -> (N, C_out, (H-1) stride - 2 pad + kernel + output_padding, ...);
 * weight (C_in, C_out, k, k) */
typedef struct vt_conv_transpose2d_layer {
    vt_tensor *weight;
    vt_tensor *bias; /* (C_out) or NULL */
    vt_conv_transpose2d_params p;
} vt_conv_transpose2d_layer;
vt_status vt_conv_transpose2d_layer_init(vt_conv_transpose2d_layer *l, vt_params *p,
                                         const char *name, int c_in, int c_out, int kernel,
                                         int stride, int pad, int output_padding, int bias);
vt_tensor *vt_conv_transpose2d_layer_forward(const vt_conv_transpose2d_layer *l, vt_tensor *x);

/* x (N, C_in, D, H, W) -> (N, C_out, ...) as above per axis; weight (C_in, C_out, k, k, k) */
typedef struct vt_conv_transpose3d_layer {
    vt_tensor *weight;
    vt_tensor *bias; /* (C_out) or NULL */
    vt_conv_transpose3d_params p;
} vt_conv_transpose3d_layer;
vt_status vt_conv_transpose3d_layer_init(vt_conv_transpose3d_layer *l, vt_params *p,
                                         const char *name, int c_in, int c_out, int kernel,
                                         int stride, int pad, int output_padding, int bias);
vt_tensor *vt_conv_transpose3d_layer_forward(const vt_conv_transpose3d_layer *l, vt_tensor *x);

#endif
