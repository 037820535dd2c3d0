/* adaptive_wing.c: Adaptive Wing loss (Wang, Bo, Fuxin, "Adaptive Wing Loss for Robust Face
 * Alignment via Heatmap Regression", ICCV 2019, eq. 6-7), as ivadomed's AdapWingLoss uses it
 * for soft spinal-cord segmentation. With d = |y - yhat|, q = alpha - y, r = theta / eps:
 *   l = omega ln(1 + (d / eps)^q)   if d < theta
 *       A d - C                     otherwise
 *   A = omega q r^(q-1) / (eps (1 + r^q)),  C = theta A - omega ln(1 + r^q)
 * (A and C make l and its slope continuous at d = theta.) ivadomed multiplies by a weight
 * map meant to be the paper's dilated-foreground mask (sec. 4.3), but it thresholds the
 * boolean output of binary_opening, so the map is 1 everywhere: the loss is the plain mean,
 * which is what MEAN gives here.
 * Composed from core ops: x^q = exp(q ln x) with x clamped to >= 1e-30 so that d = 0 gives
 * value ~0 and gradient 0 (torch's pow at base 0), and ln(1 + e^z) = softplus(z). */
#include <math.h>
#include "internal.h"
#include "loss_masks.h"
#include "loss_reduce.h"
#include "losses_extra.h"

vt_adaptive_wing_options vt_adaptive_wing_options_default(void) {
    return (vt_adaptive_wing_options){.theta = 0.5f, .alpha = 2.1f, .omega = 14.f,
                                      .epsilon = 1.f, .reduction = VT_REDUCE_MEAN};
}

static float below(float d, float unused, float theta) { (void)unused; return d < theta ? 1.f : 0.f; }

vt_tensor *vt_adaptive_wing_loss(vt_tensor *pred, vt_tensor *y, const vt_adaptive_wing_options *opts) {
    VT_CHECK_IN(pred);
    VT_CHECK_IN(y);
    vt_adaptive_wing_options o = opts ? *opts : vt_adaptive_wing_options_default();
    if (!vt_shape_equal(pred, y)) {
        vt_error("adaptive_wing_loss: pred %s and target %s must have one shape", vt_sstr(pred), vt_sstr(y));
        return NULL;
    }
    if (!(o.theta > 0.f && o.epsilon > 0.f && o.omega > 0.f && isfinite(o.alpha))) {
        vt_error("adaptive_wing_loss: theta %g, epsilon %g and omega %g must be > 0 (alpha %g finite)",
                 (double)o.theta, (double)o.epsilon, (double)o.omega, (double)o.alpha);
        return NULL;
    }
    if ((unsigned)o.reduction > VT_REDUCE_PER_SAMPLE) {
        vt_error("adaptive_wing_loss: unknown reduction %d", (int)o.reduction);
        return NULL;
    }
    float ln_r = logf(o.theta / o.epsilon);
    vt_tensor *q = vt_add_scalar(vt_mul_scalar(y, -1.f), o.alpha);          /* alpha - y */
    vt_tensor *r_q = vt_exp(vt_mul_scalar(q, ln_r));                         /* r^q */
    /* A = omega q r^(q-1) / (eps (1 + r^q)) = q r^q * omega / (r eps) / (1 + r^q) */
    vt_tensor *a = vt_div(vt_mul_scalar(vt_mul(q, r_q), o.omega / (o.theta)),
                          vt_add_scalar(r_q, 1.f));
    vt_tensor *c = vt_sub(vt_mul_scalar(a, o.theta), vt_mul_scalar(vt_softplus(vt_mul_scalar(q, ln_r)), o.omega));
    vt_tensor *d = vt_abs(vt_sub(y, pred));
    vt_tensor *ln_x = vt_log(vt_clamp(vt_mul_scalar(d, 1.f / o.epsilon), 1e-30f, INFINITY));
    vt_tensor *near = vt_mul_scalar(vt_softplus(vt_mul(q, ln_x)), o.omega);
    vt_tensor *far = vt_sub(vt_mul(a, d), c);
    vt_tensor *elem = vt_loss_select(vt_loss_mask("adaptive_wing_loss", d, NULL, below, o.theta), near, far);
    return vt_loss_reduce("adaptive_wing_loss", elem, o.reduction, (double)pred->numel);
}
