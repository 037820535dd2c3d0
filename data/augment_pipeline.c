/* augment_pipeline.c: draws one set of augmentation parameters per sample and applies
 * them to image, mask and boxes (see augment.h). Draw order is fixed so that a sample's
 * stream gives the same result whatever is enabled after it. */
#include "augment.h"

#include <math.h>
#include <stdlib.h>
#include <stdlib.h>
#include <string.h>

void vt_augment_config_default(vt_augment_config *c) {
    memset(c, 0, sizeof *c);
    c->max_angle_deg = 15;
    c->scale_min = 0.85f, c->scale_max = 1.25f;     /* nnU-Net */
    c->elastic_alpha = 30, c->elastic_sigma = 4;
    c->gamma_min = 0.7f, c->gamma_max = 1.5f;       /* nnU-Net */
    c->contrast_min = 0.75f, c->contrast_max = 1.25f;
    c->brightness_min = 0.75f, c->brightness_max = 1.25f;
    c->noise_std_max = 0.1f;
    c->blur_sigma_min = 0.5f, c->blur_sigma_max = 1.0f;
}

/* one draw in [0, 1) */
static float draw(vt_rng *rng) {
    float u;
    vt_rng_uniform(rng, &u, 1, 0, 1);
    return u;
}

static float in_range(vt_rng *rng, float lo, float hi) { return lo + (hi - lo) * draw(rng); }

vt_status vt_augment2d(const vt_augment_config *c, vt_rng *rng, const vt_tensor *image,
                       const vt_tensor *mask, const float *boxes, int64_t n_boxes,
                       vt_tensor **out_image, vt_tensor **out_mask, float *out_boxes) {
    char a[64], b[64];
    *out_image = NULL;
    if (out_mask) *out_mask = NULL;
    if (!image || image->ndim != 3)
        return vt_error("augment2d: image must be (C, H, W), got %s", image ? vt_shape_str(image, a, sizeof a) : "NULL");
    int64_t h = image->shape[1], w = image->shape[2];
    if (mask && !((mask->ndim == 2 && mask->shape[0] == h && mask->shape[1] == w) ||
                  (mask->ndim == 3 && mask->shape[0] == 1 && mask->shape[1] == h && mask->shape[2] == w)))
        return vt_error("augment2d: mask %s does not match image %s", vt_shape_str(mask, a, sizeof a),
                        vt_shape_str(image, b, sizeof b));
    vt_spatial2d t;
    vt_spatial2d_identity(&t, h, w);
    /* every draw is made whether or not its transform fires: fixed stream layout */
    float u[8];
    for (int k = 0; k < 8; k++) u[k] = draw(rng);
    t.flip_x = u[0] < c->p_flip_x;
    t.flip_y = u[1] < c->p_flip_y;
    float angle = in_range(rng, -c->max_angle_deg, c->max_angle_deg);
    if (u[2] < c->p_rotate) t.angle = angle * M_PI / 180.0;
    float scale = in_range(rng, c->scale_min, c->scale_max);
    if (u[3] < c->p_scale) t.scale = scale;
    if (c->crop_h > 0 && c->crop_w > 0) {
        t.out_h = c->crop_h, t.out_w = c->crop_w;
        int64_t dy = h - c->crop_h, dx = w - c->crop_w; /* negative: pad */
        float ry = draw(rng), rx = draw(rng);
        if (c->crop_random) {
            int64_t ly = dy < 0 ? dy : 0, lx = dx < 0 ? dx : 0; /* offsets in [min(0,d), max(0,d)] */
            t.off_y = ly + (int64_t)floor(ry * (double)(llabs(dy) + 1));
            t.off_x = lx + (int64_t)floor(rx * (double)(llabs(dx) + 1));
        } else {
            t.off_y = dy >= 0 ? dy / 2 : -((-dy + 1) / 2);
            t.off_x = dx >= 0 ? dx / 2 : -((-dx + 1) / 2);
        }
    }
    vt_tensor *field = NULL;
    if (u[4] < c->p_elastic) {
        vt_rng sub = {rng->seed ^ 0xe1a5ull, rng->offset}; /* its own stream: size-independent layout */
        field = vt_elastic_field(h, w, c->elastic_alpha, c->elastic_sigma, &sub);
        if (!field) return VT_ERR;
        t.disp = field->data;
    }
    vt_tensor *img = vt_spatial2d_apply(&t, image, 0, c->pad_value);
    vt_tensor *msk = NULL;
    if (img && mask && out_mask) msk = vt_spatial2d_apply(&t, mask, 1, 0); /* same rank out */
    if (!img || (mask && out_mask && !msk)) {
        vt_tensor_free(field), vt_tensor_free(img), vt_tensor_free(msk);
        return VT_ERR;
    }
    if (boxes && out_boxes) {
        memmove(out_boxes, boxes, (size_t)n_boxes * 4 * sizeof(float));
        vt_spatial2d_boxes(&t, out_boxes, n_boxes);
    }
    vt_tensor_free(field);
    /* intensity, image only */
    float gamma = in_range(rng, c->gamma_min, c->gamma_max), contrast = in_range(rng, c->contrast_min, c->contrast_max);
    float bright = in_range(rng, c->brightness_min, c->brightness_max), std = in_range(rng, 0, c->noise_std_max);
    float sigma = in_range(rng, c->blur_sigma_min, c->blur_sigma_max);
    if (u[5] < c->p_gamma) vt_aug_gamma(img, gamma);
    if (u[6] < c->p_contrast) vt_aug_contrast(img, contrast);
    if (u[7] < c->p_brightness) vt_aug_brightness(img, bright);
    if (draw(rng) < c->p_noise) {
        vt_rng sub = {rng->seed ^ 0x4015eull, rng->offset};
        vt_aug_noise(img, std, &sub);
    }
    if (draw(rng) < c->p_blur) vt_aug_blur(img, sigma);
    *out_image = img;
    if (out_mask) *out_mask = msk;
    return VT_OK;
}
