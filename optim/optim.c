/* optim.c: what every optimizer shares: allocation of the flat state, lr, step counter. */
#include <stdlib.h>
#include "optim_internal.h"

vt_optim *vt_optim_alloc(const char *name, vt_params *p, float lr, int n_state,
                         const char *const *state_names) {
    if (!p || !vt_params_finalized(p)) {
        vt_error("%s: parameters must be finalized (vt_params_finalize) first", name);
        return NULL;
    }
    if (!(lr >= 0.f)) { vt_error("%s: invalid learning rate %g", name, (double)lr); return NULL; }
    vt_optim *o = calloc(1, sizeof *o);
    if (!o) { vt_error("%s: out of memory", name); return NULL; }
    o->name = name;
    o->params = p;
    o->lr = lr;
    o->numel = vt_params_numel(p);
    const vt_backend *be = vt_backend_get(vt_params_device(p));
    for (int i = 0; i < n_state; i++) {
        o->state[i] = be->alloc((size_t)(o->numel ? o->numel : 1) * sizeof(float));
        if (!o->state[i]) {
            vt_error("%s: out of memory for %lld state values", name, (long long)o->numel);
            vt_optim_free(o);
            return NULL;
        }
        be->fill(o->state[i], o->numel, 0.f);
        o->state_name[i] = state_names[i];
        o->n_state = i + 1;
    }
    return o;
}

vt_status vt_optim_step(vt_optim *o) {
    if (!o) return vt_error("optim_step: optimizer is NULL");
    return o->step(o);
}

void vt_optim_set_lr(vt_optim *o, float lr) { if (o) o->lr = lr; }
float vt_optim_get_lr(const vt_optim *o) { return o ? o->lr : 0.f; }
const char *vt_optim_name(const vt_optim *o) { return o ? o->name : NULL; }

void vt_optim_free(vt_optim *o) {
    if (!o) return;
    const vt_backend *be = vt_backend_get(vt_params_device(o->params));
    for (int i = 0; i < o->n_state; i++) be->free(o->state[i]);
    free(o);
}

int vt_optim_state_count(const vt_optim *o) { return o ? o->n_state : 0; }
float *vt_optim_state(vt_optim *o, int i) { return o && i >= 0 && i < o->n_state ? o->state[i] : NULL; }
const char *vt_optim_state_name(const vt_optim *o, int i) {
    return o && i >= 0 && i < o->n_state ? o->state_name[i] : NULL;
}
int64_t vt_optim_state_numel(const vt_optim *o) { return o ? o->numel : 0; }
int64_t vt_optim_get_step(const vt_optim *o) { return o ? o->steps : 0; }
void vt_optim_set_step(vt_optim *o, int64_t step) { if (o && step >= 0) o->steps = step; }
