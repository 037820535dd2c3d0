/* rank.c: deterministic score sorting, midranks and the tie-aware AUROC walk. */
#include "rank.h"
#include <math.h>
#include <stdlib.h>

static int cmp_scored(const void *a, const void *b) {
    const vt_scored *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

vt_scored *vt_scored_sort(const char *op, const float *scores, int64_t n) {
    vt_scored *p = malloc(sizeof(vt_scored) * (size_t)(n > 0 ? n : 1));
    if (!p) {
        vt_error("%s: out of memory sorting %lld scores", op, (long long)n);
        return NULL;
    }
    for (int64_t j = 0; j < n; j++) { p[j].s = scores[j]; p[j].i = j; }
    qsort(p, (size_t)n, sizeof *p, cmp_scored);
    return p;
}

vt_status vt_midranks(const char *op, const float *scores, int64_t n, double *rank) {
    vt_scored *p = vt_scored_sort(op, scores, n);
    if (!p) return VT_ERR;
    for (int64_t a = 0; a < n;) {
        int64_t b = a;
        while (b + 1 < n && p[b + 1].s == p[a].s) b++;
        double r = 0.5 * (double)(a + b) + 1.0; /* mean of 1-based ranks a+1..b+1 */
        for (int64_t j = a; j <= b; j++) rank[p[j].i] = r;
        a = b + 1;
    }
    free(p);
    return VT_OK;
}

vt_status vt_check_binary(const char *op, const int *y_true, const float *scores, int64_t n,
                          int64_t *n_pos, int64_t *n_neg) {
    if (n < 1 || !y_true || !scores)
        return vt_error("%s: need n >= 1 samples (got %lld) and non-NULL arrays", op, (long long)n);
    int64_t pos = 0;
    for (int64_t i = 0; i < n; i++) {
        if (y_true[i] != 0 && y_true[i] != 1)
            return vt_error("%s: label %d at sample %lld; binary labels must be 0 or 1", op,
                            y_true[i], (long long)i);
        if (isnan(scores[i])) return vt_error("%s: score of sample %lld is NaN", op, (long long)i);
        pos += y_true[i];
    }
    if (pos == 0 || pos == n)
        return vt_error("%s: only one class present in y_true (%lld samples, all %s); AUROC is undefined",
                        op, (long long)n, pos ? "positive" : "negative");
    if (n_pos) *n_pos = pos;
    if (n_neg) *n_neg = n - pos;
    return VT_OK;
}

double vt_auc_sorted(const vt_scored *sorted, int64_t n, const int *y_true, const double *w,
                     const int *counts) {
    double neg_below = 0, num = 0, w_pos = 0;
    for (int64_t a = 0; a < n;) {
        double gp = 0, gn = 0; /* positive / negative weight of this tie group */
        int64_t b = a;
        for (; b < n && sorted[b].s == sorted[a].s; b++) {
            int64_t i = sorted[b].i;
            double wi = counts ? (double)counts[i] : w ? w[i] : 1.0;
            if (y_true[i]) gp += wi; else gn += wi;
        }
        num += gp * (neg_below + 0.5 * gn);
        neg_below += gn;
        w_pos += gp;
        a = b;
    }
    if (w_pos == 0 || neg_below == 0) return NAN;
    return num / (w_pos * neg_below);
}
