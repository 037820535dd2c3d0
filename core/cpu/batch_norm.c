/* batch_norm.c: PLACEHOLDER being written (aborts until then). */
#include "../internal.h"
#include "cpu_kernels.h"
void vt_cpu_batch_norm_train(int64_t n, int64_t c, int64_t s, const float *x, const float *w,
                             const float *b, float *y, float *mean, float *invstd,
                             float *running_mean, float *running_var, float momentum, float eps) { VT_ASSERT(!"placeholder"); }
void vt_cpu_batch_norm_eval(int64_t n, int64_t c, int64_t s, const float *x, const float *w,
                            const float *b, const float *running_mean, const float *running_var,
                            float eps, float *y) { VT_ASSERT(!"placeholder"); }
void vt_cpu_batch_norm_backward(int64_t n, int64_t c, int64_t s, const float *x, const float *gy,
                                const float *w, const float *mean, const float *invstd,
                                float *gx, float *gw, float *gb) { VT_ASSERT(!"placeholder"); }
