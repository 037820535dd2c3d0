/* augment.h: 2D data augmentation applied identically to an image, its mask and its boxes.
 *
 * Coordinates: continuous pixel coordinates with pixel (x, y) covering [x, x+1) x [y, y+1)
 * (its centre at x + 0.5), boxes (xmin, ymin, xmax, ymax) in the same units, x along W.
 * A spatial transform maps an OUTPUT pixel to the input point it samples (inverse
 * warping): images are bilinear, masks nearest (so labels stay in the label set), outside
 * the input is pad_value for images and 0 for masks. Boxes are mapped forward: by their 4
 * corners then re-boxed for affine transforms, and, with an elastic field, as the bounding
 * box of the output pixels whose sample point falls inside the box. Boxes that leave the
 * output entirely get xmin = xmax = ymin = ymax = -1 (callers drop them).
 *
 * The spatial transform, about the image centre: flip (x, y), then rotate by `angle`
 * (radians; (x, y) -> (x cos - y sin, x sin + y cos) in image axes, x right, y down, so a
 * positive angle turns clockwise on screen), then scale (> 1 enlarges), then the elastic
 * displacement (Simard 2003: uniform(-1, 1) fields smoothed by a Gaussian of sigma,
 * times alpha, as batchgenerators), then the crop/pad window of out_h x out_w at
 * (off_y, off_x) in the transformed image (negative offsets pad). */
#ifndef VT_AUGMENT_H
#define VT_AUGMENT_H

#include "vertebra.h"

typedef struct vt_spatial2d {
    int64_t in_h, in_w, out_h, out_w;
    int flip_x, flip_y;
    double angle, scale;     /* radians; 1 = no scaling */
    int64_t off_y, off_x;    /* crop window origin in the transformed (in_h, in_w) image */
    const float *disp;       /* (2, in_h, in_w) elastic displacement (dy, dx) in pixels or NULL */
} vt_spatial2d;

/* identity of an in_h x in_w image */
void vt_spatial2d_identity(vt_spatial2d *t, int64_t in_h, int64_t in_w);
/* input point sampled by output point (x, y) (continuous coordinates) */
void vt_spatial2d_map(const vt_spatial2d *t, double x, double y, double *in_x, double *in_y);

/* Warps image (C, H, W) or (H, W): bilinear (nearest != 0: nearest). New heap tensor
 * (C, out_h, out_w) or (out_h, out_w). */
vt_tensor *vt_spatial2d_apply(const vt_spatial2d *t, const vt_tensor *image, int nearest,
                              float pad_value);
/* Maps n boxes (n, 4) in place (see above). */
void vt_spatial2d_boxes(const vt_spatial2d *t, float *boxes, int64_t n);

/* Elastic displacement (2, h, w): alpha * gaussian_sigma(uniform(-1, 1)) per component,
 * zero boundary (batchgenerators). Heap tensor. */
vt_tensor *vt_elastic_field(int64_t h, int64_t w, double alpha, double sigma, vt_rng *rng);

/* ---- intensity (augment_intensity.c): in place on x (C, ...), per channel ---------------- */
/* batchgenerators augment_gamma: rescale to [0, 1] by the channel's min/max, ^gamma, back */
void vt_aug_gamma(vt_tensor *x, float gamma);
void vt_aug_contrast(vt_tensor *x, float factor);     /* (x - mean) factor + mean */
void vt_aug_brightness(vt_tensor *x, float factor);   /* x factor (nnU-Net multiplicative) */
void vt_aug_noise(vt_tensor *x, float std, vt_rng *rng); /* + N(0, std^2) */
/* Gaussian blur of the last two dims (H, W), truncated at 4 sigma, zero boundary
 * (scipy.ndimage.gaussian_filter mode='constant'); sigma <= 0: no-op. */
vt_status vt_aug_blur(vt_tensor *x, float sigma);

/* ---- the pipeline (augment_pipeline.c) ------------------------------------------------ */
typedef struct vt_augment_config {
    float p_flip_x, p_flip_y;
    float p_rotate, max_angle_deg;              /* angle uniform in [-max, max] */
    float p_scale, scale_min, scale_max;
    float p_elastic, elastic_alpha, elastic_sigma;
    int64_t crop_h, crop_w;                     /* 0: keep the input size */
    int crop_random;                            /* random window (else centred) */
    float pad_value;
    float p_gamma, gamma_min, gamma_max;
    float p_contrast, contrast_min, contrast_max;
    float p_brightness, brightness_min, brightness_max;
    float p_noise, noise_std_max;               /* std uniform in [0, max] */
    float p_blur, blur_sigma_min, blur_sigma_max;
} vt_augment_config;

/* every transform off (probabilities 0), nnU-Net-like ranges filled in */
void vt_augment_config_default(vt_augment_config *c);

/* Draws one set of parameters from rng and applies them: image (C, H, W) -> *out_image;
 * mask (H, W) or (1, H, W) or NULL -> *out_mask (same rank); boxes (n, 4) or NULL mapped
 * into out_boxes (n, 4). Intensity transforms touch the image only. */
vt_status vt_augment2d(const vt_augment_config *c, vt_rng *rng, const vt_tensor *image,
                       const vt_tensor *mask, const float *boxes, int64_t n_boxes,
                       vt_tensor **out_image, vt_tensor **out_mask, float *out_boxes);

#endif
