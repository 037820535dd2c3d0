/* loss_masks.c: host-computed branch masks and the selects built on them. */
#include <stdlib.h>
#include "internal.h"
#include "loss_masks.h"
#include "loss_reduce.h"

vt_tensor *vt_loss_const(const char *op, int ndim, const int64_t *shape, vt_device dev,
                         const float *host) {
    vt_tensor *t = vt_arena_tensor(ndim, shape, dev);
    if (!t) return NULL;
    if (dev == VT_DEV_CPU) {
        for (int64_t i = 0; i < t->numel; i++) t->data[i] = host[i];
    } else {
        vt_be(t)->from_host(t->data, host, (size_t)t->numel * sizeof(float));
    }
    (void)op;
    return t;
}

vt_tensor *vt_loss_mask(const char *op, vt_tensor *a, vt_tensor *b, vt_mask_fn f, float p) {
    VT_CHECK_IN(a);
    int own_a = 0, own_b = 0;
    const float *ah = vt_loss_host_data(a, &own_a);
    const float *bh = b ? vt_loss_host_data(b, &own_b) : NULL;
    float *m = malloc((size_t)a->numel * sizeof(float) + 1);
    vt_tensor *out = NULL;
    if (ah && (bh || !b) && m) {
        for (int64_t i = 0; i < a->numel; i++) m[i] = f(ah[i], bh ? bh[i] : 0.f, p);
        out = vt_loss_const(op, a->ndim, a->shape, a->device, m);
    } else if (!m) {
        vt_error("%s: out of memory for a mask of %s", op, vt_sstr(a));
    }
    if (own_a) free((void *)ah);
    if (own_b) free((void *)bh);
    free(m);
    return out;
}

vt_tensor *vt_loss_select(vt_tensor *m, vt_tensor *a, vt_tensor *b) {
    return vt_add(vt_mul(m, a), vt_mul(vt_add_scalar(vt_mul_scalar(m, -1.f), 1.f), b));
}

static float greater(float a, float b, float p) { (void)p; return a > b ? 1.f : (a == b ? 0.5f : 0.f); }
static float less(float a, float b, float p) { (void)p; return a < b ? 1.f : (a == b ? 0.5f : 0.f); }

vt_tensor *vt_loss_max(const char *op, vt_tensor *a, vt_tensor *b) {
    return vt_loss_select(vt_loss_mask(op, a, b, greater, 0.f), a, b);
}

vt_tensor *vt_loss_min(const char *op, vt_tensor *a, vt_tensor *b) {
    return vt_loss_select(vt_loss_mask(op, a, b, less, 0.f), a, b);
}
