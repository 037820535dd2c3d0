/* init.c: torch.nn.init equivalents used by the model builders. */
#include <math.h>
#include "init.h"

int64_t vt_init_fan_in(const vt_tensor *w) {
    int64_t r = 1;
    for (int k = 2; k < w->ndim; k++) r *= w->shape[k];
    return (w->ndim > 1 ? w->shape[1] : w->shape[0]) * r;
}

int64_t vt_init_fan_out(const vt_tensor *w) {
    int64_t r = 1;
    for (int k = 2; k < w->ndim; k++) r *= w->shape[k];
    return w->shape[0] * r;
}

void vt_init_kaiming_normal(vt_tensor *w, int fan_out_mode) {
    int64_t fan = fan_out_mode ? vt_init_fan_out(w) : vt_init_fan_in(w);
    vt_tensor_normal_(w, 0.f, sqrtf(2.f / (float)fan));
}

void vt_init_default_uniform(vt_tensor *w, int64_t fan_in) {
    float bound = 1.f / sqrtf((float)fan_in);
    vt_tensor_uniform_(w, -bound, bound);
}
