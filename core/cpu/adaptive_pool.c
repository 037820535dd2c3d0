/* adaptive_pool.c: adaptive average / max pooling on the CPU (PyTorch's windows).
 *
 * x (planes, D, H, W) -> y (planes, oD, oH, oW); 4-D inputs arrive with D = oD = 1.
 * Output i along a dim of input size in and output size out pools
 * [floor(i * in / out), ceil((i + 1) * in / out)), in integer arithmetic as PyTorch, so
 * windows overlap when out does not divide in. One plane per thread: results do not depend
 * on the thread count and the backward scatter needs no atomics. */
#include <math.h>
#include "../internal.h"
#include "cpu_kernels.h"

static inline int64_t win_start(int64_t i, int64_t out, int64_t in) { return i * in / out; }
static inline int64_t win_end(int64_t i, int64_t out, int64_t in) {
    return ((i + 1) * in + out - 1) / out;
}

/* Runs BODY for every output (od, oh, ow) of every plane p with its window
 * [d0, d1) x [h0, h1) x [w0, w1) and the output's flat index yi. */
#define FOR_EACH_WINDOW(d, ...)                                                         \
    const int64_t D = (d)->in[0], H = (d)->in[1], W = (d)->in[2];                       \
    const int64_t oD = (d)->out[0], oH = (d)->out[1], oW = (d)->out[2];                 \
    const int64_t in_plane = D * H * W, out_plane = oD * oH * oW;                       \
    _Pragma("omp parallel for schedule(static) if ((d)->planes * in_plane > VT_OMP_MIN && (d)->planes > 1)") \
    for (int64_t p = 0; p < (d)->planes; p++)                                           \
        for (int64_t od = 0; od < oD; od++) {                                           \
            const int64_t d0 = win_start(od, oD, D), d1 = win_end(od, oD, D);           \
            for (int64_t oh = 0; oh < oH; oh++) {                                       \
                const int64_t h0 = win_start(oh, oH, H), h1 = win_end(oh, oH, H);       \
                for (int64_t ow = 0; ow < oW; ow++) {                                   \
                    const int64_t w0 = win_start(ow, oW, W), w1 = win_end(ow, oW, W);   \
                    const int64_t yi = p * out_plane + (od * oH + oh) * oW + ow;        \
                    const int64_t base = p * in_plane;                                  \
                    __VA_ARGS__                                                         \
                }                                                                       \
            }                                                                           \
        }

void vt_cpu_adaptive_avg_pool_forward(const vt_resample_desc *d, const float *x, float *y) {
    FOR_EACH_WINDOW(d, {
        float sum = 0.f;
        for (int64_t a = d0; a < d1; a++)
            for (int64_t b = h0; b < h1; b++)
                for (int64_t c = w0; c < w1; c++) sum += x[base + (a * H + b) * W + c];
        y[yi] = sum / (float)((d1 - d0) * (h1 - h0) * (w1 - w0));
    })
}

void vt_cpu_adaptive_avg_pool_backward(const vt_resample_desc *d, const float *gy, float *gx) {
    FOR_EACH_WINDOW(d, {
        const float g = gy[yi] / (float)((d1 - d0) * (h1 - h0) * (w1 - w0));
        for (int64_t a = d0; a < d1; a++)
            for (int64_t b = h0; b < h1; b++)
                for (int64_t c = w0; c < w1; c++) gx[base + (a * H + b) * W + c] += g;
    })
}

/* first maximum in window order; a NaN wins (the last one), as PyTorch */
void vt_cpu_adaptive_max_pool_forward(const vt_resample_desc *d, const float *x, float *y,
                                      int64_t *argmax) {
    FOR_EACH_WINDOW(d, {
        int64_t best = (d0 * H + h0) * W + w0;
        float m = -INFINITY;
        for (int64_t a = d0; a < d1; a++)
            for (int64_t b = h0; b < h1; b++)
                for (int64_t c = w0; c < w1; c++) {
                    const int64_t k = (a * H + b) * W + c;
                    const float v = x[base + k];
                    if (v > m || isnan(v)) { m = v; best = k; }
                }
        y[yi] = m;
        argmax[yi] = best;
    })
}

void vt_cpu_adaptive_max_pool_backward(const vt_resample_desc *d, const float *gy,
                                       const int64_t *argmax, float *gx) {
    /* planes are independent: each thread scatters into its own plane */
#pragma omp parallel for schedule(static) if (d->planes * d->out[0] * d->out[1] * d->out[2] > VT_OMP_MIN)
    for (int64_t p = 0; p < d->planes; p++) {
        const int64_t out_plane = d->out[0] * d->out[1] * d->out[2];
        const int64_t in_plane = d->in[0] * d->in[1] * d->in[2];
        for (int64_t k = 0; k < out_plane; k++)
            gx[p * in_plane + argmax[p * out_plane + k]] += gy[p * out_plane + k];
    }
}
