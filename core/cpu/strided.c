/* strided.c: strided copies (permute, slice, concat, broadcast) and axis reductions. */
#include <string.h>
#include "../internal.h"
#include "cpu_kernels.h"

void vt_cpu_copy_strided(int ndim, const int64_t *shape, const float *src,
                         const int64_t *ss, float *dst, const int64_t *ds, int accumulate) {
    if (ndim == 0) { dst[0] = accumulate ? dst[0] + src[0] : src[0]; return; }
    int64_t inner = shape[ndim - 1], rows = 1;
    for (int d = 0; d < ndim - 1; d++) rows *= shape[d];
    int64_t si = ss[ndim - 1], di = ds[ndim - 1];
#pragma omp parallel for schedule(static) if (rows * inner > VT_OMP_MIN && rows > 1)
    for (int64_t r = 0; r < rows; r++) {
        int64_t os, od;
        vt_cpu_row_offsets(r, ndim, shape, ss, ds, &os, &od);
        const float *s = src + os;
        float *t = dst + od;
        if (si == 1 && di == 1 && !accumulate) memcpy(t, s, (size_t)inner * sizeof(float));
        else if (accumulate)
            for (int64_t i = 0; i < inner; i++) t[i * di] += s[i * si];
        else
            for (int64_t i = 0; i < inner; i++) t[i * di] = s[i * si];
    }
}

/* Sum x (shape_in) into y (shape_out, dims 1 or equal). Each output element is owned by
 * one thread (no atomics): iterate over outputs, and for each sum its reduced sub-block.
 * Consecutive reduced dims are merged so the common (outer, R, inner) case is fast. */
void vt_cpu_reduce_sum(int ndim, const int64_t *shape_in, const float *x,
                       const int64_t *shape_out, float *y, float scale, int accumulate) {
    int64_t in_strides[VT_MAX_DIMS], out_n = 1, red_n = 1;
    vt_strides(ndim, shape_in, in_strides);
    int kd[VT_MAX_DIMS], rd[VT_MAX_DIMS], nk = 0, nr = 0; /* kept / reduced dims */
    for (int d = 0; d < ndim; d++) {
        if (shape_out[d] == shape_in[d]) { kd[nk++] = d; out_n *= shape_in[d]; }
        else { rd[nr++] = d; red_n *= shape_in[d]; }
    }
#pragma omp parallel for schedule(static) if (out_n * red_n > VT_OMP_MIN && out_n > 1)
    for (int64_t o = 0; o < out_n; o++) {
        int64_t rem = o, base = 0;
        for (int k = nk - 1; k >= 0; k--) {
            int64_t idx = rem % shape_in[kd[k]];
            rem /= shape_in[kd[k]];
            base += idx * in_strides[kd[k]];
        }
        double acc = 0;
        /* innermost reduced dim contiguous? then sum runs directly */
        if (nr > 0 && rd[nr - 1] == ndim - 1) {
            int64_t inner = shape_in[ndim - 1], outer = red_n / inner;
            for (int64_t r = 0; r < outer; r++) {
                int64_t rr = r, off = base;
                for (int k = nr - 2; k >= 0; k--) {
                    int64_t idx = rr % shape_in[rd[k]];
                    rr /= shape_in[rd[k]];
                    off += idx * in_strides[rd[k]];
                }
                float s = 0;
                for (int64_t i = 0; i < inner; i++) s += x[off + i];
                acc += s;
            }
        } else {
            for (int64_t r = 0; r < red_n; r++) {
                int64_t rr = r, off = base;
                for (int k = nr - 1; k >= 0; k--) {
                    int64_t idx = rr % shape_in[rd[k]];
                    rr /= shape_in[rd[k]];
                    off += idx * in_strides[rd[k]];
                }
                acc += x[off];
            }
        }
        float v = (float)(acc * scale);
        y[o] = accumulate ? y[o] + v : v;
    }
}
