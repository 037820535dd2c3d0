/* conv2d.c: 2D convolution on the CPU as im2col + sgemm over tiles.
 *
 * Shapes: x (N, C_in, H, W), w (C_out, C_in/G, kh, kw), y (N, C_out, oh, ow); per group
 * K = C_in/G * kh * kw, P = oh * ow.
 *
 * The output is cut into TILES of about TILE_COLS columns: nb whole samples when P is small
 * (FMNIST: 1 sample of 26x26, or 8 samples of 11x11), else a band of output rows of one
 * sample. Per tile and group: col (K, cols) = im2col, Y (C_out/G, cols) = W_g @ col.
 * Tiles run in parallel on OpenMP threads, each calling SINGLE-threaded sgemm on buffers
 * that stay in its own L2. Measured on 2 cores this is ~2x faster than one big multi-threaded
 * gemm over the whole batch: im2col traffic stays in cache, and OpenMP workers never spin
 * against OpenBLAS's threads (with the default OMP_WAIT_POLICY, alternating the two pools
 * costs more than the gemm). With a single tile (or a huge weight, see below) the loop runs
 * serially with multi-threaded sgemm instead.
 *
 * nb == 1 tiles write/read y and gy in place (ld = P); nb > 1 tiles go through tmp
 * (C_out, cols). 1x1 stride-1 pad-0 convs with nb == 1 use x_n (C_in, P) as col directly.
 * backward data: col = W_g^T @ gY, col2im accumulates into gx. Row bands of one sample
 * overlap in gx (kernel halo), so bands run in two phases (even, odd) whose bands are
 * disjoint. backward filter: gW += gY @ col^T summed into PARTIALS partial buffers (a count
 * fixed by the shape, not the thread count), added in order: results do not depend on the
 * number of threads.
 *
 * Workspace: slots x (col + tmp) + partials x |w|, slots = min(threads, tiles). */
#include <omp.h>
#include <string.h>
#include "../internal.h"
#include "cpu_kernels.h"

void openblas_set_num_threads(int num_threads);

#ifndef VT_CONV_TILE_COLS
#define VT_CONV_TILE_COLS 1024
#endif
#define SLOT_LIMIT (4u << 20) /* bytes of col + tmp per thread, so deep layers (K = 4608) stay small */
#define MAX_PARTIALS 16
#define PARTIALS_LIMIT (32u << 20) /* bytes of gW partial buffers at most */

typedef struct {
    int cin_g, cout_g, K, P, pointwise;
    int nb;          /* samples per tile; 1 when tiles are row bands */
    int rows;        /* output rows per tile */
    int bands;       /* row bands per sample */
    int64_t tiles;
    int64_t cols;    /* max columns of a tile */
    int slots;       /* tile buffers, one per thread */
    int partials;    /* gW partial buffers; 1: accumulate straight into gw */
    size_t slot_floats, wsize;
} conv_plan;

static conv_plan make_plan(const vt_conv2d_desc *d) {
    conv_plan p;
    memset(&p, 0, sizeof p);
    p.cin_g = d->c_in / d->groups;
    p.cout_g = d->c_out / d->groups;
    p.K = p.cin_g * d->kh * d->kw;
    p.P = d->oh * d->ow;
    p.pointwise = d->kh == 1 && d->kw == 1 && d->stride_h == 1 && d->stride_w == 1 &&
                  d->pad_h == 0 && d->pad_w == 0;
    int64_t target = VT_CONV_TILE_COLS, fit = SLOT_LIMIT / (((int64_t)p.K + d->c_out) * sizeof(float));
    if (target > fit) target = fit > 1 ? fit : 1;
    if (p.P < target) {
        p.nb = (int)(target / p.P);
        if (p.nb > d->n) p.nb = d->n;
        if (p.nb < 1) p.nb = 1;
        p.rows = d->oh;
    } else {
        p.nb = 1;
        p.rows = (int)(target / d->ow);
        /* bands two apart must not share input rows (two-phase col2im) */
        int halo = ((d->kh - 1) * d->dil_h) / d->stride_h + 1;
        if (p.rows < halo) p.rows = halo;
        if (p.rows < 1) p.rows = 1;
        if (p.rows > d->oh) p.rows = d->oh;
    }
    p.bands = (d->oh + p.rows - 1) / p.rows;
    p.tiles = p.nb > 1 ? (d->n + p.nb - 1) / p.nb : (int64_t)d->n * p.bands;
    p.cols = (int64_t)p.nb * p.rows * d->ow;
    int threads = omp_get_max_threads();
    p.slots = (int)(p.tiles < threads ? p.tiles : threads);
    if (p.slots < 1) p.slots = 1;
    size_t col = (p.pointwise && p.nb == 1) ? 0 : (size_t)p.K * p.cols;
    size_t tmp = p.nb > 1 ? (size_t)d->c_out * p.cols : 0;
    p.slot_floats = (col + tmp + 15) / 16 * 16; /* keep every slot 64-byte aligned */
    p.wsize = (size_t)d->c_out * p.K;
    fit = (int64_t)(PARTIALS_LIMIT / (p.wsize * sizeof(float) + 1));
    int64_t parts = p.tiles < MAX_PARTIALS ? p.tiles : MAX_PARTIALS;
    if (parts > fit) parts = fit;
    p.partials = parts > 1 ? (int)parts : 1;
    return p;
}

size_t vt_cpu_conv2d_workspace(const vt_conv2d_desc *d) {
    conv_plan p = make_plan(d);
    size_t partial = p.partials > 1 ? (size_t)p.partials * p.wsize : 0;
    return ((size_t)p.slots * p.slot_floats + partial) * sizeof(float);
}

/* one tile: samples n0 .. n0+nb-1, output rows oy0 .. oy1-1 */
typedef struct { int n0, nb, oy0, oy1; int64_t cols, p0; } conv_tile;

static conv_tile tile_at(const vt_conv2d_desc *d, const conv_plan *p, int64_t t) {
    conv_tile c;
    if (p->nb > 1) {
        c.n0 = (int)(t * p->nb);
        c.nb = d->n - c.n0 < p->nb ? d->n - c.n0 : p->nb;
        c.oy0 = 0; c.oy1 = d->oh;
    } else {
        c.n0 = (int)(t / p->bands);
        c.nb = 1;
        c.oy0 = (int)(t % p->bands) * p->rows;
        c.oy1 = c.oy0 + p->rows < d->oh ? c.oy0 + p->rows : d->oh;
    }
    c.p0 = (int64_t)c.oy0 * d->ow;
    c.cols = (int64_t)c.nb * (c.oy1 - c.oy0) * d->ow;
    return c;
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

/* rows oy0..oy1 of tap (ki, kj) of plane xp (H, W) into dst (rows, ow); zeros in padding */
static void unfold_tap(const vt_conv2d_desc *d, const float *xp, int ki, int kj, int oy0,
                       int oy1, float *dst) {
    int offw = kj * d->dil_w - d->pad_w, lo, hi;
    valid_range(d->ow, d->w, d->stride_w, offw, &lo, &hi);
    for (int oy = oy0; oy < oy1; oy++, dst += d->ow) {
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

/* adjoint of unfold_tap: gxp (H, W) += src (rows, ow) */
static void fold_tap(const vt_conv2d_desc *d, const float *src, int ki, int kj, int oy0,
                     int oy1, float *gxp) {
    int offw = kj * d->dil_w - d->pad_w, lo, hi;
    valid_range(d->ow, d->w, d->stride_w, offw, &lo, &hi);
    if (lo == hi) return;
    for (int oy = oy0; oy < oy1; oy++, src += d->ow) {
        int iy = oy * d->stride_h - d->pad_h + ki * d->dil_h;
        if (iy < 0 || iy >= d->h) continue;
        float *dst = gxp + (int64_t)iy * d->w + offw;
        if (d->stride_w == 1)
            for (int ox = lo; ox < hi; ox++) dst[ox] += src[ox];
        else
            for (int ox = lo; ox < hi; ox++) dst[(int64_t)ox * d->stride_w] += src[ox];
    }
}

/* col (K, cols) of group g for tile c; sample i of the tile owns columns i*band .. */
static void im2col(const vt_conv2d_desc *d, const conv_plan *p, const conv_tile *c,
                   const float *x, int g, float *col) {
    const int64_t plane = (int64_t)d->h * d->w, band = (int64_t)(c->oy1 - c->oy0) * d->ow;
    const int taps = d->kh * d->kw;
    for (int i = 0; i < c->nb; i++)
        for (int ch = 0; ch < p->cin_g; ch++) {
            const float *xp = x + ((int64_t)(c->n0 + i) * d->c_in + (int64_t)g * p->cin_g + ch) * plane;
            for (int ki = 0; ki < d->kh; ki++)
                for (int kj = 0; kj < d->kw; kj++)
                    unfold_tap(d, xp, ki, kj, c->oy0, c->oy1,
                               col + ((int64_t)ch * taps + ki * d->kw + kj) * c->cols + i * band);
        }
}

static void col2im(const vt_conv2d_desc *d, const conv_plan *p, const conv_tile *c,
                   const float *col, int g, float *gx) {
    const int64_t plane = (int64_t)d->h * d->w, band = (int64_t)(c->oy1 - c->oy0) * d->ow;
    const int taps = d->kh * d->kw;
    for (int i = 0; i < c->nb; i++)
        for (int ch = 0; ch < p->cin_g; ch++) {
            float *gxp = gx + ((int64_t)(c->n0 + i) * d->c_in + (int64_t)g * p->cin_g + ch) * plane;
            for (int ki = 0; ki < d->kh; ki++)
                for (int kj = 0; kj < d->kw; kj++)
                    fold_tap(d, col + ((int64_t)ch * taps + ki * d->kw + kj) * c->cols + i * band,
                             ki, kj, c->oy0, c->oy1, gxp);
        }
}

/* gY of a tile as a (C_out, cols) matrix: in place (ld P) for one sample, else copied to tmp */
static const float *tile_grad(const vt_conv2d_desc *d, const conv_plan *p, const conv_tile *c,
                              const float *gy, float *tmp, int64_t *ld) {
    const int64_t P = p->P;
    if (c->nb == 1) { *ld = P; return gy + (int64_t)c->n0 * d->c_out * P + c->p0; }
    for (int co = 0; co < d->c_out; co++)
        for (int i = 0; i < c->nb; i++)
            memcpy(tmp + co * c->cols + i * P, gy + ((int64_t)(c->n0 + i) * d->c_out + co) * P,
                   (size_t)P * sizeof(float));
    *ld = c->cols;
    return tmp;
}

/* Runs tiles serially with threaded BLAS, or on `slots` OpenMP threads with BLAS on one
 * thread each (restored afterwards). */
static int blas_single(int parallel) {
    if (parallel) openblas_set_num_threads(1);
    return parallel;
}
static void blas_restore(int parallel) {
    if (parallel) openblas_set_num_threads(vt_get_num_threads());
}

static void forward_tile(const vt_conv2d_desc *d, const conv_plan *p, const conv_tile *c,
                         const float *x, const float *w, const float *b, float *y, float *slot) {
    const vt_backend *be = vt_backend_cpu();
    const int64_t P = p->P;
    float *col = slot, *tmp = slot + ((p->pointwise && p->nb == 1) ? 0 : (int64_t)p->K * p->cols);
    for (int g = 0; g < d->groups; g++) {
        const float *bm = col;
        int64_t ldb = c->cols;
        if (p->pointwise && c->nb == 1) {
            bm = x + ((int64_t)c->n0 * d->c_in + (int64_t)g * p->cin_g) * P + c->p0;
            ldb = P;
        } else im2col(d, p, c, x, g, col);
        float *out = c->nb == 1 ? y + ((int64_t)c->n0 * d->c_out + (int64_t)g * p->cout_g) * P + c->p0
                                : tmp + (int64_t)g * p->cout_g * c->cols;
        be->gemm(0, 0, p->cout_g, (int)c->cols, p->K, 1.f, w + (int64_t)g * p->cout_g * p->K,
                 p->K, bm, (int)ldb, 0.f, out, c->nb == 1 ? (int)P : (int)c->cols);
    }
    for (int co = 0; co < d->c_out; co++) {
        float bias = b ? b[co] : 0.f;
        if (c->nb == 1) {
            if (!b) continue;
            float *t = y + ((int64_t)c->n0 * d->c_out + co) * P + c->p0;
            for (int64_t k = 0; k < c->cols; k++) t[k] += bias;
        } else
            for (int i = 0; i < c->nb; i++) {
                const float *s = tmp + co * c->cols + i * P;
                float *t = y + ((int64_t)(c->n0 + i) * d->c_out + co) * P;
                for (int64_t k = 0; k < P; k++) t[k] = s[k] + bias;
            }
    }
}

void vt_cpu_conv2d_forward(const vt_conv2d_desc *d, const float *x, const float *w,
                           const float *b, float *y, void *work) {
    conv_plan p = make_plan(d);
    int par = blas_single(p.slots > 1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(p.slots) if (par)
    for (int64_t t = 0; t < p.tiles; t++) {
        conv_tile c = tile_at(d, &p, t);
        forward_tile(d, &p, &c, x, w, b, y, (float *)work + omp_get_thread_num() * p.slot_floats);
    }
    blas_restore(par);
}

static void backward_data_tile(const vt_conv2d_desc *d, const conv_plan *p, const conv_tile *c,
                               const float *gy, const float *w, float *gx, float *slot) {
    const vt_backend *be = vt_backend_cpu();
    const int64_t P = p->P;
    float *col = slot, *tmp = slot + ((p->pointwise && p->nb == 1) ? 0 : (int64_t)p->K * p->cols);
    int64_t ld;
    const float *gt = tile_grad(d, p, c, gy, tmp, &ld);
    for (int g = 0; g < d->groups; g++) {
        const float *wg = w + (int64_t)g * p->cout_g * p->K, *gg = gt + (int64_t)g * p->cout_g * ld;
        if (p->pointwise && c->nb == 1) { /* gx_n (C_in/G, band) += W_g^T @ gY */
            be->gemm(1, 0, p->cin_g, (int)c->cols, p->cout_g, 1.f, wg, p->K, gg, (int)ld, 1.f,
                     gx + ((int64_t)c->n0 * d->c_in + (int64_t)g * p->cin_g) * P + c->p0, (int)P);
            continue;
        }
        be->gemm(1, 0, p->K, (int)c->cols, p->cout_g, 1.f, wg, p->K, gg, (int)ld, 0.f, col,
                 (int)c->cols);
        col2im(d, p, c, col, g, gx);
    }
}

void vt_cpu_conv2d_backward_data(const vt_conv2d_desc *d, const float *gy, const float *w,
                                 float *gx, void *work) {
    conv_plan p = make_plan(d);
    /* bands of one sample overlap in gx: even bands, then odd ones (tiles of whole samples
     * never overlap: one phase) */
    int phases = p.bands > 1 ? 2 : 1;
    int par = blas_single(p.slots > 1);
    for (int ph = 0; ph < phases; ph++) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(p.slots) if (par)
        for (int64_t t = 0; t < p.tiles; t++) {
            if (phases == 2 && (t % p.bands) % 2 != ph) continue;
            conv_tile c = tile_at(d, &p, t);
            backward_data_tile(d, &p, &c, gy, w, gx,
                               (float *)work + omp_get_thread_num() * p.slot_floats);
        }
    }
    blas_restore(par);
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

/* gw_part (C_out, K) += gY @ col^T for one tile */
static void filter_tile(const vt_conv2d_desc *d, const conv_plan *p, const conv_tile *c,
                        const float *x, const float *gy, float *gw_part, float *slot) {
    const vt_backend *be = vt_backend_cpu();
    const int64_t P = p->P;
    float *col = slot, *tmp = slot + ((p->pointwise && p->nb == 1) ? 0 : (int64_t)p->K * p->cols);
    int64_t ld;
    const float *gt = tile_grad(d, p, c, gy, tmp, &ld);
    for (int g = 0; g < d->groups; g++) {
        const float *bm = col;
        int64_t ldb = c->cols;
        if (p->pointwise && c->nb == 1) {
            bm = x + ((int64_t)c->n0 * d->c_in + (int64_t)g * p->cin_g) * P + c->p0;
            ldb = P;
        } else im2col(d, p, c, x, g, col);
        be->gemm(0, 1, p->cout_g, p->K, (int)c->cols, 1.f, gt + (int64_t)g * p->cout_g * ld,
                 (int)ld, bm, (int)ldb, 1.f, gw_part + (int64_t)g * p->cout_g * p->K, p->K);
    }
}

void vt_cpu_conv2d_backward_filter(const vt_conv2d_desc *d, const float *x, const float *gy,
                                   float *gw, float *gb, void *work) {
    if (gb) bias_grad(d, gy, gb);
    if (!gw) return;
    conv_plan p = make_plan(d);
    if (p.partials == 1) { /* one accumulator: tiles in order, BLAS threads inside */
        for (int64_t t = 0; t < p.tiles; t++) {
            conv_tile c = tile_at(d, &p, t);
            filter_tile(d, &p, &c, x, gy, gw, work);
        }
        return;
    }
    /* partial f sums tiles [f*T/F, (f+1)*T/F) in order; partials are then added in order */
    float *parts = (float *)work + (size_t)p.slots * p.slot_floats;
    int par = blas_single(p.slots > 1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(p.slots) if (par)
    for (int f = 0; f < p.partials; f++) {
        float *part = parts + (size_t)f * p.wsize, *slot = (float *)work + omp_get_thread_num() * p.slot_floats;
        memset(part, 0, p.wsize * sizeof(float));
        for (int64_t t = f * p.tiles / p.partials; t < (f + 1) * p.tiles / p.partials; t++) {
            conv_tile c = tile_at(d, &p, t);
            filter_tile(d, &p, &c, x, gy, part, slot);
        }
    }
    blas_restore(par);
    const int64_t n = (int64_t)p.wsize;
#pragma omp parallel for schedule(static) if (n * p.partials > VT_OMP_MIN)
    for (int64_t k = 0; k < n; k++) {
        float s = 0.f;
        for (int f = 0; f < p.partials; f++) s += parts[(size_t)f * p.wsize + k];
        gw[k] += s;
    }
}
