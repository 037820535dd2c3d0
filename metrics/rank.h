/* rank.h: sorting and ranking helpers shared by the metrics files (not public). */
#ifndef VT_METRICS_RANK_H
#define VT_METRICS_RANK_H

#include "vertebra.h"

/* A score with its sample index; sorted ascending by (score, index), so the order is
 * fully determined (ties keep input order). */
typedef struct vt_scored {
    float s;
    int64_t i;
} vt_scored;

/* malloc'd array of n pairs sorted ascending; NULL with an error naming `op` on OOM. */
vt_scored *vt_scored_sort(const char *op, const float *scores, int64_t n);

/* rank[j] = average (1-based) rank of scores[j] among the n scores (scipy.stats.rankdata
 * 'average'). VT_ERR on OOM. */
vt_status vt_midranks(const char *op, const float *scores, int64_t n, double *rank);

/* Checks binary labels (0/1) and finite-or-infinite (not NaN) scores; counts classes. */
vt_status vt_check_binary(const char *op, const int *y_true, const float *scores, int64_t n,
                          int64_t *n_pos, int64_t *n_neg);

/* Weighted Mann-Whitney AUROC walking `sorted` ascending by tie groups:
 * sum_pos w_p (W_neg below + W_neg tied / 2) / (W_pos W_neg). w == NULL: weight 1 each;
 * counts (int) instead of w when non-NULL (the bootstrap's multiplicities). NAN when one
 * class has zero total weight. */
double vt_auc_sorted(const vt_scored *sorted, int64_t n, const int *y_true, const double *w,
                     const int *counts);

#endif
