/* ops_feature_buffer.c: a dense block's feature buffer (DenseNet concatenation without
 * quadratic copying).
 *
 * torchvision's DenseNet concatenates [x, f1, ..., fl] before every layer: O(L^2) copies per
 * block. Here the block allocates one buffer B (N, C0 + L*g, H, W) up front; layer l reads
 * its input as the channel prefix [0, C0 + (l-1) g) of B (vt_batch_norm_prefix reads it in
 * place) and its output f_l is written once into its own channel slice. Every write returns
 * a new tensor header over the same memory (B_0, B_1, ..., B_L) so the tape stays a chain:
 *
 *   B_0 = new(x)          backward: gx += gB_0[:, :C0]
 *   B_l = append(B_{l-1}, f_l, off)
 *                         backward: gf_l += gB_l[:, off:off+g];  gB_{l-1} = gB_l (shared)
 *
 * Sharing the gradient buffer is exact: versions only differ in which channels are valid,
 * readers of B_{l-1} only touch channels below off, and each slice's gradient accumulates
 * every later reader's contribution before its own append's backward reads it (reverse
 * creation order). */
#include "internal.h"

static int check_layout(const char *op, const vt_tensor *buf, const vt_tensor *x) {
    if (x->ndim < 3 || x->ndim != buf->ndim || x->shape[0] != buf->shape[0]) goto bad;
    for (int k = 2; k < x->ndim; k++)
        if (x->shape[k] != buf->shape[k]) goto bad;
    if (x->device != buf->device) { vt_error("%s: tensors on different devices", op); return -1; }
    return 0;
bad:
    vt_error("%s: %s and %s must both be (N, C, spatial...) with equal N and spatial sizes", op,
             vt_sstr(buf), vt_sstr(x));
    return -1;
}

/* dst[:, off:off+c] (+)= src (n, c, s) with dst (n, cd, s) */
static void copy_channels(const vt_backend *be, int64_t n, int64_t c, int64_t s, int64_t cd,
                          int64_t off, const float *src, float *dst, int accumulate) {
    int64_t shape[3] = {n, c, s}, ss[3] = {c * s, s, 1}, ds[3] = {cd * s, s, 1};
    be->copy_strided(3, shape, src, ss, dst + off * s, ds, accumulate);
}

/* src[:, off:off+c] -> dst (n, c, s), accumulating */
static void gather_channels(const vt_backend *be, int64_t n, int64_t c, int64_t s, int64_t cs,
                            int64_t off, const float *src, float *dst) {
    int64_t shape[3] = {n, c, s}, ss[3] = {cs * s, s, 1}, ds[3] = {c * s, s, 1};
    be->copy_strided(3, shape, src + off * s, ss, dst, ds, 1);
}

static int64_t spatial(const vt_tensor *t) {
    int64_t s = 1;
    for (int k = 2; k < t->ndim; k++) s *= t->shape[k];
    return s;
}

static void new_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *b = n->out;
    float *gx = vt_grad_buf(x);
    if (gx) gather_channels(vt_be(b), x->shape[0], x->shape[1], spatial(x), b->shape[1], 0, b->grad->data, gx);
}

vt_tensor *vt_feature_buffer_new(vt_tensor *x, int64_t total_channels) {
    VT_CHECK_IN(x);
    if (x->ndim < 3) {
        vt_error("feature_buffer_new: input %s must be (N, C, spatial...)", vt_sstr(x));
        return NULL;
    }
    if (total_channels < x->shape[1]) {
        vt_error("feature_buffer_new: %lld channels cannot hold input %s", (long long)total_channels, vt_sstr(x));
        return NULL;
    }
    int64_t shape[VT_MAX_DIMS];
    for (int k = 0; k < x->ndim; k++) shape[k] = x->shape[k];
    shape[1] = total_channels;
    vt_tensor *b = vt_arena_tensor(x->ndim, shape, x->device);
    if (!b) return NULL;
    const vt_backend *be = vt_be(x);
    int64_t n = x->shape[0], c = x->shape[1], s = spatial(x);
    copy_channels(be, n, c, s, total_channels, 0, x->data, b->data, 0);
    if (total_channels > c) { /* unwritten channels hold zeros, never garbage */
        int64_t zshape[3] = {n, total_channels - c, s}, zs[3] = {0, 0, 0}, ds[3] = {total_channels * s, s, 1};
        float *zero = vt_arena_alloc(vt_arena_current(), sizeof(float));
        if (!zero) { vt_error("feature_buffer_new: out of memory"); return NULL; }
        be->fill(zero, 1, 0.f);
        be->copy_strided(3, zshape, zero, zs, b->data + c * s, ds, 0);
    }
    vt_node_record("feature_buffer_new", b, new_backward, 1, (vt_tensor *[]){x});
    return b;
}

static void append_backward(vt_node *n) {
    vt_tensor *prev = n->in[0], *f = n->in[1], *b = n->out;
    float *gf = vt_grad_buf(f);
    if (gf) gather_channels(vt_be(b), f->shape[0], f->shape[1], spatial(f), b->shape[1], n->i[0], b->grad->data, gf);
    if (!prev->requires_grad) return;
    if (!prev->grad) prev->grad = b->grad; /* the usual case: hand the buffer down */
    else vt_be(b)->axpy(b->numel, 1.f, b->grad->data, prev->grad->data);
}

vt_tensor *vt_feature_buffer_append(vt_tensor *buffer, vt_tensor *feat, int64_t offset) {
    VT_CHECK_IN(buffer);
    VT_CHECK_IN(feat);
    if (check_layout("feature_buffer_append", buffer, feat)) return NULL;
    if (vt_tensor_is_heap(buffer)) {
        vt_error("feature_buffer_append: buffer %s must come from vt_feature_buffer_new", vt_sstr(buffer));
        return NULL;
    }
    if (offset < 0 || offset + feat->shape[1] > buffer->shape[1]) {
        vt_error("feature_buffer_append: %s at channel %lld does not fit buffer %s", vt_sstr(feat),
                 (long long)offset, vt_sstr(buffer));
        return NULL;
    }
    vt_tensor *b = vt_arena_view(buffer, buffer->ndim, buffer->shape);
    if (!b) return NULL;
    copy_channels(vt_be(feat), feat->shape[0], feat->shape[1], spatial(feat), buffer->shape[1], offset,
                  feat->data, b->data, 0);
    vt_node *n = vt_node_record("feature_buffer_append", b, append_backward, 2, (vt_tensor *[]){buffer, feat});
    if (n) n->i[0] = offset;
    return b;
}
