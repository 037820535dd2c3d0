/* ctbq_loss.c: the multi-task loss of the CT bone-quality method with self-paced
 * per-sample weights (losses/losses_extra.h's vt_spl_*) and optional Kendall uncertainty
 * weighting (see ctbq.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ctbq.h"
#include "losses.h"
#include "losses_extra.h"

void vt_ctbq_loss_config_default(vt_ctbq_loss_config *c) {
    *c = (vt_ctbq_loss_config){.w_blastic = 1.f, .w_lytic = 1.f, .w_quality = 1.f, .w_postero = 1.f,
                               .spl = VT_CTBQ_SPL_OFF, .spl_start = 0.5f, .spl_growth = 0.15f,
                               .spl_mix = 0.5f};
}

double vt_ctbq_spl_fraction(double start, double growth, int epoch) {
    return vt_spl_fraction(start, growth, 0.0, epoch - 1); /* growth 0: the additive schedule */
}

/* mean of w * l (N) where w are the SPL weights of l's values at this epoch's fraction */
static vt_tensor *self_paced(vt_tensor *l, const vt_ctbq_loss_config *c, int epoch) {
    double f = vt_ctbq_spl_fraction(c->spl_start, c->spl_growth, epoch);
    if (c->spl == VT_CTBQ_SPL_OFF || f >= 1.0) return vt_mean(l, 0, NULL, 0);
    if (c->spl == VT_CTBQ_SPL_MIXTURE && !(c->spl_mix > 0.f && c->spl_mix < 1.f)) {
        vt_error("ctbq loss: spl mixture ratio %g must be in (0, 1)", (double)c->spl_mix);
        return NULL;
    }
    float lambda;
    if (vt_spl_lambda_for_fraction(l, f < 1e-6 ? 1e-6 : f, &lambda) != VT_OK) return NULL; /* >= 1 sample */
    vt_spl_scheme s = c->spl == VT_CTBQ_SPL_HARD ? VT_SPL_HARD : c->spl == VT_CTBQ_SPL_LINEAR ? VT_SPL_LINEAR : VT_SPL_MIXTURE;
    float lambda2 = lambda * c->spl_mix;
    /* all admitted losses 0: lambda is the smallest subnormal and lambda2 rounds to 0; no
     * float lies strictly between them, so HARD gives exactly the MIXTURE weights */
    if (s == VT_SPL_MIXTURE && !(lambda2 > 0.f && lambda2 < lambda)) s = VT_SPL_HARD;
    vt_tensor *w = vt_spl_weights(l, s, lambda, lambda2); /* (N), no graph */
    return w ? vt_mean(vt_mul(l, w), 0, NULL, 0) : NULL; /* sum(w l) / N: dropped samples still count in N */
}

vt_tensor *vt_ctbq_loss(vt_ctbq_model *m, const vt_ctbq_output *o, vt_tensor *quality,
                        vt_tensor *blastic, vt_tensor *lytic, vt_tensor *postero,
                        const vt_ctbq_loss_config *c, int epoch, double parts[4]) {
    if (parts) for (int t = 0; t < 4; t++) parts[t] = NAN;
    if (!o->quality || !quality) { vt_error("ctbq loss: missing quality logits or targets"); return NULL; }
    vt_ce_options ce = vt_ce_options_default();
    ce.reduction = VT_REDUCE_PER_SAMPLE;
    vt_tensor *lq = vt_cross_entropy(o->quality, quality, &ce); /* (N) */
    if (!lq) return NULL;
    if (parts) parts[2] = vt_tensor_item(vt_mean(lq, 0, NULL, 0));
    if (m->cfg.kind == VT_CTBQ_BASELINE) return vt_mean(lq, 0, NULL, 0);
    if (!blastic || !lytic || !postero) { vt_error("ctbq loss: the multi-task loss needs blastic, lytic and posterolateral targets"); return NULL; }
    int64_t n = o->quality->shape[0];
    vt_bce_options bo = vt_bce_options_default();
    bo.reduction = VT_REDUCE_PER_SAMPLE;
    vt_tensor *logit[4] = {o->blastic, o->lytic, NULL, o->posterolateral};
    vt_tensor *target[4] = {blastic, lytic, NULL, postero};
    vt_tensor *per[4] = {NULL, NULL, lq, NULL};
    for (int t = 0; t < 4; t++) {
        if (t == 2) continue;
        if (target[t]->numel != n) {
            vt_error("ctbq loss: %lld targets for a batch of %lld", (long long)target[t]->numel, (long long)n);
            return NULL;
        }
        per[t] = vt_bce_with_logits(logit[t], vt_reshape(target[t], VT_DIMS(n, 1)), &bo);
        if (!per[t]) return NULL;
        if (parts) parts[t] = vt_tensor_item(vt_mean(per[t], 0, NULL, 0));
    }
    const float w[4] = {c->w_blastic, c->w_lytic, c->w_quality, c->w_postero};
    vt_tensor *total = NULL;
    for (int t = 0; t < 4; t++) {
        vt_tensor *lt = self_paced(per[t], c, epoch), *term;
        if (!lt) return NULL;
        if (c->kendall) { /* exp(-s) L + 0.5 s, s = log sigma^2 (Kendall et al. 2018, classification) */
            if (!m->log_vars) { vt_error("ctbq loss: Kendall weighting needs a model built with kendall = 1"); return NULL; }
            vt_tensor *s = vt_slice(m->log_vars, 0, t, t + 1);
            term = vt_add(vt_mul(vt_exp(vt_mul_scalar(s, -1.f)), lt), vt_mul_scalar(s, 0.5f));
        } else {
            if (w[t] == 0.f) continue;
            term = vt_mul_scalar(lt, w[t]);
        }
        total = total ? vt_add(total, term) : term;
    }
    if (!total) vt_error("ctbq loss: every task weight is 0");
    return total;
}
