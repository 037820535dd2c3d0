/* l1.c: mean absolute error |pred - target| (torch.nn.functional.l1_loss). */
#include "internal.h"
#include "loss_reduce.h"
#include "losses_extra.h"

vt_tensor *vt_l1_loss(vt_tensor *pred, vt_tensor *target, vt_reduction reduction) {
    VT_CHECK_IN(pred);
    VT_CHECK_IN(target);
    if (!vt_shape_equal(pred, target)) {
        vt_error("l1_loss: pred %s and target %s must have one shape", vt_sstr(pred), vt_sstr(target));
        return NULL;
    }
    /* abs'(0) = 0 as torch's sign(0) */
    return vt_loss_reduce("l1_loss", vt_abs(vt_sub(pred, target)), reduction, (double)pred->numel);
}
