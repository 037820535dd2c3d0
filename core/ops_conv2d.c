/* ops_conv2d.c: 2D convolution front-end (validation, workspace, tape) and backward.
 *
 * x (N, C_in, H, W), w (C_out, C_in/groups, kh, kw), b (C_out) or NULL
 *   -> y (N, C_out, oh, ow), oh = (H + 2 pad_h - dil_h (kh - 1) - 1) / stride_h + 1 (PyTorch).
 * The kernels need a scratch workspace (im2col buffers); it is carved from the current
 * arena and given back right after the kernel (vt_arena_release), so one workspace's worth
 * of memory serves every conv of a step and, after the first step, costs no malloc. */
#include "internal.h"

static void *carve_workspace(const vt_backend *be, const vt_conv2d_desc *d) {
    size_t bytes = be->conv2d_workspace(d);
    return vt_arena_alloc(vt_arena_current(), bytes ? bytes : 1);
}

static void conv2d_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *y = n->out;
    const vt_conv2d_desc *d = n->saved;
    const vt_backend *be = vt_be(y);
    const float *gy = y->grad->data;
    float *gx = vt_grad_buf(x), *gw = vt_grad_buf(w), *gb = vt_grad_buf(b);
    if (!gx && !gw && !gb) return;
    vt_arena_mark mark = vt_arena_get_mark(vt_arena_current());
    void *work = carve_workspace(be, d);
    VT_ASSERT(work); /* out of memory mid-backward cannot be reported usefully */
    if (gw) be->conv2d_backward_filter(d, x->data, gy, gw, gb, work);
    else if (gb) { /* bias only: gb (C_out) += sum of gy over N, oh, ow */
        int64_t in[3] = {d->n, d->c_out, (int64_t)d->oh * d->ow}, out[3] = {1, d->c_out, 1};
        be->reduce_sum(3, in, gy, out, gb, 1.f, 1);
    }
    if (gx) be->conv2d_backward_data(d, gy, w->data, gx, work);
    vt_arena_release(vt_arena_current(), mark);
}

vt_tensor *vt_conv2d(vt_tensor *x, vt_tensor *w, vt_tensor *b, const vt_conv2d_params *p) {
    VT_CHECK_IN(x);
    VT_CHECK_IN(w);
    static const vt_conv2d_params defaults = {{1, 1}, {0, 0}, {1, 1}, 1};
    if (!p) p = &defaults;
    if (x->ndim != 4) {
        vt_error("conv2d: input %s must be (N, C_in, H, W)", vt_sstr(x));
        return NULL;
    }
    if (w->ndim != 4) {
        vt_error("conv2d: weight %s must be (C_out, C_in/groups, kh, kw)", vt_sstr(w));
        return NULL;
    }
    if (w->device != x->device || (b && b->device != x->device)) {
        vt_error("conv2d: input, weight and bias on different devices");
        return NULL;
    }
    for (int k = 0; k < 2; k++)
        if (p->stride[k] < 1 || p->dilation[k] < 1 || p->pad[k] < 0) {
            vt_error("conv2d: stride (%d, %d) and dilation (%d, %d) must be >= 1, pad (%d, %d) >= 0",
                     p->stride[0], p->stride[1], p->dilation[0], p->dilation[1], p->pad[0], p->pad[1]);
            return NULL;
        }
    int64_t c_in = x->shape[1], c_out = w->shape[0], G = p->groups;
    if (G < 1 || c_in % G || c_out % G) {
        vt_error("conv2d: groups %d must be >= 1 and divide C_in %lld and C_out %lld (input %s, weight %s)",
                 p->groups, (long long)c_in, (long long)c_out, vt_sstr(x), vt_sstr(w));
        return NULL;
    }
    if (w->shape[1] != c_in / G) {
        vt_error("conv2d: weight %s expects %lld input channels per group, input %s has %lld "
                 "channels (groups %d)", vt_sstr(w), (long long)w->shape[1], vt_sstr(x),
                 (long long)c_in, p->groups);
        return NULL;
    }
    if (b && (b->ndim != 1 || b->shape[0] != c_out)) {
        vt_error("conv2d: bias %s must be (%lld) to match weight %s", vt_sstr(b),
                 (long long)c_out, vt_sstr(w));
        return NULL;
    }
    int64_t out[2];
    for (int k = 0; k < 2; k++) {
        int64_t in = x->shape[2 + k] + 2 * (int64_t)p->pad[k];
        int64_t span = (int64_t)p->dilation[k] * (w->shape[2 + k] - 1) + 1;
        if (span > in) {
            vt_error("conv2d: kernel %s (dilated extent %lld) is larger than the padded input %s "
                     "(%lld along %s with pad %d)", vt_sstr(w), (long long)span, vt_sstr(x),
                     (long long)in, k ? "W" : "H", p->pad[k]);
            return NULL;
        }
        out[k] = (in - span) / p->stride[k] + 1;
    }
    if (x->shape[0] > INT32_MAX || c_in > INT32_MAX || x->shape[2] * x->shape[3] > INT32_MAX ||
        c_out > INT32_MAX || out[0] * out[1] > INT32_MAX) {
        vt_error("conv2d: input %s / weight %s too large", vt_sstr(x), vt_sstr(w));
        return NULL;
    }
    vt_conv2d_desc d = {
        .n = (int)x->shape[0], .c_in = (int)c_in, .h = (int)x->shape[2], .w = (int)x->shape[3],
        .c_out = (int)c_out, .kh = (int)w->shape[2], .kw = (int)w->shape[3],
        .oh = (int)out[0], .ow = (int)out[1],
        .stride_h = p->stride[0], .stride_w = p->stride[1], .pad_h = p->pad[0], .pad_w = p->pad[1],
        .dil_h = p->dilation[0], .dil_w = p->dilation[1], .groups = p->groups,
    };
    vt_tensor *y = vt_arena_tensor(4, (int64_t[]){d.n, d.c_out, d.oh, d.ow}, x->device);
    if (!y) return NULL;
    const vt_backend *be = vt_be(x);
    vt_arena_mark mark = vt_arena_get_mark(vt_arena_current());
    void *work = carve_workspace(be, &d);
    if (!work) {
        vt_error("conv2d: out of memory for the %zu-byte workspace", be->conv2d_workspace(&d));
        return NULL;
    }
    be->conv2d_forward(&d, x->data, w->data, b ? b->data : NULL, y->data, work);
    vt_arena_release(vt_arena_current(), mark);
    vt_node *n = vt_node_record("conv2d", y, conv2d_backward, 3, (vt_tensor *[]){x, w, b});
    if (n) {
        vt_conv2d_desc *saved = vt_arena_alloc(vt_arena_current(), sizeof *saved);
        VT_ASSERT(saved);
        *saved = d;
        n->saved = saved;
    }
    return y;
}
