/* ops_batch_norm.c: batch normalisation front-end and backward (torch.nn.functional.batch_norm).
 *
 * x (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W), viewed as (N, C, S).
 * training: y = (x - mean) / sqrt(var + eps) * w + b with the batch mean and biased variance;
 *   running_mean/var (if given) move by momentum towards the mean and UNBIASED variance.
 * eval: the same affine map with the running statistics.
 * The tape keeps mean and invstd (C each, arena) for backward, in both modes.
 *
 * vt_batch_norm_prefix normalises only the first `channels` channels of x (N, C_x, ...)
 * and returns (N, channels, ...): a dense block's layers read their growing input this way
 * straight from the block's feature buffer, with no per-layer concatenation copy. */
#include "internal.h"

static int check_vec(const char *what, const vt_tensor *v, const vt_tensor *x, int64_t c) {
    if (!v) return 0;
    if (v->ndim != 1 || v->shape[0] != c) {
        vt_error("batch_norm: %s %s must be (%lld), the channels normalised of input %s", what,
                 vt_sstr(v), (long long)c, vt_sstr(x));
        return -1;
    }
    if (v->device != x->device) { vt_error("batch_norm: %s on a different device than the input", what); return -1; }
    return 0;
}

static void batch_norm_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *y = n->out;
    float *gx = vt_grad_buf(x), *gw = vt_grad_buf(w), *gb = vt_grad_buf(b);
    if (!gx && !gw && !gb) return;
    const vt_backend *be = vt_be(y);
    int64_t N = n->i[0], C = n->i[1], S = n->i[2], XC = n->i[4];
    const float *mean = n->saved, *invstd = mean + C, *gy = y->grad->data;
    if (n->i[3]) { /* training: through the batch statistics */
        be->batch_norm_backward(N, C, XC, S, x->data, gy, w ? w->data : NULL, mean, invstd, gx, gw, gb);
        return;
    }
    /* eval: y = x * scale + shift with constants, so gx = gy * w * invstd per channel */
    if (gw || gb)
        be->batch_norm_backward(N, C, XC, S, x->data, gy, NULL, mean, invstd, NULL, gw, gb);
    if (gx) {
        const float *scale = invstd;
        int64_t c1[1] = {C}, cs[1] = {1};
        if (w) {
            vt_tensor *t = vt_arena_tensor(1, c1, y->device);
            VT_ASSERT(t);
            be->binary(VT_BIN_MUL, 1, c1, w->data, cs, invstd, cs, t->data);
            scale = t->data;
        }
        vt_tensor *tmp = vt_arena_tensor(y->ndim, y->shape, y->device);
        VT_ASSERT(tmp);
        int64_t shape[3] = {N, C, S}, sg[3] = {C * S, S, 1}, ss[3] = {0, 1, 0};
        be->binary(VT_BIN_MUL, 3, shape, gy, sg, scale, ss, tmp->data);
        int64_t dst[3] = {XC * S, S, 1};
        be->copy_strided(3, shape, tmp->data, sg, gx, dst, 1); /* gx[:, :C] += tmp */
    }
}

vt_tensor *vt_batch_norm(vt_tensor *x, vt_tensor *weight, vt_tensor *bias,
                         vt_tensor *running_mean, vt_tensor *running_var, int training,
                         float momentum, float eps) {
    VT_CHECK_IN(x);
    return vt_batch_norm_prefix(x, x->ndim >= 2 ? x->shape[1] : 0, weight, bias, running_mean,
                                running_var, training, momentum, eps);
}

vt_tensor *vt_batch_norm_prefix(vt_tensor *x, int64_t channels, vt_tensor *weight,
                                vt_tensor *bias, vt_tensor *running_mean,
                                vt_tensor *running_var, int training, float momentum, float eps) {
    VT_CHECK_IN(x);
    if (x->ndim < 2 || x->ndim > 5) {
        vt_error("batch_norm: input %s must be (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W)",
                 vt_sstr(x));
        return NULL;
    }
    if (channels < 1 || channels > x->shape[1]) {
        vt_error("batch_norm: %lld channels to normalise, input %s has %lld", (long long)channels,
                 vt_sstr(x), (long long)x->shape[1]);
        return NULL;
    }
    if (check_vec("weight", weight, x, channels) || check_vec("bias", bias, x, channels) ||
        check_vec("running_mean", running_mean, x, channels) ||
        check_vec("running_var", running_var, x, channels))
        return NULL;
    if (!(eps >= 0.f)) { vt_error("batch_norm: eps %g is not a number >= 0", (double)eps); return NULL; }
    int64_t N = x->shape[0], C = channels, XC = x->shape[1], S = 1;
    for (int k = 2; k < x->ndim; k++) S *= x->shape[k];
    if (training && N * S <= 1) {
        vt_error("batch_norm: expected more than 1 value per channel when training, got input %s",
                 vt_sstr(x));
        return NULL;
    }
    if (!training && (!running_mean || !running_var)) {
        vt_error("batch_norm: eval mode needs running_mean and running_var (input %s)", vt_sstr(x));
        return NULL;
    }
    int64_t yshape[VT_MAX_DIMS];
    for (int k = 0; k < x->ndim; k++) yshape[k] = x->shape[k];
    yshape[1] = C;
    vt_tensor *y = vt_arena_tensor(x->ndim, yshape, x->device);
    vt_tensor *stats = vt_arena_tensor(1, (int64_t[]){2 * C}, x->device); /* mean, invstd */
    if (!y || !stats) return NULL;
    const vt_backend *be = vt_be(x);
    const float *w = weight ? weight->data : NULL, *b = bias ? bias->data : NULL;
    if (training)
        be->batch_norm_train(N, C, XC, S, x->data, w, b, y->data, stats->data, stats->data + C,
                             running_mean ? running_mean->data : NULL,
                             running_var ? running_var->data : NULL, momentum, eps);
    else
        be->batch_norm_eval(N, C, XC, S, x->data, w, b, running_mean->data, running_var->data, eps,
                            y->data);
    vt_node *n = vt_node_record("batch_norm", y, batch_norm_backward, 3,
                                (vt_tensor *[]){x, weight, bias});
    if (!n) return y;
    if (!training) { /* snapshot the running statistics used: mean and (var + eps)^-1/2 */
        be->copy(stats->data, running_mean->data, (size_t)C * sizeof(float));
        be->unary(VT_UN_ADD_SCALAR, C, running_var->data, stats->data + C, eps, 0);
        be->unary(VT_UN_POW, C, stats->data + C, stats->data + C, -0.5f, 0);
    }
    n->saved = stats->data;
    n->i[0] = N; n->i[1] = C; n->i[2] = S; n->i[3] = training ? 1 : 0; n->i[4] = XC;
    return y;
}
