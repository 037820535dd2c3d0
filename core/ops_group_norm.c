/* ops_group_norm.c: group and instance normalisation front-ends and backward.
 *
 * group_norm (torch.nn.functional.group_norm): x (N, C, ...) viewed as (N, C, S); the C
 *   channels form G groups of C/G; y = (x - mean) / sqrt(var + eps) * w[c] + b[c] with the
 *   mean and biased variance of each (sample, group).
 * instance_norm (F.instance_norm, no running statistics): the same with G = C.
 * The tape keeps mean and invstd (N*G each, arena) for backward. */
#include "internal.h"

static int check_vec(const char *op, const char *what, const vt_tensor *v, const vt_tensor *x) {
    if (!v) return 0;
    if (v->ndim != 1 || v->shape[0] != x->shape[1]) {
        vt_error("%s: %s %s must be (%lld), the channels of input %s", op, what, vt_sstr(v),
                 (long long)x->shape[1], vt_sstr(x));
        return -1;
    }
    if (v->device != x->device) {
        vt_error("%s: %s on a different device than the input", op, what);
        return -1;
    }
    return 0;
}

static void group_norm_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *y = n->out;
    float *gx = vt_grad_buf(x), *gw = vt_grad_buf(w), *gb = vt_grad_buf(b);
    if (!gx && !gw && !gb) return;
    int64_t N = n->i[0], C = n->i[1], S = n->i[2], G = n->i[3];
    const float *mean = n->saved, *invstd = mean + N * G;
    vt_be(y)->group_norm_backward(N, C, S, G, x->data, y->grad->data, w ? w->data : NULL,
                                  mean, invstd, gx, gw, gb);
}

/* shared by both ops; x has been checked for NULL and rank */
static vt_tensor *group_norm(const char *op, vt_tensor *x, int64_t G, vt_tensor *weight,
                             vt_tensor *bias, float eps) {
    if (check_vec(op, "weight", weight, x) || check_vec(op, "bias", bias, x)) return NULL;
    if (!(eps >= 0.f)) { vt_error("%s: eps %g is not a number >= 0", op, (double)eps); return NULL; }
    int64_t N = x->shape[0], C = x->shape[1], S = 1;
    for (int k = 2; k < x->ndim; k++) S *= x->shape[k];
    vt_tensor *y = vt_arena_tensor(x->ndim, x->shape, x->device);
    vt_tensor *stats = vt_arena_tensor(1, (int64_t[]){2 * N * G}, x->device); /* mean, invstd */
    if (!y || !stats) return NULL;
    vt_be(x)->group_norm_forward(N, C, S, G, x->data, weight ? weight->data : NULL,
                                 bias ? bias->data : NULL, eps, y->data, stats->data,
                                 stats->data + N * G);
    vt_node *n = vt_node_record(op, y, group_norm_backward, 3, (vt_tensor *[]){x, weight, bias});
    if (!n) return y;
    n->saved = stats->data;
    n->i[0] = N; n->i[1] = C; n->i[2] = S; n->i[3] = G;
    return y;
}

vt_tensor *vt_group_norm(vt_tensor *x, int num_groups, vt_tensor *weight, vt_tensor *bias,
                         float eps) {
    VT_CHECK_IN(x);
    if (x->ndim < 2) {
        vt_error("group_norm: input %s must be (N, C, ...) with 2 to 5 dims", vt_sstr(x));
        return NULL;
    }
    if (num_groups < 1 || x->shape[1] % num_groups) {
        vt_error("group_norm: num_groups %d must be >= 1 and divide the %lld channels of input %s",
                 num_groups, (long long)x->shape[1], vt_sstr(x));
        return NULL;
    }
    return group_norm("group_norm", x, num_groups, weight, bias, eps);
}

vt_tensor *vt_instance_norm(vt_tensor *x, vt_tensor *weight, vt_tensor *bias, float eps) {
    VT_CHECK_IN(x);
    if (x->ndim < 3) {
        vt_error("instance_norm: input %s must be (N, C, L), (N, C, H, W) or (N, C, D, H, W)",
                 vt_sstr(x));
        return NULL;
    }
    int64_t S = 1;
    for (int k = 2; k < x->ndim; k++) S *= x->shape[k];
    if (S <= 1) { /* as PyTorch: the variance of one value is meaningless */
        vt_error("instance_norm: expected more than 1 spatial element per channel, got input %s",
                 vt_sstr(x));
        return NULL;
    }
    return group_norm("instance_norm", x, x->shape[1], weight, bias, eps);
}
