/* ops_conv_transpose.c: 2D and 3D transposed convolution, built on the conv kernels.
 *
 * x (N, C_in, I...), w (C_in, C_out/groups, k...), b (C_out) or NULL -> y (N, C_out, O...),
 * O = (I - 1) stride - 2 pad + dilation (k - 1) + output_padding + 1 per axis (PyTorch).
 *
 * A transposed conv is the adjoint of the conv C that maps y-shaped tensors (N, C_out, O...)
 * to x-shaped ones (N, C_in, I...) with the same weight, stride, pad, dilation and groups
 * (C's weight layout (C_out_C, C_in_C/groups, k...) = (C_in, C_out/groups, k...) is w's).
 * So, with no new kernels:
 *   forward          y  = C^T x          = conv backward-data   (gy := x, gx := y)
 *   backward data    gx += C gy          = conv forward         (x := gy, y := gx)
 *   backward filter  gw += ...           = conv backward-filter (x := gy, gy := x)
 *   bias             y += b, gb += sum of gy over N and O (reduce_sum).
 * C's output size is set to I explicitly: with output_padding >= stride (allowed when
 * dilation is larger) the conv formula would give more than I; the extra trailing outputs
 * of C are exactly the ones no element of x reaches, so dropping them is exact. */
#include <string.h>
#include "internal.h"

/* the transposed conv's geometry in conv terms; sp spatial dims, 2 or 3 */
typedef struct {
    int sp;
    vt_conv2d_desc c2;
    vt_conv3d_desc c3;
} ct_desc;

typedef struct { int stride[3], pad[3], out_pad[3], dil[3], groups; } ct_params;

static size_t ct_workspace(const vt_backend *be, const ct_desc *c) {
    return c->sp == 2 ? be->conv2d_workspace(&c->c2) : be->conv3d_workspace(&c->c3);
}

static void *carve_workspace(const vt_backend *be, const ct_desc *c) {
    size_t bytes = ct_workspace(be, c);
    return vt_arena_alloc(vt_arena_current(), bytes ? bytes : 1);
}

/* y (C's input shape) += C^T x */
static void ct_adjoint(const vt_backend *be, const ct_desc *c, const float *x, const float *w,
                       float *y, void *work) {
    if (c->sp == 2) be->conv2d_backward_data(&c->c2, x, w, y, work);
    else be->conv3d_backward_data(&c->c3, x, w, y, work);
}

/* out (C's output shape) = C in */
static void ct_conv(const vt_backend *be, const ct_desc *c, const float *in, const float *w,
                    float *out, void *work) {
    if (c->sp == 2) be->conv2d_forward(&c->c2, in, w, NULL, out, work);
    else be->conv3d_forward(&c->c3, in, w, NULL, out, work);
}

/* gw += d<gy_x, C gy>/dw: the conv weight gradient with C's input gy and output gradient gx */
static void ct_filter(const vt_backend *be, const ct_desc *c, const float *gy, const float *x,
                      float *gw, void *work) {
    if (c->sp == 2) be->conv2d_backward_filter(&c->c2, gy, x, gw, NULL, work);
    else be->conv3d_backward_filter(&c->c3, gy, x, gw, NULL, work);
}

static void conv_transpose_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *y = n->out;
    const ct_desc *c = n->saved;
    const vt_backend *be = vt_be(y);
    const float *gy = y->grad->data;
    float *gx = vt_grad_buf(x), *gw = vt_grad_buf(w), *gb = vt_grad_buf(b);
    if (!gx && !gw && !gb) return;
    vt_arena *a = vt_arena_current();
    vt_arena_mark mark = vt_arena_get_mark(a);
    void *work = carve_workspace(be, c);
    VT_ASSERT(work); /* out of memory mid-backward cannot be reported usefully */
    if (gw) ct_filter(be, c, gy, x->data, gw, work);
    if (gb) { /* gb (C_out) += sum of gy (N, C_out, S) over N and S */
        int64_t nc = y->shape[0] * y->shape[1], s = nc > 0 ? y->numel / nc : 0;
        int64_t in[3] = {y->shape[0], y->shape[1], s}, out[3] = {1, y->shape[1], 1};
        be->reduce_sum(3, in, gy, out, gb, 1.f, 1);
    }
    if (gx) { /* the conv kernels overwrite their output: run into scratch, then add */
        float *tmp = vt_arena_alloc(a, (size_t)(x->numel ? x->numel : 1) * sizeof(float));
        VT_ASSERT(tmp);
        ct_conv(be, c, gy, w->data, tmp, work);
        be->axpy(x->numel, 1.f, tmp, gx);
    }
    vt_arena_release(a, mark);
}

static const char *const axis_names[2][3] = {{"H", "W", ""}, {"D", "H", "W"}};

/* "(a, b)" or "(a, b, c)" of the first sp values, for messages (rotating buffers) */
static const char *tuple(int sp, const int *v) {
    static _Thread_local char buf[4][48];
    static _Thread_local int next;
    char *s = buf[next++ & 3];
    if (sp == 2) snprintf(s, 48, "(%d, %d)", v[0], v[1]);
    else snprintf(s, 48, "(%d, %d, %d)", v[0], v[1], v[2]);
    return s;
}

/* Validates the arguments and fills c and the output size; 0 on success, -1 with an error. */
static int ct_make_desc(const char *op, int sp, const vt_tensor *x, const vt_tensor *w,
                        const vt_tensor *b, const ct_params *p, ct_desc *c, int64_t *out) {
    if (x->ndim != 2 + sp) {
        vt_error("%s: input %s must be %s", op, vt_sstr(x),
                 sp == 2 ? "(N, C_in, H, W)" : "(N, C_in, D, H, W)");
        return -1;
    }
    if (w->ndim != 2 + sp) {
        vt_error("%s: weight %s must be %s", op, vt_sstr(w),
                 sp == 2 ? "(C_in, C_out/groups, kh, kw)" : "(C_in, C_out/groups, kd, kh, kw)");
        return -1;
    }
    if (w->device != x->device || (b && b->device != x->device)) {
        vt_error("%s: input, weight and bias on different devices", op);
        return -1;
    }
    for (int k = 0; k < sp; k++) {
        if (p->stride[k] < 1 || p->dil[k] < 1 || p->pad[k] < 0 || p->out_pad[k] < 0) {
            vt_error("%s: stride %s and dilation %s must be >= 1, pad %s and output_padding %s >= 0",
                     op, tuple(sp, p->stride), tuple(sp, p->dil), tuple(sp, p->pad),
                     tuple(sp, p->out_pad));
            return -1;
        }
        if (p->out_pad[k] >= p->stride[k] && p->out_pad[k] >= p->dil[k]) {
            vt_error("%s: output_padding %s must be smaller than either stride %s or dilation %s",
                     op, tuple(sp, p->out_pad), tuple(sp, p->stride), tuple(sp, p->dil));
            return -1;
        }
    }
    int64_t c_in = x->shape[1], G = p->groups;
    if (G < 1 || c_in % G) {
        vt_error("%s: groups %d must be >= 1 and divide C_in %lld (input %s, weight %s)", op,
                 p->groups, (long long)c_in, vt_sstr(x), vt_sstr(w));
        return -1;
    }
    if (w->shape[0] != c_in) {
        vt_error("%s: weight %s expects %lld input channels, input %s has %lld", op, vt_sstr(w),
                 (long long)w->shape[0], vt_sstr(x), (long long)c_in);
        return -1;
    }
    int64_t c_out = w->shape[1] * G;
    if (b && (b->ndim != 1 || b->shape[0] != c_out)) {
        vt_error("%s: bias %s must be (%lld) to match weight %s and groups %d", op, vt_sstr(b),
                 (long long)c_out, vt_sstr(w), p->groups);
        return -1;
    }
    int64_t in_vol = 1, out_vol = 1, k_vol = 1;
    for (int k = 0; k < sp; k++) {
        int64_t in = x->shape[2 + k], ks = w->shape[2 + k];
        out[k] = (in - 1) * p->stride[k] - 2 * (int64_t)p->pad[k] + (int64_t)p->dil[k] * (ks - 1) +
                 p->out_pad[k] + 1;
        if (out[k] < 1 || in < 1) {
            vt_error("%s: output size %lld along %s is not positive (input %s, weight %s, "
                     "pad %s)", op, (long long)out[k], axis_names[sp - 2][k], vt_sstr(x),
                     vt_sstr(w), tuple(sp, p->pad));
            return -1;
        }
        in_vol *= in;
        out_vol *= out[k];
        k_vol *= ks;
    }
    if (x->shape[0] > INT32_MAX || c_in > INT32_MAX || c_out > INT32_MAX || in_vol > INT32_MAX ||
        out_vol > INT32_MAX || w->shape[1] * k_vol > INT32_MAX) {
        vt_error("%s: input %s / weight %s too large", op, vt_sstr(x), vt_sstr(w));
        return -1;
    }
    memset(c, 0, sizeof *c);
    c->sp = sp;
    if (sp == 2) {
        c->c2 = (vt_conv2d_desc){
            .n = (int)x->shape[0], .c_in = (int)c_out, .h = (int)out[0], .w = (int)out[1],
            .c_out = (int)c_in, .kh = (int)w->shape[2], .kw = (int)w->shape[3],
            .oh = (int)x->shape[2], .ow = (int)x->shape[3],
            .stride_h = p->stride[0], .stride_w = p->stride[1], .pad_h = p->pad[0],
            .pad_w = p->pad[1], .dil_h = p->dil[0], .dil_w = p->dil[1], .groups = p->groups,
        };
        /* conv2d.c reads a 1x1 stride-1 pad-0 conv's input in place, assuming it has the
         * output's size; only output_padding >= stride (dilation > 1) breaks that */
        int pointwise = c->c2.kh == 1 && c->c2.kw == 1 && p->stride[0] == 1 &&
                        p->stride[1] == 1 && p->pad[0] == 0 && p->pad[1] == 0;
        if (pointwise && (c->c2.h != c->c2.oh || c->c2.w != c->c2.ow)) {
            vt_error("%s: output_padding %s with a 1x1 kernel and stride 1 is not supported "
                     "(it only appends bias-valued rows)", op, tuple(sp, p->out_pad));
            return -1;
        }
    } else {
        c->c3 = (vt_conv3d_desc){
            .n = (int)x->shape[0], .c_in = (int)c_out, .d = (int)out[0], .h = (int)out[1],
            .w = (int)out[2], .c_out = (int)c_in, .kd = (int)w->shape[2],
            .kh = (int)w->shape[3], .kw = (int)w->shape[4],
            .od = (int)x->shape[2], .oh = (int)x->shape[3], .ow = (int)x->shape[4],
            .stride_d = p->stride[0], .stride_h = p->stride[1], .stride_w = p->stride[2],
            .pad_d = p->pad[0], .pad_h = p->pad[1], .pad_w = p->pad[2],
            .dil_d = p->dil[0], .dil_h = p->dil[1], .dil_w = p->dil[2], .groups = p->groups,
        };
    }
    return 0;
}

static vt_tensor *conv_transpose(const char *op, int sp, vt_tensor *x, vt_tensor *w,
                                 vt_tensor *b, const ct_params *p) {
    ct_desc c;
    int64_t out[3];
    if (ct_make_desc(op, sp, x, w, b, p, &c, out)) return NULL;
    int64_t shape[5] = {x->shape[0], w->shape[1] * p->groups, out[0], out[1], out[2]};
    vt_tensor *y = vt_arena_tensor(2 + sp, shape, x->device);
    if (!y) return NULL;
    const vt_backend *be = vt_be(x);
    be->fill(y->data, y->numel, 0.f);
    vt_arena_mark mark = vt_arena_get_mark(vt_arena_current());
    void *work = carve_workspace(be, &c);
    if (!work) {
        vt_error("%s: out of memory for the %zu-byte workspace", op, ct_workspace(be, &c));
        return NULL;
    }
    ct_adjoint(be, &c, x->data, w->data, y->data, work);
    vt_arena_release(vt_arena_current(), mark);
    if (b) { /* y (N, C_out, S) += b broadcast over N and S */
        int64_t nc = shape[0] * shape[1], s = nc > 0 ? y->numel / nc : 0;
        int64_t dims[3] = {shape[0], shape[1], s}, src[3] = {0, 1, 0}, dst[3] = {shape[1] * s, s, 1};
        be->copy_strided(3, dims, b->data, src, y->data, dst, 1);
    }
    vt_node *n = vt_node_record(op, y, conv_transpose_backward, 3, (vt_tensor *[]){x, w, b});
    if (n) {
        ct_desc *saved = vt_arena_alloc(vt_arena_current(), sizeof *saved);
        VT_ASSERT(saved);
        *saved = c;
        n->saved = saved;
    }
    return y;
}

vt_tensor *vt_conv_transpose2d(vt_tensor *x, vt_tensor *w, vt_tensor *b,
                               const vt_conv_transpose2d_params *p) {
    VT_CHECK_IN(x);
    VT_CHECK_IN(w);
    ct_params q = {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}, {1, 1, 1}, 1};
    if (p) {
        for (int k = 0; k < 2; k++) {
            q.stride[k] = p->stride[k];
            q.pad[k] = p->pad[k];
            q.out_pad[k] = p->output_padding[k];
            q.dil[k] = p->dilation[k];
        }
        q.groups = p->groups;
    }
    return conv_transpose("conv_transpose2d", 2, x, w, b, &q);
}

vt_tensor *vt_conv_transpose3d(vt_tensor *x, vt_tensor *w, vt_tensor *b,
                               const vt_conv_transpose3d_params *p) {
    VT_CHECK_IN(x);
    VT_CHECK_IN(w);
    ct_params q = {{1, 1, 1}, {0, 0, 0}, {0, 0, 0}, {1, 1, 1}, 1};
    if (p) {
        for (int k = 0; k < 3; k++) {
            q.stride[k] = p->stride[k];
            q.pad[k] = p->pad[k];
            q.out_pad[k] = p->output_padding[k];
            q.dil[k] = p->dilation[k];
        }
        q.groups = p->groups;
    }
    return conv_transpose("conv_transpose3d", 3, x, w, b, &q);
}
