/* ops_reshape.c: reshape and flatten, views sharing the input's data. */
#include "internal.h"

static void reshape_backward(vt_node *n) {
    float *gx = vt_grad_buf(n->in[0]);
    if (gx) vt_be(n->out)->axpy(n->out->numel, 1.f, n->out->grad->data, gx);
}

vt_tensor *vt_reshape(vt_tensor *x, int ndim, const int64_t *shape) {
    VT_CHECK_IN(x);
    if (ndim < 0 || ndim > VT_MAX_DIMS) { vt_error("reshape: %d dims (max %d)", ndim, VT_MAX_DIMS); return NULL; }
    int64_t s[VT_MAX_DIMS], known = 1;
    int infer = -1;
    for (int d = 0; d < ndim; d++) {
        s[d] = shape[d];
        if (s[d] == -1) {
            if (infer >= 0) { vt_error("reshape: more than one -1 in the target shape"); return NULL; }
            infer = d;
        } else if (s[d] < 0) {
            vt_error("reshape: negative dimension %lld", (long long)s[d]);
            return NULL;
        } else known *= s[d];
    }
    if (infer >= 0) {
        if (known == 0 || x->numel % known) {
            vt_error("reshape: cannot infer -1 for %s (%lld elements)", vt_sstr(x), (long long)x->numel);
            return NULL;
        }
        s[infer] = x->numel / known;
        known *= s[infer];
    }
    if (known != x->numel) {
        vt_error("reshape: %s has %lld elements, target has %lld", vt_sstr(x), (long long)x->numel, (long long)known);
        return NULL;
    }
    vt_tensor *y = vt_arena_view(x, ndim, s);
    if (!y) return NULL;
    vt_node_record("reshape", y, reshape_backward, 1, &x);
    return y;
}

vt_tensor *vt_flatten(vt_tensor *x) {
    VT_CHECK_IN(x);
    if (x->ndim < 1) { vt_error("flatten: needs at least one dim"); return NULL; }
    return vt_reshape(x, 2, (int64_t[]){x->shape[0], -1});
}
