/* self_paced.c: self-paced learning sample weights, the closed-form minimisers over
 * v in [0, 1] of sum_i v_i l_i + f(v; lambda):
 *   HARD    f = -lambda sum v          (Kumar, Packer, Koller, "Self-Paced Learning for
 *                                       Latent Variable Models", NIPS 2010): v = [l < lambda]
 *   LINEAR  f = lambda (|v|^2/2 - sum v)  (Jiang, Meng, Mitamura, Hauptmann, "Easy Samples
 *                                       First: Self-paced Reranking for Zero-Example Multimedia
 *                                       Search", ACM MM 2014): v = max(0, 1 - l / lambda)
 *   MIXTURE f = -zeta sum ln(v + zeta / lambda), zeta = lambda lambda2 / (lambda - lambda2),
 *           lambda > lambda2 > 0 (same paper): v = 1 if l <= lambda2, 0 if l >= lambda,
 *           zeta / l - zeta / lambda between (1 at lambda2, 0 at lambda: continuous).
 * (A squared-loss variant, Zhao et al. AAAI 2015, puts the thresholds at lambda^2 and
 * (lambda lambda2 / (lambda + lambda2))^2 with zeta/sqrt(l); it is not this one.)
 * The schedule picks lambda as a quantile of the current losses so that a growing fraction
 * of the easiest samples is included each epoch. Host-side, no graph. */
#include <math.h>
#include <stdlib.h>
#include "internal.h"
#include "loss_masks.h"
#include "loss_reduce.h"
#include "losses_extra.h"

static float weight(vt_spl_scheme s, float l, float lambda, float lambda2) {
    switch (s) {
    case VT_SPL_HARD: return l < lambda ? 1.f : 0.f;
    case VT_SPL_LINEAR: return l < lambda ? 1.f - l / lambda : 0.f;
    case VT_SPL_MIXTURE: {
        if (l <= lambda2) return 1.f;
        if (l >= lambda) return 0.f;
        double zeta = (double)lambda * lambda2 / ((double)lambda - lambda2);
        double v = zeta / l - zeta / lambda;
        return (float)(v < 0 ? 0 : (v > 1 ? 1 : v));
    }
    }
    return 0.f;
}

vt_tensor *vt_spl_weights(vt_tensor *losses, vt_spl_scheme scheme, float lambda, float lambda2) {
    VT_CHECK_IN(losses);
    if (losses->ndim != 1) {
        vt_error("spl_weights: losses %s must be (N), one per sample (VT_REDUCE_PER_SAMPLE)", vt_sstr(losses));
        return NULL;
    }
    if ((unsigned)scheme > VT_SPL_MIXTURE) {
        vt_error("spl_weights: unknown scheme %d", (int)scheme);
        return NULL;
    }
    if ((scheme != VT_SPL_HARD && !(lambda > 0.f)) || isnan(lambda) ||
        (scheme == VT_SPL_MIXTURE && !(lambda2 > 0.f && lambda2 < lambda))) {
        vt_error("spl_weights: need lambda > 0 (got %g; HARD takes any) and, for MIXTURE, "
                 "0 < lambda2 < lambda (got %g)", (double)lambda, (double)lambda2);
        return NULL;
    }
    int own = 0;
    const float *lh = vt_loss_host_data(losses, &own);
    float *v = lh ? malloc((size_t)losses->numel * sizeof(float) + 1) : NULL;
    vt_tensor *out = NULL;
    if (v) {
        for (int64_t i = 0; i < losses->numel; i++) v[i] = weight(scheme, lh[i], lambda, lambda2);
        out = vt_loss_const("spl_weights", 1, losses->shape, losses->device, v);
    } else if (lh) {
        vt_error("spl_weights: out of memory for %s", vt_sstr(losses));
    }
    if (own) free((void *)lh);
    free(v);
    return out;
}

double vt_spl_fraction(double f0, double step, double growth, int epoch) {
    double f = growth > 0 ? f0 * pow(growth, epoch) : f0 + epoch * step;
    return f < 0 ? 0 : (f > 1 ? 1 : f);
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

vt_status vt_spl_lambda_for_fraction(const vt_tensor *losses, double fraction, float *lambda) {
    if (!losses || !lambda) return vt_error("spl_lambda_for_fraction: NULL losses or lambda");
    if (losses->ndim != 1 || losses->numel < 1)
        return vt_error("spl_lambda_for_fraction: losses %s must be (N), N >= 1", vt_sstr(losses));
    if (!(fraction >= 0 && fraction <= 1))
        return vt_error("spl_lambda_for_fraction: fraction %g is not in [0, 1]", fraction);
    int own = 0;
    const float *lh = vt_loss_host_data(losses, &own);
    float *sorted = lh ? malloc((size_t)losses->numel * sizeof(float)) : NULL;
    if (!sorted) {
        if (own) free((void *)lh);
        return lh ? vt_error("spl_lambda_for_fraction: out of memory") : VT_ERR;
    }
    int64_t n = losses->numel;
    vt_status st = VT_OK;
    for (int64_t i = 0; i < n && st == VT_OK; i++) {
        sorted[i] = lh[i];
        if (isnan(lh[i])) st = vt_error("spl_lambda_for_fraction: loss %lld is NaN", (long long)i);
    }
    if (st == VT_OK) {
        qsort(sorted, (size_t)n, sizeof(float), cmp_float);
        int64_t k = (int64_t)ceil(fraction * (double)n - 1e-9); /* 1e-9: 0.3 * 10 is 3, not 4 */
        if (k > n) k = n;
        /* the k-th smallest is included by l < lambda; k = 0 includes none */
        *lambda = k == 0 ? sorted[0] : nextafterf(sorted[k - 1], INFINITY);
    }
    if (own) free((void *)lh);
    free(sorted);
    return st;
}
