/* softmax.c: softmax / log-softmax over the middle dim of x (outer, dim, inner) on the CPU.
 *
 * The classes axis is usually axis 1 of (N, C, H, W) (inner = H*W, strided) or the last
 * axis of (N, C) (inner = 1, contiguous). Both are handled as (outer, inner-block) tiles:
 * a tile keeps one running value per inner position, so the loops over `dim` are
 * vectorised along the contiguous inner positions and every output is owned by one thread
 * (results do not depend on the thread count). */
#include <math.h>
#include "cpu_kernels.h"

#define TILE 256 /* inner positions per tile: three float[TILE] stay in L1 */

/* one row when inner == 1: x[dim] contiguous */
static void softmax_row(int64_t dim, const float *x, float *y, int log) {
    float mx = -INFINITY;
    for (int64_t d = 0; d < dim; d++) mx = x[d] > mx ? x[d] : mx;
    float sum = 0.f;
    if (log) {
        for (int64_t d = 0; d < dim; d++) sum += expf(x[d] - mx);
        float ls = logf(sum); /* (x - max) - log(sum): exact 0 - ls at the max, as PyTorch */
        for (int64_t d = 0; d < dim; d++) y[d] = (x[d] - mx) - ls;
    } else {
        for (int64_t d = 0; d < dim; d++) { y[d] = expf(x[d] - mx); sum += y[d]; }
        float inv = 1.f / sum;
        for (int64_t d = 0; d < dim; d++) y[d] *= inv;
    }
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
    for (int64_t d = 0; d < dim; d++) {
        const float *xd = x + d * inner;
        float *yd = y + d * inner;
        if (log)
            for (int64_t j = 0; j < w; j++) sum[j] += expf(xd[j] - mx[j]);
        else
            for (int64_t j = 0; j < w; j++) { yd[j] = expf(xd[j] - mx[j]); sum[j] += yd[j]; }
    }
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
            for (int64_t j = 0; j < w; j++) gxd[j] += gd[j] - expf(yd[j]) * acc[j];
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
