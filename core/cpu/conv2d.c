/* conv2d.c: PLACEHOLDER being written (aborts until then). */
#include "../internal.h"
#include "cpu_kernels.h"
size_t vt_cpu_conv2d_workspace(const vt_conv2d_desc *d) { VT_ASSERT(!"placeholder"); return 0; }
void vt_cpu_conv2d_forward(const vt_conv2d_desc *d, const float *x, const float *w,
                           const float *b, float *y, void *work) { VT_ASSERT(!"placeholder"); }
void vt_cpu_conv2d_backward_data(const vt_conv2d_desc *d, const float *gy, const float *w,
                                 float *gx, void *work) { VT_ASSERT(!"placeholder"); }
void vt_cpu_conv2d_backward_filter(const vt_conv2d_desc *d, const float *x, const float *gy,
                                   float *gw, float *gb, void *work) { VT_ASSERT(!"placeholder"); }
