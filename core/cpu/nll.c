/* nll.c: negative log-likelihood gather on the CPU.
 * x (n, c, s), targets (n, s) holding class indices as floats (validated by the front-end),
 * w (c) or NULL.  y[n, s] = -w[t] * x[n, t, s];  positions with t == ignore_index give 0. */
#include "cpu_kernels.h"

void vt_cpu_nll_forward(int64_t n, int64_t c, int64_t s, const float *x, const float *targets,
                        const float *w, int ignore_index, float *y) {
#pragma omp parallel for schedule(static) if (n * s > VT_OMP_MIN)
    for (int64_t i = 0; i < n * s; i++) {
        int64_t b = i / s, p = i % s;
        int t = (int)targets[i];
        if (t == ignore_index) { y[i] = 0.f; continue; }
        y[i] = -(w ? w[t] : 1.f) * x[(b * c + t) * s + p];
    }
}

/* gx[n, t, s] += -w[t] * gy[n, s]: one gradient element per (n, s), so no races */
void vt_cpu_nll_backward(int64_t n, int64_t c, int64_t s, const float *gy, const float *targets,
                         const float *w, int ignore_index, float *gx) {
#pragma omp parallel for schedule(static) if (n * s > VT_OMP_MIN)
    for (int64_t i = 0; i < n * s; i++) {
        int64_t b = i / s, p = i % s;
        int t = (int)targets[i];
        if (t == ignore_index) continue;
        gx[(b * c + t) * s + p] -= (w ? w[t] : 1.f) * gy[i];
    }
}
