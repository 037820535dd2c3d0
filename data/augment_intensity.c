/* augment_intensity.c: gamma, contrast, brightness, noise and Gaussian blur, per channel
 * of x (C, ...) in place; channel statistics in double. */
#include "augment.h"

#include <math.h>
#include <stdlib.h>

/* channels and elements per channel of x: (C, ...) with C = 1 for 2D (H, W) */
static void split(const vt_tensor *x, int64_t *ch, int64_t *per) {
    *ch = x->ndim >= 3 ? x->shape[0] : 1;
    *per = *ch ? x->numel / *ch : 0;
}

void vt_aug_gamma(vt_tensor *x, float gamma) {
    int64_t ch, per;
    split(x, &ch, &per);
    for (int64_t c = 0; c < ch; c++) {
        float *p = x->data + c * per, lo = INFINITY, hi = -INFINITY;
        for (int64_t i = 0; i < per; i++) lo = fminf(lo, p[i]), hi = fmaxf(hi, p[i]);
        double range = (double)hi - lo;
        if (!(range > 0)) continue;
        for (int64_t i = 0; i < per; i++) p[i] = (float)(pow((p[i] - lo) / range, gamma) * range + lo);
    }
}

void vt_aug_contrast(vt_tensor *x, float factor) {
    int64_t ch, per;
    split(x, &ch, &per);
    for (int64_t c = 0; c < ch; c++) {
        float *p = x->data + c * per;
        double mean = 0;
        for (int64_t i = 0; i < per; i++) mean += p[i];
        mean /= per ? per : 1;
        for (int64_t i = 0; i < per; i++) p[i] = (float)((p[i] - mean) * factor + mean);
    }
}

void vt_aug_brightness(vt_tensor *x, float factor) {
    for (int64_t i = 0; i < x->numel; i++) x->data[i] *= factor;
}

void vt_aug_noise(vt_tensor *x, float std, vt_rng *rng) {
    float *n = malloc((size_t)x->numel * sizeof *n);
    if (!n) return;
    vt_rng_normal(rng, n, x->numel, 0, std);
    for (int64_t i = 0; i < x->numel; i++) x->data[i] += n[i];
    free(n);
}

/* 1D pass along an axis of length n with stride, zero boundary */
static void blur_line(float *p, int64_t n, int64_t stride, const double *k, int r, double *tmp) {
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int d = -r; d <= r; d++)
            if (i + d >= 0 && i + d < n) s += k[d + r] * p[(i + d) * stride];
        tmp[i] = s;
    }
    for (int64_t i = 0; i < n; i++) p[i * stride] = (float)tmp[i];
}

vt_status vt_aug_blur(vt_tensor *x, float sigma) {
    if (!(sigma > 0)) return VT_OK;
    if (x->ndim < 2) return vt_error("augment blur: need (..., H, W), got %d dims", x->ndim);
    int r = (int)(4.0 * sigma + 0.5);
    int64_t h = x->shape[x->ndim - 2], w = x->shape[x->ndim - 1], planes = x->numel / (h * w);
    double *k = malloc((2 * r + 1) * sizeof *k), *tmp = malloc((size_t)(h > w ? h : w) * sizeof *tmp);
    if (!k || !tmp) return free(k), free(tmp), vt_error("augment blur: out of memory");
    double sum = 0;
    for (int d = -r; d <= r; d++) sum += k[d + r] = exp(-0.5 * d * d / ((double)sigma * sigma));
    for (int d = 0; d <= 2 * r; d++) k[d] /= sum;
    for (int64_t p = 0; p < planes; p++) {
        float *base = x->data + p * h * w;
        for (int64_t i = 0; i < h; i++) blur_line(base + i * w, w, 1, k, r, tmp);
        for (int64_t j = 0; j < w; j++) blur_line(base + j, h, w, k, r, tmp);
    }
    free(k), free(tmp);
    return VT_OK;
}
