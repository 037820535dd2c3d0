/* supcon.c: supervised contrastive loss (Khosla et al., "Supervised Contrastive Learning",
 * NeurIPS 2020, eq. 2 "L_out"), as the official SupConLoss with contrast_mode 'all' on
 * features flattened to one row per view:
 *   z = f / max(||f||, 1e-12),  s_ij = z_i.z_j / T,  P(i) = {j != i : y_j = y_i}
 *   l_i = -(T / T_base) / |P(i)| sum_{j in P(i)} [s_ij - log sum_{k != i} exp(s_ik)]
 * The official code subtracts the (detached) row max before exp; |s_ij| <= 1/T here, so the
 * constant 1/T is subtracted instead: the same value (log-softmax is shift invariant), no
 * max op, and exp never overflows. Anchors without positives: recent official code
 * gives them loss 0 but still counts them in the mean; here they are left out of MEAN's
 * denominator (their NONE entry is 0), so a batch's loss does not shrink with singletons.
 * InfoNCE / NT-Xent (SimCLR) is the case of two views per image labelled by image index. */
#include <math.h>
#include <stdlib.h>
#include "internal.h"
#include "loss_masks.h"
#include "loss_reduce.h"
#include "losses_extra.h"

/* positives P (N, N), off-diagonal O (N, N) and 1 / max(|P(i)|, 1) (N) on the host;
 * returns the number of anchors with a positive */
static int64_t pair_masks(const float *y, int64_t n, float *pos, float *off, float *inv_count) {
    int64_t anchors = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t count = 0;
        for (int64_t j = 0; j < n; j++) {
            int p = j != i && y[j] == y[i];
            pos[i * n + j] = p ? 1.f : 0.f;
            off[i * n + j] = j != i ? 1.f : 0.f;
            count += p;
        }
        inv_count[i] = count ? 1.f / (float)count : 1.f;
        anchors += count > 0;
    }
    return anchors;
}

vt_tensor *vt_supcon_loss(vt_tensor *f, vt_tensor *labels, float temperature,
                          float base_temperature, vt_reduction reduction) {
    VT_CHECK_IN(f);
    VT_CHECK_IN(labels);
    if (f->ndim != 2 || f->shape[0] < 2 || labels->ndim != 1 || labels->shape[0] != f->shape[0]) {
        vt_error("supcon_loss: features %s must be (N, D) with N >= 2 and labels %s (N)",
                 vt_sstr(f), vt_sstr(labels));
        return NULL;
    }
    if (!(temperature > 0.f) || !(base_temperature > 0.f)) {
        vt_error("supcon_loss: temperature %g and base_temperature %g must be > 0",
                 (double)temperature, (double)base_temperature);
        return NULL;
    }
    if ((unsigned)reduction > VT_REDUCE_PER_SAMPLE) {
        vt_error("supcon_loss: unknown reduction %d", (int)reduction);
        return NULL;
    }
    int64_t n = f->shape[0];
    int own = 0;
    const float *yh = vt_loss_host_data(labels, &own);
    float *buf = yh ? malloc((size_t)(2 * n * n + n) * sizeof(float)) : NULL;
    if (!buf) {
        if (own) free((void *)yh);
        if (yh) vt_error("supcon_loss: out of memory for %lld x %lld masks", (long long)n, (long long)n);
        return NULL;
    }
    int64_t anchors = pair_masks(yh, n, buf, buf + n * n, buf + 2 * n * n);
    int64_t nn[2] = {n, n}, n1[1] = {n};
    vt_tensor *pos = vt_loss_const("supcon_loss", 2, nn, f->device, buf);
    vt_tensor *off = vt_loss_const("supcon_loss", 2, nn, f->device, buf + n * n);
    vt_tensor *inv_count = vt_loss_const("supcon_loss", 1, n1, f->device, buf + 2 * n * n);
    if (own) free((void *)yh);
    free(buf);

    vt_tensor *norm = vt_sqrt(vt_sum(vt_mul(f, f), 1, (int[]){1}, 1));         /* (N, 1) */
    vt_tensor *z = vt_div(f, vt_clamp(norm, 1e-12f, INFINITY));
    vt_tensor *s = vt_mul_scalar(vt_matmul(z, vt_transpose(z, 0, 1)), 1.f / temperature);
    vt_tensor *shifted = vt_add_scalar(s, -1.f / temperature);                 /* <= 0 */
    vt_tensor *lse = vt_log(vt_sum(vt_mul(vt_exp(shifted), off), 1, (int[]){1}, 1)); /* (N, 1) */
    vt_tensor *log_prob = vt_sub(shifted, lse);                                 /* (N, N) */
    vt_tensor *mean_pos = vt_mul(vt_sum(vt_mul(pos, log_prob), 1, (int[]){1}, 0), inv_count);
    vt_tensor *elem = vt_mul_scalar(mean_pos, -temperature / base_temperature); /* (N) */
    return vt_loss_reduce("supcon_loss", elem, reduction, (double)anchors);
}
