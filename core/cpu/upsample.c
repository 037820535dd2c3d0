/* upsample.c: nearest and (bi/tri)linear upsampling on the CPU, PyTorch's CPU index rules.
 *
 * x (planes, D, H, W) -> y (planes, oD, oH, oW); 4-D inputs arrive with D = oD = 1.
 * Per dim the front-end resolved ratio (PyTorch's area_pixel_compute_scale):
 *   nearest: src = min(floor(o * ratio), in - 1)           (mode 'nearest', legacy)
 *   linear:  src = ratio * o (align_corners) or max(ratio * (o + 0.5) - 0.5, 0);
 *            i0 = (int)src, i1 = i0 + (i0 < in - 1), lambda1 = src - i0.
 * Index arithmetic is float, as PyTorch's for f32 tensors. One plane per thread, so the
 * backward scatter (gx +=) needs no atomics and the results do not depend on thread count. */
#include <math.h>
#include "../internal.h"
#include "cpu_kernels.h"

typedef struct { int64_t i0, i1; float l0, l1; } src_pos;

static inline src_pos source(const vt_resample_desc *d, int dim, int64_t o) {
    const int64_t in = d->in[dim];
    const float r = d->ratio[dim];
    src_pos p;
    if (!d->linear) {
        int64_t k = (int64_t)floorf((float)o * r);
        p.i0 = p.i1 = k < in - 1 ? k : in - 1;
        p.l0 = 1.f;
        p.l1 = 0.f;
        return p;
    }
    float src = d->align_corners ? r * (float)o : r * ((float)o + 0.5f) - 0.5f;
    if (src < 0.f) src = 0.f;
    int64_t k = (int64_t)src;
    if (k > in - 1) k = in - 1;
    p.i0 = k;
    p.i1 = k + (k < in - 1);
    p.l1 = src - (float)k;
    p.l0 = 1.f - p.l1;
    return p;
}

/* bilinear value of plane slice xs (H, W) at (h, w); l1 == 0 skips the far neighbour
 * (then l0 == 1 exactly, the same value PyTorch's l0 * a + 0 * b gives) */
static inline float interp2(const float *xs, int64_t W, src_pos h, src_pos w) {
    const float *r0 = xs + h.i0 * W, *r1 = xs + h.i1 * W;
    float a = w.l1 != 0.f ? w.l0 * r0[w.i0] + w.l1 * r0[w.i1] : r0[w.i0];
    if (h.l1 == 0.f) return a;
    float b = w.l1 != 0.f ? w.l0 * r1[w.i0] + w.l1 * r1[w.i1] : r1[w.i0];
    return h.l0 * a + h.l1 * b;
}

static inline void scatter2(float *gs, int64_t W, src_pos h, src_pos w, float g) {
    gs[h.i0 * W + w.i0] += h.l0 * w.l0 * g;
    if (w.l1 != 0.f) gs[h.i0 * W + w.i1] += h.l0 * w.l1 * g;
    if (h.l1 != 0.f) {
        gs[h.i1 * W + w.i0] += h.l1 * w.l0 * g;
        if (w.l1 != 0.f) gs[h.i1 * W + w.i1] += h.l1 * w.l1 * g;
    }
}

void vt_cpu_upsample_forward(const vt_resample_desc *d, const float *x, float *y) {
    const int64_t D = d->in[0], H = d->in[1], W = d->in[2];
    const int64_t oD = d->out[0], oH = d->out[1], oW = d->out[2];
    const int64_t in_plane = D * H * W, out_plane = oD * oH * oW;
#pragma omp parallel for schedule(static) if (d->planes * out_plane > VT_OMP_MIN && d->planes > 1)
    for (int64_t p = 0; p < d->planes; p++) {
        const float *xp = x + p * in_plane;
        float *yp = y + p * out_plane;
        for (int64_t od = 0; od < oD; od++) {
            src_pos t = source(d, 0, od);
            for (int64_t oh = 0; oh < oH; oh++) {
                src_pos h = source(d, 1, oh);
                float *yr = yp + (od * oH + oh) * oW;
                for (int64_t ow = 0; ow < oW; ow++) {
                    src_pos w = source(d, 2, ow);
                    float a = interp2(xp + t.i0 * H * W, W, h, w);
                    yr[ow] = t.l1 == 0.f ? a
                                         : t.l0 * a + t.l1 * interp2(xp + t.i1 * H * W, W, h, w);
                }
            }
        }
    }
}

void vt_cpu_upsample_backward(const vt_resample_desc *d, const float *gy, float *gx) {
    const int64_t D = d->in[0], H = d->in[1], W = d->in[2];
    const int64_t oD = d->out[0], oH = d->out[1], oW = d->out[2];
    const int64_t in_plane = D * H * W, out_plane = oD * oH * oW;
#pragma omp parallel for schedule(static) if (d->planes * out_plane > VT_OMP_MIN && d->planes > 1)
    for (int64_t p = 0; p < d->planes; p++) {
        float *gp = gx + p * in_plane;
        const float *gyp = gy + p * out_plane;
        for (int64_t od = 0; od < oD; od++) {
            src_pos t = source(d, 0, od);
            for (int64_t oh = 0; oh < oH; oh++) {
                src_pos h = source(d, 1, oh);
                const float *gr = gyp + (od * oH + oh) * oW;
                for (int64_t ow = 0; ow < oW; ow++) {
                    src_pos w = source(d, 2, ow);
                    scatter2(gp + t.i0 * H * W, W, h, w, t.l0 * gr[ow]);
                    if (t.l1 != 0.f) scatter2(gp + t.i1 * H * W, W, h, w, t.l1 * gr[ow]);
                }
            }
        }
    }
}
