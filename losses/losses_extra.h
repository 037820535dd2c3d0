/* losses_extra.h: the losses of the paper methods beyond CE/BCE/MSE (see docs/losses.md):
 * L1 / smooth L1 / Huber, sigmoid focal, soft Dice (MONAI), Adaptive Wing, supervised
 * contrastive (SupCon), GIoU, multi-task combiners and self-paced learning weights.
 *
 * Every loss is composed from differentiable core ops, so autograd gives its backward.
 * Piecewise definitions select a branch with a 0/1 mask computed on the host from the
 * current values (a constant of the graph: the branch choice has no gradient), which is
 * exactly what torch.where does. Reductions are those of losses.h; PER_SAMPLE is the mean
 * over every non-batch element unless a loss says otherwise. Included by losses.h. */
#ifndef VT_LOSSES_EXTRA_H
#define VT_LOSSES_EXTRA_H

#include "losses.h" /* vt_reduction; losses.h includes this file at its end */

/* ---- L1, smooth L1, Huber (torch.nn.functional semantics) ----------------------------- */
/* pred, target (N, ...) of one shape; MEAN = sum / numel.
 *   l1:        |d|,                       d = pred - target
 *   smooth_l1: 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta   (beta >= 0; 0 gives L1)
 *   huber:     0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta) (delta > 0)          */
vt_tensor *vt_l1_loss(vt_tensor *pred, vt_tensor *target, vt_reduction reduction);
vt_tensor *vt_smooth_l1_loss(vt_tensor *pred, vt_tensor *target, float beta, vt_reduction reduction);
vt_tensor *vt_huber_loss(vt_tensor *pred, vt_tensor *target, float delta, vt_reduction reduction);

/* ---- sigmoid focal loss (Lin et al. 2017; torchvision.ops.sigmoid_focal_loss) -------- */
/* logits, targets (N, ...) of one shape, targets in [0, 1]; p = sigmoid(x),
 *   p_t = p t + (1 - p)(1 - t),  a_t = alpha t + (1 - alpha)(1 - t)
 *   l = a_t (1 - p_t)^gamma BCE(x, t)      (no a_t factor when alpha < 0)
 * torchvision defaults alpha 0.25, gamma 2, reduction none; gamma >= 0. MEAN = sum / numel. */
vt_tensor *vt_sigmoid_focal_loss(vt_tensor *logits, vt_tensor *targets, float alpha, float gamma,
                                 vt_reduction reduction);

/* ---- soft Dice (MONAI DiceLoss) ---------------------------------------------------------- */
typedef enum { VT_DICE_ACT_NONE = 0, VT_DICE_ACT_SIGMOID, VT_DICE_ACT_SOFTMAX } vt_dice_activation;
typedef struct vt_dice_options {
    vt_dice_activation activation; /* applied to the input over axis 1; default SIGMOID */
    int include_background;        /* 0 drops channel 0 of input and target (C > 1); default 1 */
    int to_onehot_y;               /* target holds class indices (N, 1, sp...) or (N, sp...); default 0 */
    int squared_pred;              /* denominators sum p^2 + sum t^2; default 0 */
    int batch;                     /* one Dice per class over the whole batch; default 0 */
    float smooth_nr, smooth_dr;    /* default 1e-5 each */
    vt_reduction reduction;        /* default MEAN */
} vt_dice_options;
vt_dice_options vt_dice_options_default(void);

/* input (N, C, H, W) or (N, C, D, H, W) (any spatial rank >= 1); target of input's shape
 * (or class indices, see to_onehot_y). Per sample n and class c, sums over space (and over
 * n too when batch):  f = 1 - (2 sum(p t) + smooth_nr) / (sum p + sum t + smooth_dr).
 * MEAN/SUM over every f; NONE gives f as (N, C') (or (C') when batch, C' classes kept);
 * PER_SAMPLE gives the mean over classes (N) and is an error with batch. */
vt_tensor *vt_dice_loss(vt_tensor *input, vt_tensor *target, const vt_dice_options *opts);

/* ---- Adaptive Wing (Wang et al. ICCV 2019; ivadomed AdapWingLoss) ------------------- */
typedef struct vt_adaptive_wing_options {
    float theta, alpha, omega, epsilon; /* defaults 0.5, 2.1, 14, 1 */
    vt_reduction reduction;             /* default MEAN (sum / numel, as ivadomed) */
} vt_adaptive_wing_options;
vt_adaptive_wing_options vt_adaptive_wing_options_default(void);
/* pred, target (N, ...) of one shape (heat maps / soft masks, target in [0, 1]); d = |y - yhat|:
 *   l = omega ln(1 + (d/eps)^(alpha - y))   if d < theta
 *       A d - C                             otherwise, with r = theta/eps, q = alpha - y,
 *   A = omega q r^(q-1) / (eps (1 + r^q)),  C = theta A - omega ln(1 + r^q). */
vt_tensor *vt_adaptive_wing_loss(vt_tensor *pred, vt_tensor *target,
                                 const vt_adaptive_wing_options *opts);

/* ---- supervised contrastive (Khosla et al. 2020, SupCon) ---------------------------- */
/* features (N, D) (every view a row; L2-normalised here), labels (N) as floats.
 * z = f / ||f||, s_ij = z_i.z_j / temperature, P(i) = {j != i : y_j = y_i}:
 *   l_i = -(temperature / base_temperature) / |P(i)| sum_{j in P(i)}
 *         [s_ij - log sum_{k != i} exp(s_ik)]
 * Anchors with P(i) empty get l_i = 0 and are left out of MEAN's denominator (MEAN =
 * sum l_i / #anchors with a positive; NaN when there are none). NONE / PER_SAMPLE: (N).
 * Two views of each image with their own image index as label give InfoNCE / NT-Xent. */
vt_tensor *vt_supcon_loss(vt_tensor *features, vt_tensor *labels, float temperature,
                          float base_temperature, vt_reduction reduction);

/* ---- generalized IoU (Rezatofighi et al. 2019; torchvision generalized_box_iou_loss) -- */
/* boxes1, boxes2 (N, 4) as (x1, y1, x2, y2), x2 >= x1, y2 >= y1; eps 1e-7 as torchvision:
 *   l = 1 - iou + (area_c - union) / (area_c + eps),  iou = inter / (union + eps)
 * NONE / PER_SAMPLE (N); MEAN = sum / N. */
vt_tensor *vt_giou_loss(vt_tensor *boxes1, vt_tensor *boxes2, vt_reduction reduction);

/* ---- multi-task combiners ------------------------------------------------------------ */
/* sum_i weights[i] losses[i] over n scalar (numel 1) losses; weights NULL means 1. */
vt_tensor *vt_multitask_weighted_sum(int n, vt_tensor *const *losses, const float *weights);

/* Homoscedastic uncertainty weighting (Kendall, Gal, Cipolla, CVPR 2018) with
 * s_i = log sigma_i^2 learnable. Per task:
 *   PLAIN           exp(-s) L + s          (the common implementation; default)
 *   REGRESSION      0.5 exp(-s) L + 0.5 s  (paper eq. 7: L/(2 sigma^2) + log sigma)
 *   CLASSIFICATION  exp(-s) L + 0.5 s      (paper eq. 10 approximation: L/sigma^2 + log sigma) */
typedef enum { VT_UW_PLAIN = 0, VT_UW_REGRESSION, VT_UW_CLASSIFICATION } vt_uw_task;
/* Registers parameter `name` of shape (n_tasks), zero (sigma = 1) in p (before finalize);
 * returns it (owned by p). */
vt_tensor *vt_uncertainty_weights_add(vt_params *p, const char *name, int n_tasks);
/* log_vars (n) from vt_uncertainty_weights_add; kinds NULL means all PLAIN. Returns (1). */
vt_tensor *vt_uncertainty_weighted_sum(vt_tensor *log_vars, int n, vt_tensor *const *losses,
                                       const vt_uw_task *kinds);

/* ---- self-paced learning weights ----------------------------------------------------- */
/* Closed-form minimisers v(l) of the self-paced regulariser for per-sample losses l:
 *   HARD    (Kumar, Packer, Koller 2010):  1 if l < lambda else 0
 *   LINEAR  (Jiang et al. 2014):           max(0, 1 - l / lambda)
 *   MIXTURE (Jiang et al. 2014, SPaR; 0 < lambda2 < lambda):
 *           1 if l <= lambda2, 0 if l >= lambda, zeta/l - zeta/lambda in between,
 *           zeta = lambda lambda2 / (lambda - lambda2)  (continuous at both ends).
 * losses (N) (any device; read, not differentiated); returns an arena tensor (N) without
 * graph on the same device, to pass as vt_ce_options.sample_weights. lambda2 only for MIXTURE. */
typedef enum { VT_SPL_HARD = 0, VT_SPL_LINEAR, VT_SPL_MIXTURE } vt_spl_scheme;
vt_tensor *vt_spl_weights(vt_tensor *losses, vt_spl_scheme scheme, float lambda, float lambda2);
/* Fraction of samples included at `epoch` (0-based): min(1, f0 + epoch step) when
 * growth <= 0, else min(1, f0 growth^epoch). */
double vt_spl_fraction(double f0, double step, double growth, int epoch);
/* lambda just above the k-th smallest loss, k = ceil(fraction N) (k = 0: lambda = the
 * smallest loss), so HARD selects the k easiest samples (ties at the k-th are all kept).
 * fraction in [0, 1]. */
vt_status vt_spl_lambda_for_fraction(const vt_tensor *losses, double fraction, float *lambda);

#endif
