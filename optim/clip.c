/* clip.c: gradient-norm clipping over the flat gradient buffer (one sum of squares in
 * double, one scale), as torch.nn.utils.clip_grad_norm_ with the L2 norm. */
#include <math.h>
#include "internal.h"
#include "optim.h"

float vt_clip_grad_norm(vt_params *p, float max_norm) {
    if (!p || !vt_params_finalized(p)) {
        vt_error("clip_grad_norm: parameters must be finalized first");
        return -1.f;
    }
    if (!(max_norm >= 0.f)) {
        vt_error("clip_grad_norm: max_norm %g must be >= 0", (double)max_norm);
        return -1.f;
    }
    const vt_backend *be = vt_backend_get(vt_params_device(p));
    int64_t n = vt_params_numel(p);
    float *g = vt_params_grads(p);
    /* torch: total_norm in f32; coef = max_norm / (total_norm + 1e-6), clamped to 1 */
    float norm = (float)sqrt(be->sum_squares(n, g));
    if (!isfinite(norm)) return norm;
    float coef = max_norm / (norm + 1e-6f);
    if (coef < 1.f) be->scale(n, g, coef);
    return norm;
}
