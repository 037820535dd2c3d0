/* lr_schedule.c: learning rate as a pure function of the step (closed forms of torch's
 * LinearLR warm-up followed, as SequentialLR composes them, by StepLR, MultiStepLR,
 * CosineAnnealingLR or PolynomialLR). Pure means resuming from a checkpoint needs only
 * the step counter. */
#include <math.h>
#include "internal.h"
#include "optim.h"

vt_lr_schedule vt_lr_schedule_default(vt_lr_kind kind, float base_lr) {
    return (vt_lr_schedule){.kind = kind, .base_lr = base_lr, .total_steps = 0,
                            .warmup_steps = 0, .warmup_start_factor = 1.f / 3.f,
                            .step_size = 1, .gamma = 0.1f, .n_milestones = 0,
                            .power = 0.9f, .min_lr = 0.f};
}

vt_status vt_lr_schedule_check(const vt_lr_schedule *s) {
    if (!s) return vt_error("lr_schedule: NULL schedule");
    if (!(s->base_lr >= 0.f)) return vt_error("lr_schedule: base_lr %g < 0", (double)s->base_lr);
    if (s->warmup_steps < 0) return vt_error("lr_schedule: warmup_steps %lld < 0", (long long)s->warmup_steps);
    if (s->warmup_steps > 0 && !(s->warmup_start_factor > 0.f && s->warmup_start_factor <= 1.f))
        return vt_error("lr_schedule: warmup_start_factor %g is not in (0, 1]", (double)s->warmup_start_factor);
    switch (s->kind) {
    case VT_LR_CONSTANT: return VT_OK;
    case VT_LR_STEP:
        if (s->step_size <= 0) return vt_error("lr_schedule: step_size %lld must be > 0", (long long)s->step_size);
        return VT_OK;
    case VT_LR_MULTISTEP:
        if (s->n_milestones < 0 || s->n_milestones > VT_LR_MAX_MILESTONES)
            return vt_error("lr_schedule: %d milestones (max %d)", s->n_milestones, VT_LR_MAX_MILESTONES);
        for (int i = 1; i < s->n_milestones; i++)
            if (s->milestones[i] < s->milestones[i - 1])
                return vt_error("lr_schedule: milestones must be ascending");
        return VT_OK;
    case VT_LR_COSINE:
    case VT_LR_POLY:
        if (s->total_steps <= s->warmup_steps)
            return vt_error("lr_schedule: total_steps %lld must exceed warmup_steps %lld",
                            (long long)s->total_steps, (long long)s->warmup_steps);
        if (s->kind == VT_LR_POLY && !(s->power >= 0.f))
            return vt_error("lr_schedule: power %g < 0", (double)s->power);
        return VT_OK;
    }
    return vt_error("lr_schedule: unknown kind %d", (int)s->kind);
}

/* main schedule at main-phase step t (t >= 0), length T */
static double main_lr(const vt_lr_schedule *s, int64_t t) {
    double base = s->base_lr, lo = s->min_lr;
    int64_t T = s->total_steps - s->warmup_steps;
    switch (s->kind) {
    case VT_LR_STEP:
        return base * pow((double)s->gamma, (double)(t / (s->step_size > 0 ? s->step_size : 1)));
    case VT_LR_MULTISTEP: {
        int passed = 0;
        for (int i = 0; i < s->n_milestones; i++) passed += s->milestones[i] <= t;
        return base * pow((double)s->gamma, passed);
    }
    case VT_LR_COSINE:
        if (T <= 0 || t >= T) return lo;
        return lo + (base - lo) * (1.0 + cos(M_PI * (double)t / (double)T)) / 2.0;
    case VT_LR_POLY:
        if (T <= 0 || t >= T) return lo;
        return lo + (base - lo) * pow(1.0 - (double)t / (double)T, (double)s->power);
    default:
        return base;
    }
}

float vt_lr_at(const vt_lr_schedule *s, int64_t step) {
    if (step < 0) step = 0;
    if (step < s->warmup_steps) {
        double f = s->warmup_start_factor;
        return (float)(s->base_lr * (f + (1.0 - f) * (double)step / (double)s->warmup_steps));
    }
    return (float)main_lr(s, step - s->warmup_steps);
}
