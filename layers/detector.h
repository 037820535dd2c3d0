/* detector.h: a single-stage anchor-free detector (FCOS, Tian et al. ICCV 2019) built from
 * a model-zoo ResNet trunk, a small feature pyramid and one head shared by every level.
 *
 *   image (N, C_in, S, S) -> ResNet -> m->features[0..3]  C2..C5 at strides 4, 8, 16, 32
 *   FPN: P5 = smooth(lat(C5)); P_l = smooth(lat(C_l) + nearest_up(top-down sum of l+1))
 *   head on every P_l (weights shared): two towers of n_convs x (3x3 conv, GroupNorm(8), ReLU)
 *     cls tower -> 3x3 conv -> K class logits;  box tower -> 3x3 conv -> 4 (l, t, r, b)
 *     and -> 3x3 conv -> 1 centerness logit (FCOS "centerness on the regression branch")
 * Outputs of all levels are flattened and concatenated in level order, location order
 * within a level row-major (y, x): L = sum_l ceil(S/s_l)^2 locations per image.
 * Box distances come out in units of the level stride (exp of the clamped raw output, the
 * "norm_reg_targets" variant of FCOS): pixels = stride * value. */
#ifndef VT_DETECTOR_H
#define VT_DETECTOR_H

#include "layers.h"
#include "model.h"

#define VT_FPN_MAX_LEVELS 4
#define VT_FCOS_MAX_CONVS 4

/* ---- feature pyramid (fpn.c) ------------------------------------------------------------ */
typedef struct vt_fpn {
    int n_levels, channels;
    vt_conv2d_layer lateral[VT_FPN_MAX_LEVELS]; /* 1x1, in_channels[l] -> channels */
    vt_conv2d_layer smooth[VT_FPN_MAX_LEVELS];  /* 3x3 pad 1, channels -> channels */
} vt_fpn;

/* Parameters <name>.lateral.<l>.weight/bias and <name>.smooth.<l>.weight/bias. */
vt_status vt_fpn_init(vt_fpn *f, vt_params *p, const char *name, int n_levels,
                      const int *in_channels, int channels);
/* in[l] (N, in_channels[l], H_l, W_l), fine to coarse, each level half the previous (the
 * top-down path resizes to the finer level's size, so odd sizes work); out[l] (N, channels,
 * H_l, W_l). */
vt_status vt_fpn_forward(const vt_fpn *f, vt_tensor *const *in, vt_tensor **out);

/* ---- FCOS head (fcos_head.c) ------------------------------------------------------------ */
typedef struct vt_fcos_head {
    int n_classes, channels, n_convs;
    vt_conv2d_layer cls_conv[VT_FCOS_MAX_CONVS], box_conv[VT_FCOS_MAX_CONVS];
    vt_group_norm_layer cls_gn[VT_FCOS_MAX_CONVS], box_gn[VT_FCOS_MAX_CONVS];
    vt_conv2d_layer cls_out, box_out, ctr_out;
} vt_fcos_head;

/* Init as FCOS: tower and output convs N(0, 0.01), biases 0, class bias -log((1 - prior)
 * / prior) so that every location starts at probability `prior` (0.01) and the focal loss
 * is not swamped by the background at step 1. */
vt_status vt_fcos_head_init(vt_fcos_head *h, vt_params *p, const char *name, int channels,
                            int n_convs, int n_classes, float prior);
/* feats[l] (N, channels, H_l, W_l) -> cls (N, L, K) logits, box (N, L, 4) distances in
 * stride units (> 0), ctr (N, L) centerness logits. */
vt_status vt_fcos_head_forward(const vt_fcos_head *h, int n_levels, vt_tensor *const *feats,
                               vt_tensor **cls, vt_tensor **box, vt_tensor **ctr);

/* ---- the detector (detector.c) ---------------------------------------------------------- */
typedef struct vt_detector_config {
    const char *arch;    /* resnet18 (default), resnet34, resnet50 */
    int in_channels;     /* 1 */
    int n_classes;       /* 7 */
    int size;            /* input side S, a multiple of 32 in 64..1024 (default 128) */
    int fpn_channels;    /* 64 */
    int head_convs;      /* tower depth 0..4 (default 2; FCOS uses 4) */
    float prior;         /* 0.01 */
} vt_detector_config;

void vt_detector_config_default(vt_detector_config *c);

typedef struct vt_detector {
    vt_detector_config cfg;
    char arch[32];
    vt_params *params;   /* trunk + FPN + head, one store */
    vt_model *trunk;
    vt_fpn fpn;
    vt_fcos_head head;
    int n_levels;
    int stride[VT_FPN_MAX_LEVELS];  /* 4, 8, 16, 32 */
    int side[VT_FPN_MAX_LEVELS];    /* feature map side per level: S / stride */
    int64_t n_locations;            /* L */
} vt_detector;

/* Draws from the global RNG (vt_seed first). NULL with vt_last_error() on bad options. */
vt_detector *vt_detector_new(const vt_detector_config *c);
void vt_detector_free(vt_detector *d);

typedef struct vt_detector_output {
    vt_tensor *cls, *box, *ctr; /* (N, L, K), (N, L, 4), (N, L) arena tensors */
} vt_detector_output;

/* x (N, in_channels, S, S) */
vt_status vt_detector_forward(vt_detector *d, vt_tensor *x, int training, vt_detector_output *out);

#endif
