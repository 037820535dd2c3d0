/* roc_ci.c: confidence intervals for the AUROC: percentile bootstrap and DeLong. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "rank.h"
#include "roc.h"

/* uniform integer in [0, n) without modulo bias (Lemire), from two u32 draws */
static uint64_t draw_below(vt_rng *r, uint64_t n) {
    uint64_t hi = vt_rng_u32(r);
    uint64_t lo = vt_rng_u32(r);
    return (uint64_t)(((unsigned __int128)(hi << 32 | lo) * n) >> 64);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* q-quantile of sorted x (m >= 1), numpy.percentile's default 'linear' method */
static double quantile_sorted(const double *x, int m, double q) {
    double h = (m - 1) * q;
    int lo = (int)floor(h);
    if (lo >= m - 1) return x[m - 1];
    return x[lo] + (h - lo) * (x[lo + 1] - x[lo]);
}

static int bad_level(double level) { return !(level > 0 && level < 1); }

vt_status vt_auroc_bootstrap_ci(const int *y_true, const float *scores, int64_t n, int n_boot,
                                double level, uint64_t seed, vt_auroc_ci *out) {
    const char *op = "auroc_bootstrap_ci";
    if (!out) return vt_error("%s: out is NULL", op);
    if (bad_level(level)) return vt_error("%s: level %g must lie in (0, 1)", op, level);
    if (n_boot <= 0) n_boot = VT_BOOTSTRAP_DEFAULT;
    if (vt_check_binary(op, y_true, scores, n, NULL, NULL) != VT_OK) return VT_ERR;
    if (n > INT32_MAX) return vt_error("%s: %lld samples exceed the int counters", op, (long long)n);
    vt_scored *sorted = vt_scored_sort(op, scores, n);
    double *aucs = malloc(sizeof(double) * (size_t)n_boot);
    if (!sorted || !aucs) {
        free(sorted);
        free(aucs);
        return vt_error("%s: out of memory (n = %lld, n_boot = %d)", op, (long long)n, n_boot);
    }
    double point = vt_auc_sorted(sorted, n, y_true, NULL, NULL);
    int oom = 0;
    /* Each resample owns a disjoint stretch of the Philox counter (2 u32 per index), so
     * resample b is the same whichever thread draws it. */
#pragma omp parallel reduction(| : oom)
    {
        int *counts = malloc(sizeof(int) * (size_t)n);
        if (!counts) oom = 1;
#pragma omp for schedule(static)
        for (int b = 0; b < n_boot; b++) {
            if (!counts) { aucs[b] = NAN; continue; }
            vt_rng r;
            vt_rng_init(&r, seed);
            r.offset = (uint64_t)b * 2u * (uint64_t)n;
            memset(counts, 0, sizeof(int) * (size_t)n);
            for (int64_t j = 0; j < n; j++) counts[draw_below(&r, (uint64_t)n)]++;
            aucs[b] = vt_auc_sorted(sorted, n, y_true, NULL, counts); /* NAN: one class */
        }
        free(counts);
    }
    free(sorted);
    if (oom) {
        free(aucs);
        return vt_error("%s: out of memory for the resample counts (n = %lld)", op, (long long)n);
    }
    int m = 0;
    for (int b = 0; b < n_boot; b++)
        if (!isnan(aucs[b])) aucs[m++] = aucs[b];
    if (m == 0) {
        free(aucs);
        return vt_error("%s: all %d resamples of %lld samples held a single class", op, n_boot,
                        (long long)n);
    }
    qsort(aucs, (size_t)m, sizeof(double), cmp_double);
    double mean = 0, ss = 0;
    for (int b = 0; b < m; b++) mean += aucs[b];
    mean /= m;
    for (int b = 0; b < m; b++) ss += (aucs[b] - mean) * (aucs[b] - mean);
    out->auc = point;
    out->level = level;
    out->lo = quantile_sorted(aucs, m, 0.5 * (1 - level));
    out->hi = quantile_sorted(aucs, m, 0.5 * (1 + level));
    out->std_err = m > 1 ? sqrt(ss / (m - 1)) : NAN;
    out->n_boot = n_boot;
    out->n_valid = m;
    out->n_skipped = n_boot - m;
    free(aucs);
    return VT_OK;
}

/* Phi^-1(p) for p in (0, 1) by bisection on the normal CDF (erfc is exact to ~1 ulp;
 * 200 halvings pin the root to double precision). */
static double normal_quantile(double p) {
    double lo = -40, hi = 40;
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi);
        if (0.5 * erfc(-mid / sqrt(2.0)) < p) lo = mid; else hi = mid;
    }
    return 0.5 * (lo + hi);
}

vt_status vt_auroc_delong_ci(const int *y_true, const float *scores, int64_t n, double level,
                             vt_auroc_ci *out) {
    const char *op = "auroc_delong_ci";
    int64_t m, k; /* positives, negatives */
    if (!out) return vt_error("%s: out is NULL", op);
    if (bad_level(level)) return vt_error("%s: level %g must lie in (0, 1)", op, level);
    if (vt_check_binary(op, y_true, scores, n, &m, &k) != VT_OK) return VT_ERR;
    if (m < 2 || k < 2)
        return vt_error("%s: need >= 2 positives and >= 2 negatives for the variance (got %lld, %lld)",
                        op, (long long)m, (long long)k);
    /* midranks in the pooled sample (rank_all), within positives and within negatives */
    double *rank_all = malloc(sizeof(double) * (size_t)n);
    double *rank_cls = malloc(sizeof(double) * (size_t)n);
    float *xs = malloc(sizeof(float) * (size_t)n);
    vt_status st = VT_OK;
    if (!rank_all || !rank_cls || !xs) { st = vt_error("%s: out of memory (n = %lld)", op, (long long)n); goto done; }
    if (vt_midranks(op, scores, n, rank_all) != VT_OK) { st = VT_ERR; goto done; }
    for (int cls = 0; cls <= 1; cls++) {
        int64_t c = 0;
        for (int64_t i = 0; i < n; i++)
            if (y_true[i] == cls) xs[c++] = scores[i];
        double *r = rank_cls + (cls ? 0 : m); /* positives first, then negatives */
        if (vt_midranks(op, xs, c, r) != VT_OK) { st = VT_ERR; goto done; }
    }
    /* structural components: v10 (per positive) = fraction of negatives it beats (ties
     * 1/2) = (rank_all - rank_within) / k; v01 (per negative) = fraction of positives
     * that beat it = 1 - (rank_all - rank_within) / m */
    double auc = 0, s10 = 0, s01 = 0;
    int64_t ip = 0, in = 0;
    for (int64_t i = 0; i < n; i++)
        if (y_true[i]) auc += (rank_all[i] - rank_cls[ip++]) / (double)k;
    auc /= (double)m;
    ip = 0;
    for (int64_t i = 0; i < n; i++) {
        if (y_true[i]) {
            double v = (rank_all[i] - rank_cls[ip++]) / (double)k - auc;
            s10 += v * v;
        } else {
            double v = 1.0 - (rank_all[i] - rank_cls[m + in++]) / (double)m - auc;
            s01 += v * v;
        }
    }
    s10 /= (double)(m - 1);
    s01 /= (double)(k - 1);
    double var = s10 / (double)m + s01 / (double)k, se = sqrt(var);
    double z = normal_quantile(0.5 * (1 + level));
    out->auc = auc;
    out->level = level;
    out->std_err = se;
    out->lo = fmax(0.0, auc - z * se);
    out->hi = fmin(1.0, auc + z * se);
    out->n_boot = out->n_valid = out->n_skipped = 0;
done:
    free(rank_all);
    free(rank_cls);
    free(xs);
    return st;
}
