/* ops_pool2d.c: max / average 2D pooling and global average pooling (front-ends + backward).
 *
 * x (N, C, H, W) -> y (N, C, oh, ow) with PyTorch's output size:
 *   oh = floor_or_ceil((H + 2 pad - kh) / stride) + 1, and in ceil mode the last window
 *   must start inside the input or the left padding (else oh -= 1).
 * Max pool keeps the int32 argmax of every output (flat index within its plane) for backward. */
#include "internal.h"

/* desc fields kept in node->i */
enum { I_N, I_C, I_H, I_W, I_OH, I_OW, I_KH, I_KW, I_SH, I_SW, I_PH, I_PW, I_CIP };

static void desc_save(vt_node *n, const vt_pool2d_desc *d) {
    const int v[] = {d->n, d->c, d->h, d->w, d->oh, d->ow, d->kh, d->kw,
                     d->stride_h, d->stride_w, d->pad_h, d->pad_w, d->count_include_pad};
    for (int k = 0; k <= I_CIP; k++) n->i[k] = v[k];
}

static vt_pool2d_desc desc_load(const vt_node *n) {
    const int64_t *i = n->i;
    return (vt_pool2d_desc){(int)i[I_N], (int)i[I_C], (int)i[I_H], (int)i[I_W], (int)i[I_OH],
                            (int)i[I_OW], (int)i[I_KH], (int)i[I_KW], (int)i[I_SH], (int)i[I_SW],
                            (int)i[I_PH], (int)i[I_PW], (int)i[I_CIP]};
}

/* PyTorch's pooling_output_shape (dilation 1); -1 when the output would be empty */
static int64_t pool_out(int64_t in, int k, int s, int pad, int ceil_mode) {
    int64_t num = in + 2 * (int64_t)pad - k + (ceil_mode ? s - 1 : 0);
    int64_t o = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1; /* floor division */
    if (ceil_mode && (o - 1) * s >= in + pad) o--;
    return o >= 1 ? o : -1;
}

/* Validates x and p and fills d; 0 on success, -1 with an error. */
static int pool_desc(const char *op, const vt_tensor *x, const vt_pool2d_params *p,
                     vt_pool2d_desc *d) {
    if (!p) { vt_error("%s: parameters are NULL", op); return -1; }
    if (x->ndim != 4) { vt_error("%s: input %s must be (N, C, H, W)", op, vt_sstr(x)); return -1; }
    int stride[2];
    for (int k = 0; k < 2; k++) {
        stride[k] = p->stride[k] ? p->stride[k] : p->kernel[k];
        if (p->kernel[k] < 1 || stride[k] < 1 || p->pad[k] < 0) {
            vt_error("%s: kernel (%d, %d) must be >= 1, stride (%d, %d) >= 0, pad (%d, %d) >= 0",
                     op, p->kernel[0], p->kernel[1], p->stride[0], p->stride[1], p->pad[0], p->pad[1]);
            return -1;
        }
        if (p->pad[k] > p->kernel[k] / 2) {
            vt_error("%s: pad (%d, %d) must be at most half the kernel (%d, %d)", op, p->pad[0],
                     p->pad[1], p->kernel[0], p->kernel[1]);
            return -1;
        }
    }
    if (x->shape[0] * x->shape[1] > INT32_MAX || x->shape[2] * x->shape[3] > INT32_MAX) {
        vt_error("%s: input %s too large", op, vt_sstr(x));
        return -1;
    }
    int64_t oh = pool_out(x->shape[2], p->kernel[0], stride[0], p->pad[0], p->ceil_mode);
    int64_t ow = pool_out(x->shape[3], p->kernel[1], stride[1], p->pad[1], p->ceil_mode);
    if (oh < 0 || ow < 0) {
        vt_error("%s: kernel (%d, %d) with pad (%d, %d) does not fit input %s (output too small)",
                 op, p->kernel[0], p->kernel[1], p->pad[0], p->pad[1], vt_sstr(x));
        return -1;
    }
    *d = (vt_pool2d_desc){(int)x->shape[0], (int)x->shape[1], (int)x->shape[2], (int)x->shape[3],
                          (int)oh, (int)ow, p->kernel[0], p->kernel[1], stride[0], stride[1],
                          p->pad[0], p->pad[1], p->count_include_pad ? 1 : 0};
    return 0;
}

static void max_pool2d_backward(vt_node *n) {
    float *gx = vt_grad_buf(n->in[0]);
    if (!gx) return;
    vt_pool2d_desc d = desc_load(n);
    vt_be(n->out)->max_pool2d_backward(&d, n->out->grad->data, n->saved, gx);
}

vt_tensor *vt_max_pool2d(vt_tensor *x, const vt_pool2d_params *p) {
    VT_CHECK_IN(x);
    vt_pool2d_desc d;
    if (pool_desc("max_pool2d", x, p, &d)) return NULL;
    vt_tensor *y = vt_arena_tensor(4, (int64_t[]){d.n, d.c, d.oh, d.ow}, x->device);
    if (!y) return NULL;
    int32_t *argmax = vt_arena_alloc(vt_arena_current(), (size_t)y->numel * sizeof(int32_t));
    if (!argmax) { vt_error("max_pool2d: out of memory for argmax of %s", vt_sstr(y)); return NULL; }
    vt_be(x)->max_pool2d_forward(&d, x->data, y->data, argmax);
    vt_node *n = vt_node_record("max_pool2d", y, max_pool2d_backward, 1, &x);
    if (n) { desc_save(n, &d); n->saved = argmax; }
    return y;
}

static void avg_pool2d_backward(vt_node *n) {
    float *gx = vt_grad_buf(n->in[0]);
    if (!gx) return;
    vt_pool2d_desc d = desc_load(n);
    vt_be(n->out)->avg_pool2d_backward(&d, n->out->grad->data, gx);
}

vt_tensor *vt_avg_pool2d(vt_tensor *x, const vt_pool2d_params *p) {
    VT_CHECK_IN(x);
    vt_pool2d_desc d;
    if (pool_desc("avg_pool2d", x, p, &d)) return NULL;
    vt_tensor *y = vt_arena_tensor(4, (int64_t[]){d.n, d.c, d.oh, d.ow}, x->device);
    if (!y) return NULL;
    vt_be(x)->avg_pool2d_forward(&d, x->data, y->data);
    vt_node *n = vt_node_record("avg_pool2d", y, avg_pool2d_backward, 1, &x);
    if (n) desc_save(n, &d);
    return y;
}

/* ---- global average pooling: (N, C, ...) -> (N, C) ------------------------------------ */

static void global_avg_pool_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *y = n->out;
    float *gx = vt_grad_buf(x);
    if (!gx) return;
    const vt_backend *be = vt_be(y);
    /* gx (N, C, S) += gy (N, C) / S broadcast along S */
    vt_tensor *g = vt_arena_tensor(y->ndim, y->shape, y->device);
    VT_ASSERT(g);
    be->unary(VT_UN_MUL_SCALAR, y->numel, y->grad->data, g->data, n->f[0], 0);
    int64_t s = x->numel / (y->numel ? y->numel : 1);
    int64_t shape[3] = {x->shape[0], x->shape[1], s}, src[3] = {x->shape[1], 1, 0},
            dst[3] = {x->shape[1] * s, s, 1};
    be->copy_strided(3, shape, g->data, src, gx, dst, 1);
}

vt_tensor *vt_global_avg_pool(vt_tensor *x) {
    VT_CHECK_IN(x);
    if (x->ndim < 3) {
        vt_error("global_avg_pool: input %s must be (N, C, ...) with at least one spatial dim",
                 vt_sstr(x));
        return NULL;
    }
    int64_t s = 1;
    for (int k = 2; k < x->ndim; k++) s *= x->shape[k];
    if (s == 0) { vt_error("global_avg_pool: input %s has no spatial elements", vt_sstr(x)); return NULL; }
    vt_tensor *y = vt_arena_tensor(2, x->shape, x->device);
    if (!y) return NULL;
    float scale = 1.f / (float)s;
    int64_t in[3] = {x->shape[0], x->shape[1], s}, out[3] = {x->shape[0], x->shape[1], 1};
    vt_be(x)->reduce_sum(3, in, x->data, out, y->data, scale, 0);
    vt_node *n = vt_node_record("global_avg_pool", y, global_avg_pool_backward, 1, &x);
    if (n) n->f[0] = scale;
    return y;
}
