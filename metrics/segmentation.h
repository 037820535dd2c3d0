/* segmentation.h: Dice and IoU (hard and soft), cross-sectional area (CSA) per slice and
 * its variability across contrasts. Conventions in docs/metrics.md.
 *
 * Empty masks: when a class is absent from both the ground truth and the prediction,
 * Dice/IoU are 0/0. VT_EMPTY_NAN returns NAN (nnU-Net's evaluator and MONAI's DiceMetric
 * with ignore_empty=True: the case is left out of a nanmean); VT_EMPTY_ONE returns 1 (a
 * correct "nothing there"). An empty ground truth with a non-empty prediction is 0 in
 * both modes. */
#ifndef VT_METRICS_SEGMENTATION_H
#define VT_METRICS_SEGMENTATION_H

#include "vertebra.h"

typedef enum { VT_EMPTY_NAN = 0, VT_EMPTY_ONE = 1 } vt_empty_policy;

/* Integer label masks of n voxels with labels in [0, k) (anything else is an error).
 * dice[c] = 2 |G_c & P_c| / (|G_c| + |P_c|), iou[c] = |G_c & P_c| / |G_c | P_c| for every
 * class c including background 0 (skip it when averaging if the paper does). Either
 * output may be NULL. */
vt_status vt_dice_iou_per_class(const int *gt, const int *pred, int64_t n, int k,
                                vt_empty_policy empty, double *dice, double *iou);
/* Binary masks: nonzero = foreground. */
vt_status vt_dice_iou_binary(const int *gt, const int *pred, int64_t n, vt_empty_policy empty,
                             double *dice, double *iou);
/* Soft Dice of probability maps (values in [0, 1], not checked beyond NaN):
 * 2 sum(g p) / (sum g + sum p), sums in double; soft IoU (Jaccard) sum(g p) /
 * (sum g + sum p - sum(g p)). "Empty" means both sums are 0. */
vt_status vt_dice_iou_soft(const float *gt, const float *pred, int64_t n, vt_empty_policy empty,
                           double *dice, double *iou);

/* CSA per slice of a 3-D mask (d0, d1, d2) row-major (binary or soft, e.g. a soft spinal
 * cord segmentation): area[s] = (sum of mask values in slice s along slice_axis) times
 * the product of the spacings (mm) of the two other axes, in mm^2; area has
 * dims[slice_axis] entries. No correction for the cord's angle to the slice (SCT's
 * angle correction is not done). */
vt_status vt_csa_per_slice(const float *mask, const int64_t dims[3], const double spacing_mm[3],
                           int slice_axis, double *area);
/* Mean CSA over the slices [lo, hi) that hold some mask (area > 0; slices without cord
 * are left out, as SCT leaves them out); NAN if none does. */
vt_status vt_csa_mean(const double *area, int64_t n_slices, int64_t lo, int64_t hi, double *mean);
/* Standard deviation of per-contrast mean CSAs (n >= 1 values, ddof 0 or 1: numpy's
 * std(ddof=...)): the CSA variability across contrasts of one subject. */
vt_status vt_std(const double *values, int n, int ddof, double *std);

#endif
