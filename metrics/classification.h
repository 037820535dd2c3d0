/* classification.h: confusion matrix and the per-class rates the spine papers report
 * (sensitivity, specificity, PPV, NPV, F1), accuracy, macro and weighted averages.
 *
 * Host arrays, computed once per evaluation. Labels are class indices 0..k-1 (int).
 * Confusion matrix cm (k*k, row-major): cm[t*k + p] = number of samples of true class t
 * predicted as p (sklearn.metrics.confusion_matrix layout).
 *
 * 0/0 convention: a rate whose denominator is 0 is NAN (never silently 0). This is
 * sklearn >= 1.3 with zero_division=np.nan; sklearn's default ("warn") returns 0 instead.
 * Averages skip NAN classes (the mean of the defined ones; NAN if none is defined), as
 * sklearn does with zero_division=np.nan. See docs/metrics.md. */
#ifndef VT_METRICS_CLASSIFICATION_H
#define VT_METRICS_CLASSIFICATION_H

#include "vertebra.h"

/* One class against the rest (or the positive class of a binary problem). */
typedef struct vt_class_stats {
    int64_t tp, fp, fn, tn;
    int64_t support;    /* tp + fn: samples whose true class is this one */
    double sensitivity; /* recall, TPR: tp / (tp + fn) */
    double specificity; /* TNR: tn / (tn + fp) */
    double precision;   /* PPV: tp / (tp + fp) */
    double npv;         /* tn / (tn + fn) */
    double f1;          /* 2 tp / (2 tp + fp + fn); NAN only when tp = fp = fn = 0 */
} vt_class_stats;

/* Averages of the five rates over classes. */
typedef struct vt_class_average {
    double sensitivity, specificity, precision, npv, f1;
} vt_class_average;

typedef struct vt_class_summary {
    int64_t n;                 /* samples counted */
    double accuracy;           /* trace / n (NAN when n = 0) */
    vt_class_average macro;    /* unweighted mean over the defined classes */
    vt_class_average weighted; /* mean weighted by support over the defined classes */
} vt_class_summary;

/* cm (k*k) = counts of (y_true[i], y_pred[i]); overwrites cm. Labels outside [0, k) are
 * an error naming the sample. */
vt_status vt_confusion_matrix(const int *y_true, const int *y_pred, int64_t n, int k,
                              int64_t *cm);

/* pred[i] = argmax_c probs[i*k + c] (first maximum on ties, as numpy.argmax; NaN scores
 * never win). probs (n, k) row-major; scores need not be normalised. */
vt_status vt_argmax_rows(const float *probs, int64_t n, int k, int *pred);

/* Per-class stats (per_class: k entries) and the summary (NULL to skip) from cm. */
vt_status vt_classification_report(const int64_t *cm, int k, vt_class_stats *per_class,
                                   vt_class_summary *summary);

/* Binary: labels 0/1, class 1 positive. The same numbers as per_class[1] of the 2-class
 * report. */
vt_status vt_binary_stats(const int *y_true, const int *y_pred, int64_t n, vt_class_stats *out);
/* Binary from scores: predicted positive iff score >= threshold (sklearn's roc_curve
 * convention for thresholds). */
vt_status vt_binary_stats_at(const int *y_true, const float *scores, int64_t n,
                             float threshold, vt_class_stats *out);

/* a / b as the 0/0 convention above: NAN when b == 0. */
double vt_safe_ratio(double a, double b);

#endif
