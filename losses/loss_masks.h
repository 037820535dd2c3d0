/* loss_masks.h: branch masks for piecewise losses (not public).
 * A mask is a graph constant computed on the host from current values, like the
 * condition of torch.where: the branch choice carries no gradient. */
#ifndef VT_LOSS_MASKS_H
#define VT_LOSS_MASKS_H

#include "losses.h"

/* m(a, b, p) -> one mask element; b is 0 when the mask has no second tensor */
typedef float (*vt_mask_fn)(float a, float b, float p);

/* Arena tensor of a's shape and device, m[i] = f(a[i], b[i], p) (b NULL or a's shape).
 * NULL with an error naming `op` on OOM. */
vt_tensor *vt_loss_mask(const char *op, vt_tensor *a, vt_tensor *b, vt_mask_fn f, float p);

/* Arena tensor on `dev` holding host data (n = numel floats). */
vt_tensor *vt_loss_const(const char *op, int ndim, const int64_t *shape, vt_device dev,
                         const float *host);

/* m a + (1 - m) b for a 0/1 (or 1/2 at ties) mask m: exact for m in {0, 1}. */
vt_tensor *vt_loss_select(vt_tensor *m, vt_tensor *a, vt_tensor *b);

/* Elementwise max / min of a and b with torch.maximum / minimum gradients (split in half at
 * ties). */
vt_tensor *vt_loss_max(const char *op, vt_tensor *a, vt_tensor *b);
vt_tensor *vt_loss_min(const char *op, vt_tensor *a, vt_tensor *b);

#endif
