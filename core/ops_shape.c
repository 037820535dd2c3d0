/* ops_shape.c: permute, transpose, concat and slice (front-ends + backward).
 *
 * Every op here writes a new contiguous output through the backend's copy_strided kernel:
 * the forward copies x into y along the op's index map, the backward runs the same map in
 * reverse with accumulate = 1 (gx += gy). Each gx element is written by at most one
 * element of gy, so the backward is race free whatever the thread count. */
#include "internal.h"

/* ---- permute / transpose ------------------------------------------------------------ */

/* y = x.permute(perm): y.shape[d] = x.shape[perm[d]]; n->i[0..ndim) holds perm */
static void permute_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *y = n->out;
    float *gx = vt_grad_buf(x);
    if (!gx) return;
    int64_t sx[VT_MAX_DIMS], sy[VT_MAX_DIMS], sx_perm[VT_MAX_DIMS];
    vt_strides(x->ndim, x->shape, sx);
    vt_strides(y->ndim, y->shape, sy);
    for (int d = 0; d < y->ndim; d++) sx_perm[d] = sx[n->i[d]];
    /* walk gy in y's (contiguous) order, scatter into gx at the permuted strides */
    vt_be(y)->copy_strided(y->ndim, y->shape, y->grad->data, sy, gx, sx_perm, 1);
}

static vt_tensor *permute(const char *name, vt_tensor *x, const int *perm_in) {
    int perm[VT_MAX_DIMS], seen = 0;
    for (int d = 0; d < x->ndim; d++) {
        int a = vt_axis(name, perm_in[d], x->ndim);
        if (a < 0) return NULL;
        if (seen & (1 << a)) {
            vt_error("%s: axis %d appears twice in the permutation of %s", name, perm_in[d], vt_sstr(x));
            return NULL;
        }
        seen |= 1 << a;
        perm[d] = a;
    }
    int64_t shape[VT_MAX_DIMS], sx[VT_MAX_DIMS], src[VT_MAX_DIMS], sy[VT_MAX_DIMS];
    vt_strides(x->ndim, x->shape, sx);
    for (int d = 0; d < x->ndim; d++) { shape[d] = x->shape[perm[d]]; src[d] = sx[perm[d]]; }
    vt_tensor *y = vt_arena_tensor(x->ndim, shape, x->device);
    if (!y) return NULL;
    vt_strides(y->ndim, y->shape, sy);
    vt_be(x)->copy_strided(y->ndim, y->shape, x->data, src, y->data, sy, 0);
    vt_node *n = vt_node_record(name, y, permute_backward, 1, &x);
    if (n) for (int d = 0; d < x->ndim; d++) n->i[d] = perm[d];
    return y;
}

vt_tensor *vt_permute(vt_tensor *x, const int *perm) {
    VT_CHECK_IN(x);
    if (!perm) { vt_error("permute: perm is NULL"); return NULL; }
    return permute("permute", x, perm);
}

vt_tensor *vt_transpose(vt_tensor *x, int axis0, int axis1) {
    VT_CHECK_IN(x);
    int a0 = vt_axis("transpose", axis0, x->ndim), a1 = vt_axis("transpose", axis1, x->ndim);
    if (a0 < 0 || a1 < 0) return NULL;
    int perm[VT_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) perm[d] = d;
    perm[a0] = a1;
    perm[a1] = a0;
    return permute("transpose", x, perm);
}

/* ---- concat ------------------------------------------------------------------------- */

/* xs[k] (.., n_k, ..) are copied into y (.., sum n_k, ..) at offset sum_{j<k} n_j along
 * the axis: y's strides with a shifted base pointer. n->i[0] = axis. */
static void concat_backward(vt_node *n) {
    vt_tensor *y = n->out;
    int axis = (int)n->i[0];
    int64_t sy[VT_MAX_DIMS], sx[VT_MAX_DIMS], offset = 0;
    vt_strides(y->ndim, y->shape, sy);
    for (int k = 0; k < n->n_in; k++) {
        vt_tensor *x = n->ins[k];
        float *gx = vt_grad_buf(x);
        if (gx) {
            vt_strides(x->ndim, x->shape, sx);
            vt_be(y)->copy_strided(x->ndim, x->shape, y->grad->data + offset * sy[axis], sy,
                                   gx, sx, 1);
        }
        offset += x->shape[axis];
    }
}

vt_tensor *vt_concat(int n, vt_tensor *const *xs, int axis) {
    if (n < 1 || !xs) { vt_error("concat: needs at least one tensor (got %d)", n); return NULL; }
    for (int k = 0; k < n; k++) VT_CHECK_IN(xs[k]);
    const vt_tensor *x0 = xs[0];
    int a = vt_axis("concat", axis, x0->ndim);
    if (a < 0) return NULL;
    int64_t shape[VT_MAX_DIMS];
    for (int d = 0; d < x0->ndim; d++) shape[d] = x0->shape[d];
    shape[a] = 0;
    for (int k = 0; k < n; k++) {
        const vt_tensor *x = xs[k];
        if (x->device != x0->device) { vt_error("concat: inputs 0 and %d on different devices", k); return NULL; }
        int same = x->ndim == x0->ndim;
        for (int d = 0; same && d < x0->ndim; d++) same = d == a || x->shape[d] == x0->shape[d];
        if (!same) {
            vt_error("concat: input %d %s does not match input 0 %s outside axis %d", k,
                     vt_sstr(x), vt_sstr(x0), axis);
            return NULL;
        }
        shape[a] += x->shape[a];
    }
    vt_tensor *y = vt_arena_tensor(x0->ndim, shape, x0->device);
    if (!y) return NULL;
    int64_t sy[VT_MAX_DIMS], sx[VT_MAX_DIMS], offset = 0;
    vt_strides(y->ndim, y->shape, sy);
    for (int k = 0; k < n; k++) {
        const vt_tensor *x = xs[k];
        vt_strides(x->ndim, x->shape, sx);
        vt_be(x)->copy_strided(x->ndim, x->shape, x->data, sx, y->data + offset * sy[a], sy, 0);
        offset += x->shape[a];
    }
    vt_node *node = vt_node_record("concat", y, concat_backward, n, xs);
    if (node) node->i[0] = a;
    return y;
}

/* ---- slice -------------------------------------------------------------------------- */

/* y = x[.., start:end, ..]; n->i[0] = axis, n->i[1] = start */
static void slice_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *y = n->out;
    float *gx = vt_grad_buf(x);
    if (!gx) return;
    int64_t sx[VT_MAX_DIMS], sy[VT_MAX_DIMS];
    vt_strides(x->ndim, x->shape, sx);
    vt_strides(y->ndim, y->shape, sy);
    vt_be(y)->copy_strided(y->ndim, y->shape, y->grad->data, sy, gx + n->i[1] * sx[n->i[0]], sx, 1);
}

/* Python-style bounds: negative start/end count from the end, then both are clamped to
 * [0, dim]. Unlike PyTorch, an empty result is an error (it is almost always a bug). */
vt_tensor *vt_slice(vt_tensor *x, int axis, int64_t start, int64_t end) {
    VT_CHECK_IN(x);
    int a = vt_axis("slice", axis, x->ndim);
    if (a < 0) return NULL;
    int64_t dim = x->shape[a], s = start < 0 ? start + dim : start, e = end < 0 ? end + dim : end;
    s = s < 0 ? 0 : (s > dim ? dim : s);
    e = e < 0 ? 0 : (e > dim ? dim : e);
    if (s >= e) {
        vt_error("slice: [%lld, %lld) along axis %d of %s is empty (size %lld; clamped to [%lld, %lld))",
                 (long long)start, (long long)end, axis, vt_sstr(x), (long long)dim, (long long)s,
                 (long long)e);
        return NULL;
    }
    int64_t shape[VT_MAX_DIMS], sx[VT_MAX_DIMS], sy[VT_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) shape[d] = x->shape[d];
    shape[a] = e - s;
    vt_tensor *y = vt_arena_tensor(x->ndim, shape, x->device);
    if (!y) return NULL;
    vt_strides(x->ndim, x->shape, sx);
    vt_strides(y->ndim, y->shape, sy);
    vt_be(x)->copy_strided(y->ndim, y->shape, x->data + s * sx[a], sx, y->data, sy, 0);
    vt_node *n = vt_node_record("slice", y, slice_backward, 1, &x);
    if (n) { n->i[0] = a; n->i[1] = s; }
    return y;
}
