/* ops_nll.c: negative log-likelihood gather (the core of cross-entropy).
 * logp (N, C, spatial...), targets (N, spatial...) with class indices stored as floats,
 * class_weights (C) or NULL -> (N, spatial...) = -w[t] * logp[n, t, ...]; 0 where
 * t == ignore_index. Differentiable in logp only (targets and weights are constants). */
#include <math.h>
#include "internal.h"

static void nll_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *t = n->in[1], *w = n->in[2], *y = n->out;
    float *gx = vt_grad_buf(x);
    if (gx)
        vt_be(y)->nll_backward(n->i[0], n->i[1], n->i[2], y->grad->data, t->data,
                               w ? w->data : NULL, (int)n->i[3], gx);
}

/* Targets must be integers in [0, C) or ignore_index. Checked on the host for CPU tensors;
 * other devices rely on the front-ends above (losses) having checked host copies. */
static int check_targets(const vt_tensor *logp, const vt_tensor *targets, int64_t c,
                         int ignore_index) {
    if (targets->device != VT_DEV_CPU) return 0;
    for (int64_t i = 0; i < targets->numel; i++) {
        float t = targets->data[i];
        if (t == (float)ignore_index) continue;
        if (!(t >= 0.f && t < (float)c) || t != floorf(t)) {
            vt_error("nll: target %g at flat index %lld is not a class index in [0, %lld) "
                     "(logp %s, ignore_index %d)", (double)t, (long long)i, (long long)c,
                     vt_sstr(logp), ignore_index);
            return -1;
        }
    }
    return 0;
}

vt_tensor *vt_nll(vt_tensor *logp, vt_tensor *targets, vt_tensor *class_weights,
                  int ignore_index) {
    VT_CHECK_IN(logp);
    VT_CHECK_IN(targets);
    if (logp->ndim < 2) {
        vt_error("nll: logp %s must be (N, C, ...)", vt_sstr(logp));
        return NULL;
    }
    /* targets: logp's shape without axis 1 */
    int64_t out_shape[VT_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < logp->ndim; d++)
        if (d != 1) out_shape[nd++] = logp->shape[d];
    int ok = targets->ndim == nd;
    for (int d = 0; ok && d < nd; d++) ok = targets->shape[d] == out_shape[d];
    if (!ok) {
        vt_error("nll: targets %s do not match logp %s (want logp's shape without axis 1)",
                 vt_sstr(targets), vt_sstr(logp));
        return NULL;
    }
    int64_t n = logp->shape[0], c = logp->shape[1], s = (n > 0 && c > 0) ? logp->numel / (n * c) : 0;
    if (class_weights && (class_weights->ndim != 1 || class_weights->shape[0] != c)) {
        vt_error("nll: class_weights %s must be (%lld) for logp %s", vt_sstr(class_weights),
                 (long long)c, vt_sstr(logp));
        return NULL;
    }
    if (targets->device != logp->device || (class_weights && class_weights->device != logp->device)) {
        vt_error("nll: logp, targets and class_weights must be on one device");
        return NULL;
    }
    if (check_targets(logp, targets, c, ignore_index) < 0) return NULL;
    vt_tensor *y = vt_arena_tensor(nd, out_shape, logp->device);
    if (!y) return NULL;
    if (y->numel)
        vt_be(logp)->nll_forward(n, c, s, logp->data, targets->data,
                                 class_weights ? class_weights->data : NULL, ignore_index, y->data);
    vt_node *node = vt_node_record("nll", y, nll_backward, 3,
                                   (vt_tensor *[]){logp, targets, class_weights});
    if (node) { node->i[0] = n; node->i[1] = c; node->i[2] = s; node->i[3] = ignore_index; }
    return y;
}
