/* conv2d.c: 2D convolution on the CPU as im2col + sgemm.
 *
 * Shapes: x (N, C_in, H, W), w (C_out, C_in/G, kh, kw), y (N, C_out, oh, ow); per group
 * K = C_in/G * kh * kw and P = oh * ow.
 *
 * Samples are processed in chunks of nb. A chunk is unfolded into col (K, nb*P) so ONE
 * gemm per group covers it: Y (C_out/G, nb*P) = W_g (C_out/G, K) @ col. For small images
 * (FMNIST: P = 676 or 121) this wide N dimension is what keeps sgemm efficient; the price
 * is a copy of Y from (C_out, nb*P) to y (nb, C_out, P). With nb == 1 that layout IS y's,
 * so large images (P >= BATCH_MAX_P) use nb = 1 and write straight into y.
 * 1x1 stride-1 pad-0 convs with nb == 1 skip im2col: x_n (C_in, P) already is col.
 *
 * Workspace (bytes from conv2d_workspace, same plan for forward and backward):
 *   col (K, nb*P) unless 1x1 with nb == 1, then tmp (C_out, nb*P) when nb > 1.
 * Bounded by WORK_LIMIT (a chunk of 1 sample may exceed it).
 * Threads: im2col/col2im/copies are OpenMP over (sample, channel) planes, each plane owned by
 * one thread, so results do not depend on the thread count (sgemm is OpenBLAS's). */
#include <string.h>
#include "../internal.h"
#include "cpu_kernels.h"

/* Tuned with tools-free bench (see report): batching pays while P is small. */
#ifndef VT_CONV_WORK_LIMIT
#define VT_CONV_WORK_LIMIT (16u << 20)
#endif
#ifndef VT_CONV_BATCH_MAX_P
#define VT_CONV_BATCH_MAX_P 1024
#endif
#ifndef VT_CONV_TARGET_COLS
#define VT_CONV_TARGET_COLS 65536
#endif

typedef struct {
    int cin_g, cout_g, K, P, nb;
    int pointwise; /* 1x1, stride 1, pad 0: col of one sample is x_n itself */
} conv_plan;

static conv_plan make_plan(const vt_conv2d_desc *d) {
    conv_plan p;
    p.cin_g = d->c_in / d->groups;
    p.cout_g = d->c_out / d->groups;
    p.K = p.cin_g * d->kh * d->kw;
    p.P = d->oh * d->ow;
    p.pointwise = d->kh == 1 && d->kw == 1 && d->stride_h == 1 && d->stride_w == 1 &&
                  d->pad_h == 0 && d->pad_w == 0;
    int64_t nb = 1;
    if (p.P < VT_CONV_BATCH_MAX_P && p.P > 0) {
        nb = (VT_CONV_TARGET_COLS + p.P - 1) / p.P;
        int64_t per_sample = ((int64_t)p.K + d->c_out) * p.P * (int64_t)sizeof(float);
        int64_t fit = per_sample > 0 ? (int64_t)VT_CONV_WORK_LIMIT / per_sample : nb;
        if (nb > fit) nb = fit;
    }
    if (nb > d->n) nb = d->n;
    if (nb < 1) nb = 1;
    p.nb = (int)nb;
    return p;
}

size_t vt_cpu_conv2d_workspace(const vt_conv2d_desc *d) {
    conv_plan p = make_plan(d);
    size_t cols = (size_t)p.nb * p.P;
    size_t col = (p.pointwise && p.nb == 1) ? 0 : (size_t)p.K * cols;
    size_t tmp = p.nb > 1 ? (size_t)d->c_out * cols : 0;
    return (col + tmp) * sizeof(float);
}

/* Output columns [lo, hi) whose input column ox*s + off lies in [0, in). */
static inline void valid_range(int out, int in, int s, int off, int *lo, int *hi) {
    int l = off >= 0 ? 0 : (-off + s - 1) / s;
    int h = (in - 1 - off) < 0 ? 0 : (in - 1 - off) / s + 1;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* One row of col for kernel tap (ki, kj) of plane xp (H, W): dst (oh, ow), zeros in padding. */
static void unfold_tap(const vt_conv2d_desc *d, const float *xp, int ki, int kj, float *dst) {
    int offw = kj * d->dil_w - d->pad_w, lo, hi;
    valid_range(d->ow, d->w, d->stride_w, offw, &lo, &hi);
    for (int oy = 0; oy < d->oh; oy++, dst += d->ow) {
        int iy = oy * d->stride_h - d->pad_h + ki * d->dil_h;
        if (iy < 0 || iy >= d->h || lo == hi) { memset(dst, 0, (size_t)d->ow * sizeof(float)); continue; }
        const float *src = xp + (int64_t)iy * d->w + offw;
        if (lo) memset(dst, 0, (size_t)lo * sizeof(float));
        if (d->stride_w == 1) memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof(float));
        else
            for (int ox = lo; ox < hi; ox++) dst[ox] = src[(int64_t)ox * d->stride_w];
        if (hi < d->ow) memset(dst + hi, 0, (size_t)(d->ow - hi) * sizeof(float));
    }
}

/* Adjoint of unfold_tap: gxp (H, W) += the row src (oh, ow) scattered back. */
static void fold_tap(const vt_conv2d_desc *d, const float *src, int ki, int kj, float *gxp) {
    int offw = kj * d->dil_w - d->pad_w, lo, hi;
    valid_range(d->ow, d->w, d->stride_w, offw, &lo, &hi);
    if (lo == hi) return;
    for (int oy = 0; oy < d->oh; oy++, src += d->ow) {
        int iy = oy * d->stride_h - d->pad_h + ki * d->dil_h;
        if (iy < 0 || iy >= d->h) continue;
        float *dst = gxp + (int64_t)iy * d->w + offw;
        if (d->stride_w == 1)
            for (int ox = lo; ox < hi; ox++) dst[ox] += src[ox];
        else
            for (int ox = lo; ox < hi; ox++) dst[(int64_t)ox * d->stride_w] += src[ox];
    }
}

/* col (K, nb*P) for group g of samples n0 .. n0+nb-1; column block i holds sample n0+i. */
static void im2col(const vt_conv2d_desc *d, const conv_plan *p, const float *x, int n0,
                   int nb, int g, float *col) {
    const int64_t plane = (int64_t)d->h * d->w, ld = (int64_t)nb * p->P;
    const int64_t items = (int64_t)nb * p->cin_g, taps = d->kh * d->kw;
#pragma omp parallel for schedule(static) if (items * taps * p->P > VT_OMP_MIN && items > 1)
    for (int64_t it = 0; it < items; it++) {
        int i = (int)(it / p->cin_g), c = (int)(it % p->cin_g);
        const float *xp = x + ((int64_t)(n0 + i) * d->c_in + (int64_t)g * p->cin_g + c) * plane;
        for (int ki = 0; ki < d->kh; ki++)
            for (int kj = 0; kj < d->kw; kj++)
                unfold_tap(d, xp, ki, kj,
                           col + ((int64_t)c * taps + ki * d->kw + kj) * ld + (int64_t)i * p->P);
    }
}

/* gx (group g of samples n0..) += fold(col); each (sample, channel) plane owned by one thread */
static void col2im(const vt_conv2d_desc *d, const conv_plan *p, const float *col, int n0,
                   int nb, int g, float *gx) {
    const int64_t plane = (int64_t)d->h * d->w, ld = (int64_t)nb * p->P;
    const int64_t items = (int64_t)nb * p->cin_g, taps = d->kh * d->kw;
#pragma omp parallel for schedule(static) if (items * taps * p->P > VT_OMP_MIN && items > 1)
    for (int64_t it = 0; it < items; it++) {
        int i = (int)(it / p->cin_g), c = (int)(it % p->cin_g);
        float *gxp = gx + ((int64_t)(n0 + i) * d->c_in + (int64_t)g * p->cin_g + c) * plane;
        for (int ki = 0; ki < d->kh; ki++)
            for (int kj = 0; kj < d->kw; kj++)
                fold_tap(d, col + ((int64_t)c * taps + ki * d->kw + kj) * ld + (int64_t)i * p->P,
                         ki, kj, gxp);
    }
}

/* tmp (C_out, nb*P) <- gy (nb, C_out, P) of samples n0.. */
static void gather_chunk(const vt_conv2d_desc *d, const conv_plan *p, const float *gy, int n0,
                         int nb, float *tmp) {
    const int64_t P = p->P, ld = (int64_t)nb * P, items = (int64_t)nb * d->c_out;
#pragma omp parallel for schedule(static) if (items * P > VT_OMP_MIN && items > 1)
    for (int64_t it = 0; it < items; it++) {
        int i = (int)(it / d->c_out), co = (int)(it % d->c_out);
        memcpy(tmp + co * ld + i * P, gy + ((int64_t)(n0 + i) * d->c_out + co) * P,
               (size_t)P * sizeof(float));
    }
}

/* y (nb, C_out, P) of samples n0.. <- tmp (C_out, nb*P) + b */
static void scatter_chunk(const vt_conv2d_desc *d, const conv_plan *p, const float *tmp,
                          const float *b, int n0, int nb, float *y) {
    const int64_t P = p->P, ld = (int64_t)nb * P, items = (int64_t)nb * d->c_out;
#pragma omp parallel for schedule(static) if (items * P > VT_OMP_MIN && items > 1)
    for (int64_t it = 0; it < items; it++) {
        int i = (int)(it / d->c_out), co = (int)(it % d->c_out);
        const float *s = tmp + co * ld + i * P;
        float *t = y + ((int64_t)(n0 + i) * d->c_out + co) * P, bias = b ? b[co] : 0.f;
        for (int64_t k = 0; k < P; k++) t[k] = s[k] + bias;
    }
}

static void add_bias(const vt_conv2d_desc *d, const conv_plan *p, const float *b, float *yn) {
    if (!b) return;
    const int64_t P = p->P;
#pragma omp parallel for schedule(static) if (d->c_out * P > VT_OMP_MIN && d->c_out > 1)
    for (int co = 0; co < d->c_out; co++)
        for (int64_t k = 0; k < P; k++) yn[co * P + k] += b[co];
}

void vt_cpu_conv2d_forward(const vt_conv2d_desc *d, const float *x, const float *w,
                           const float *b, float *y, void *work) {
    const vt_backend *be = vt_backend_cpu();
    conv_plan p = make_plan(d);
    const int64_t P = p.P, xs = (int64_t)d->c_in * d->h * d->w, ys = (int64_t)d->c_out * P;
    float *col = work, *tmp = col + ((p.pointwise && p.nb == 1) ? 0 : (int64_t)p.K * p.nb * P);
    for (int n0 = 0; n0 < d->n; n0 += p.nb) {
        int nb = d->n - n0 < p.nb ? d->n - n0 : p.nb, ld = nb * p.P;
        float *out = nb == 1 ? y + n0 * ys : tmp; /* (C_out, nb*P) */
        for (int g = 0; g < d->groups; g++) {
            const float *cg = col;
            if (p.pointwise && nb == 1) cg = x + n0 * xs + (int64_t)g * p.cin_g * P;
            else im2col(d, &p, x, n0, nb, g, col);
            be->gemm(0, 0, p.cout_g, ld, p.K, 1.f, w + (int64_t)g * p.cout_g * p.K, p.K, cg, ld,
                     0.f, out + (int64_t)g * p.cout_g * ld, ld);
        }
        if (nb == 1) add_bias(d, &p, b, out);
        else scatter_chunk(d, &p, tmp, b, n0, nb, y);
    }
}

void vt_cpu_conv2d_backward_data(const vt_conv2d_desc *d, const float *gy, const float *w,
                                 float *gx, void *work) {
    const vt_backend *be = vt_backend_cpu();
    conv_plan p = make_plan(d);
    const int64_t P = p.P, xs = (int64_t)d->c_in * d->h * d->w, ys = (int64_t)d->c_out * P;
    float *col = work, *tmp = col + ((p.pointwise && p.nb == 1) ? 0 : (int64_t)p.K * p.nb * P);
    for (int n0 = 0; n0 < d->n; n0 += p.nb) {
        int nb = d->n - n0 < p.nb ? d->n - n0 : p.nb, ld = nb * p.P;
        const float *gyc = gy + n0 * ys; /* (C_out, nb*P) */
        if (nb > 1) { gather_chunk(d, &p, gy, n0, nb, tmp); gyc = tmp; }
        for (int g = 0; g < d->groups; g++) {
            const float *wg = w + (int64_t)g * p.cout_g * p.K, *gg = gyc + (int64_t)g * p.cout_g * ld;
            if (p.pointwise && nb == 1) { /* gx_n,g (C_in/G, P) += W_g^T @ gy_n,g */
                be->gemm(1, 0, p.cin_g, ld, p.cout_g, 1.f, wg, p.K, gg, ld, 1.f,
                         gx + n0 * xs + (int64_t)g * p.cin_g * P, ld);
                continue;
            }
            be->gemm(1, 0, p.K, ld, p.cout_g, 1.f, wg, p.K, gg, ld, 0.f, col, ld);
            col2im(d, &p, col, n0, nb, g, gx);
        }
    }
}

/* gb[co] += sum over n and P of gy; one channel per thread */
static void bias_grad(const vt_conv2d_desc *d, const float *gy, float *gb) {
    const int64_t P = (int64_t)d->oh * d->ow;
#pragma omp parallel for schedule(static) if ((int64_t)d->n * d->c_out * P > VT_OMP_MIN && d->c_out > 1)
    for (int co = 0; co < d->c_out; co++) {
        double acc = 0;
        for (int n = 0; n < d->n; n++) {
            const float *r = gy + ((int64_t)n * d->c_out + co) * P;
            float s[8] = {0};
            int64_t k = 0;
            for (; k + 8 <= P; k += 8)
                for (int l = 0; l < 8; l++) s[l] += r[k + l];
            for (; k < P; k++) s[0] += r[k];
            acc += (double)s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
        }
        gb[co] += (float)acc;
    }
}

void vt_cpu_conv2d_backward_filter(const vt_conv2d_desc *d, const float *x, const float *gy,
                                   float *gw, float *gb, void *work) {
    const vt_backend *be = vt_backend_cpu();
    conv_plan p = make_plan(d);
    const int64_t P = p.P, xs = (int64_t)d->c_in * d->h * d->w, ys = (int64_t)d->c_out * P;
    float *col = work, *tmp = col + ((p.pointwise && p.nb == 1) ? 0 : (int64_t)p.K * p.nb * P);
    if (gb) bias_grad(d, gy, gb);
    if (!gw) return;
    for (int n0 = 0; n0 < d->n; n0 += p.nb) {
        int nb = d->n - n0 < p.nb ? d->n - n0 : p.nb, ld = nb * p.P;
        const float *gyc = gy + n0 * ys;
        if (nb > 1) { gather_chunk(d, &p, gy, n0, nb, tmp); gyc = tmp; }
        for (int g = 0; g < d->groups; g++) {
            const float *cg = col;
            if (p.pointwise && nb == 1) cg = x + n0 * xs + (int64_t)g * p.cin_g * P;
            else im2col(d, &p, x, n0, nb, g, col);
            /* gW_g (C_out/G, K) += gY_g (C_out/G, nb*P) @ col^T */
            be->gemm(0, 1, p.cout_g, p.K, ld, 1.f, gyc + (int64_t)g * p.cout_g * ld, ld, cg, ld,
                     1.f, gw + (int64_t)g * p.cout_g * p.K, p.K);
        }
    }
}
