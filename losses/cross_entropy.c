/* cross_entropy.c: cross-entropy over logits (N, C) or (N, C, spatial...) composed from
 * log_softmax, nll, mul and sum, so its gradient comes from autograd. What depends only on
 * the targets (the ignore mask and the MEAN denominator sum(w[y])) is computed once on the
 * host and enters the graph as constants. */
#include <math.h>
#include <stdlib.h>
#include "internal.h"
#include "loss_reduce.h"

vt_ce_options vt_ce_options_default(void) {
    return (vt_ce_options){.class_weights = NULL, .sample_weights = NULL, .ignore_index = -100,
                           .label_smoothing = 0.f, .reduction = VT_REDUCE_MEAN};
}

static int check_shapes(const vt_tensor *x, const vt_tensor *t, const vt_ce_options *o) {
    if (x->ndim < 2) return vt_error("cross_entropy: logits %s must be (N, C) or (N, C, spatial...)", vt_sstr(x));
    int ok = t->ndim == x->ndim - 1 && t->shape[0] == x->shape[0];
    for (int d = 2; ok && d < x->ndim; d++) ok = t->shape[d - 1] == x->shape[d];
    if (!ok)
        return vt_error("cross_entropy: targets %s do not match logits %s (want logits' shape "
                        "without the class axis 1)", vt_sstr(t), vt_sstr(x));
    const vt_tensor *w = o->class_weights;
    if (w && (w->ndim != 1 || w->shape[0] != x->shape[1]))
        return vt_error("cross_entropy: class_weights %s must be (%lld) for logits %s",
                        vt_sstr(w), (long long)x->shape[1], vt_sstr(x));
    if (!(o->label_smoothing >= 0.f && o->label_smoothing <= 1.f))
        return vt_error("cross_entropy: label_smoothing %g is not in [0, 1]", (double)o->label_smoothing);
    if ((unsigned)o->reduction > VT_REDUCE_PER_SAMPLE)
        return vt_error("cross_entropy: unknown reduction %d", (int)o->reduction);
    return VT_OK;
}

/* Validates targets on the host; returns sum of w[y] over non-ignored positions in *denom
 * and, when mask != NULL, mask[i] = value for non-ignored positions, 0 for ignored. */
static vt_status scan_targets(const vt_tensor *t, const vt_tensor *w, int64_t c, int ignore,
                              float value, float *mask, double *denom) {
    int own_t = 0, own_w = 0;
    const float *th = vt_loss_host_data(t, &own_t);
    const float *wh = w ? vt_loss_host_data(w, &own_w) : NULL;
    vt_status st = (th && (wh || !w)) ? VT_OK : VT_ERR;
    double sum = 0;
    for (int64_t i = 0; st == VT_OK && i < t->numel; i++) {
        float y = th[i];
        int ignored = y == (float)ignore;
        if (!ignored && (!(y >= 0.f && y < (float)c) || y != floorf(y)))
            st = vt_error("cross_entropy: target %g at flat index %lld is not a class index "
                          "in [0, %lld) nor ignore_index %d", (double)y, (long long)i,
                          (long long)c, ignore);
        else if (!ignored)
            sum += wh ? (double)wh[(int64_t)y] : 1.0;
        if (mask) mask[i] = ignored ? 0.f : value;
    }
    if (own_t) free((void *)th);
    if (own_w) free((void *)wh);
    *denom = sum;
    return st;
}

/* eps / C * sum_c w[c] (-logp[c]) at non-ignored positions: (N, spatial...) */
static vt_tensor *smoothing_term(vt_tensor *logp, vt_tensor *targets, const vt_ce_options *o,
                                 double *denom) {
    int64_t c = logp->shape[1];
    vt_tensor *weighted = logp;
    if (o->class_weights) { /* w viewed as (1, C, 1, ...) to broadcast over logp */
        int64_t ws[VT_MAX_DIMS] = {1, c, 1, 1, 1};
        weighted = vt_mul(logp, vt_reshape(o->class_weights, logp->ndim, ws));
    }
    vt_tensor *total = vt_sum(weighted, 1, (int[]){1}, 0);
    vt_tensor *mask = vt_arena_tensor(targets->ndim, targets->shape, logp->device);
    if (!total || !mask) return NULL;
    float *mh = logp->device == VT_DEV_CPU ? mask->data : malloc((size_t)mask->numel * sizeof(float) + 1);
    if (!mh) { vt_error("cross_entropy: out of memory"); return NULL; }
    vt_status st = scan_targets(targets, o->class_weights, c, o->ignore_index,
                                -o->label_smoothing / (float)c, mh, denom);
    if (mh != mask->data) {
        if (st == VT_OK) vt_be(mask)->from_host(mask->data, mh, (size_t)mask->numel * sizeof(float));
        free(mh);
    }
    return st == VT_OK ? vt_mul(total, mask) : NULL;
}

vt_tensor *vt_cross_entropy(vt_tensor *logits, vt_tensor *targets, const vt_ce_options *opts) {
    VT_CHECK_IN(logits);
    VT_CHECK_IN(targets);
    vt_ce_options o = opts ? *opts : vt_ce_options_default();
    if (check_shapes(logits, targets, &o) != VT_OK) return NULL;
    vt_tensor *logp = vt_log_softmax(logits, 1);
    double denom = 0;
    vt_tensor *elem;
    if (o.label_smoothing > 0.f) {
        vt_tensor *smooth = smoothing_term(logp, targets, &o, &denom);
        if (!smooth) return NULL;
        elem = vt_nll(logp, targets, o.class_weights, o.ignore_index);
        elem = vt_add(vt_mul_scalar(elem, 1.f - o.label_smoothing), smooth);
    } else {
        if (scan_targets(targets, o.class_weights, logits->shape[1], o.ignore_index, 0.f, NULL,
                         &denom) != VT_OK)
            return NULL;
        elem = vt_nll(logp, targets, o.class_weights, o.ignore_index);
    }
    elem = vt_loss_sample_weight("cross_entropy", elem, o.sample_weights);
    return vt_loss_reduce("cross_entropy", elem, o.reduction, denom);
}
