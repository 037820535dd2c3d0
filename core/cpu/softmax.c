/* softmax.c: softmax / log-softmax over the middle dim of x (outer, dim, inner) on the CPU.
 *
 * The classes axis is usually axis 1 of (N, C, H, W) (inner = H*W, strided) or the last
 * axis of (N, C) (inner = 1, contiguous). Both are handled as (outer, inner-block) tiles:
 * a tile keeps one running value per inner position, so the loops over `dim` are
 * vectorised along the contiguous inner positions and every output is owned by one thread
 * (results do not depend on the thread count). */
#include <math.h>
#include <stdint.h>
#include "cpu_kernels.h"

/* expf without a libm call so the loops below vectorise (Cephes polynomial, ~1 ulp on the
 * inputs softmax produces: x - max <= 0). Below -87.3 it returns ~1e-38 instead of 0; NaN
 * stays NaN (a NaN logit must give a NaN loss, which the training loops stop or skip on). */
static inline float fast_expf(float x) {
    const float in = x;
    /* NaN fails both comparisons and becomes the lower bound here (no NaN reaches the int
     * conversion below, which would be undefined); it is given back at the end */
    x = x > -87.33654f ? x : -87.33654f;
    x = x < 88.72283f ? x : 88.72283f;
    /* n = round(x / ln 2) by the 1.5 * 2^23 trick (floorf would block vectorisation) */
    float n = (x * 1.44269504088896341f + 12582912.f) - 12582912.f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.f;
    union { int32_t i; float f; } scale = {.i = ((int32_t)n + 127) << 23}; /* 2^n */
    return in == in ? p * scale.f : in;
}

#define TILE 256 /* inner positions per tile: three float[TILE] stay in L1 */

/* one row when inner == 1: x[dim] contiguous */
static void softmax_row(int64_t dim, const float *x, float *y, int log) {
    float mx = -INFINITY;
#pragma omp simd reduction(max : mx)
    for (int64_t d = 0; d < dim; d++) mx = x[d] > mx ? x[d] : mx;
    float sum = 0.f;
    if (log) {
#pragma omp simd reduction(+ : sum)
        for (int64_t d = 0; d < dim; d++) sum += fast_expf(x[d] - mx);
        float ls = logf(sum); /* (x - max) - log(sum): exact 0 - ls at the max, as PyTorch */
        for (int64_t d = 0; d < dim; d++) y[d] = (x[d] - mx) - ls;
    } else {
#pragma omp simd reduction(+ : sum)
        for (int64_t d = 0; d < dim; d++) { y[d] = fast_expf(x[d] - mx); sum += y[d]; }
        float inv = 1.f / sum;
        for (int64_t d = 0; d < dim; d++) y[d] *= inv;
    }
}

/* sum[j] += exp(x[j] - mx[j]) (and y[j] = that exp when y != NULL) for one class row */
static inline void exp_row(int64_t w, const float *restrict x, const float *restrict mx,
                           float *restrict y, float *restrict sum) {
    if (y)
        for (int64_t j = 0; j < w; j++) { float e = fast_expf(x[j] - mx[j]); y[j] = e; sum[j] += e; }
    else
        for (int64_t j = 0; j < w; j++) sum[j] += fast_expf(x[j] - mx[j]);
}

/* one tile of w inner positions starting at x (stride `inner` between classes) */
static void softmax_tile(int64_t dim, int64_t inner, int64_t w, const float *x, float *y,
                         int log) {
    float mx[TILE], sum[TILE];
    for (int64_t j = 0; j < w; j++) { mx[j] = -INFINITY; sum[j] = 0.f; }
    for (int64_t d = 0; d < dim; d++) {
        const float *xd = x + d * inner;
        for (int64_t j = 0; j < w; j++) mx[j] = xd[j] > mx[j] ? xd[j] : mx[j];
    }
    for (int64_t d = 0; d < dim; d++)
        exp_row(w, x + d * inner, mx, log ? NULL : y + d * inner, sum);
    if (log) {
        for (int64_t j = 0; j < w; j++) sum[j] = logf(sum[j]);
        for (int64_t d = 0; d < dim; d++)
            for (int64_t j = 0; j < w; j++) y[d * inner + j] = (x[d * inner + j] - mx[j]) - sum[j];
    } else {
        for (int64_t j = 0; j < w; j++) sum[j] = 1.f / sum[j];
        for (int64_t d = 0; d < dim; d++)
            for (int64_t j = 0; j < w; j++) y[d * inner + j] *= sum[j];
    }
}

void vt_cpu_softmax(int64_t outer, int64_t dim, int64_t inner, const float *x, float *y,
                    int log) {
    if (inner == 1) {
#pragma omp parallel for schedule(static) if (outer * dim > VT_OMP_MIN && outer > 1)
        for (int64_t o = 0; o < outer; o++) softmax_row(dim, x + o * dim, y + o * dim, log);
        return;
    }
    int64_t tiles = (inner + TILE - 1) / TILE;
#pragma omp parallel for schedule(static) if (outer * dim * inner > VT_OMP_MIN && outer * tiles > 1)
    for (int64_t t = 0; t < outer * tiles; t++) {
        int64_t o = t / tiles, j0 = (t % tiles) * TILE;
        int64_t w = inner - j0 < TILE ? inner - j0 : TILE;
        int64_t off = o * dim * inner + j0;
        softmax_tile(dim, inner, w, x + off, y + off, log);
    }
}

/* softmax:     gx += y * (gy - sum_d gy*y)
 * log-softmax: gx += gy - exp(y) * sum_d gy      (y is the saved output) */
static void backward_tile(int64_t dim, int64_t inner, int64_t w, const float *y,
                          const float *gy, float *gx, int log) {
    float acc[TILE];
    for (int64_t j = 0; j < w; j++) acc[j] = 0.f;
    for (int64_t d = 0; d < dim; d++) {
        const float *yd = y + d * inner, *gd = gy + d * inner;
        if (log)
            for (int64_t j = 0; j < w; j++) acc[j] += gd[j];
        else
            for (int64_t j = 0; j < w; j++) acc[j] += gd[j] * yd[j];
    }
    for (int64_t d = 0; d < dim; d++) {
        const float *yd = y + d * inner, *gd = gy + d * inner;
        float *gxd = gx + d * inner;
        if (log)
            for (int64_t j = 0; j < w; j++) gxd[j] += gd[j] - fast_expf(yd[j]) * acc[j];
        else
            for (int64_t j = 0; j < w; j++) gxd[j] += yd[j] * (gd[j] - acc[j]);
    }
}

void vt_cpu_softmax_backward(int64_t outer, int64_t dim, int64_t inner, const float *y,
                             const float *gy, float *gx, int log) {
    int64_t tile = inner == 1 ? 1 : TILE;
    int64_t tiles = (inner + tile - 1) / tile;
#pragma omp parallel for schedule(static) if (outer * dim * inner > VT_OMP_MIN && outer * tiles > 1)
    for (int64_t t = 0; t < outer * tiles; t++) {
        int64_t o = t / tiles, j0 = (t % tiles) * tile;
        int64_t w = inner - j0 < tile ? inner - j0 : tile;
        int64_t off = o * dim * inner + j0;
        backward_tile(dim, inner, w, y + off, gy + off, gx + off, log);
    }
}
