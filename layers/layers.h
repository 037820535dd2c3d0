/* layers.h: modules with parameters. Each is a plain struct holding views into a
 * vt_params store, an init function (PyTorch's default initialisation, drawn from the
 * global RNG: call vt_seed first) and a forward function. */
#ifndef VT_LAYERS_H
#define VT_LAYERS_H

#include "vertebra.h"
#include "conv_layers.h" /* conv3d, conv_transpose2d/3d */
#include "norm_layers.h" /* instance norm, group norm */

/* y = x W^T + b;  x (N, in) -> (N, out). Init as torch.nn.Linear:
 * W, b ~ U(-1/sqrt(in), 1/sqrt(in)). */
typedef struct vt_linear_layer {
    vt_tensor *weight; /* (out, in) */
    vt_tensor *bias;   /* (out) or NULL */
} vt_linear_layer;
vt_status vt_linear_layer_init(vt_linear_layer *l, vt_params *p, const char *name, int in,
                               int out, int bias);
vt_tensor *vt_linear_layer_forward(const vt_linear_layer *l, vt_tensor *x);

/* 2D convolution; x (N, C_in, H, W) -> (N, C_out, oh, ow). Init as torch.nn.Conv2d:
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in/groups * kh * kw. */
typedef struct vt_conv2d_layer {
    vt_tensor *weight; /* (C_out, C_in/groups, kh, kw) */
    vt_tensor *bias;   /* (C_out) or NULL */
    vt_conv2d_params p;
} vt_conv2d_layer;
vt_status vt_conv2d_layer_init(vt_conv2d_layer *l, vt_params *p, const char *name, int c_in,
                               int c_out, int kernel, int stride, int pad, int bias);
vt_tensor *vt_conv2d_layer_forward(const vt_conv2d_layer *l, vt_tensor *x);

/* Batch norm over channel dim 1 (any of 2-5 dims); weight 1, bias 0, running stats 0/1,
 * momentum 0.1, eps 1e-5 as torch.nn.BatchNorm2d. Names follow torchvision:
 * <name>.weight, .bias, .running_mean, .running_var. */
typedef struct vt_batch_norm_layer {
    vt_tensor *weight, *bias, *running_mean, *running_var; /* (C) each */
    float momentum, eps;
} vt_batch_norm_layer;
vt_status vt_batch_norm_layer_init(vt_batch_norm_layer *l, vt_params *p, const char *name,
                                   int channels);
vt_tensor *vt_batch_norm_layer_forward(const vt_batch_norm_layer *l, vt_tensor *x, int training);

/* The small CNN of the Fashion-MNIST example and the bench:
 * conv(in->32, 3) [BN] ReLU maxpool2, conv(32->64, 3) [BN] ReLU maxpool2, fc(64*s*s -> 128)
 * ReLU, fc(128 -> classes), s = ((size-2)/2-2)/2 (5 for 28x28 inputs).
 * x (N, in, size, size) -> logits (N, classes). */
typedef struct vt_smallcnn {
    vt_conv2d_layer conv1, conv2;
    vt_batch_norm_layer bn1, bn2;
    vt_linear_layer fc1, fc2;
    int batch_norm;
} vt_smallcnn;
vt_status vt_smallcnn_init(vt_smallcnn *m, vt_params *p, int in_ch, int size, int classes,
                           int batch_norm);
vt_tensor *vt_smallcnn_forward(const vt_smallcnn *m, vt_tensor *x, int training);

#endif
