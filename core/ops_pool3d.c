/* ops_pool3d.c: max / average 3D pooling (front-ends + backward).
 *
 * x (N, C, D, H, W) -> y (N, C, od, oh, ow) with PyTorch's output size per axis:
 *   o = floor_or_ceil((in + 2 pad - k) / stride) + 1, and in ceil mode the last window
 *   must start inside the input or the left padding (else o -= 1).
 * Max pool keeps the int32 argmax of every output (flat index within its volume). */
#include "internal.h"

/* what backward needs: the geometry and (max pool) the argmax, carved from the arena */
typedef struct { vt_pool3d_desc d; int32_t *argmax; } pool3d_saved;

/* PyTorch's pooling_output_shape (dilation 1); -1 when the output would be empty */
static int64_t pool_out(int64_t in, int k, int s, int pad, int ceil_mode) {
    int64_t num = in + 2 * (int64_t)pad - k + (ceil_mode ? s - 1 : 0);
    int64_t o = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1; /* floor division */
    if (ceil_mode && (o - 1) * s >= in + pad) o--;
    return o >= 1 ? o : -1;
}

/* Validates x and p and fills d; 0 on success, -1 with an error. */
static int pool3d_desc(const char *op, const vt_tensor *x, const vt_pool3d_params *p,
                       vt_pool3d_desc *d) {
    if (!p) { vt_error("%s: parameters are NULL", op); return -1; }
    if (x->ndim != 5) { vt_error("%s: input %s must be (N, C, D, H, W)", op, vt_sstr(x)); return -1; }
    int stride[3];
    for (int k = 0; k < 3; k++) {
        stride[k] = p->stride[k] ? p->stride[k] : p->kernel[k];
        if (p->kernel[k] < 1 || stride[k] < 1 || p->pad[k] < 0) {
            vt_error("%s: kernel (%d, %d, %d) must be >= 1, stride (%d, %d, %d) >= 0, "
                     "pad (%d, %d, %d) >= 0", op, p->kernel[0], p->kernel[1], p->kernel[2],
                     p->stride[0], p->stride[1], p->stride[2], p->pad[0], p->pad[1], p->pad[2]);
            return -1;
        }
        if (p->pad[k] > p->kernel[k] / 2) {
            vt_error("%s: pad (%d, %d, %d) must be at most half the kernel (%d, %d, %d)", op,
                     p->pad[0], p->pad[1], p->pad[2], p->kernel[0], p->kernel[1], p->kernel[2]);
            return -1;
        }
    }
    if (x->shape[0] * x->shape[1] > INT32_MAX || x->shape[2] * x->shape[3] * x->shape[4] > INT32_MAX) {
        vt_error("%s: input %s too large", op, vt_sstr(x));
        return -1;
    }
    int64_t o[3];
    for (int k = 0; k < 3; k++) {
        o[k] = pool_out(x->shape[2 + k], p->kernel[k], stride[k], p->pad[k], p->ceil_mode);
        if (o[k] < 0) {
            vt_error("%s: kernel (%d, %d, %d) with pad (%d, %d, %d) does not fit input %s "
                     "(output too small)", op, p->kernel[0], p->kernel[1], p->kernel[2],
                     p->pad[0], p->pad[1], p->pad[2], vt_sstr(x));
            return -1;
        }
    }
    *d = (vt_pool3d_desc){
        .n = (int)x->shape[0], .c = (int)x->shape[1], .d = (int)x->shape[2],
        .h = (int)x->shape[3], .w = (int)x->shape[4],
        .od = (int)o[0], .oh = (int)o[1], .ow = (int)o[2],
        .kd = p->kernel[0], .kh = p->kernel[1], .kw = p->kernel[2],
        .stride_d = stride[0], .stride_h = stride[1], .stride_w = stride[2],
        .pad_d = p->pad[0], .pad_h = p->pad[1], .pad_w = p->pad[2],
        .count_include_pad = p->count_include_pad ? 1 : 0,
    };
    return 0;
}

static vt_tensor *pool3d_output(const vt_tensor *x, const vt_pool3d_desc *d) {
    return vt_arena_tensor(5, (int64_t[]){d->n, d->c, d->od, d->oh, d->ow}, x->device);
}

static void save_desc(vt_node *n, const vt_pool3d_desc *d, int32_t *argmax) {
    pool3d_saved *s = vt_arena_alloc(vt_arena_current(), sizeof *s);
    VT_ASSERT(s);
    s->d = *d;
    s->argmax = argmax;
    n->saved = s;
}

static void max_pool3d_backward(vt_node *n) {
    float *gx = vt_grad_buf(n->in[0]);
    if (!gx) return;
    const pool3d_saved *s = n->saved;
    vt_be(n->out)->max_pool3d_backward(&s->d, n->out->grad->data, s->argmax, gx);
}

vt_tensor *vt_max_pool3d(vt_tensor *x, const vt_pool3d_params *p) {
    VT_CHECK_IN(x);
    vt_pool3d_desc d;
    if (pool3d_desc("max_pool3d", x, p, &d)) return NULL;
    vt_tensor *y = pool3d_output(x, &d);
    if (!y) return NULL;
    int32_t *argmax = vt_arena_alloc(vt_arena_current(), (size_t)y->numel * sizeof(int32_t));
    if (!argmax) { vt_error("max_pool3d: out of memory for argmax of %s", vt_sstr(y)); return NULL; }
    vt_be(x)->max_pool3d_forward(&d, x->data, y->data, argmax);
    vt_node *n = vt_node_record("max_pool3d", y, max_pool3d_backward, 1, &x);
    if (n) save_desc(n, &d, argmax);
    return y;
}

static void avg_pool3d_backward(vt_node *n) {
    float *gx = vt_grad_buf(n->in[0]);
    if (!gx) return;
    const pool3d_saved *s = n->saved;
    vt_be(n->out)->avg_pool3d_backward(&s->d, n->out->grad->data, gx);
}

vt_tensor *vt_avg_pool3d(vt_tensor *x, const vt_pool3d_params *p) {
    VT_CHECK_IN(x);
    vt_pool3d_desc d;
    if (pool3d_desc("avg_pool3d", x, p, &d)) return NULL;
    vt_tensor *y = pool3d_output(x, &d);
    if (!y) return NULL;
    vt_be(x)->avg_pool3d_forward(&d, x->data, y->data);
    vt_node *n = vt_node_record("avg_pool3d", y, avg_pool3d_backward, 1, &x);
    if (n) save_desc(n, &d, NULL);
    return y;
}
