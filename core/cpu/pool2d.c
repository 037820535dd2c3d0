/* pool2d.c: max and average 2D pooling on the CPU.
 *
 * x (N, C, H, W) -> y (N, C, oh, ow). Window (oy, ox) covers rows oy*sh - ph .. + kh and
 * columns ox*sw - pw .. + kw, clipped to the input (max pool: padding acts as -inf).
 * Work is split over the N*C planes; each plane (forward and backward) is owned by one
 * thread, so no atomics are needed and results do not depend on the thread count. */
#include <math.h>
#include "../internal.h"
#include "cpu_kernels.h"

#define PLANES_PARALLEL(d, per_plane) \
    if ((int64_t)(d)->n * (d)->c * (per_plane) > VT_OMP_MIN && (int64_t)(d)->n * (d)->c > 1)

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

void vt_cpu_max_pool2d_forward(const vt_pool2d_desc *d, const float *x, float *y,
                               int32_t *argmax) {
    const int64_t planes = (int64_t)d->n * d->c, in_plane = (int64_t)d->h * d->w,
                  out_plane = (int64_t)d->oh * d->ow;
#pragma omp parallel for schedule(static) PLANES_PARALLEL(d, out_plane * d->kh * d->kw)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * in_plane;
        float *yp = y + pl * out_plane;
        int32_t *ap = argmax + pl * out_plane;
        for (int oy = 0; oy < d->oh; oy++) {
            int hs = oy * d->stride_h - d->pad_h, he = imin(hs + d->kh, d->h);
            hs = imax(hs, 0);
            for (int ox = 0; ox < d->ow; ox++) {
                int ws = ox * d->stride_w - d->pad_w, we = imin(ws + d->kw, d->w);
                ws = imax(ws, 0);
                /* as PyTorch: NaN wins; an all -inf window points at its first element */
                float best = -INFINITY;
                int32_t at = hs * d->w + ws;
                for (int iy = hs; iy < he; iy++)
                    for (int ix = ws; ix < we; ix++) {
                        float v = xp[iy * d->w + ix];
                        if (v > best || isnan(v)) { best = v; at = iy * d->w + ix; }
                    }
                yp[oy * d->ow + ox] = best;
                ap[oy * d->ow + ox] = at;
            }
        }
    }
}

void vt_cpu_max_pool2d_backward(const vt_pool2d_desc *d, const float *gy,
                                const int32_t *argmax, float *gx) {
    const int64_t planes = (int64_t)d->n * d->c, in_plane = (int64_t)d->h * d->w,
                  out_plane = (int64_t)d->oh * d->ow;
#pragma omp parallel for schedule(static) PLANES_PARALLEL(d, out_plane)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *gp = gy + pl * out_plane;
        const int32_t *ap = argmax + pl * out_plane;
        float *gxp = gx + pl * in_plane;
        for (int64_t o = 0; o < out_plane; o++) gxp[ap[o]] += gp[o];
    }
}

/* Window of output (oy, ox) clipped to the input, and its divisor (PyTorch's rule: with
 * count_include_pad the window is clipped to the padded input, not to the input). */
typedef struct { int hs, he, ws, we; float inv; } avg_window;

static inline avg_window window_at(const vt_pool2d_desc *d, int oy, int ox) {
    avg_window a;
    int hs = oy * d->stride_h - d->pad_h, ws = ox * d->stride_w - d->pad_w;
    int he = imin(hs + d->kh, d->h + d->pad_h), we = imin(ws + d->kw, d->w + d->pad_w);
    int padded = (he - hs) * (we - ws);
    a.hs = imax(hs, 0); a.ws = imax(ws, 0);
    a.he = imin(he, d->h); a.we = imin(we, d->w);
    int count = d->count_include_pad ? padded : (a.he - a.hs) * (a.we - a.ws);
    a.inv = (a.he > a.hs && a.we > a.ws && count > 0) ? 1.f / (float)count : 0.f;
    return a;
}

void vt_cpu_avg_pool2d_forward(const vt_pool2d_desc *d, const float *x, float *y) {
    const int64_t planes = (int64_t)d->n * d->c, in_plane = (int64_t)d->h * d->w,
                  out_plane = (int64_t)d->oh * d->ow;
#pragma omp parallel for schedule(static) PLANES_PARALLEL(d, out_plane * d->kh * d->kw)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = x + pl * in_plane;
        float *yp = y + pl * out_plane;
        for (int oy = 0; oy < d->oh; oy++)
            for (int ox = 0; ox < d->ow; ox++) {
                avg_window a = window_at(d, oy, ox);
                float s = 0.f;
                for (int iy = a.hs; iy < a.he; iy++)
                    for (int ix = a.ws; ix < a.we; ix++) s += xp[iy * d->w + ix];
                yp[oy * d->ow + ox] = s * a.inv;
            }
    }
}

void vt_cpu_avg_pool2d_backward(const vt_pool2d_desc *d, const float *gy, float *gx) {
    const int64_t planes = (int64_t)d->n * d->c, in_plane = (int64_t)d->h * d->w,
                  out_plane = (int64_t)d->oh * d->ow;
#pragma omp parallel for schedule(static) PLANES_PARALLEL(d, out_plane * d->kh * d->kw)
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *gp = gy + pl * out_plane;
        float *gxp = gx + pl * in_plane;
        for (int oy = 0; oy < d->oh; oy++)
            for (int ox = 0; ox < d->ow; ox++) {
                avg_window a = window_at(d, oy, ox);
                float g = gp[oy * d->ow + ox] * a.inv;
                for (int iy = a.hs; iy < a.he; iy++)
                    for (int ix = a.ws; ix < a.we; ix++) gxp[iy * d->w + ix] += g;
            }
    }
}
