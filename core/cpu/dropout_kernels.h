/* dropout_kernels.h: CPU dropout kernels (core/cpu/dropout.c).
 *
 * Not in the backend table yet (core/backend.h has no dropout entry): core/ops_dropout.c
 * calls these for CPU tensors. A device backend needs the same two functions with the same
 * random stream: element i is kept iff uniform(seed, offset + i) >= p, the draw being the
 * rng_uniform kernel's, so masks agree across devices and thread counts. */
#ifndef VT_CPU_DROPOUT_KERNELS_H
#define VT_CPU_DROPOUT_KERNELS_H

#include <stdint.h>

/* y = keep ? x * scale : 0 and mask = keep (0/1), keep_i = u(seed, offset + i) >= p */
void vt_cpu_dropout_forward(uint64_t seed, uint64_t offset, int64_t n, float p, float scale,
                            const float *x, float *y, uint8_t *mask);
/* gx += mask ? gy * scale : 0 */
void vt_cpu_dropout_backward(int64_t n, float scale, const uint8_t *mask, const float *gy,
                             float *gx);

#endif
