/* mdseg_eval.c: held-out Dice per domain and class of the multi-domain segmentation model
 * (eval mode, no grad): per-image Dice (metrics/segmentation.h, empty = NaN), averaged
 * over the images of each domain with NaNs left out. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "classify.h" /* vt_gather_rows */
#include "mdseg.h"
#include "segmentation.h"

vt_status vt_mdseg_evaluate(vt_mdseg_model *m, const vt_mdseg_data *d, int batch,
                            double dice[VT_MDSEG_MAX_DOMAINS][VT_MDSEG_CLASSES]) {
    if (batch < 1) return vt_error("mdseg evaluate: batch %d must be >= 1", batch);
    int64_t plane = d->images->shape[2] * d->images->shape[3];
    double sum[VT_MDSEG_MAX_DOMAINS][VT_MDSEG_CLASSES] = {{0}};
    int64_t cnt[VT_MDSEG_MAX_DOMAINS][VT_MDSEG_CLASSES] = {{0}};
    int *gt = malloc(sizeof(int) * (size_t)plane), *pred = malloc(sizeof(int) * (size_t)plane);
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)batch);
    vt_status st = gt && pred && idx ? VT_OK : vt_error("mdseg evaluate: out of memory");
    int g = vt_no_grad_begin();
    for (int64_t b0 = 0; b0 < d->n && st == VT_OK; b0 += batch) {
        int64_t b = d->n - b0 < batch ? d->n - b0 : batch;
        for (int64_t i = 0; i < b; i++) idx[i] = b0 + i;
        vt_tensor *logits = vt_mdseg_forward(m, vt_gather_rows(d->images, idx, b), 0); /* (b, 3, H, W) */
        if (!logits) { st = VT_ERR; break; }
        for (int64_t i = 0; i < b && st == VT_OK; i++) {
            const float *l = logits->data + i * VT_MDSEG_CLASSES * plane, *mk = d->masks->data + (b0 + i) * plane;
            for (int64_t j = 0; j < plane; j++) {
                int best = 0;
                for (int c = 1; c < VT_MDSEG_CLASSES; c++) if (l[c * plane + j] > l[best * plane + j]) best = c;
                pred[j] = best;
                gt[j] = (int)mk[j];
            }
            double dc[VT_MDSEG_CLASSES];
            st = vt_dice_iou_per_class(gt, pred, plane, VT_MDSEG_CLASSES, VT_EMPTY_NAN, dc, NULL);
            int dom = d->domain[b0 + i];
            for (int c = 0; c < VT_MDSEG_CLASSES; c++)
                if (!isnan(dc[c])) { sum[dom][c] += dc[c]; cnt[dom][c]++; }
        }
        vt_arena_reset(NULL);
    }
    vt_no_grad_end(g);
    for (int dm = 0; dm < d->n_domains; dm++)
        for (int c = 0; c < VT_MDSEG_CLASSES; c++) dice[dm][c] = cnt[dm][c] ? sum[dm][c] / (double)cnt[dm][c] : NAN;
    free(gt); free(pred); free(idx);
    return st;
}
