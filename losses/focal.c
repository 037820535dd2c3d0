/* focal.c: sigmoid focal loss (Lin et al., ICCV 2017, RetinaNet), composed as
 * torchvision.ops.sigmoid_focal_loss:
 *   l = a_t (1 - p_t)^gamma BCE(x, t),  p_t = p t + (1 - p)(1 - t),  p = sigmoid(x). */
#include <math.h>
#include "internal.h"
#include "loss_reduce.h"
#include "losses_extra.h"

vt_tensor *vt_sigmoid_focal_loss(vt_tensor *x, vt_tensor *t, float alpha, float gamma,
                                 vt_reduction reduction) {
    VT_CHECK_IN(x);
    VT_CHECK_IN(t);
    if (!vt_shape_equal(x, t)) {
        vt_error("sigmoid_focal_loss: logits %s and targets %s must have one shape", vt_sstr(x), vt_sstr(t));
        return NULL;
    }
    if (!(gamma >= 0.f) || isinf(gamma) || !(alpha <= 1.f)) {
        vt_error("sigmoid_focal_loss: gamma %g must be >= 0 and alpha %g <= 1 (alpha < 0: no "
                 "class balancing)", (double)gamma, (double)alpha);
        return NULL;
    }
    if ((unsigned)reduction > VT_REDUCE_PER_SAMPLE) {
        vt_error("sigmoid_focal_loss: unknown reduction %d", (int)reduction);
        return NULL;
    }
    vt_bce_options bo = {.reduction = VT_REDUCE_NONE};
    vt_tensor *ce = vt_bce_with_logits(x, t, &bo);
    vt_tensor *p = vt_sigmoid(x);
    vt_tensor *one_minus_t = vt_add_scalar(vt_mul_scalar(t, -1.f), 1.f);
    vt_tensor *one_minus_p = vt_add_scalar(vt_mul_scalar(p, -1.f), 1.f);
    vt_tensor *p_t = vt_add(vt_mul(p, t), vt_mul(one_minus_p, one_minus_t));
    vt_tensor *elem = vt_mul(ce, vt_pow(vt_add_scalar(vt_mul_scalar(p_t, -1.f), 1.f), gamma));
    if (alpha >= 0.f) {
        vt_tensor *a_t = vt_add(vt_mul_scalar(t, alpha), vt_mul_scalar(one_minus_t, 1.f - alpha));
        elem = vt_mul(a_t, elem);
    }
    return vt_loss_reduce("sigmoid_focal_loss", elem, reduction, (double)x->numel);
}
