/* nll.c: PLACEHOLDER being written (aborts until then). */
#include "../internal.h"
#include "cpu_kernels.h"
void vt_cpu_nll_forward(int64_t n, int64_t c, int64_t s, const float *x, const float *targets,
                        const float *w, int ignore_index, float *y) { VT_ASSERT(!"placeholder"); }
void vt_cpu_nll_backward(int64_t n, int64_t c, int64_t s, const float *gy, const float *targets,
                         const float *w, int ignore_index, float *gx) { VT_ASSERT(!"placeholder"); }
