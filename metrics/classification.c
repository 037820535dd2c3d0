/* classification.c: confusion matrix, per-class rates, accuracy and averages
 * (conventions in classification.h and docs/metrics.md). */
#include "classification.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double vt_safe_ratio(double a, double b) { return b == 0 ? NAN : a / b; }

vt_status vt_confusion_matrix(const int *y_true, const int *y_pred, int64_t n, int k,
                              int64_t *cm) {
    if (k < 1 || n < 0 || !cm || (n > 0 && (!y_true || !y_pred)))
        return vt_error("confusion_matrix: need k >= 1 classes (got %d), n >= 0 (got %lld) and non-NULL arrays",
                        k, (long long)n);
    memset(cm, 0, sizeof(int64_t) * (size_t)k * (size_t)k);
    for (int64_t i = 0; i < n; i++) {
        int t = y_true[i], p = y_pred[i];
        if (t < 0 || t >= k || p < 0 || p >= k)
            return vt_error("confusion_matrix: sample %lld has true label %d, predicted %d; labels must lie in [0, %d)",
                            (long long)i, t, p, k);
        cm[(int64_t)t * k + p]++;
    }
    return VT_OK;
}

vt_status vt_argmax_rows(const float *probs, int64_t n, int k, int *pred) {
    if (k < 1 || n < 0 || (n > 0 && (!probs || !pred)))
        return vt_error("argmax_rows: need k >= 1 (got %d), n >= 0 (got %lld) and non-NULL arrays",
                        k, (long long)n);
    for (int64_t i = 0; i < n; i++) {
        const float *row = probs + i * k;
        int best = 0;
        for (int c = 1; c < k; c++)
            if (row[c] > row[best] || (isnan(row[best]) && !isnan(row[c]))) best = c;
        pred[i] = best;
    }
    return VT_OK;
}

static void class_rates(vt_class_stats *s) {
    s->support = s->tp + s->fn;
    s->sensitivity = vt_safe_ratio((double)s->tp, (double)(s->tp + s->fn));
    s->specificity = vt_safe_ratio((double)s->tn, (double)(s->tn + s->fp));
    s->precision = vt_safe_ratio((double)s->tp, (double)(s->tp + s->fp));
    s->npv = vt_safe_ratio((double)s->tn, (double)(s->tn + s->fn));
    s->f1 = vt_safe_ratio(2.0 * (double)s->tp, (double)(2 * s->tp + s->fp + s->fn));
}

/* mean of v over entries that are not NAN, weighted by w (NULL: 1 each); NAN if none
 * (or all weights are 0). */
static double nan_average(const double *v, const double *w, int k) {
    double num = 0, den = 0;
    for (int c = 0; c < k; c++) {
        if (isnan(v[c])) continue;
        double wc = w ? w[c] : 1.0;
        num += wc * v[c];
        den += wc;
    }
    return vt_safe_ratio(num, den);
}

static vt_class_average average(const vt_class_stats *s, int k, const double *w, double *tmp) {
    vt_class_average a;
#define AVG(field)                                      \
    for (int c = 0; c < k; c++) tmp[c] = s[c].field;    \
    a.field = nan_average(tmp, w, k);
    AVG(sensitivity) AVG(specificity) AVG(precision) AVG(npv) AVG(f1)
#undef AVG
    return a;
}

vt_status vt_classification_report(const int64_t *cm, int k, vt_class_stats *per_class,
                                   vt_class_summary *summary) {
    if (k < 1 || !cm || !per_class)
        return vt_error("classification_report: need k >= 1 (got %d) and non-NULL cm/per_class", k);
    int64_t n = 0, trace = 0;
    for (int t = 0; t < k; t++)
        for (int p = 0; p < k; p++) {
            if (cm[t * k + p] < 0)
                return vt_error("classification_report: negative count %lld at cm[%d][%d]",
                                (long long)cm[t * k + p], t, p);
            n += cm[t * k + p];
            if (t == p) trace += cm[t * k + p];
        }
    for (int c = 0; c < k; c++) {
        vt_class_stats *s = &per_class[c];
        memset(s, 0, sizeof *s);
        s->tp = cm[c * k + c];
        for (int j = 0; j < k; j++) {
            if (j == c) continue;
            s->fn += cm[c * k + j]; /* true c, predicted j */
            s->fp += cm[j * k + c]; /* true j, predicted c */
        }
        s->tn = n - s->tp - s->fn - s->fp;
        class_rates(s);
    }
    if (!summary) return VT_OK;
    double *tmp = malloc(sizeof(double) * 2 * (size_t)k);
    if (!tmp) return vt_error("classification_report: out of memory (k = %d)", k);
    double *w = tmp + k;
    for (int c = 0; c < k; c++) w[c] = (double)per_class[c].support;
    summary->n = n;
    summary->accuracy = vt_safe_ratio((double)trace, (double)n);
    summary->macro = average(per_class, k, NULL, tmp);
    summary->weighted = average(per_class, k, w, tmp);
    free(tmp);
    return VT_OK;
}

vt_status vt_binary_stats(const int *y_true, const int *y_pred, int64_t n, vt_class_stats *out) {
    int64_t cm[4];
    if (!out) return vt_error("binary_stats: out is NULL");
    if (vt_confusion_matrix(y_true, y_pred, n, 2, cm) != VT_OK) {
        char why[512]; /* copy: vt_error writes into the buffer vt_last_error reads */
        snprintf(why, sizeof why, "%s", vt_last_error());
        return vt_error("binary_stats: %s (labels must be 0 or 1)", why);
    }
    vt_class_stats both[2];
    vt_classification_report(cm, 2, both, NULL);
    *out = both[1];
    return VT_OK;
}

vt_status vt_binary_stats_at(const int *y_true, const float *scores, int64_t n,
                             float threshold, vt_class_stats *out) {
    if (n < 0 || (n > 0 && (!y_true || !scores)) || !out)
        return vt_error("binary_stats_at: need n >= 0 (got %lld) and non-NULL arrays", (long long)n);
    int *pred = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!pred) return vt_error("binary_stats_at: out of memory (n = %lld)", (long long)n);
    for (int64_t i = 0; i < n; i++) pred[i] = scores[i] >= threshold;
    vt_status st = vt_binary_stats(y_true, pred, n, out);
    free(pred);
    return st;
}
