/* optim_update.c: PLACEHOLDER being written (aborts until then). */
#include "../internal.h"
#include "cpu_kernels.h"
void vt_cpu_sgd_update(int64_t n, float *p, const float *g, float *buf, float lr, float momentum,
                       float dampening, float weight_decay, int nesterov, int first_step) { VT_ASSERT(!"placeholder"); }
void vt_cpu_adam_update(int64_t n, float *p, const float *g, float *m, float *v, float lr,
                        float beta1, float beta2, float eps, float weight_decay, int decoupled,
                        int64_t step) { VT_ASSERT(!"placeholder"); }
double vt_cpu_sum_squares(int64_t n, const float *x) { VT_ASSERT(!"placeholder"); return 0; }
void vt_cpu_scale(int64_t n, float *x, float s) { VT_ASSERT(!"placeholder"); }
