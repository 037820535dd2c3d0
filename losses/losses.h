/* losses.h: loss functions composed from differentiable core ops (autograd is automatic).
 *
 * Reductions:
 *   VT_REDUCE_MEAN        scalar (shape (1)); the denominator of each loss is documented
 *   VT_REDUCE_SUM         scalar, sum of the elementwise loss
 *   VT_REDUCE_NONE        the elementwise loss, (N, spatial...) for cross-entropy,
 *                         the input's shape for BCE/MSE
 *   VT_REDUCE_PER_SAMPLE  (N): mean of the elementwise loss over every non-batch element
 *                         (ignored positions count as 0); what self-paced learning ranks.
 * Sample weights s (N), where accepted, multiply the elementwise loss of sample i (NONE and
 * PER_SAMPLE included) and never enter a MEAN denominator, so s = 1 gives PyTorch exactly. */
#ifndef VT_LOSSES_H
#define VT_LOSSES_H

#include "vertebra.h"

typedef enum {
    VT_REDUCE_MEAN = 0,
    VT_REDUCE_SUM,
    VT_REDUCE_NONE,
    VT_REDUCE_PER_SAMPLE
} vt_reduction;

/* ---- cross-entropy ------------------------------------------------------------------ */
typedef struct vt_ce_options {
    vt_tensor *class_weights;  /* (C) or NULL */
    vt_tensor *sample_weights; /* (N) or NULL */
    int ignore_index;          /* default -100 */
    float label_smoothing;     /* in [0, 1]; default 0 */
    vt_reduction reduction;    /* default VT_REDUCE_MEAN */
} vt_ce_options;

vt_ce_options vt_ce_options_default(void);

/* logits (N, C) or (N, C, spatial...), targets (N) or (N, spatial...) holding class
 * indices as floats; opts NULL means vt_ce_options_default().
 * As torch.nn.functional.cross_entropy (PyTorch >= 1.10), with w = class weights (1 if
 * none), y the target and eps the label smoothing:
 *   l = (1 - eps) w[y] (-logp[y]) + eps / C * sum_c w[c] (-logp[c]),  0 where y is ignored
 *   MEAN = sum(s_i l) / sum(w[y]) over non-ignored positions (NaN if all are ignored, as
 *   PyTorch). Targets out of [0, C) (other than ignore_index) are an error. */
vt_tensor *vt_cross_entropy(vt_tensor *logits, vt_tensor *targets, const vt_ce_options *opts);

/* ---- binary cross-entropy with logits ----------------------------------------------- */
typedef struct vt_bce_options {
    vt_tensor *pos_weight;     /* broadcast against the input from the last dim, or NULL */
    vt_tensor *sample_weights; /* (N) or NULL */
    vt_reduction reduction;    /* default VT_REDUCE_MEAN */
} vt_bce_options;

vt_bce_options vt_bce_options_default(void);

/* logits and targets of one shape (N, ...), targets in [0, 1]; opts NULL = defaults.
 * As torch.nn.functional.binary_cross_entropy_with_logits, computed stably as
 *   l = (1 - t) x + (1 + (p - 1) t) softplus(-x);   MEAN = sum(s_i l) / numel. */
vt_tensor *vt_bce_with_logits(vt_tensor *logits, vt_tensor *targets, const vt_bce_options *opts);

/* ---- mean squared error ------------------------------------------------------------- */
/* pred and target of one shape (N, ...): l = (pred - target)^2; MEAN = sum(l) / numel. */
vt_tensor *vt_mse_loss(vt_tensor *pred, vt_tensor *target, vt_reduction reduction);

#include "losses_extra.h" /* L1/Huber, focal, Dice, Adaptive Wing, SupCon, GIoU, multi-task, SPL */

#endif
