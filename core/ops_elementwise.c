/* ops_elementwise.c: broadcasting arithmetic and unary functions (front-ends + backward). */
#include <math.h>
#include "internal.h"

/* ---- broadcasting binary ops -------------------------------------------------------- */

/* Output shape of a op b under numpy broadcasting; strides of a and b in the output's
 * index space (0 along broadcast dims). Returns output ndim or -1 with an error. */
static int broadcast(const char *op, const vt_tensor *a, const vt_tensor *b, int64_t *shape,
                     int64_t *sa, int64_t *sb) {
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    int64_t ast[VT_MAX_DIMS], bst[VT_MAX_DIMS];
    vt_strides(a->ndim, a->shape, ast);
    vt_strides(b->ndim, b->shape, bst);
    for (int d = 0; d < nd; d++) {
        int da = d - (nd - a->ndim), db = d - (nd - b->ndim);
        int64_t ea = da >= 0 ? a->shape[da] : 1, eb = db >= 0 ? b->shape[db] : 1;
        if (ea != eb && ea != 1 && eb != 1) {
            vt_error("%s: shapes %s and %s do not broadcast (dim %d: %lld vs %lld)", op,
                     vt_sstr(a), vt_sstr(b), d, (long long)ea, (long long)eb);
            return -1;
        }
        shape[d] = ea > eb ? ea : eb;
        sa[d] = (da >= 0 && ea != 1) ? ast[da] : 0;
        sb[d] = (db >= 0 && eb != 1) ? bst[db] : 0;
    }
    return nd;
}

/* g (out shape) summed into the gradient of x (x's shape, broadcast in out), times scale */
static void reduce_into(const vt_tensor *out, const float *g, vt_tensor *x, float scale) {
    float *gx = vt_grad_buf(x);
    if (!gx) return;
    const vt_backend *be = vt_be(out);
    if (x->numel == out->numel) { be->axpy(x->numel, scale, g, gx); return; }
    int64_t padded[VT_MAX_DIMS];
    int off = out->ndim - x->ndim;
    for (int d = 0; d < out->ndim; d++) padded[d] = d < off ? 1 : x->shape[d - off];
    be->reduce_sum(out->ndim, out->shape, g, padded, gx, scale, 1);
}

static void binary_backward(vt_node *n) {
    vt_tensor *a = n->in[0], *b = n->in[1], *y = n->out;
    const vt_backend *be = vt_be(y);
    const float *gy = y->grad->data;
    vt_binary_op op = (vt_binary_op)n->i[0];
    if (op == VT_BIN_ADD || op == VT_BIN_SUB) {
        reduce_into(y, gy, a, 1.f);
        reduce_into(y, gy, b, op == VT_BIN_ADD ? 1.f : -1.f);
        return;
    }
    int64_t *sa = &n->i[1], *sb = &n->i[6], so[VT_MAX_DIMS];
    vt_strides(y->ndim, y->shape, so);
    vt_tensor *tmp = vt_arena_tensor(y->ndim, y->shape, y->device);
    VT_ASSERT(tmp);
    if (a->requires_grad) { /* d(a*b)/da = b ; d(a/b)/da = 1/b */
        be->binary(op == VT_BIN_MUL ? VT_BIN_MUL : VT_BIN_DIV, y->ndim, y->shape, gy, so, b->data, sb, tmp->data);
        reduce_into(y, tmp->data, a, 1.f);
    }
    if (b->requires_grad) { /* d(a*b)/db = a ; d(a/b)/db = -y/b */
        if (op == VT_BIN_MUL) {
            be->binary(VT_BIN_MUL, y->ndim, y->shape, gy, so, a->data, sa, tmp->data);
            reduce_into(y, tmp->data, b, 1.f);
        } else {
            be->binary(VT_BIN_MUL, y->ndim, y->shape, gy, so, y->data, so, tmp->data);
            be->binary(VT_BIN_DIV, y->ndim, y->shape, tmp->data, so, b->data, sb, tmp->data);
            reduce_into(y, tmp->data, b, -1.f);
        }
    }
}

static vt_tensor *binary(const char *name, vt_binary_op op, vt_tensor *a, vt_tensor *b) {
    VT_CHECK_IN(a);
    VT_CHECK_IN(b);
    if (a->device != b->device) { vt_error("%s: operands on different devices", name); return NULL; }
    int64_t shape[VT_MAX_DIMS], sa[VT_MAX_DIMS], sb[VT_MAX_DIMS];
    int nd = broadcast(name, a, b, shape, sa, sb);
    if (nd < 0) return NULL;
    vt_tensor *y = vt_arena_tensor(nd, shape, a->device);
    if (!y) return NULL;
    vt_be(a)->binary(op, nd, shape, a->data, sa, b->data, sb, y->data);
    vt_node *n = vt_node_record(name, y, binary_backward, 2, (vt_tensor *[]){a, b});
    if (n) {
        n->i[0] = op;
        for (int d = 0; d < nd; d++) { n->i[1 + d] = sa[d]; n->i[6 + d] = sb[d]; }
    }
    return y;
}

vt_tensor *vt_add(vt_tensor *a, vt_tensor *b) { return binary("add", VT_BIN_ADD, a, b); }
vt_tensor *vt_sub(vt_tensor *a, vt_tensor *b) { return binary("sub", VT_BIN_SUB, a, b); }
vt_tensor *vt_mul(vt_tensor *a, vt_tensor *b) { return binary("mul", VT_BIN_MUL, a, b); }
vt_tensor *vt_div(vt_tensor *a, vt_tensor *b) { return binary("div", VT_BIN_DIV, a, b); }

/* ---- unary ops ---------------------------------------------------------------------- */

static void unary_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *y = n->out;
    float *gx = vt_grad_buf(x);
    if (gx)
        vt_be(y)->unary_backward((vt_unary_op)n->i[0], y->numel, x->data, y->data,
                                 y->grad->data, gx, n->f[0], n->f[1]);
}

static vt_tensor *unary(const char *name, vt_unary_op op, vt_tensor *x, float p0, float p1) {
    VT_CHECK_IN(x);
    vt_tensor *y = vt_arena_tensor(x->ndim, x->shape, x->device);
    if (!y) return NULL;
    vt_be(x)->unary(op, x->numel, x->data, y->data, p0, p1);
    vt_node *n = vt_node_record(name, y, unary_backward, 1, &x);
    if (n) { n->i[0] = op; n->f[0] = p0; n->f[1] = p1; }
    return y;
}

vt_tensor *vt_add_scalar(vt_tensor *x, float s) { return unary("add_scalar", VT_UN_ADD_SCALAR, x, s, 0); }
vt_tensor *vt_mul_scalar(vt_tensor *x, float s) { return unary("mul_scalar", VT_UN_MUL_SCALAR, x, s, 0); }
vt_tensor *vt_exp(vt_tensor *x) { return unary("exp", VT_UN_EXP, x, 0, 0); }
vt_tensor *vt_log(vt_tensor *x) { return unary("log", VT_UN_LOG, x, 0, 0); }
vt_tensor *vt_pow(vt_tensor *x, float p) { return unary("pow", VT_UN_POW, x, p, 0); }
vt_tensor *vt_sqrt(vt_tensor *x) { return unary("sqrt", VT_UN_SQRT, x, 0, 0); }
vt_tensor *vt_abs(vt_tensor *x) { return unary("abs", VT_UN_ABS, x, 0, 0); }
vt_tensor *vt_relu(vt_tensor *x) { return unary("relu", VT_UN_RELU, x, 0, 0); }
vt_tensor *vt_leaky_relu(vt_tensor *x, float s) { return unary("leaky_relu", VT_UN_LEAKY_RELU, x, s, 0); }
vt_tensor *vt_sigmoid(vt_tensor *x) { return unary("sigmoid", VT_UN_SIGMOID, x, 0, 0); }
vt_tensor *vt_tanh(vt_tensor *x) { return unary("tanh", VT_UN_TANH, x, 0, 0); }
vt_tensor *vt_softplus(vt_tensor *x) { return unary("softplus", VT_UN_SOFTPLUS, x, 0, 0); }

vt_tensor *vt_clamp(vt_tensor *x, float lo, float hi) {
    if (isnan(lo) || isnan(hi) || lo > hi) {
        vt_error("clamp: bounds [%g, %g] are not an interval", (double)lo, (double)hi);
        return NULL;
    }
    return unary("clamp", VT_UN_CLAMP, x, lo, hi);
}
