/* segmentation.c: Dice/IoU (hard, soft) and cross-sectional area. */
#include "segmentation.h"
#include <math.h>
#include <stdlib.h>

/* Dice and IoU from the overlap and the two sizes (counts or soft sums). */
static void overlap_scores(double inter, double g, double p, vt_empty_policy empty,
                           double *dice, double *iou) {
    if (g + p == 0) {
        double v = empty == VT_EMPTY_ONE ? 1.0 : NAN;
        if (dice) *dice = v;
        if (iou) *iou = v;
        return;
    }
    if (dice) *dice = 2.0 * inter / (g + p);
    if (iou) *iou = inter / (g + p - inter);
}

static int bad_policy(vt_empty_policy e) { return e != VT_EMPTY_NAN && e != VT_EMPTY_ONE; }

vt_status vt_dice_iou_per_class(const int *gt, const int *pred, int64_t n, int k,
                                vt_empty_policy empty, double *dice, double *iou) {
    if (k < 1 || n < 0 || (n > 0 && (!gt || !pred)) || bad_policy(empty))
        return vt_error("dice_iou_per_class: need k >= 1 (got %d), n >= 0 (got %lld), non-NULL masks, a vt_empty_policy",
                        k, (long long)n);
    int64_t *cnt = calloc((size_t)k * 3, sizeof(int64_t)); /* |G_c|, |P_c|, |G_c & P_c| */
    if (!cnt) return vt_error("dice_iou_per_class: out of memory (k = %d)", k);
    for (int64_t i = 0; i < n; i++) {
        int g = gt[i], p = pred[i];
        if (g < 0 || g >= k || p < 0 || p >= k) {
            free(cnt);
            return vt_error("dice_iou_per_class: voxel %lld has ground truth %d, prediction %d; labels must lie in [0, %d)",
                            (long long)i, g, p, k);
        }
        cnt[g]++;
        cnt[k + p]++;
        if (g == p) cnt[2 * k + g]++;
    }
    for (int c = 0; c < k; c++)
        overlap_scores((double)cnt[2 * k + c], (double)cnt[c], (double)cnt[k + c], empty,
                       dice ? &dice[c] : NULL, iou ? &iou[c] : NULL);
    free(cnt);
    return VT_OK;
}

vt_status vt_dice_iou_binary(const int *gt, const int *pred, int64_t n, vt_empty_policy empty,
                             double *dice, double *iou) {
    if (n < 0 || (n > 0 && (!gt || !pred)) || bad_policy(empty))
        return vt_error("dice_iou_binary: need n >= 0 (got %lld), non-NULL masks, a vt_empty_policy",
                        (long long)n);
    int64_t g = 0, p = 0, both = 0;
    for (int64_t i = 0; i < n; i++) {
        g += gt[i] != 0;
        p += pred[i] != 0;
        both += gt[i] != 0 && pred[i] != 0;
    }
    overlap_scores((double)both, (double)g, (double)p, empty, dice, iou);
    return VT_OK;
}

vt_status vt_dice_iou_soft(const float *gt, const float *pred, int64_t n, vt_empty_policy empty,
                           double *dice, double *iou) {
    if (n < 0 || (n > 0 && (!gt || !pred)) || bad_policy(empty))
        return vt_error("dice_iou_soft: need n >= 0 (got %lld), non-NULL maps, a vt_empty_policy",
                        (long long)n);
    double g = 0, p = 0, gp = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(gt[i]) || isnan(pred[i]))
            return vt_error("dice_iou_soft: NaN at voxel %lld", (long long)i);
        g += gt[i];
        p += pred[i];
        gp += (double)gt[i] * pred[i];
    }
    overlap_scores(gp, g, p, empty, dice, iou);
    return VT_OK;
}

vt_status vt_csa_per_slice(const float *mask, const int64_t dims[3], const double spacing_mm[3],
                           int slice_axis, double *area) {
    if (!mask || !dims || !spacing_mm || !area)
        return vt_error("csa_per_slice: NULL argument");
    if (slice_axis < 0 || slice_axis > 2)
        return vt_error("csa_per_slice: slice_axis %d must be 0, 1 or 2", slice_axis);
    for (int a = 0; a < 3; a++) {
        if (dims[a] < 1)
            return vt_error("csa_per_slice: dims (%lld, %lld, %lld) must be >= 1", (long long)dims[0],
                            (long long)dims[1], (long long)dims[2]);
        if (!(spacing_mm[a] > 0) || isinf(spacing_mm[a]))
            return vt_error("csa_per_slice: spacing (%g, %g, %g) mm must be finite and > 0",
                            spacing_mm[0], spacing_mm[1], spacing_mm[2]);
    }
    double pixel_mm2 = 1;
    for (int a = 0; a < 3; a++)
        if (a != slice_axis) pixel_mm2 *= spacing_mm[a];
    for (int64_t s = 0; s < dims[slice_axis]; s++) area[s] = 0;
    for (int64_t i = 0; i < dims[0]; i++)
        for (int64_t j = 0; j < dims[1]; j++) {
            const float *row = mask + (i * dims[1] + j) * dims[2];
            for (int64_t l = 0; l < dims[2]; l++) {
                int64_t s = slice_axis == 0 ? i : slice_axis == 1 ? j : l;
                area[s] += row[l];
            }
        }
    for (int64_t s = 0; s < dims[slice_axis]; s++) area[s] *= pixel_mm2;
    return VT_OK;
}

vt_status vt_csa_mean(const double *area, int64_t n_slices, int64_t lo, int64_t hi, double *mean) {
    if (!area || !mean || lo < 0 || hi > n_slices || lo >= hi)
        return vt_error("csa_mean: slice range [%lld, %lld) must be non-empty inside [0, %lld)",
                        (long long)lo, (long long)hi, (long long)n_slices);
    double sum = 0;
    int64_t used = 0;
    for (int64_t s = lo; s < hi; s++)
        if (area[s] > 0) { sum += area[s]; used++; }
    *mean = used ? sum / (double)used : NAN;
    return VT_OK;
}

vt_status vt_std(const double *values, int n, int ddof, double *std) {
    if (!values || !std || (ddof != 0 && ddof != 1) || n < 1 + ddof)
        return vt_error("std: need ddof 0 or 1 (got %d) and n > ddof values (got %d)", ddof, n);
    double mean = 0, ss = 0;
    for (int i = 0; i < n; i++) mean += values[i];
    mean /= n;
    for (int i = 0; i < n; i++) ss += (values[i] - mean) * (values[i] - mean);
    *std = sqrt(ss / (n - ddof));
    return VT_OK;
}
