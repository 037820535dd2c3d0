/* pool2d.c: PLACEHOLDER being written (aborts until then). */
#include "../internal.h"
#include "cpu_kernels.h"
void vt_cpu_max_pool2d_forward(const vt_pool2d_desc *d, const float *x, float *y, int32_t *argmax) { VT_ASSERT(!"placeholder"); }
void vt_cpu_max_pool2d_backward(const vt_pool2d_desc *d, const float *gy, const int32_t *argmax, float *gx) { VT_ASSERT(!"placeholder"); }
void vt_cpu_avg_pool2d_forward(const vt_pool2d_desc *d, const float *x, float *y) { VT_ASSERT(!"placeholder"); }
void vt_cpu_avg_pool2d_backward(const vt_pool2d_desc *d, const float *gy, float *gx) { VT_ASSERT(!"placeholder"); }
