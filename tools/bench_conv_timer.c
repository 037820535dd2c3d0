/* bench_conv_timer.c: time spent inside the conv kernels, for the bench's GEMM efficiency.
 * The bench swaps in a copy of the CPU kernel table (vt_backend_override_cpu) whose conv
 * entries wrap the real kernels with a clock; the normal path never sees this. Transposed
 * convs run on the same kernels (forward = conv backward-data and so on), so they count too.
 * Kernels are called from the main thread (OpenMP inside them), so plain counters suffice. */
#include "backend.h"
#include "bench.h"
#include "progress.h"

static const vt_backend *base;
static vt_backend timed;
static double conv_seconds, conv_flop;

static double flop2d(const vt_conv2d_desc *d) {
    return 2.0 * d->n * d->c_out * (double)d->oh * d->ow * (d->c_in / d->groups) * d->kh * d->kw;
}

static double flop3d(const vt_conv3d_desc *d) {
    return 2.0 * d->n * d->c_out * (double)d->od * d->oh * d->ow * (d->c_in / d->groups) * d->kd * d->kh *
           d->kw;
}

#define TIMED(call, flop)             \
    do {                              \
        double t0_ = vt_now();        \
        call;                         \
        conv_seconds += vt_now() - t0_; \
        conv_flop += (flop);          \
    } while (0)

static void c2_fwd(const vt_conv2d_desc *d, const float *x, const float *w, const float *b, float *y, void *work) {
    TIMED(base->conv2d_forward(d, x, w, b, y, work), flop2d(d));
}
static void c2_bwd_data(const vt_conv2d_desc *d, const float *gy, const float *w, float *gx, void *work) {
    TIMED(base->conv2d_backward_data(d, gy, w, gx, work), flop2d(d));
}
static void c2_bwd_filter(const vt_conv2d_desc *d, const float *x, const float *gy, float *gw, float *gb,
                          void *work) {
    TIMED(base->conv2d_backward_filter(d, x, gy, gw, gb, work), flop2d(d));
}
static void c3_fwd(const vt_conv3d_desc *d, const float *x, const float *w, const float *b, float *y, void *work) {
    TIMED(base->conv3d_forward(d, x, w, b, y, work), flop3d(d));
}
static void c3_bwd_data(const vt_conv3d_desc *d, const float *gy, const float *w, float *gx, void *work) {
    TIMED(base->conv3d_backward_data(d, gy, w, gx, work), flop3d(d));
}
static void c3_bwd_filter(const vt_conv3d_desc *d, const float *x, const float *gy, float *gw, float *gb,
                          void *work) {
    TIMED(base->conv3d_backward_filter(d, x, gy, gw, gb, work), flop3d(d));
}

void vt_bench_conv_timer_install(void) {
    base = vt_backend_cpu();
    timed = *base;
    timed.name = "cpu (bench conv timer)";
    timed.conv2d_forward = c2_fwd;
    timed.conv2d_backward_data = c2_bwd_data;
    timed.conv2d_backward_filter = c2_bwd_filter;
    timed.conv3d_forward = c3_fwd;
    timed.conv3d_backward_data = c3_bwd_data;
    timed.conv3d_backward_filter = c3_bwd_filter;
    vt_backend_override_cpu(&timed);
    vt_bench_conv_timer_reset();
}

void vt_bench_conv_timer_uninstall(void) { vt_backend_override_cpu(NULL); }

void vt_bench_conv_timer_reset(void) { conv_seconds = conv_flop = 0; }

void vt_bench_conv_timer_read(double *seconds, double *flop) {
    *seconds = conv_seconds;
    *flop = conv_flop;
}

double vt_bench_sgemm_gflops(int n, int reps) {
    const vt_backend *be = vt_backend_cpu();
    size_t bytes = (size_t)n * (size_t)n * sizeof(float);
    float *a = be->alloc(bytes), *b = be->alloc(bytes), *c = be->alloc(bytes);
    double best = 0;
    if (a && b && c) {
        for (size_t i = 0; i < (size_t)n * (size_t)n; i++) {
            a[i] = (float)(i % 7) * 0.25f - 0.75f;
            b[i] = (float)(i % 5) * 0.5f - 1.f;
            c[i] = 0;
        }
        for (int r = 0; r <= reps; r++) {
            double t0 = vt_now();
            be->gemm(0, 0, n, n, n, 1.f, a, n, b, n, 0.f, c, n);
            double s = vt_now() - t0;
            double gf = 2.0 * n * (double)n * n / s * 1e-9;
            if (r > 0 && gf > best) best = gf; /* r == 0 warms OpenBLAS's buffers and threads */
        }
    }
    be->free(a);
    be->free(b);
    be->free(c);
    return best;
}
