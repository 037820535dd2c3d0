/* autograd.c: define-by-run tape and reverse-mode backward.
 *
 * Ops append nodes to the arena's tape in creation order, which is a topological order,
 * so backward is one reverse walk. Each vt_backward first marks the nodes reachable from
 * its output (so two losses in one step are independent), clears the stale gradients of
 * reachable intermediates, then runs their backward functions. Leaf gradients accumulate
 * across calls, as in PyTorch, until zeroed. */
#include <string.h>
#include "internal.h"

static _Thread_local int grad_disabled;
static _Thread_local uint32_t pass_id;

int vt_grad_enabled(void) { return !grad_disabled; }

int vt_set_grad_enabled(int on) {
    int prev = !grad_disabled;
    grad_disabled = !on;
    return prev;
}

int vt_no_grad_begin(void) { return vt_set_grad_enabled(0); }
void vt_no_grad_end(int prev) { vt_set_grad_enabled(prev); }

void vt_tensor_set_requires_grad(vt_tensor *t, int on) {
    if (t) t->requires_grad = on;
}

vt_node *vt_node_record(const char *name, vt_tensor *out, void (*backward)(vt_node *),
                        int n_in, vt_tensor *const *in) {
    if (grad_disabled) return NULL;
    int any = 0;
    for (int i = 0; i < n_in; i++) any |= in[i] && in[i]->requires_grad;
    if (!any) return NULL;
    vt_arena *a = vt_arena_current();
    vt_node *n = vt_arena_alloc(a, sizeof *n);
    if (!n) return NULL; /* OOM: op still returns its value, just without a graph */
    memset(n, 0, sizeof *n);
    n->name = name;
    n->backward = backward;
    n->out = out;
    n->n_in = n_in;
    if (n_in <= VT_NODE_MAX_IN) {
        for (int i = 0; i < n_in; i++) n->in[i] = in[i];
        n->ins = n->in;
    } else {
        n->ins = vt_arena_alloc(a, sizeof(vt_tensor *) * (size_t)n_in);
        if (!n->ins) return NULL;
        memcpy(n->ins, in, sizeof(vt_tensor *) * (size_t)n_in);
    }
    n->prev = vt_arena_tape(a);
    vt_arena_set_tape(a, n);
    out->node = n;
    out->requires_grad = 1;
    return n;
}

float *vt_grad_buf(vt_tensor *t) {
    if (!t || !t->requires_grad) return NULL;
    if (t->grad) return t->grad->data;
    if (t->storage) {
        t->grad = vt_tensor_new(t->ndim, t->shape); /* zeroed */
    } else { /* arena gradients live on the tensor's device */
        t->grad = vt_arena_tensor(t->ndim, t->shape, t->device);
        if (t->grad) vt_be(t)->fill(t->grad->data, t->numel, 0.f);
    }
    VT_ASSERT(t->grad); /* out of memory mid-backward cannot be reported usefully */
    return t->grad->data;
}

void vt_tensor_zero_grad(vt_tensor *t) {
    if (t && t->grad) vt_tensor_fill(t->grad, 0.f);
}

vt_status vt_backward_with(vt_tensor *out, const vt_tensor *grad_out) {
    if (!out) return vt_error("backward: output is NULL (an earlier op failed: %s)", vt_last_error());
    if (!out->requires_grad)
        return vt_error("backward: output %s does not require grad (no parameter or leaf "
                        "with requires_grad reaches it, or it was made under no_grad)", vt_sstr(out));
    if (grad_out && !vt_shape_equal(out, grad_out))
        return vt_error("backward: gradient %s does not match output %s", vt_sstr(grad_out), vt_sstr(out));
    uint32_t id = ++pass_id;
    /* mark reachable nodes and clear their stale output gradients */
    if (out->node) out->node->mark = id;
    for (vt_node *n = out->node; n; n = n->prev) {
        if (n->mark != id) continue;
        n->out->grad = NULL;
        for (int i = 0; i < n->n_in; i++) {
            vt_tensor *x = n->ins[i];
            if (x && x->node) x->node->mark = id;
        }
    }
    if (!grad_out) {
        grad_out = vt_tensor_full(out->ndim, out->shape, 1.f);
        if (!grad_out) return VT_ERR;
    }
    vt_be(out)->axpy(out->numel, 1.f, grad_out->data, vt_grad_buf(out));
    for (vt_node *n = out->node; n; n = n->prev)
        if (n->mark == id && n->out->grad) n->backward(n);
    return VT_OK;
}

vt_status vt_backward(vt_tensor *loss) {
    if (loss && loss->numel != 1)
        return vt_error("backward: loss %s is not a scalar; reduce it or use vt_backward_with", vt_sstr(loss));
    return vt_backward_with(loss, NULL);
}
