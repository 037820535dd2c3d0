/* optim_internal.h: the optimizer object shared by sgd.c, adam.c and optim.c. */
#ifndef VT_OPTIM_INTERNAL_H
#define VT_OPTIM_INTERNAL_H

#include "internal.h"
#include "optim.h"

#define VT_OPTIM_MAX_STATE 2

struct vt_optim {
    const char *name;
    vt_params *params;
    vt_status (*step)(vt_optim *o);
    float lr;
    float momentum, dampening, weight_decay; /* SGD (weight_decay also Adam) */
    int nesterov;
    float beta1, beta2, eps;                 /* Adam */
    int decoupled;                           /* AdamW */
    int64_t steps;                           /* steps taken */
    int n_state;
    float *state[VT_OPTIM_MAX_STATE];        /* flat, numel floats on the device */
    const char *state_name[VT_OPTIM_MAX_STATE];
    int64_t numel;
};

/* Allocates the optimizer with n_state zeroed flat buffers; NULL with an error. */
vt_optim *vt_optim_alloc(const char *name, vt_params *p, float lr, int n_state,
                         const char *const *state_names);

#endif
