/* multitask.c: combining task losses: a fixed weighted sum, and homoscedastic uncertainty
 * weighting (Kendall, Gal, Cipolla, "Multi-Task Learning Using Uncertainty to Weigh Losses
 * for Scene Geometry and Semantics", CVPR 2018) with s_i = log sigma_i^2 learned:
 *   PLAIN           exp(-s) L + s          (common implementation; 2x eq. 7, same minimiser)
 *   REGRESSION      0.5 exp(-s) L + 0.5 s  (eq. 7: L / (2 sigma^2) + log sigma)
 *   CLASSIFICATION  exp(-s) L + 0.5 s      (eq. 10 with the approximation of eq. 9:
 *                                           L / sigma^2 + log sigma; softmax temperature sigma^2)
 * s is learned rather than sigma because exp(-s) stays positive and finite. */
#include "internal.h"
#include "losses_extra.h"

static vt_status check_losses(const char *op, int n, vt_tensor *const *losses) {
    if (n < 1 || !losses) return vt_error("%s: need at least one loss (got %d)", op, n);
    for (int i = 0; i < n; i++) {
        if (!losses[i]) return VT_ERR; /* NULL in, NULL out: the message is already set */
        if (losses[i]->numel != 1)
            return vt_error("%s: loss %d is %s, not a scalar (reduce it first)", op, i,
                            vt_sstr(losses[i]));
    }
    return VT_OK;
}

vt_tensor *vt_multitask_weighted_sum(int n, vt_tensor *const *losses, const float *weights) {
    if (check_losses("multitask_weighted_sum", n, losses) != VT_OK) return NULL;
    vt_tensor *total = NULL;
    for (int i = 0; i < n; i++) {
        vt_tensor *li = vt_reshape(losses[i], 1, (int64_t[]){1});
        if (weights) li = vt_mul_scalar(li, weights[i]);
        total = total ? vt_add(total, li) : li;
    }
    return total;
}

vt_tensor *vt_uncertainty_weights_add(vt_params *p, const char *name, int n_tasks) {
    if (!p || !name || n_tasks < 1) {
        vt_error("uncertainty_weights_add: need a params store, a name and n_tasks >= 1 (got %d)", n_tasks);
        return NULL;
    }
    return vt_params_add(p, name, 1, (int64_t[]){n_tasks}); /* zeros: sigma = 1 */
}

vt_tensor *vt_uncertainty_weighted_sum(vt_tensor *log_vars, int n, vt_tensor *const *losses,
                                       const vt_uw_task *kinds) {
    const char *op = "uncertainty_weighted_sum";
    VT_CHECK_IN(log_vars);
    if (check_losses(op, n, losses) != VT_OK) return NULL;
    if (log_vars->ndim != 1 || log_vars->shape[0] != n) {
        vt_error("%s: log_vars %s must be (%d), one per task", op, vt_sstr(log_vars), n);
        return NULL;
    }
    vt_tensor *total = NULL;
    for (int i = 0; i < n; i++) {
        vt_uw_task k = kinds ? kinds[i] : VT_UW_PLAIN;
        if ((unsigned)k > VT_UW_CLASSIFICATION) {
            vt_error("%s: unknown task kind %d for task %d", op, (int)k, i);
            return NULL;
        }
        float loss_scale = k == VT_UW_REGRESSION ? 0.5f : 1.f;
        float reg_scale = k == VT_UW_PLAIN ? 1.f : 0.5f;
        vt_tensor *s = vt_slice(log_vars, 0, i, i + 1); /* (1) */
        vt_tensor *li = vt_reshape(losses[i], 1, (int64_t[]){1});
        vt_tensor *term = vt_add(vt_mul_scalar(vt_mul(vt_exp(vt_mul_scalar(s, -1.f)), li), loss_scale),
                                 vt_mul_scalar(s, reg_scale));
        total = total ? vt_add(total, term) : term;
    }
    return total;
}
