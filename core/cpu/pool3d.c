/* pool3d.c: max and average 3D pooling on the CPU.
 *
 * x (N, C, D, H, W) -> y (N, C, od, oh, ow). Window (oz, oy, ox) covers slices
 * oz*sd - pd .. + kd, rows oy*sh - ph .. + kh and columns ox*sw - pw .. + kw, clipped to the
 * input (max pool: padding acts as -inf). Work is split over the N*C volumes; each volume
 * (forward and backward) is owned by one thread, so no atomics are needed and results do
 * not depend on the thread count. */
#include <math.h>
#include "../internal.h"
#include "cpu_kernels.h"

#define VOLUMES_PARALLEL(d, per_volume) \
    if ((int64_t)(d)->n * (d)->c * (per_volume) > VT_OMP_MIN && (int64_t)(d)->n * (d)->c > 1)

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

/* Window of one output clipped to the input, and (average pool) its divisor: PyTorch's
 * rule, with count_include_pad the window is clipped to the padded input, not the input. */
typedef struct { int zs, ze, ys, ye, xs, xe; float inv; } window3;

static inline window3 window_at(const vt_pool3d_desc *d, int oz, int oy, int ox) {
    window3 a;
    int zs = oz * d->stride_d - d->pad_d, ys = oy * d->stride_h - d->pad_h,
        xs = ox * d->stride_w - d->pad_w;
    int ze = imin(zs + d->kd, d->d + d->pad_d), ye = imin(ys + d->kh, d->h + d->pad_h),
        xe = imin(xs + d->kw, d->w + d->pad_w);
    int padded = (ze - zs) * (ye - ys) * (xe - xs);
    a.zs = imax(zs, 0); a.ys = imax(ys, 0); a.xs = imax(xs, 0);
    a.ze = imin(ze, d->d); a.ye = imin(ye, d->h); a.xe = imin(xe, d->w);
    int inside = (a.ze - a.zs) * (a.ye - a.ys) * (a.xe - a.xs);
    int count = d->count_include_pad ? padded : inside;
    a.inv = (a.ze > a.zs && a.ye > a.ys && a.xe > a.xs && count > 0) ? 1.f / (float)count : 0.f;
    return a;
}

void vt_cpu_max_pool3d_forward(const vt_pool3d_desc *d, const float *x, float *y,
                               int32_t *argmax) {
    const int64_t vols = (int64_t)d->n * d->c, in_vol = (int64_t)d->d * d->h * d->w,
                  out_vol = (int64_t)d->od * d->oh * d->ow;
#pragma omp parallel for schedule(static) VOLUMES_PARALLEL(d, out_vol * d->kd * d->kh * d->kw)
    for (int64_t v = 0; v < vols; v++) {
        const float *xv = x + v * in_vol;
        float *yv = y + v * out_vol;
        int32_t *av = argmax + v * out_vol;
        int64_t o = 0;
        for (int oz = 0; oz < d->od; oz++)
            for (int oy = 0; oy < d->oh; oy++)
                for (int ox = 0; ox < d->ow; ox++, o++) {
                    window3 a = window_at(d, oz, oy, ox);
                    /* as PyTorch: NaN wins; an all -inf window points at its first element */
                    float best = -INFINITY;
                    int32_t at = (a.zs * d->h + a.ys) * d->w + a.xs;
                    for (int iz = a.zs; iz < a.ze; iz++)
                        for (int iy = a.ys; iy < a.ye; iy++)
                            for (int ix = a.xs; ix < a.xe; ix++) {
                                int32_t i = (iz * d->h + iy) * d->w + ix;
                                float val = xv[i];
                                if (val > best || isnan(val)) { best = val; at = i; }
                            }
                    yv[o] = best;
                    av[o] = at;
                }
    }
}

void vt_cpu_max_pool3d_backward(const vt_pool3d_desc *d, const float *gy,
                                const int32_t *argmax, float *gx) {
    const int64_t vols = (int64_t)d->n * d->c, in_vol = (int64_t)d->d * d->h * d->w,
                  out_vol = (int64_t)d->od * d->oh * d->ow;
#pragma omp parallel for schedule(static) VOLUMES_PARALLEL(d, out_vol)
    for (int64_t v = 0; v < vols; v++) {
        const float *gv = gy + v * out_vol;
        const int32_t *av = argmax + v * out_vol;
        float *gxv = gx + v * in_vol;
        for (int64_t o = 0; o < out_vol; o++) gxv[av[o]] += gv[o];
    }
}

void vt_cpu_avg_pool3d_forward(const vt_pool3d_desc *d, const float *x, float *y) {
    const int64_t vols = (int64_t)d->n * d->c, in_vol = (int64_t)d->d * d->h * d->w,
                  out_vol = (int64_t)d->od * d->oh * d->ow;
#pragma omp parallel for schedule(static) VOLUMES_PARALLEL(d, out_vol * d->kd * d->kh * d->kw)
    for (int64_t v = 0; v < vols; v++) {
        const float *xv = x + v * in_vol;
        float *yv = y + v * out_vol;
        int64_t o = 0;
        for (int oz = 0; oz < d->od; oz++)
            for (int oy = 0; oy < d->oh; oy++)
                for (int ox = 0; ox < d->ow; ox++, o++) {
                    window3 a = window_at(d, oz, oy, ox);
                    float s = 0.f;
                    for (int iz = a.zs; iz < a.ze; iz++)
                        for (int iy = a.ys; iy < a.ye; iy++)
                            for (int ix = a.xs; ix < a.xe; ix++)
                                s += xv[((int64_t)iz * d->h + iy) * d->w + ix];
                    yv[o] = s * a.inv;
                }
    }
}

void vt_cpu_avg_pool3d_backward(const vt_pool3d_desc *d, const float *gy, float *gx) {
    const int64_t vols = (int64_t)d->n * d->c, in_vol = (int64_t)d->d * d->h * d->w,
                  out_vol = (int64_t)d->od * d->oh * d->ow;
#pragma omp parallel for schedule(static) VOLUMES_PARALLEL(d, out_vol * d->kd * d->kh * d->kw)
    for (int64_t v = 0; v < vols; v++) {
        const float *gv = gy + v * out_vol;
        float *gxv = gx + v * in_vol;
        int64_t o = 0;
        for (int oz = 0; oz < d->od; oz++)
            for (int oy = 0; oy < d->oh; oy++)
                for (int ox = 0; ox < d->ow; ox++, o++) {
                    window3 a = window_at(d, oz, oy, ox);
                    float g = gv[o] * a.inv;
                    for (int iz = a.zs; iz < a.ze; iz++)
                        for (int iy = a.ys; iy < a.ye; iy++)
                            for (int ix = a.xs; ix < a.xe; ix++)
                                gxv[((int64_t)iz * d->h + iy) * d->w + ix] += g;
                }
    }
}
