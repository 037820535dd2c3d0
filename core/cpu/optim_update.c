/* optim_update.c: optimizer updates over the flat parameter/gradient buffers on the CPU,
 * with the exact operation order of torch.optim (PyTorch 1.13, single-tensor path), so a
 * step matches PyTorch to float rounding. */
#include <math.h>
#include <stdlib.h>
#include "cpu_kernels.h"

/* torch.optim.SGD: d = g + wd p; buf = d (first step) or momentum buf + (1 - dampening) d;
 * d = nesterov ? d + momentum buf : buf; p -= lr d.  buf may be NULL when momentum == 0. */
void vt_cpu_sgd_update(int64_t n, float *p, const float *g, float *buf, float lr, float momentum,
                       float dampening, float weight_decay, int nesterov, int first_step) {
    const float damp = 1.f - dampening;
#pragma omp parallel for schedule(static) if (n > VT_OMP_MIN)
    for (int64_t i = 0; i < n; i++) {
        float d = g[i];
        if (weight_decay != 0.f) d += weight_decay * p[i];
        if (momentum != 0.f) {
            float b = first_step ? d : buf[i] * momentum + d * damp;
            buf[i] = b;
            d = nesterov ? d + momentum * b : b;
        }
        p[i] += -lr * d;
    }
}

/* torch.optim.Adam (decoupled == 0: L2 term added to the gradient) and torch.optim.AdamW
 * (decoupled == 1: p *= 1 - lr wd first). step counts from 1.
 *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
 *   p -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps) */
void vt_cpu_adam_update(int64_t n, float *p, const float *g, float *m, float *v, float lr,
                        float beta1, float beta2, float eps, float weight_decay, int decoupled,
                        int64_t step) {
    /* bias corrections as torch computes them: Python floats (double), then used as scalars */
    double bc1 = 1.0 - pow((double)beta1, (double)step);
    double bc2 = 1.0 - pow((double)beta2, (double)step);
    const float step_size = (float)((double)lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float decay = decoupled ? (float)(1.0 - (double)lr * (double)weight_decay) : 1.f;
    const float l2 = decoupled ? 0.f : weight_decay;
    const float one_b1 = 1.f - beta1, one_b2 = 1.f - beta2;
#pragma omp parallel for schedule(static) if (n > VT_OMP_MIN)
    for (int64_t i = 0; i < n; i++) {
        float pi = p[i] * decay;
        float gi = g[i] + l2 * pi;
        float mi = m[i] * beta1 + gi * one_b1;
        float vi = v[i] * beta2 + gi * gi * one_b2;
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        p[i] = pi + -step_size * (mi / denom);
    }
}

/* sum of x^2 in double over fixed blocks summed in order: the same bits for any thread
 * count (gradient-norm clipping must not depend on OMP_NUM_THREADS). */
#define SS_MAX_BLOCKS 1024
double vt_cpu_sum_squares(int64_t n, const float *x) {
    if (n <= 0) return 0.0;
    int64_t block = 65536;
    if ((n + block - 1) / block > SS_MAX_BLOCKS) block = (n + SS_MAX_BLOCKS - 1) / SS_MAX_BLOCKS;
    int64_t nb = (n + block - 1) / block;
    double part[SS_MAX_BLOCKS];
#pragma omp parallel for schedule(static) if (n > VT_OMP_MIN)
    for (int64_t b = 0; b < nb; b++) {
        int64_t lo = b * block, hi = lo + block < n ? lo + block : n;
        double s = 0.0;
        for (int64_t i = lo; i < hi; i++) s += (double)x[i] * (double)x[i];
        part[b] = s;
    }
    double total = 0.0;
    for (int64_t b = 0; b < nb; b++) total += part[b];
    return total;
}

void vt_cpu_scale(int64_t n, float *x, float s) {
#pragma omp parallel for schedule(static) if (n > VT_OMP_MIN)
    for (int64_t i = 0; i < n; i++) x[i] *= s;
}
