/* bce.c: binary cross-entropy with logits, composed stably from softplus:
 *   l = (1 - t) x + (1 + (p - 1) t) softplus(-x)
 * which equals -[p t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] without overflow. */
#include "internal.h"
#include "loss_reduce.h"

vt_bce_options vt_bce_options_default(void) {
    return (vt_bce_options){.pos_weight = NULL, .sample_weights = NULL, .reduction = VT_REDUCE_MEAN};
}

vt_tensor *vt_bce_with_logits(vt_tensor *x, vt_tensor *t, const vt_bce_options *opts) {
    VT_CHECK_IN(x);
    VT_CHECK_IN(t);
    vt_bce_options o = opts ? *opts : vt_bce_options_default();
    if (!vt_shape_equal(x, t)) {
        vt_error("bce_with_logits: logits %s and targets %s must have one shape", vt_sstr(x), vt_sstr(t));
        return NULL;
    }
    if ((unsigned)o.reduction > VT_REDUCE_PER_SAMPLE) {
        vt_error("bce_with_logits: unknown reduction %d", (int)o.reduction);
        return NULL;
    }
    vt_tensor *pw = o.pos_weight;
    int pw_ok = !pw || pw->ndim <= x->ndim;
    for (int d = 1; pw && pw_ok && d <= pw->ndim; d++) { /* trailing dims: equal or 1 */
        int64_t e = pw->shape[pw->ndim - d];
        pw_ok = e == 1 || e == x->shape[x->ndim - d];
    }
    if (!pw_ok) {
        vt_error("bce_with_logits: pos_weight %s does not broadcast against logits %s "
                 "(usually (C) for logits (N, C))", vt_sstr(pw), vt_sstr(x));
        return NULL;
    }
    vt_tensor *sp = vt_softplus(vt_mul_scalar(x, -1.f));           /* softplus(-x) */
    vt_tensor *lin = vt_mul(vt_add_scalar(vt_mul_scalar(t, -1.f), 1.f), x); /* (1 - t) x */
    vt_tensor *coef = pw ? vt_add_scalar(vt_mul(vt_add_scalar(pw, -1.f), t), 1.f) : NULL;
    vt_tensor *elem = vt_add(lin, coef ? vt_mul(coef, sp) : sp);
    if (!elem) return NULL; /* e.g. pos_weight broadcasting error, message already set */
    elem = vt_loss_sample_weight("bce_with_logits", elem, o.sample_weights);
    return vt_loss_reduce("bce_with_logits", elem, o.reduction, (double)x->numel);
}
