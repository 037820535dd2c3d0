/* ops_adaptive_pool.c: adaptive average / max pooling front-ends and backward
 * (F.adaptive_avg_pool2d/3d, F.adaptive_max_pool2d/3d).
 *
 * x (N, C, H, W) with out_sizes (oH, oW), or (N, C, D, H, W) with (oD, oH, oW)
 *   -> y (N, C, out_sizes...). Output i along a dim pools input
 *   [floor(i * in / out), ceil((i + 1) * in / out)): windows overlap when out does not divide
 *   in, and out may exceed in (windows of one element repeat).
 * Max pooling keeps the int64 argmax (flat index within the input plane/volume) for backward. */
#include "internal.h"

static void adaptive_avg_backward(vt_node *n) {
    float *gx = vt_grad_buf(n->in[0]);
    if (gx) vt_be(n->out)->adaptive_avg_pool_backward(n->saved, n->out->grad->data, gx);
}

/* the descriptor rides in node->i (host), the argmax in node->saved (device memory) */
static void desc_save(vt_node *n, const vt_resample_desc *d) {
    n->i[0] = d->planes;
    for (int k = 0; k < 3; k++) { n->i[1 + k] = d->in[k]; n->i[4 + k] = d->out[k]; }
}

static void adaptive_max_backward(vt_node *n) {
    float *gx = vt_grad_buf(n->in[0]);
    if (!gx) return;
    vt_resample_desc d = {.planes = n->i[0]};
    for (int k = 0; k < 3; k++) { d.in[k] = n->i[1 + k]; d.out[k] = n->i[4 + k]; }
    vt_be(n->out)->adaptive_max_pool_backward(&d, n->out->grad->data, n->saved, gx);
}

/* Validates x and out_sizes, fills d and the output shape; 0 or -1 with an error. */
static int adaptive_desc(const char *op, const vt_tensor *x, const int64_t *out_sizes,
                         vt_resample_desc *d, int64_t *shape) {
    if (x->ndim != 4 && x->ndim != 5) {
        vt_error("%s: input %s must be (N, C, H, W) or (N, C, D, H, W)", op, vt_sstr(x));
        return -1;
    }
    if (!out_sizes) { vt_error("%s: out_sizes is NULL (input %s)", op, vt_sstr(x)); return -1; }
    if (x->numel == 0) { vt_error("%s: input %s is empty", op, vt_sstr(x)); return -1; }
    const int sp = x->ndim - 2;
    *d = (vt_resample_desc){.planes = x->shape[0] * x->shape[1], .in = {1, 1, 1},
                            .out = {1, 1, 1}};
    shape[0] = x->shape[0];
    shape[1] = x->shape[1];
    for (int k = 0; k < sp; k++) {
        if (out_sizes[k] < 1 || out_sizes[k] > INT32_MAX) {
            vt_error("%s: output size %lld along spatial dim %d must be >= 1 (input %s)", op,
                     (long long)out_sizes[k], k, vt_sstr(x));
            return -1;
        }
        d->in[3 - sp + k] = x->shape[2 + k];
        d->out[3 - sp + k] = out_sizes[k];
        shape[2 + k] = out_sizes[k];
    }
    return 0;
}

vt_tensor *vt_adaptive_avg_pool(vt_tensor *x, const int64_t *out_sizes) {
    VT_CHECK_IN(x);
    vt_resample_desc d;
    int64_t shape[VT_MAX_DIMS];
    if (adaptive_desc("adaptive_avg_pool", x, out_sizes, &d, shape)) return NULL;
    vt_tensor *y = vt_arena_tensor(x->ndim, shape, x->device);
    if (!y) return NULL;
    vt_be(x)->adaptive_avg_pool_forward(&d, x->data, y->data);
    vt_node *n = vt_node_record("adaptive_avg_pool", y, adaptive_avg_backward, 1, &x);
    if (n) {
        vt_resample_desc *saved = vt_arena_alloc(vt_arena_current(), sizeof *saved);
        VT_ASSERT(saved);
        *saved = d;
        n->saved = saved;
    }
    return y;
}

vt_tensor *vt_adaptive_max_pool(vt_tensor *x, const int64_t *out_sizes) {
    VT_CHECK_IN(x);
    vt_resample_desc d;
    int64_t shape[VT_MAX_DIMS];
    if (adaptive_desc("adaptive_max_pool", x, out_sizes, &d, shape)) return NULL;
    vt_tensor *y = vt_arena_tensor(x->ndim, shape, x->device);
    if (!y) return NULL;
    int64_t *argmax = vt_arena_alloc(vt_arena_current(), (size_t)y->numel * sizeof(int64_t));
    if (!argmax) { vt_error("adaptive_max_pool: out of memory for argmax of %s", vt_sstr(y)); return NULL; }
    vt_be(x)->adaptive_max_pool_forward(&d, x->data, y->data, argmax);
    vt_node *n = vt_node_record("adaptive_max_pool", y, adaptive_max_backward, 1, &x);
    if (n) { desc_save(n, &d); n->saved = argmax; }
    return y;
}
