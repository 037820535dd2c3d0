/* roc.c: AUROC by the rank statistic, the ROC curve, one-vs-rest macro AUROC. */
#include "roc.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "rank.h"

vt_status vt_auroc(const int *y_true, const float *scores, int64_t n, double *auc) {
    return vt_auroc_weighted(y_true, scores, NULL, n, auc);
}

vt_status vt_auroc_weighted(const int *y_true, const float *scores, const double *weights,
                            int64_t n, double *auc) {
    const char *op = weights ? "auroc_weighted" : "auroc";
    if (!auc) return vt_error("%s: auc is NULL", op);
    if (vt_check_binary(op, y_true, scores, n, NULL, NULL) != VT_OK) return VT_ERR;
    if (weights)
        for (int64_t i = 0; i < n; i++)
            if (!(weights[i] >= 0) || isinf(weights[i]))
                return vt_error("%s: weight %g of sample %lld; weights must be finite and >= 0",
                                op, weights[i], (long long)i);
    vt_scored *p = vt_scored_sort(op, scores, n);
    if (!p) return VT_ERR;
    double a = vt_auc_sorted(p, n, y_true, weights, NULL);
    free(p);
    if (isnan(a)) return vt_error("%s: one class has zero total weight; AUROC is undefined", op);
    *auc = a;
    return VT_OK;
}

vt_status vt_roc_curve(const int *y_true, const float *scores, int64_t n, double *fpr,
                       double *tpr, float *thresholds, int64_t *n_points) {
    int64_t n_pos, n_neg;
    if (!fpr || !tpr || !thresholds || !n_points)
        return vt_error("roc_curve: output arrays and n_points must be non-NULL");
    if (vt_check_binary("roc_curve", y_true, scores, n, &n_pos, &n_neg) != VT_OK) return VT_ERR;
    vt_scored *p = vt_scored_sort("roc_curve", scores, n);
    if (!p) return VT_ERR;
    fpr[0] = 0, tpr[0] = 0, thresholds[0] = INFINITY;
    int64_t m = 1, tp = 0, fp = 0;
    /* walk from the highest score down; one point after each tie group */
    for (int64_t b = n - 1; b >= 0;) {
        int64_t a = b;
        for (; a >= 0 && p[a].s == p[b].s; a--) {
            if (y_true[p[a].i]) tp++; else fp++;
        }
        fpr[m] = (double)fp / (double)n_neg;
        tpr[m] = (double)tp / (double)n_pos;
        thresholds[m] = p[b].s;
        m++;
        b = a;
    }
    free(p);
    *n_points = m;
    return VT_OK;
}

vt_status vt_auroc_ovr(const int *y_true, const float *probs, int64_t n, int k,
                       double *per_class, double *macro) {
    if (k < 2 || n < 1 || !y_true || !probs || !macro)
        return vt_error("auroc_ovr: need k >= 2 classes (got %d), n >= 1 (got %lld), non-NULL arrays",
                        k, (long long)n);
    int *yc = malloc(sizeof(int) * (size_t)n);
    float *sc = malloc(sizeof(float) * (size_t)n);
    vt_status st = VT_OK;
    if (!yc || !sc) { st = vt_error("auroc_ovr: out of memory (n = %lld)", (long long)n); goto done; }
    for (int64_t i = 0; i < n; i++)
        if (y_true[i] < 0 || y_true[i] >= k) {
            st = vt_error("auroc_ovr: label %d at sample %lld outside [0, %d)", y_true[i],
                          (long long)i, k);
            goto done;
        }
    double sum = 0;
    for (int c = 0; c < k; c++) {
        for (int64_t i = 0; i < n; i++) { yc[i] = y_true[i] == c; sc[i] = probs[i * k + c]; }
        double a = 0;
        if (vt_auroc(yc, sc, n, &a) != VT_OK) {
            char why[512]; /* copy: vt_error writes into the buffer vt_last_error reads */
            snprintf(why, sizeof why, "%s", vt_last_error());
            st = vt_error("auroc_ovr: class %d of %d: %s", c, k, why);
            goto done;
        }
        if (per_class) per_class[c] = a;
        sum += a;
    }
    *macro = sum / k;
done:
    free(yc);
    free(sc);
    return st;
}
