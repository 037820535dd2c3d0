/* norm_layers.h: instance and group normalisation modules (included by layers.h).
 * Parameters are named as PyTorch's: <name>.weight, <name>.bias (C each), weight 1, bias 0.
 * Neither keeps running statistics: they normalise every input with its own statistics in
 * training and eval alike. */
#ifndef VT_NORM_LAYERS_H
#define VT_NORM_LAYERS_H

#include "vertebra.h"

/* torch.nn.InstanceNorm1d/2d/3d(C, eps=1e-5, affine, track_running_stats=False):
 * x (N, C, L), (N, C, H, W) or (N, C, D, H, W). affine 0: no parameters (PyTorch's default). */
typedef struct vt_instance_norm_layer {
    vt_tensor *weight, *bias; /* (C) each, NULL without affine */
    int channels;
    float eps;
} vt_instance_norm_layer;
vt_status vt_instance_norm_layer_init(vt_instance_norm_layer *l, vt_params *p, const char *name,
                                      int channels, int affine);
vt_tensor *vt_instance_norm_layer_forward(const vt_instance_norm_layer *l, vt_tensor *x);

/* torch.nn.GroupNorm(num_groups, C, eps=1e-5, affine=True): x (N, C, ...) */
typedef struct vt_group_norm_layer {
    vt_tensor *weight, *bias; /* (C) each */
    int num_groups;
    float eps;
} vt_group_norm_layer;
vt_status vt_group_norm_layer_init(vt_group_norm_layer *l, vt_params *p, const char *name,
                                   int num_groups, int channels);
vt_tensor *vt_group_norm_layer_forward(const vt_group_norm_layer *l, vt_tensor *x);

#endif
