/* sgd.c: torch.optim.SGD (momentum, dampening, nesterov, L2 weight decay) over the flat
 * parameter buffer: one kernel call per step. */
#include "optim_internal.h"

static vt_status sgd_step(vt_optim *o) {
    vt_params *p = o->params;
    const vt_backend *be = vt_backend_get(vt_params_device(p));
    be->sgd_update(o->numel, vt_params_values(p), vt_params_grads(p),
                   o->n_state ? o->state[0] : NULL, o->lr, o->momentum, o->dampening,
                   o->weight_decay, o->nesterov, o->steps == 0);
    o->steps++;
    return VT_OK;
}

vt_optim *vt_sgd_new(vt_params *p, float lr, float momentum, float dampening,
                     float weight_decay, int nesterov) {
    if (!(momentum >= 0.f)) { vt_error("sgd: invalid momentum %g", (double)momentum); return NULL; }
    if (!(weight_decay >= 0.f)) { vt_error("sgd: invalid weight_decay %g", (double)weight_decay); return NULL; }
    if (nesterov && (momentum <= 0.f || dampening != 0.f)) {
        vt_error("sgd: nesterov momentum requires a momentum > 0 and zero dampening "
                 "(got momentum %g, dampening %g)", (double)momentum, (double)dampening);
        return NULL;
    }
    static const char *const names[] = {"momentum_buffer"};
    vt_optim *o = vt_optim_alloc("sgd", p, lr, momentum != 0.f ? 1 : 0, names);
    if (!o) return NULL;
    o->step = sgd_step;
    o->momentum = momentum;
    o->dampening = dampening;
    o->weight_decay = weight_decay;
    o->nesterov = nesterov != 0;
    return o;
}
