/* smooth_l1.c: smooth L1 and Huber (torch.nn.functional.smooth_l1_loss / huber_loss).
 * Both are one function of d = pred - target with a quadratic core |d| < beta:
 *   smooth_l1 = 0.5 d^2 / beta  |  |d| - 0.5 beta,   huber(delta) = delta smooth_l1(beta = delta).
 * The branch is a host mask (torch.where); each branch is composed of core ops. */
#include <math.h>
#include "internal.h"
#include "loss_masks.h"
#include "loss_reduce.h"
#include "losses_extra.h"

static float abs_below(float d, float unused, float beta) { (void)unused; return fabsf(d) < beta ? 1.f : 0.f; }

/* elementwise smooth L1 scaled by `scale`, or NULL */
static vt_tensor *smooth_l1_elem(const char *op, vt_tensor *pred, vt_tensor *target, float beta,
                                 float scale, vt_reduction reduction) {
    VT_CHECK_IN(pred);
    VT_CHECK_IN(target);
    if (!vt_shape_equal(pred, target)) {
        vt_error("%s: pred %s and target %s must have one shape", op, vt_sstr(pred), vt_sstr(target));
        return NULL;
    }
    if (!(beta >= 0.f) || isinf(beta)) {
        vt_error("%s: beta/delta %g must be finite and >= 0", op, (double)beta);
        return NULL;
    }
    if ((unsigned)reduction > VT_REDUCE_PER_SAMPLE) {
        vt_error("%s: unknown reduction %d", op, (int)reduction);
        return NULL;
    }
    vt_tensor *d = vt_sub(pred, target);
    vt_tensor *ad = vt_abs(d);
    vt_tensor *elem;
    if (beta == 0.f) {
        elem = ad; /* torch: beta 0 is exactly L1 */
    } else {
        vt_tensor *quad = vt_mul_scalar(vt_mul(d, d), 0.5f / beta);
        vt_tensor *lin = vt_add_scalar(ad, -0.5f * beta);
        elem = vt_loss_select(vt_loss_mask(op, d, NULL, abs_below, beta), quad, lin);
    }
    if (scale != 1.f) elem = vt_mul_scalar(elem, scale);
    return vt_loss_reduce(op, elem, reduction, (double)pred->numel);
}

vt_tensor *vt_smooth_l1_loss(vt_tensor *pred, vt_tensor *target, float beta, vt_reduction reduction) {
    return smooth_l1_elem("smooth_l1_loss", pred, target, beta, 1.f, reduction);
}

vt_tensor *vt_huber_loss(vt_tensor *pred, vt_tensor *target, float delta, vt_reduction reduction) {
    if (!(delta > 0.f)) {
        vt_error("huber_loss: delta %g must be > 0", (double)delta);
        return NULL;
    }
    return smooth_l1_elem("huber_loss", pred, target, delta, delta, reduction);
}
