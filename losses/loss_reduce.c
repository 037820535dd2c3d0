/* loss_reduce.c: reductions and sample weighting shared by every loss. */
#include <stdlib.h>
#include "internal.h"
#include "loss_reduce.h"

vt_tensor *vt_loss_reduce(const char *op, vt_tensor *elem, vt_reduction r, double denom) {
    VT_CHECK_IN(elem);
    switch (r) {
    case VT_REDUCE_NONE: return elem;
    case VT_REDUCE_SUM: return vt_sum(elem, 0, NULL, 0);
    case VT_REDUCE_MEAN: /* 0/0 gives NaN like PyTorch (every position ignored) */
        return vt_mul_scalar(vt_sum(elem, 0, NULL, 0), (float)(1.0 / denom));
    case VT_REDUCE_PER_SAMPLE: {
        if (elem->ndim == 1) return elem;
        int axes[VT_MAX_DIMS];
        for (int d = 1; d < elem->ndim; d++) axes[d - 1] = d;
        return vt_mean(elem, elem->ndim - 1, axes, 0);
    }
    }
    vt_error("%s: unknown reduction %d", op, (int)r);
    return NULL;
}

vt_tensor *vt_loss_sample_weight(const char *op, vt_tensor *elem, vt_tensor *s) {
    VT_CHECK_IN(elem);
    if (!s) return elem;
    if (s->ndim != 1 || s->shape[0] != elem->shape[0]) {
        vt_error("%s: sample_weights %s must be (%lld), one per sample of %s", op, vt_sstr(s),
                 (long long)elem->shape[0], vt_sstr(elem));
        return NULL;
    }
    int64_t shape[VT_MAX_DIMS] = {s->shape[0], 1, 1, 1, 1};
    return vt_mul(elem, vt_reshape(s, elem->ndim, shape));
}

const float *vt_loss_host_data(const vt_tensor *t, int *owned) {
    *owned = 0;
    if (t->device == VT_DEV_CPU) return t->data;
    float *h = malloc((size_t)t->numel * sizeof(float) + 1);
    if (!h) { vt_error("loss: out of memory for a host copy of %s", vt_sstr(t)); return NULL; }
    vt_be(t)->to_host(h, t->data, (size_t)t->numel * sizeof(float));
    *owned = 1;
    return h;
}
