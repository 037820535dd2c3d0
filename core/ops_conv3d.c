/* ops_conv3d.c: 3D convolution front-end (validation, workspace, tape) and backward.
 *
 * x (N, C_in, D, H, W), w (C_out, C_in/groups, kd, kh, kw), b (C_out) or NULL
 *   -> y (N, C_out, od, oh, ow), od = (D + 2 pad_d - dil_d (kd - 1) - 1) / stride_d + 1
 *   (PyTorch), likewise oh and ow.
 * The vol2col workspace is carved from the current arena and given back right after each
 * kernel (vt_arena_release), as in ops_conv2d.c. */
#include "internal.h"

static const char *const axis_name[3] = {"D", "H", "W"};

static void *carve_workspace(const vt_backend *be, const vt_conv3d_desc *d) {
    size_t bytes = be->conv3d_workspace(d);
    return vt_arena_alloc(vt_arena_current(), bytes ? bytes : 1);
}

static void conv3d_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *y = n->out;
    const vt_conv3d_desc *d = n->saved;
    const vt_backend *be = vt_be(y);
    const float *gy = y->grad->data;
    float *gx = vt_grad_buf(x), *gw = vt_grad_buf(w), *gb = vt_grad_buf(b);
    if (!gx && !gw && !gb) return;
    vt_arena_mark mark = vt_arena_get_mark(vt_arena_current());
    void *work = carve_workspace(be, d);
    VT_ASSERT(work); /* out of memory mid-backward cannot be reported usefully */
    if (gw) be->conv3d_backward_filter(d, x->data, gy, gw, gb, work);
    else if (gb) { /* bias only: gb (C_out) += sum of gy over N, od, oh, ow */
        int64_t in[3] = {d->n, d->c_out, (int64_t)d->od * d->oh * d->ow}, out[3] = {1, d->c_out, 1};
        be->reduce_sum(3, in, gy, out, gb, 1.f, 1);
    }
    if (gx) be->conv3d_backward_data(d, gy, w->data, gx, work);
    vt_arena_release(vt_arena_current(), mark);
}

/* Validates the arguments and fills d; 0 on success, -1 with an error. */
static int conv3d_desc(const vt_tensor *x, const vt_tensor *w, const vt_tensor *b,
                       const vt_conv3d_params *p, vt_conv3d_desc *d) {
    if (x->ndim != 5) {
        vt_error("conv3d: input %s must be (N, C_in, D, H, W)", vt_sstr(x));
        return -1;
    }
    if (w->ndim != 5) {
        vt_error("conv3d: weight %s must be (C_out, C_in/groups, kd, kh, kw)", vt_sstr(w));
        return -1;
    }
    if (w->device != x->device || (b && b->device != x->device)) {
        vt_error("conv3d: input, weight and bias on different devices");
        return -1;
    }
    for (int k = 0; k < 3; k++)
        if (p->stride[k] < 1 || p->dilation[k] < 1 || p->pad[k] < 0) {
            vt_error("conv3d: stride (%d, %d, %d) and dilation (%d, %d, %d) must be >= 1, "
                     "pad (%d, %d, %d) >= 0", p->stride[0], p->stride[1], p->stride[2],
                     p->dilation[0], p->dilation[1], p->dilation[2], p->pad[0], p->pad[1], p->pad[2]);
            return -1;
        }
    int64_t c_in = x->shape[1], c_out = w->shape[0], G = p->groups;
    if (G < 1 || c_in % G || c_out % G) {
        vt_error("conv3d: groups %d must be >= 1 and divide C_in %lld and C_out %lld (input %s, weight %s)",
                 p->groups, (long long)c_in, (long long)c_out, vt_sstr(x), vt_sstr(w));
        return -1;
    }
    if (w->shape[1] != c_in / G) {
        vt_error("conv3d: weight %s expects %lld input channels per group, input %s has %lld "
                 "channels (groups %d)", vt_sstr(w), (long long)w->shape[1], vt_sstr(x),
                 (long long)c_in, p->groups);
        return -1;
    }
    if (b && (b->ndim != 1 || b->shape[0] != c_out)) {
        vt_error("conv3d: bias %s must be (%lld) to match weight %s", vt_sstr(b),
                 (long long)c_out, vt_sstr(w));
        return -1;
    }
    int64_t out[3];
    for (int k = 0; k < 3; k++) {
        int64_t in = x->shape[2 + k] + 2 * (int64_t)p->pad[k];
        int64_t span = (int64_t)p->dilation[k] * (w->shape[2 + k] - 1) + 1;
        if (span > in) {
            vt_error("conv3d: kernel %s (dilated extent %lld) is larger than the padded input %s "
                     "(%lld along %s with pad %d)", vt_sstr(w), (long long)span, vt_sstr(x),
                     (long long)in, axis_name[k], p->pad[k]);
            return -1;
        }
        out[k] = (in - span) / p->stride[k] + 1;
    }
    if (x->shape[0] > INT32_MAX || c_in > INT32_MAX || c_out > INT32_MAX ||
        x->shape[2] * x->shape[3] * x->shape[4] > INT32_MAX || out[0] * out[1] * out[2] > INT32_MAX ||
        (c_in / G) * w->shape[2] * w->shape[3] * w->shape[4] > INT32_MAX) {
        vt_error("conv3d: input %s / weight %s too large", vt_sstr(x), vt_sstr(w));
        return -1;
    }
    *d = (vt_conv3d_desc){
        .n = (int)x->shape[0], .c_in = (int)c_in, .d = (int)x->shape[2], .h = (int)x->shape[3],
        .w = (int)x->shape[4], .c_out = (int)c_out, .kd = (int)w->shape[2],
        .kh = (int)w->shape[3], .kw = (int)w->shape[4],
        .od = (int)out[0], .oh = (int)out[1], .ow = (int)out[2],
        .stride_d = p->stride[0], .stride_h = p->stride[1], .stride_w = p->stride[2],
        .pad_d = p->pad[0], .pad_h = p->pad[1], .pad_w = p->pad[2],
        .dil_d = p->dilation[0], .dil_h = p->dilation[1], .dil_w = p->dilation[2],
        .groups = p->groups,
    };
    return 0;
}

vt_tensor *vt_conv3d(vt_tensor *x, vt_tensor *w, vt_tensor *b, const vt_conv3d_params *p) {
    VT_CHECK_IN(x);
    VT_CHECK_IN(w);
    static const vt_conv3d_params defaults = {{1, 1, 1}, {0, 0, 0}, {1, 1, 1}, 1};
    if (!p) p = &defaults;
    vt_conv3d_desc d;
    if (conv3d_desc(x, w, b, p, &d)) return NULL;
    vt_tensor *y = vt_arena_tensor(5, (int64_t[]){d.n, d.c_out, d.od, d.oh, d.ow}, x->device);
    if (!y) return NULL;
    const vt_backend *be = vt_be(x);
    vt_arena_mark mark = vt_arena_get_mark(vt_arena_current());
    void *work = carve_workspace(be, &d);
    if (!work) {
        vt_error("conv3d: out of memory for the %zu-byte workspace", be->conv3d_workspace(&d));
        return NULL;
    }
    be->conv3d_forward(&d, x->data, w->data, b ? b->data : NULL, y->data, work);
    vt_arena_release(vt_arena_current(), mark);
    vt_node *n = vt_node_record("conv3d", y, conv3d_backward, 3, (vt_tensor *[]){x, w, b});
    if (n) {
        vt_conv3d_desc *saved = vt_arena_alloc(vt_arena_current(), sizeof *saved);
        VT_ASSERT(saved);
        *saved = d;
        n->saved = saved;
    }
    return y;
}
