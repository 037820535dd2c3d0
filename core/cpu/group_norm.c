/* group_norm.c: group normalisation on the CPU over x viewed as (n, c, s), s = spatial size.
 *
 * Channels are split into g groups of cg = c/g; group (i, k) is the contiguous run
 * x[i, k*cg : (k+1)*cg, :] of m = cg*s values, normalised with its own mean and biased
 * variance, then scaled per channel. Instance norm is the case g == c.
 * Sums are accumulated in double. Each (sample, group) is owned by one thread for y and gx,
 * each channel by one thread for gw/gb (summed over samples in order), so results do not
 * depend on the thread count. w / b may be NULL (scale 1, shift 0). */
#include <math.h>
#include "../internal.h"
#include "cpu_kernels.h"

static double sum_of(const float *v, int64_t len) {
    double t = 0;
    for (int64_t k = 0; k < len; k++) t += v[k];
    return t;
}

static double sq_dev_of(const float *v, int64_t len, float m) {
    double t = 0;
    for (int64_t k = 0; k < len; k++) { double d = (double)v[k] - m; t += d * d; }
    return t;
}

/* sum of g and of g * (v - m) over one channel row */
static void dot_of(const float *g, const float *v, int64_t len, float m, double *sg,
                   double *sgv) {
    double a = 0, b = 0;
    for (int64_t k = 0; k < len; k++) { a += g[k]; b += (double)g[k] * ((double)v[k] - m); }
    *sg = a;
    *sgv = b;
}

void vt_cpu_group_norm_forward(int64_t n, int64_t c, int64_t s, int64_t g, const float *x,
                               const float *w, const float *b, float eps, float *y,
                               float *mean, float *invstd) {
    const int64_t cg = c / g, m = cg * s;
#pragma omp parallel for schedule(static) if (n * c * s > VT_OMP_MIN && n * g > 1)
    for (int64_t ig = 0; ig < n * g; ig++) {
        const int64_t off = ig * m; /* (i, k) starts at (i*c + k*cg) * s = ig * m */
        float mu = (float)(sum_of(x + off, m) / (double)m);
        double var = sq_dev_of(x + off, m, mu) / (double)m;
        float is = (float)(1.0 / sqrt(var + (double)eps));
        mean[ig] = mu;
        invstd[ig] = is;
        const int64_t c0 = (ig % g) * cg;
        for (int64_t j = 0; j < cg; j++) {
            float scale = (w ? w[c0 + j] : 1.f) * is, shift = (b ? b[c0 + j] : 0.f) - mu * scale;
            const float *xr = x + off + j * s;
            float *yr = y + off + j * s;
            for (int64_t k = 0; k < s; k++) yr[k] = xr[k] * scale + shift;
        }
    }
}

/* With xhat = (x - mu) * is per group and gxhat = gy * w[ch]:
 *   gb[ch] += sum gy, gw[ch] += sum gy * xhat   (over samples and spatial positions),
 *   gx = is * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat))   (means over the group)
 *      = is * w * gy - is * S1 / m - (x - mu) * is^3 * S2 / m,
 *   S1 = sum_group w * gy, S2 = sum_group w * gy * (x - mu). */
void vt_cpu_group_norm_backward(int64_t n, int64_t c, int64_t s, int64_t g, const float *x,
                                const float *gy, const float *w, const float *mean,
                                const float *invstd, float *gx, float *gw, float *gb) {
    const int64_t cg = c / g, m = cg * s;
    const int par = n * c * s > VT_OMP_MIN;
    if (gw || gb) {
#pragma omp parallel for schedule(static) if (par && c > 1)
        for (int64_t ch = 0; ch < c; ch++) {
            double tg = 0, tgx = 0;
            for (int64_t i = 0; i < n; i++) {
                const int64_t ig = i * g + ch / cg, off = (i * c + ch) * s;
                double sg, sgv;
                dot_of(gy + off, x + off, s, mean[ig], &sg, &sgv);
                tg += sg;
                tgx += sgv * invstd[ig];
            }
            if (gb) gb[ch] += (float)tg;
            if (gw) gw[ch] += (float)tgx;
        }
    }
    if (!gx) return;
#pragma omp parallel for schedule(static) if (par && n * g > 1)
    for (int64_t ig = 0; ig < n * g; ig++) {
        const int64_t off = ig * m, c0 = (ig % g) * cg;
        const float mu = mean[ig], is = invstd[ig];
        double s1 = 0, s2 = 0;
        for (int64_t j = 0; j < cg; j++) {
            double sg, sgv, wj = w ? w[c0 + j] : 1.0;
            dot_of(gy + off + j * s, x + off + j * s, s, mu, &sg, &sgv);
            s1 += wj * sg;
            s2 += wj * sgv;
        }
        const float a = (float)(is * s1 / (double)m);
        const float bcoef = (float)((double)is * is * is * s2 / (double)m);
        for (int64_t j = 0; j < cg; j++) {
            const float k = (w ? w[c0 + j] : 1.f) * is;
            const float *gr = gy + off + j * s, *xr = x + off + j * s;
            float *o = gx + off + j * s;
            for (int64_t q = 0; q < s; q++) o[q] += k * gr[q] - a - (xr[q] - mu) * bcoef;
        }
    }
}
