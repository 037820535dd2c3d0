/* roc.h: AUROC (rank statistic), ROC curve, one-vs-rest macro AUROC and 95% intervals
 * (percentile bootstrap, DeLong). Conventions in docs/metrics.md.
 *
 * Binary labels are 0/1 (1 = positive); a higher score means "more positive". Every
 * function needs both classes present (else an error: AUROC is undefined, as sklearn's
 * "Only one class present in y_true") and refuses NaN scores. */
#ifndef VT_METRICS_ROC_H
#define VT_METRICS_ROC_H

#include "vertebra.h"

/* AUROC = P(score_pos > score_neg) + 0.5 P(tie): the Mann-Whitney U statistic with
 * average ranks for ties, divided by n_pos * n_neg. Equals sklearn.metrics.roc_auc_score
 * (trapezoid under the ROC curve). O(n log n). */
vt_status vt_auroc(const int *y_true, const float *scores, int64_t n, double *auc);
/* Same with sample weights >= 0 (sklearn's sample_weight): pairs count w_i w_j. */
vt_status vt_auroc_weighted(const int *y_true, const float *scores, const double *weights,
                            int64_t n, double *auc);

/* ROC curve as sklearn.metrics.roc_curve(drop_intermediate=False): one point per distinct
 * score, thresholds decreasing, predicted positive iff score >= threshold; the first point
 * is (0, 0) at threshold +INFINITY (sklearn >= 1.3; older sklearn wrote max + 1 there).
 * fpr, tpr, thresholds: caller arrays of at least n + 1 entries; *n_points is set. */
vt_status vt_roc_curve(const int *y_true, const float *scores, int64_t n, double *fpr,
                       double *tpr, float *thresholds, int64_t *n_points);

/* One-vs-rest for K classes: per_class[c] = AUROC of (y_true == c) against probs[:, c]
 * (probs (n, k) row-major; per_class may be NULL), *macro = their unweighted mean, as
 * roc_auc_score(multi_class="ovr", average="macro"). A class absent from y_true (or
 * making up all of it) is an error naming it. */
vt_status vt_auroc_ovr(const int *y_true, const float *probs, int64_t n, int k,
                       double *per_class, double *macro);

typedef struct vt_auroc_ci {
    double auc;      /* point estimate on the full sample */
    double lo, hi;   /* the interval */
    double level;    /* e.g. 0.95 */
    double std_err;  /* bootstrap: sample std (ddof 1) of the resampled AUROCs; DeLong: sqrt(var) */
    int n_boot;      /* resamples drawn (0 for DeLong) */
    int n_valid;     /* resamples with both classes: the ones the percentiles use */
    int n_skipped;   /* resamples holding a single class (AUROC undefined), left out */
} vt_auroc_ci;

#define VT_BOOTSTRAP_DEFAULT 2000

/* Percentile bootstrap: n_boot (<= 0: VT_BOOTSTRAP_DEFAULT) resamples of n indices drawn
 * uniformly with replacement from a Philox stream seeded with `seed` (resample b uses
 * counter offsets starting at 2 n b, so results do not depend on the thread count);
 * lo/hi = the (1 - level)/2 and (1 + level)/2 quantiles of the valid resampled AUROCs,
 * linear interpolation between order statistics (numpy.percentile's default). Error if
 * no resample has both classes. O(n log n + n_boot n). */
vt_status vt_auroc_bootstrap_ci(const int *y_true, const float *scores, int64_t n, int n_boot,
                                double level, uint64_t seed, vt_auroc_ci *out);

/* DeLong et al. (1988) variance of the AUROC via midranks (Sun & Xu 2014, O(n log n)):
 * var = S10 / n_pos + S01 / n_neg with the structural components' sample variances
 * (ddof 1); interval auc -/+ z sqrt(var), z = Phi^-1((1 + level) / 2), clipped to [0, 1].
 * Needs at least 2 positives and 2 negatives. */
vt_status vt_auroc_delong_ci(const int *y_true, const float *scores, int64_t n, double level,
                             vt_auroc_ci *out);

#endif
