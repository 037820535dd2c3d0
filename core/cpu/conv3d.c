/* conv3d.c: 3D convolution on the CPU as vol2col + sgemm over tiles.
 *
 * Shapes: x (N, C_in, D, H, W), w (C_out, C_in/G, kd, kh, kw), y (N, C_out, od, oh, ow);
 * per group K = C_in/G * kd * kh * kw, P = od * oh * ow.
 *
 * The output of one sample is R = od * oh rows of ow columns. A TILE is a band of
 * consecutive rows of one sample, as many as keep its column matrix col (K, rows * ow)
 * under SLOT_LIMIT: a 1x32x64x64x64 input with 3x3x3 kernels (K = 864, ow = 64) runs in
 * bands of 18 rows, 3.8 MB per thread, instead of one 450 MB column matrix. Per tile and
 * group Y (C_out/G, cols) = W_g @ col is written in place into y (ld P).
 *
 * forward: tiles own disjoint outputs and run on OpenMP threads.
 * backward data: col = W_g^T @ gY, col2vol accumulates into gx. Bands of one sample
 *   overlap in gx (kernel halo), so each thread owns whole samples and runs their bands in
 *   order.
 * backward filter: gW += gY @ col^T summed into `partials` buffers (a count fixed by the
 *   shape, not the thread count), then added in order.
 * Parallel loops call single-threaded sgemm (see conv2d.c for why); with one unit of work
 * the loop runs serially on OpenBLAS's threads. Results do not depend on the number of
 * threads except through OpenBLAS's own blocking.
 *
 * The output size is taken from the desc, not recomputed: transposed convolutions call
 * these kernels with an output smaller than the conv formula gives (output_padding).
 * 1x1x1 stride-1 pad-0 convs with equal input and output sizes use x (C_in, P) as col.
 * Workspace: slots x K x cols + partials x |w| floats, slots = min(threads, tiles). */
#include <omp.h>
#include <string.h>
#include "../internal.h"
#include "cpu_kernels.h"

void openblas_set_num_threads(int num_threads);

#define SLOT_LIMIT (4u << 20)      /* bytes of col per thread */
#define MAX_PARTIALS 16
#define PARTIALS_LIMIT (32u << 20) /* bytes of gW partial buffers at most */

typedef struct {
    int cin_g, cout_g, K, pointwise;
    int64_t R, P;     /* output rows (od * oh) and columns (od * oh * ow) per sample */
    int64_t rows;     /* output rows per tile */
    int64_t bands;    /* tiles per sample */
    int64_t tiles, cols;
    int slots;        /* col buffers, one per thread */
    int partials;     /* gW partial buffers; 1: accumulate straight into gw */
    size_t slot_floats, wsize;
} conv3_plan;

static conv3_plan make_plan(const vt_conv3d_desc *d) {
    conv3_plan p;
    memset(&p, 0, sizeof p);
    p.cin_g = d->c_in / d->groups;
    p.cout_g = d->c_out / d->groups;
    p.K = p.cin_g * d->kd * d->kh * d->kw;
    p.R = (int64_t)d->od * d->oh;
    p.P = p.R * d->ow;
    p.pointwise = d->kd == 1 && d->kh == 1 && d->kw == 1 && d->stride_d == 1 &&
                  d->stride_h == 1 && d->stride_w == 1 && d->pad_d == 0 && d->pad_h == 0 &&
                  d->pad_w == 0 && d->od == d->d && d->oh == d->h && d->ow == d->w;
    int64_t rows = SLOT_LIMIT / ((int64_t)p.K * d->ow * (int64_t)sizeof(float));
    if (rows < 1) rows = 1;
    if (rows > p.R) rows = p.R;
    p.rows = rows;
    p.bands = rows ? (p.R + rows - 1) / rows : 0;
    p.tiles = (int64_t)d->n * p.bands;
    p.cols = rows * d->ow;
    int threads = omp_get_max_threads();
    p.slots = (int)(p.tiles < threads ? p.tiles : threads);
    if (p.slots < 1) p.slots = 1;
    p.slot_floats = p.pointwise ? 0 : ((size_t)p.K * p.cols + 15) / 16 * 16; /* 64-byte aligned */
    p.wsize = (size_t)d->c_out * p.K;
    int64_t fit = (int64_t)(PARTIALS_LIMIT / (p.wsize * sizeof(float) + 1));
    int64_t parts = p.tiles < MAX_PARTIALS ? p.tiles : MAX_PARTIALS;
    if (parts > fit) parts = fit;
    p.partials = parts > 1 ? (int)parts : 1;
    return p;
}

size_t vt_cpu_conv3d_workspace(const vt_conv3d_desc *d) {
    conv3_plan p = make_plan(d);
    size_t partial = p.partials > 1 ? (size_t)p.partials * p.wsize : 0;
    return ((size_t)p.slots * p.slot_floats + partial) * sizeof(float);
}

/* one tile: output rows r0 .. r1-1 of sample n; p0 its first column within the sample */
typedef struct { int n; int64_t r0, r1, cols, p0; } conv3_tile;

static conv3_tile tile_at(const vt_conv3d_desc *d, const conv3_plan *p, int64_t t) {
    conv3_tile c;
    c.n = (int)(t / p->bands);
    c.r0 = (t % p->bands) * p->rows;
    c.r1 = c.r0 + p->rows < p->R ? c.r0 + p->rows : p->R;
    c.p0 = c.r0 * d->ow;
    c.cols = (c.r1 - c.r0) * d->ow;
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

/* Input row (z, y) read by output row r for tap (kz, ky); -1 when it lies in the padding. */
static inline int64_t input_row(const vt_conv3d_desc *d, int64_t r, int kz, int ky) {
    int oz = (int)(r / d->oh), oy = (int)(r % d->oh);
    int iz = oz * d->stride_d - d->pad_d + kz * d->dil_d;
    int iy = oy * d->stride_h - d->pad_h + ky * d->dil_h;
    if (iz < 0 || iz >= d->d || iy < 0 || iy >= d->h) return -1;
    return (int64_t)iz * d->h + iy;
}

/* rows r0..r1 of tap (kz, ky, kx) of volume xv (D, H, W) into dst (rows, ow); zeros in padding */
static void unfold_tap(const vt_conv3d_desc *d, const float *xv, int kz, int ky, int kx,
                       const conv3_tile *c, float *dst) {
    int offw = kx * d->dil_w - d->pad_w, lo, hi;
    valid_range(d->ow, d->w, d->stride_w, offw, &lo, &hi);
    for (int64_t r = c->r0; r < c->r1; r++, dst += d->ow) {
        int64_t row = input_row(d, r, kz, ky);
        if (row < 0 || lo == hi) { memset(dst, 0, (size_t)d->ow * sizeof(float)); continue; }
        const float *src = xv + row * d->w + offw;
        if (lo) memset(dst, 0, (size_t)lo * sizeof(float));
        if (d->stride_w == 1) memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof(float));
        else
            for (int ox = lo; ox < hi; ox++) dst[ox] = src[(int64_t)ox * d->stride_w];
        if (hi < d->ow) memset(dst + hi, 0, (size_t)(d->ow - hi) * sizeof(float));
    }
}

/* adjoint of unfold_tap: gxv (D, H, W) += src (rows, ow) */
static void fold_tap(const vt_conv3d_desc *d, const float *src, int kz, int ky, int kx,
                     const conv3_tile *c, float *gxv) {
    int offw = kx * d->dil_w - d->pad_w, lo, hi;
    valid_range(d->ow, d->w, d->stride_w, offw, &lo, &hi);
    if (lo == hi) return;
    for (int64_t r = c->r0; r < c->r1; r++, src += d->ow) {
        int64_t row = input_row(d, r, kz, ky);
        if (row < 0) continue;
        float *dst = gxv + row * d->w + offw;
        if (d->stride_w == 1)
            for (int ox = lo; ox < hi; ox++) dst[ox] += src[ox];
        else
            for (int ox = lo; ox < hi; ox++) dst[(int64_t)ox * d->stride_w] += src[ox];
    }
}

/* col (K, cols) of group g for tile c; row (ch, kz, ky, kx) matches w's layout */
static void vol2col(const vt_conv3d_desc *d, const conv3_plan *p, const conv3_tile *c,
                    const float *x, int g, float *col) {
    const int64_t vol = (int64_t)d->d * d->h * d->w;
    for (int ch = 0; ch < p->cin_g; ch++) {
        const float *xv = x + ((int64_t)c->n * d->c_in + (int64_t)g * p->cin_g + ch) * vol;
        for (int kz = 0; kz < d->kd; kz++)
            for (int ky = 0; ky < d->kh; ky++)
                for (int kx = 0; kx < d->kw; kx++, col += c->cols)
                    unfold_tap(d, xv, kz, ky, kx, c, col);
    }
}

static void col2vol(const vt_conv3d_desc *d, const conv3_plan *p, const conv3_tile *c,
                    const float *col, int g, float *gx) {
    const int64_t vol = (int64_t)d->d * d->h * d->w;
    for (int ch = 0; ch < p->cin_g; ch++) {
        float *gxv = gx + ((int64_t)c->n * d->c_in + (int64_t)g * p->cin_g + ch) * vol;
        for (int kz = 0; kz < d->kd; kz++)
            for (int ky = 0; ky < d->kh; ky++)
                for (int kx = 0; kx < d->kw; kx++, col += c->cols)
                    fold_tap(d, col, kz, ky, kx, c, gxv);
    }
}

/* The (K, cols) operand of group g: x itself for pointwise convs, else vol2col into slot. */
static const float *columns(const vt_conv3d_desc *d, const conv3_plan *p, const conv3_tile *c,
                            const float *x, int g, float *slot, int64_t *ld) {
    if (p->pointwise) {
        *ld = p->P;
        return x + ((int64_t)c->n * d->c_in + (int64_t)g * p->cin_g) * p->P + c->p0;
    }
    vol2col(d, p, c, x, g, slot);
    *ld = c->cols;
    return slot;
}

static int blas_single(int parallel) {
    if (parallel) openblas_set_num_threads(1);
    return parallel;
}
static void blas_restore(int parallel) {
    if (parallel) openblas_set_num_threads(vt_get_num_threads());
}

static void forward_tile(const vt_conv3d_desc *d, const conv3_plan *p, const conv3_tile *c,
                         const float *x, const float *w, const float *b, float *y, float *slot) {
    const vt_backend *be = vt_backend_cpu();
    for (int g = 0; g < d->groups; g++) {
        int64_t ldb;
        const float *bm = columns(d, p, c, x, g, slot, &ldb);
        float *out = y + ((int64_t)c->n * d->c_out + (int64_t)g * p->cout_g) * p->P + c->p0;
        be->gemm(0, 0, p->cout_g, (int)c->cols, p->K, 1.f, w + (int64_t)g * p->cout_g * p->K,
                 p->K, bm, (int)ldb, 0.f, out, (int)p->P);
    }
    if (!b) return;
    for (int co = 0; co < d->c_out; co++) {
        float *t = y + ((int64_t)c->n * d->c_out + co) * p->P + c->p0;
        for (int64_t k = 0; k < c->cols; k++) t[k] += b[co];
    }
}

void vt_cpu_conv3d_forward(const vt_conv3d_desc *d, const float *x, const float *w,
                           const float *b, float *y, void *work) {
    conv3_plan p = make_plan(d);
    int par = blas_single(p.slots > 1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(p.slots) if (par)
    for (int64_t t = 0; t < p.tiles; t++) {
        conv3_tile c = tile_at(d, &p, t);
        forward_tile(d, &p, &c, x, w, b, y, (float *)work + omp_get_thread_num() * p.slot_floats);
    }
    blas_restore(par);
}

/* gx of sample n += the adjoint of every band of n, in band order */
static void backward_data_sample(const vt_conv3d_desc *d, const conv3_plan *p, int n,
                                 const float *gy, const float *w, float *gx, float *slot) {
    const vt_backend *be = vt_backend_cpu();
    for (int64_t t = (int64_t)n * p->bands; t < (int64_t)(n + 1) * p->bands; t++) {
        conv3_tile c = tile_at(d, p, t);
        for (int g = 0; g < d->groups; g++) {
            const float *wg = w + (int64_t)g * p->cout_g * p->K;
            const float *gg = gy + ((int64_t)c.n * d->c_out + (int64_t)g * p->cout_g) * p->P + c.p0;
            if (p->pointwise) { /* gx_n (C_in/G, band) += W_g^T @ gY */
                be->gemm(1, 0, p->cin_g, (int)c.cols, p->cout_g, 1.f, wg, p->K, gg, (int)p->P, 1.f,
                         gx + ((int64_t)c.n * d->c_in + (int64_t)g * p->cin_g) * p->P + c.p0,
                         (int)p->P);
                continue;
            }
            be->gemm(1, 0, p->K, (int)c.cols, p->cout_g, 1.f, wg, p->K, gg, (int)p->P, 0.f, slot,
                     (int)c.cols);
            col2vol(d, p, &c, slot, g, gx);
        }
    }
}

void vt_cpu_conv3d_backward_data(const vt_conv3d_desc *d, const float *gy, const float *w,
                                 float *gx, void *work) {
    conv3_plan p = make_plan(d);
    int slots = p.slots < d->n ? p.slots : d->n;
    int par = blas_single(slots > 1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(slots > 1 ? slots : 1) if (par)
    for (int n = 0; n < d->n; n++)
        backward_data_sample(d, &p, n, gy, w, gx,
                             (float *)work + omp_get_thread_num() * p.slot_floats);
    blas_restore(par);
}

/* gb[co] += sum over n and P of gy; one channel per thread, summed in double */
static void bias_grad(const vt_conv3d_desc *d, const float *gy, float *gb) {
    const int64_t P = (int64_t)d->od * d->oh * d->ow;
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
static void filter_tile(const vt_conv3d_desc *d, const conv3_plan *p, const conv3_tile *c,
                        const float *x, const float *gy, float *gw_part, float *slot) {
    const vt_backend *be = vt_backend_cpu();
    for (int g = 0; g < d->groups; g++) {
        int64_t ldb;
        const float *bm = columns(d, p, c, x, g, slot, &ldb);
        const float *gg = gy + ((int64_t)c->n * d->c_out + (int64_t)g * p->cout_g) * p->P + c->p0;
        be->gemm(0, 1, p->cout_g, p->K, (int)c->cols, 1.f, gg, (int)p->P, bm, (int)ldb, 1.f,
                 gw_part + (int64_t)g * p->cout_g * p->K, p->K);
    }
}

void vt_cpu_conv3d_backward_filter(const vt_conv3d_desc *d, const float *x, const float *gy,
                                   float *gw, float *gb, void *work) {
    if (gb) bias_grad(d, gy, gb);
    if (!gw) return;
    conv3_plan p = make_plan(d);
    if (p.partials == 1) { /* one accumulator: tiles in order, BLAS threads inside */
        for (int64_t t = 0; t < p.tiles; t++) {
            conv3_tile c = tile_at(d, &p, t);
            filter_tile(d, &p, &c, x, gy, gw, work);
        }
        return;
    }
    /* partial f sums tiles [f*T/F, (f+1)*T/F) in order; partials are then added in order */
    float *parts = (float *)work + (size_t)p.slots * p.slot_floats;
    int par = blas_single(p.slots > 1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(p.slots) if (par)
    for (int f = 0; f < p.partials; f++) {
        float *part = parts + (size_t)f * p.wsize;
        float *slot = (float *)work + omp_get_thread_num() * p.slot_floats;
        memset(part, 0, p.wsize * sizeof(float));
        for (int64_t t = f * p.tiles / p.partials; t < (f + 1) * p.tiles / p.partials; t++) {
            conv3_tile c = tile_at(d, &p, t);
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
