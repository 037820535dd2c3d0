/* dropout.c: inverted dropout on the CPU, one pass over x.
 *
 * The uniform draws come from the rng_uniform kernel (Philox, element i <- counter
 * offset + i), generated block by block into a stack buffer so the mask costs no extra
 * pass over memory. Blocks are independent, so any thread count gives the same mask. */
#include "cpu_kernels.h"

#define DROPOUT_BLOCK 2048

void vt_cpu_dropout_forward(uint64_t seed, uint64_t offset, int64_t n, float p, float scale,
                            const float *x, float *y, uint8_t *mask) {
    int64_t blocks = (n + DROPOUT_BLOCK - 1) / DROPOUT_BLOCK;
#pragma omp parallel for schedule(static) if (n > VT_OMP_MIN)
    for (int64_t blk = 0; blk < blocks; blk++) {
        float u[DROPOUT_BLOCK];
        int64_t start = blk * DROPOUT_BLOCK;
        int64_t len = n - start < DROPOUT_BLOCK ? n - start : DROPOUT_BLOCK;
        vt_rng_fill_uniform(seed, offset + (uint64_t)start, len, 0.f, 1.f, u);
        for (int64_t i = 0; i < len; i++) {
            int keep = u[i] >= p;
            mask[start + i] = (uint8_t)keep;
            y[start + i] = keep ? x[start + i] * scale : 0.f;
        }
    }
}

void vt_cpu_dropout_backward(int64_t n, float scale, const uint8_t *mask, const float *gy,
                             float *gx) {
#pragma omp parallel for schedule(static) if (n > VT_OMP_MIN)
    for (int64_t i = 0; i < n; i++)
        if (mask[i]) gx[i] += gy[i] * scale;
}
