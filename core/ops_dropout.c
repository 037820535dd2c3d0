/* ops_dropout.c: inverted dropout (front-end + backward).
 *
 * Training: each element is zeroed with probability p and the kept ones are scaled by
 * 1/(1-p), so eval needs no rescaling. The mask comes from the global RNG stream
 * (vt_rng_global): draw i uses Philox counter offset + i, and the offset then advances by
 * numel, so given vt_seed the masks are reproducible and independent of thread count. */
#include "internal.h"

/* n->saved: keep mask (numel bytes, 0/1); n->f[0]: scale 1/(1-p) */
static void dropout_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *y = n->out;
    float *gx = vt_grad_buf(x);
    if (gx) vt_be(y)->dropout_backward(y->numel, n->f[0], n->saved, y->grad->data, gx);
}

vt_tensor *vt_dropout(vt_tensor *x, float p, int training) {
    VT_CHECK_IN(x);
    if (!(p >= 0.f && p < 1.f)) { /* also rejects NaN */
        vt_error("dropout: p = %g must be in [0, 1)", (double)p);
        return NULL;
    }
    if (!training || p == 0.f) return x; /* identity, as torch.nn.functional.dropout */
    if (!vt_be(x)->dropout_forward) {
        vt_error("dropout: the %s backend has no dropout kernel yet", vt_be(x)->name);
        return NULL;
    }
    vt_tensor *y = vt_arena_tensor(x->ndim, x->shape, x->device);
    uint8_t *mask = vt_arena_alloc(vt_arena_current(), (size_t)x->numel);
    if (!y || !mask) { vt_error("dropout: out of memory for %s", vt_sstr(x)); return NULL; }
    float scale = 1.f / (1.f - p);
    vt_rng *r = vt_rng_global();
    vt_be(x)->dropout_forward(r->seed, r->offset, x->numel, p, scale, x->data, y->data, mask);
    r->offset += (uint64_t)x->numel;
    vt_node *n = vt_node_record("dropout", y, dropout_backward, 1, &x);
    if (n) { n->saved = mask; n->f[0] = scale; }
    return y;
}
