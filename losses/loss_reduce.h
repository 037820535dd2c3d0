/* loss_reduce.h: helpers shared by the loss files (not public). */
#ifndef VT_LOSS_REDUCE_H
#define VT_LOSS_REDUCE_H

#include "losses.h"

/* elem (N, ...) -> the requested reduction; MEAN divides the sum by `denom` (a constant).
 * NULL with an error for an unknown reduction. */
vt_tensor *vt_loss_reduce(const char *op, vt_tensor *elem, vt_reduction r, double denom);

/* elem (N, ...) * s (N) broadcast over the non-batch dims; errors name `op`. */
vt_tensor *vt_loss_sample_weight(const char *op, vt_tensor *elem, vt_tensor *s);

/* Host copy of t's data: t->data itself on the CPU (*owned = 0), else a malloc'd copy
 * (*owned = 1, free it). NULL on OOM. */
const float *vt_loss_host_data(const vt_tensor *t, int *owned);

#endif
