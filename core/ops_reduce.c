/* ops_reduce.c: sum and mean over axes. */
#include <string.h>
#include "internal.h"

/* gradient of a reduction: broadcast gy (kept dims, size 1 on reduced) back over x */
static void reduce_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *y = n->out;
    float *gx = vt_grad_buf(x);
    if (!gx) return;
    int64_t sx[VT_MAX_DIMS], sy_keep[VT_MAX_DIMS], sg[VT_MAX_DIMS];
    vt_strides(x->ndim, x->shape, sx);
    /* strides of gy in x's index space: 0 along reduced dims */
    int64_t keep_shape[VT_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) keep_shape[d] = (n->i[0] >> d) & 1 ? 1 : x->shape[d];
    vt_strides(x->ndim, keep_shape, sy_keep);
    for (int d = 0; d < x->ndim; d++) sg[d] = (n->i[0] >> d) & 1 ? 0 : sy_keep[d];
    const vt_backend *be = vt_be(y);
    if (n->f[0] == 1.f) {
        be->copy_strided(x->ndim, x->shape, y->grad->data, sg, gx, sx, 1);
    } else { /* mean: scale while broadcasting, through a temporary */
        vt_tensor *g = vt_arena_tensor(y->ndim, y->shape, y->device);
        VT_ASSERT(g);
        be->unary(VT_UN_MUL_SCALAR, y->numel, y->grad->data, g->data, n->f[0], 0);
        be->copy_strided(x->ndim, x->shape, g->data, sg, gx, sx, 1);
    }
}

static vt_tensor *reduce(const char *name, vt_tensor *x, int naxes, const int *axes,
                         int keepdim, int mean) {
    VT_CHECK_IN(x);
    int mask = 0;
    if (naxes == 0) mask = (1 << x->ndim) - 1;
    for (int k = 0; k < naxes; k++) {
        int a = vt_axis(name, axes[k], x->ndim);
        if (a < 0) return NULL;
        if (mask & (1 << a)) { vt_error("%s: axis %d given twice", name, axes[k]); return NULL; }
        mask |= 1 << a;
    }
    int64_t keep[VT_MAX_DIMS], out[VT_MAX_DIMS], count = 1;
    int nd = 0;
    for (int d = 0; d < x->ndim; d++) {
        keep[d] = (mask >> d) & 1 ? 1 : x->shape[d];
        if ((mask >> d) & 1) count *= x->shape[d];
        if (keepdim || !((mask >> d) & 1)) out[nd++] = keep[d];
    }
    if (nd == 0) out[nd++] = 1; /* full reductions give shape (1) */
    vt_tensor *y = vt_arena_tensor(nd, out, x->device);
    if (!y) return NULL;
    float scale = mean ? (count ? 1.f / (float)count : 0.f) : 1.f;
    if (x->ndim == 0) vt_be(x)->unary(VT_UN_MUL_SCALAR, 1, x->data, y->data, scale, 0);
    else vt_be(x)->reduce_sum(x->ndim, x->shape, x->data, keep, y->data, scale, 0);
    vt_node *n = vt_node_record(name, y, reduce_backward, 1, &x);
    if (n) { n->i[0] = mask; n->f[0] = scale; }
    return y;
}

vt_tensor *vt_sum(vt_tensor *x, int naxes, const int *axes, int keepdim) {
    return reduce("sum", x, naxes, axes, keepdim, 0);
}

vt_tensor *vt_mean(vt_tensor *x, int naxes, const int *axes, int keepdim) {
    return reduce("mean", x, naxes, axes, keepdim, 1);
}
