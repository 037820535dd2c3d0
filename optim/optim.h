/* optim.h: optimizers, learning-rate schedules and gradient clipping.
 *
 * Optimizers update the flat value buffer of a finalized vt_params from its flat gradient
 * buffer with one backend kernel call per step. Their state (SGD momentum buffer, Adam
 * exp_avg / exp_avg_sq) is flat too, vt_params_numel floats per buffer on the parameters'
 * device, so checkpointing and all-reduce are a few large copies. Update formulas are
 * those of torch.optim in PyTorch 1.13 (single-tensor path, no maximize/amsgrad). */
#ifndef VT_OPTIM_H
#define VT_OPTIM_H

#include "vertebra.h"

typedef struct vt_optim vt_optim;

/* torch.optim.SGD. Errors (NULL): params not finalized, lr < 0, momentum < 0,
 * weight_decay < 0, nesterov without momentum > 0 and dampening == 0. The momentum buffer
 * is set to the gradient on the first step, as PyTorch. */
vt_optim *vt_sgd_new(vt_params *p, float lr, float momentum, float dampening,
                     float weight_decay, int nesterov);
/* torch.optim.Adam: weight decay is L2, added to the gradient. Typical: 1e-3, 0.9, 0.999,
 * 1e-8, 0. Errors: lr < 0, eps < 0, betas outside [0, 1), weight_decay < 0. */
vt_optim *vt_adam_new(vt_params *p, float lr, float beta1, float beta2, float eps,
                      float weight_decay);
/* torch.optim.AdamW: decoupled decay p *= 1 - lr wd before the Adam update.
 * PyTorch's default weight decay is VT_ADAMW_DEFAULT_WEIGHT_DECAY. */
#define VT_ADAMW_DEFAULT_WEIGHT_DECAY 0.01f
vt_optim *vt_adamw_new(vt_params *p, float lr, float beta1, float beta2, float eps,
                       float weight_decay);

/* One update of every parameter from the current gradients (call after vt_backward). */
vt_status vt_optim_step(vt_optim *o);
void vt_optim_set_lr(vt_optim *o, float lr);
float vt_optim_get_lr(const vt_optim *o);
const char *vt_optim_name(const vt_optim *o); /* "sgd", "adam", "adamw" */
void vt_optim_free(vt_optim *o);

/* Flat state for checkpoints: vt_optim_state_count buffers (0 for SGD without momentum,
 * 1 "momentum_buffer" for SGD, 2 "exp_avg", "exp_avg_sq" for Adam/AdamW), each
 * vt_optim_state_numel floats on the parameters' device, plus the step counter (steps
 * taken; SGD's momentum buffer is initialised from the gradient while it is 0). */
int vt_optim_state_count(const vt_optim *o);
float *vt_optim_state(vt_optim *o, int i);
const char *vt_optim_state_name(const vt_optim *o, int i);
int64_t vt_optim_state_numel(const vt_optim *o);
int64_t vt_optim_get_step(const vt_optim *o);
void vt_optim_set_step(vt_optim *o, int64_t step);

/* ---- learning-rate schedules ---------------------------------------------------------- */
typedef enum {
    VT_LR_CONSTANT = 0,
    VT_LR_STEP,      /* torch StepLR: base * gamma^floor(t / step_size) */
    VT_LR_MULTISTEP, /* torch MultiStepLR: base * gamma^(milestones <= t) */
    VT_LR_COSINE,    /* torch CosineAnnealingLR closed form, eta_min = min_lr, T_max = main
                        phase length; held at min_lr after it (torch would rise again) */
    VT_LR_POLY       /* torch PolynomialLR / nnU-Net: (base - min_lr)(1 - t/T)^power + min_lr
                        (min_lr = 0 is exactly PyTorch), min_lr after the end */
} vt_lr_kind;

#define VT_LR_MAX_MILESTONES 16

/* A pure description of lr(step). With warmup_steps = W > 0 the schedule is torch's
 * SequentialLR([LinearLR(start_factor, total_iters=W), main], milestones=[W]):
 *   t < W:  base * (start + (1 - start) t / W)
 *   t >= W: main schedule at t - W, whose length (T above) is total_steps - W. */
typedef struct vt_lr_schedule {
    vt_lr_kind kind;
    float base_lr;
    int64_t total_steps;       /* cosine, poly: the whole run, warm-up included */
    int64_t warmup_steps;      /* 0: no warm-up */
    float warmup_start_factor; /* lr factor at step 0 of the warm-up (torch default 1/3) */
    int64_t step_size;         /* step */
    float gamma;               /* step, multistep */
    int64_t milestones[VT_LR_MAX_MILESTONES]; /* multistep, ascending, in main-phase steps */
    int n_milestones;
    float power;               /* poly (nnU-Net 0.9) */
    float min_lr;              /* cosine eta_min, poly floor */
} vt_lr_schedule;

/* constant schedule at base_lr, gamma 0.1, power 0.9, warm-up factor 1/3 */
vt_lr_schedule vt_lr_schedule_default(vt_lr_kind kind, float base_lr);
/* VT_OK or an error naming the bad field (step_size <= 0, total_steps <= warmup, ...) */
vt_status vt_lr_schedule_check(const vt_lr_schedule *s);
/* lr for optimizer step `step` (0-based: the lr after `step` scheduler.step() calls) */
float vt_lr_at(const vt_lr_schedule *s, int64_t step);

/* ---- gradient clipping ---------------------------------------------------------------- */
/* torch.nn.utils.clip_grad_norm_ (L2) over every gradient of p: returns the total norm
 * before clipping and scales the gradients by max_norm / (norm + 1e-6) when that is < 1.
 * A non-finite norm is returned with the gradients left untouched (skip that step).
 * -1 with an error when p is not finalized or max_norm is negative or NaN. */
float vt_clip_grad_norm(vt_params *p, float max_norm);

#endif
