/* mse.c: mean squared error, (pred - target)^2 with the usual reductions. */
#include "internal.h"
#include "loss_reduce.h"

vt_tensor *vt_mse_loss(vt_tensor *pred, vt_tensor *target, vt_reduction reduction) {
    VT_CHECK_IN(pred);
    VT_CHECK_IN(target);
    if (!vt_shape_equal(pred, target)) {
        vt_error("mse_loss: pred %s and target %s must have one shape", vt_sstr(pred), vt_sstr(target));
        return NULL;
    }
    if ((unsigned)reduction > VT_REDUCE_PER_SAMPLE) {
        vt_error("mse_loss: unknown reduction %d", (int)reduction);
        return NULL;
    }
    vt_tensor *d = vt_sub(pred, target);
    return vt_loss_reduce("mse_loss", vt_mul(d, d), reduction, (double)pred->numel);
}
