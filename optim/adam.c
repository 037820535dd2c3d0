/* adam.c: torch.optim.Adam (L2 weight decay in the gradient) and torch.optim.AdamW
 * (decoupled decay) over the flat parameter buffer: one kernel call per step. */
#include "optim_internal.h"

static vt_status adam_step(vt_optim *o) {
    vt_params *p = o->params;
    const vt_backend *be = vt_backend_get(vt_params_device(p));
    o->steps++; /* bias correction counts this step, as torch's state['step'] */
    be->adam_update(o->numel, vt_params_values(p), vt_params_grads(p), o->state[0], o->state[1],
                    o->lr, o->beta1, o->beta2, o->eps, o->weight_decay, o->decoupled, o->steps);
    return VT_OK;
}

static vt_optim *adam_new(const char *name, int decoupled, vt_params *p, float lr, float beta1,
                          float beta2, float eps, float weight_decay) {
    if (!(eps >= 0.f)) { vt_error("%s: invalid epsilon %g", name, (double)eps); return NULL; }
    if (!(beta1 >= 0.f && beta1 < 1.f) || !(beta2 >= 0.f && beta2 < 1.f)) {
        vt_error("%s: betas (%g, %g) must lie in [0, 1)", name, (double)beta1, (double)beta2);
        return NULL;
    }
    if (!(weight_decay >= 0.f)) { vt_error("%s: invalid weight_decay %g", name, (double)weight_decay); return NULL; }
    static const char *const names[] = {"exp_avg", "exp_avg_sq"};
    vt_optim *o = vt_optim_alloc(name, p, lr, 2, names);
    if (!o) return NULL;
    o->step = adam_step;
    o->beta1 = beta1;
    o->beta2 = beta2;
    o->eps = eps;
    o->weight_decay = weight_decay;
    o->decoupled = decoupled;
    return o;
}

vt_optim *vt_adam_new(vt_params *p, float lr, float beta1, float beta2, float eps,
                      float weight_decay) {
    return adam_new("adam", 0, p, lr, beta1, beta2, eps, weight_decay);
}

vt_optim *vt_adamw_new(vt_params *p, float lr, float beta1, float beta2, float eps,
                       float weight_decay) {
    return adam_new("adamw", 1, p, lr, beta1, beta2, eps, weight_decay);
}
