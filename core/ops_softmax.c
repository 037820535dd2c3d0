/* ops_softmax.c: softmax and log-softmax over one axis (front-ends + backward).
 * x (d0, ..., dk) is seen as (outer, dim, inner) around the axis; the backward pass needs
 * only the saved output y. */
#include "internal.h"

static void softmax_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *y = n->out;
    float *gx = vt_grad_buf(x);
    if (gx)
        vt_be(y)->softmax_backward(n->i[0], n->i[1], n->i[2], y->data, y->grad->data, gx,
                                   (int)n->i[3]);
}

static vt_tensor *softmax(const char *name, vt_tensor *x, int axis, int log) {
    VT_CHECK_IN(x);
    if (x->ndim < 1) { vt_error("%s: needs at least one dim, got %s", name, vt_sstr(x)); return NULL; }
    int a = vt_axis(name, axis, x->ndim);
    if (a < 0) return NULL;
    int64_t outer = 1, inner = 1, dim = x->shape[a];
    for (int d = 0; d < a; d++) outer *= x->shape[d];
    for (int d = a + 1; d < x->ndim; d++) inner *= x->shape[d];
    vt_tensor *y = vt_arena_tensor(x->ndim, x->shape, x->device);
    if (!y) return NULL;
    if (y->numel) vt_be(x)->softmax(outer, dim, inner, x->data, y->data, log);
    vt_node *n = vt_node_record(name, y, softmax_backward, 1, &x);
    if (n) { n->i[0] = outer; n->i[1] = dim; n->i[2] = inner; n->i[3] = log; }
    return y;
}

vt_tensor *vt_softmax(vt_tensor *x, int axis) { return softmax("softmax", x, axis, 0); }
vt_tensor *vt_log_softmax(vt_tensor *x, int axis) { return softmax("log_softmax", x, axis, 1); }
