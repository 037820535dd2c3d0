/* batch_norm.c: batch normalisation on the CPU over x viewed as (n, c, s), s = spatial size.
 *
 * x and gx may be the first c channels of a wider buffer (n, xc, s), xc >= c (a dense
 * block's feature buffer: each layer normalises a channel prefix without copying it);
 * y and gy are always contiguous (n, c, s).
 *
 * Statistics per channel over n*s values. Sums run in 8 float lanes over blocks of at most
 * BLOCK values (vectorisable, bounded rounding) and are added up in double. One channel per
 * thread: each channel's statistics and outputs are owned by one thread, so results do not
 * depend on the thread count. w / b may be NULL (scale 1, shift 0). */
#include <math.h>
#include "../internal.h"
#include "cpu_kernels.h"

#define BLOCK 1024

/* sum of v[0..len) */
static double block_sum(const float *v, int64_t len) {
    double total = 0;
    for (int64_t b0 = 0; b0 < len; b0 += BLOCK) {
        int64_t e = b0 + BLOCK < len ? b0 + BLOCK : len, k = b0;
        float s[8] = {0};
        for (; k + 8 <= e; k += 8)
            for (int l = 0; l < 8; l++) s[l] += v[k + l];
        for (; k < e; k++) s[0] += v[k];
        total += (double)s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
    }
    return total;
}

/* sum of (v - m)^2 */
static double block_sq_dev(const float *v, int64_t len, float m) {
    double total = 0;
    for (int64_t b0 = 0; b0 < len; b0 += BLOCK) {
        int64_t e = b0 + BLOCK < len ? b0 + BLOCK : len, k = b0;
        float s[8] = {0};
        for (; k + 8 <= e; k += 8)
            for (int l = 0; l < 8; l++) { float t = v[k + l] - m; s[l] += t * t; }
        for (; k < e; k++) { float t = v[k] - m; s[0] += t * t; }
        total += (double)s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
    }
    return total;
}

/* sum of g and of g * (v - m) */
static void block_dot(const float *g, const float *v, int64_t len, float m, double *sg,
                      double *sgv) {
    for (int64_t b0 = 0; b0 < len; b0 += BLOCK) {
        int64_t e = b0 + BLOCK < len ? b0 + BLOCK : len, k = b0;
        float a[8] = {0}, c[8] = {0};
        for (; k + 8 <= e; k += 8)
            for (int l = 0; l < 8; l++) { a[l] += g[k + l]; c[l] += g[k + l] * (v[k + l] - m); }
        for (; k < e; k++) { a[0] += g[k]; c[0] += g[k] * (v[k] - m); }
        for (int l = 0; l < 8; l++) { *sg += a[l]; *sgv += c[l]; }
    }
}

/* y = x * scale + shift over channel ch */
static void affine_channel(int64_t n, int64_t c, int64_t xc, int64_t s, int64_t ch, const float *x,
                           float scale, float shift, float *y) {
    for (int64_t i = 0; i < n; i++) {
        const float *xr = x + (i * xc + ch) * s;
        float *yr = y + (i * c + ch) * s;
        for (int64_t k = 0; k < s; k++) yr[k] = xr[k] * scale + shift;
    }
}

void vt_cpu_batch_norm_train(int64_t n, int64_t c, int64_t xc, int64_t s, const float *x, const float *w,
                             const float *b, float *y, float *mean, float *invstd,
                             float *running_mean, float *running_var, float momentum, float eps) {
    const int64_t m = n * s;
#pragma omp parallel for schedule(static) if (n * c * s > VT_OMP_MIN && c > 1)
    for (int64_t ch = 0; ch < c; ch++) {
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < n; i++) sum += block_sum(x + (i * xc + ch) * s, s);
        float mu = (float)(sum / (double)m);
        for (int64_t i = 0; i < n; i++) sq += block_sq_dev(x + (i * xc + ch) * s, s, mu);
        double var = sq / (double)m; /* biased: used to normalise */
        float is = (float)(1.0 / sqrt(var + (double)eps));
        mean[ch] = mu;
        invstd[ch] = is;
        if (running_mean) running_mean[ch] = (1.f - momentum) * running_mean[ch] + momentum * mu;
        if (running_var) /* unbiased, as PyTorch */
            running_var[ch] = (1.f - momentum) * running_var[ch] +
                              momentum * (float)(m > 1 ? sq / (double)(m - 1) : var);
        float scale = (w ? w[ch] : 1.f) * is, shift = (b ? b[ch] : 0.f) - mu * scale;
        affine_channel(n, c, xc, s, ch, x, scale, shift, y);
    }
}

void vt_cpu_batch_norm_eval(int64_t n, int64_t c, int64_t xc, int64_t s, const float *x, const float *w,
                            const float *b, const float *running_mean, const float *running_var,
                            float eps, float *y) {
#pragma omp parallel for schedule(static) if (n * c * s > VT_OMP_MIN && c > 1)
    for (int64_t ch = 0; ch < c; ch++) {
        float is = 1.f / sqrtf(running_var[ch] + eps);
        float scale = (w ? w[ch] : 1.f) * is;
        float shift = (b ? b[ch] : 0.f) - running_mean[ch] * scale;
        affine_channel(n, c, xc, s, ch, x, scale, shift, y);
    }
}

/* With xhat = (x - mean) * invstd and batch statistics (training):
 *   gb += sum gy, gw += sum gy * xhat,
 *   gx += w * invstd * (gy - sum(gy)/M - xhat * sum(gy * xhat)/M).
 * gx == NULL gives just gw/gb (also right for eval mode, with the running statistics). */
void vt_cpu_batch_norm_backward(int64_t n, int64_t c, int64_t xc, int64_t s, const float *x, const float *gy,
                                const float *w, const float *mean, const float *invstd,
                                float *gx, float *gw, float *gb) {
    const int64_t m = n * s;
#pragma omp parallel for schedule(static) if (n * c * s > VT_OMP_MIN && c > 1)
    for (int64_t ch = 0; ch < c; ch++) {
        double sg = 0, sgv = 0;
        const float mu = mean[ch], is = invstd[ch];
        for (int64_t i = 0; i < n; i++)
            block_dot(gy + (i * c + ch) * s, x + (i * xc + ch) * s, s, mu, &sg, &sgv);
        double sgxhat = sgv * is; /* sum gy * xhat */
        if (gb) gb[ch] += (float)sg;
        if (gw) gw[ch] += (float)sgxhat;
        if (!gx) continue;
        /* gx = k * (gy - a - (x - mu) * bcoef) */
        float k = (w ? w[ch] : 1.f) * is, a = (float)(sg / (double)m),
              bcoef = (float)(sgxhat / (double)m) * is;
        for (int64_t i = 0; i < n; i++) {
            const float *g = gy + (i * c + ch) * s, *xr = x + (i * xc + ch) * s;
            float *o = gx + (i * xc + ch) * s;
            for (int64_t j = 0; j < s; j++) o[j] += k * (g[j] - a - (xr[j] - mu) * bcoef);
        }
    }
}
