/* dice.c: soft Dice loss with MONAI DiceLoss semantics (Milletari et al. 2016, V-Net;
 * monai.losses.DiceLoss), for (N, C, H, W) and (N, C, D, H, W):
 *   per sample n (or over the batch) and class c, sums over space:
 *   f = 1 - (2 sum(p t) + smooth_nr) / (sum p^k + sum t^k + smooth_dr),  k = 2 if squared_pred else 1.
 * One-hot targets are built on the host and enter the graph as constants. */
#include <math.h>
#include <stdlib.h>
#include "internal.h"
#include "loss_masks.h"
#include "loss_reduce.h"
#include "losses_extra.h"

vt_dice_options vt_dice_options_default(void) {
    return (vt_dice_options){.activation = VT_DICE_ACT_SIGMOID, .include_background = 1,
                             .to_onehot_y = 0, .squared_pred = 0, .batch = 0,
                             .smooth_nr = 1e-5f, .smooth_dr = 1e-5f,
                             .reduction = VT_REDUCE_MEAN};
}

/* class indices (N, 1, sp...) or (N, sp...) -> one-hot constant of x's shape (N, C, sp...) */
static vt_tensor *one_hot(vt_tensor *t, const vt_tensor *x) {
    int64_t n = x->shape[0], c = x->shape[1], inner = x->numel / (n * c);
    int squeezed = t->ndim == x->ndim - 1, ok = t->ndim == x->ndim || squeezed;
    ok = ok && t->shape[0] == n && (squeezed || t->shape[1] == 1);
    for (int d = 2; ok && d < x->ndim; d++) ok = t->shape[d - squeezed] == x->shape[d];
    if (!ok) {
        vt_error("dice_loss: with to_onehot_y, target %s must hold class indices shaped "
                 "(N, 1, spatial...) or (N, spatial...) for input %s", vt_sstr(t), vt_sstr(x));
        return NULL;
    }
    int own = 0;
    const float *th = vt_loss_host_data(t, &own);
    float *oh = th ? calloc((size_t)x->numel + 1, sizeof(float)) : NULL;
    vt_status st = oh ? VT_OK : vt_error("dice_loss: out of memory for a one-hot %s", vt_sstr(x));
    for (int64_t i = 0; st == VT_OK && i < n * inner; i++) {
        float y = th[i];
        if (!(y >= 0.f && y < (float)c) || y != floorf(y))
            st = vt_error("dice_loss: target %g at flat index %lld is not a class index in "
                          "[0, %lld)", (double)y, (long long)i, (long long)c);
        else
            oh[(i / inner * c + (int64_t)y) * inner + i % inner] = 1.f;
    }
    vt_tensor *out = st == VT_OK ? vt_loss_const("dice_loss", x->ndim, x->shape, x->device, oh) : NULL;
    if (own) free((void *)th);
    free(oh);
    return out;
}

static vt_status check(const vt_tensor *x, const vt_tensor *t, const vt_dice_options *o) {
    if (x->ndim < 3)
        return vt_error("dice_loss: input %s must be (N, C, spatial...) with at least one "
                        "spatial dim", vt_sstr(x));
    if (!(o->to_onehot_y && x->shape[1] > 1) && !vt_shape_equal(x, t))
        return vt_error("dice_loss: input %s and target %s must have one shape (or set "
                        "to_onehot_y for class-index targets)", vt_sstr(x), vt_sstr(t));
    if ((unsigned)o->activation > VT_DICE_ACT_SOFTMAX)
        return vt_error("dice_loss: unknown activation %d", (int)o->activation);
    if ((unsigned)o->reduction > VT_REDUCE_PER_SAMPLE)
        return vt_error("dice_loss: unknown reduction %d", (int)o->reduction);
    if (o->batch && o->reduction == VT_REDUCE_PER_SAMPLE)
        return vt_error("dice_loss: PER_SAMPLE reduction is undefined with batch (one Dice "
                        "per class over the whole batch)");
    if (!(o->smooth_nr >= 0.f) || !(o->smooth_dr >= 0.f))
        return vt_error("dice_loss: smooth_nr %g and smooth_dr %g must be >= 0",
                        (double)o->smooth_nr, (double)o->smooth_dr);
    return VT_OK;
}

vt_tensor *vt_dice_loss(vt_tensor *x, vt_tensor *t, const vt_dice_options *opts) {
    VT_CHECK_IN(x);
    VT_CHECK_IN(t);
    vt_dice_options o = opts ? *opts : vt_dice_options_default();
    if (check(x, t, &o) != VT_OK) return NULL;
    int64_t c = x->shape[1];
    vt_tensor *p = x;
    if (o.activation == VT_DICE_ACT_SIGMOID) p = vt_sigmoid(x);
    if (o.activation == VT_DICE_ACT_SOFTMAX && c > 1) p = vt_softmax(x, 1); /* MONAI: ignored for C = 1 */
    if (o.to_onehot_y && c > 1) t = one_hot(t, x);                      /* MONAI: ignored for C = 1 */
    if (!o.include_background && c > 1) {
        p = vt_slice(p, 1, 1, c);
        t = vt_slice(t, 1, 1, c);
    }
    int axes[VT_MAX_DIMS], naxes = 0;
    if (o.batch) axes[naxes++] = 0;
    for (int d = 2; d < x->ndim; d++) axes[naxes++] = d;
    vt_tensor *inter = vt_sum(vt_mul(p, t), naxes, axes, 0);
    vt_tensor *pk = o.squared_pred ? vt_mul(p, p) : p;
    vt_tensor *tk = o.squared_pred ? vt_mul(t, t) : t;
    vt_tensor *den = vt_add_scalar(vt_add(vt_sum(pk, naxes, axes, 0), vt_sum(tk, naxes, axes, 0)),
                                   o.smooth_dr);
    vt_tensor *num = vt_add_scalar(vt_mul_scalar(inter, 2.f), o.smooth_nr);
    vt_tensor *f = vt_add_scalar(vt_mul_scalar(vt_div(num, den), -1.f), 1.f); /* (N, C') or (C') */
    if (!f) return NULL;
    if (o.reduction == VT_REDUCE_PER_SAMPLE) return vt_mean(f, 1, (int[]){1}, 0);
    return vt_loss_reduce("dice_loss", f, o.reduction, (double)f->numel);
}
