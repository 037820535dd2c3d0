/* det_loss.c: the FCOS loss (det.h): sigmoid focal loss over every location and class,
 * GIoU on the positive locations weighted by their centerness target (FCOS), BCE on the
 * centerness of positives. Targets are built on the host per image (vt_fcos_targets) and
 * enter the graph as constants. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "det.h"
#include "losses.h"

void vt_det_loss_config_default(vt_det_loss_config *c) {
    *c = (vt_det_loss_config){.focal_alpha = 0.25f, .focal_gamma = 2.f, .w_cls = 1, .w_box = 1, .w_ctr = 1};
}

vt_tensor *vt_det_loss(const vt_detector *d, const vt_detector_output *o, const float *boxes,
                       const int *cls, const int64_t *first, const int64_t *count,
                       const vt_det_loss_config *c, double parts[3], int64_t *n_pos_out) {
    if (!d || !o || !o->cls || !o->box || !o->ctr) { vt_error("det loss: missing model output"); return NULL; }
    vt_fcos_geometry g;
    vt_fcos_geometry_of(d, &g);
    int64_t N = o->cls->shape[0], L = g.n_locations, K = d->cfg.n_classes;
    if (o->cls->ndim != 3 || o->cls->shape[1] != L || o->cls->shape[2] != K) {
        char b[64];
        vt_error("det loss: class logits %s must be (N, %lld, %lld)", vt_shape_str(o->cls, b, sizeof b), (long long)L, (long long)K);
        return NULL;
    }
    vt_tensor *cls_t = vt_tensor_zeros(VT_DIMS(N, L, K)), *tgt_box = vt_tensor_empty(VT_DIMS(N * L, 4));
    vt_tensor *ctr_t = vt_tensor_zeros(VT_DIMS(N * L)), *pos = vt_tensor_zeros(VT_DIMS(N * L));
    vt_tensor *centre = vt_tensor_empty(VT_DIMS(1, L, 4)), *stride = vt_tensor_empty(VT_DIMS(1, L, 1));
    vt_tensor *sign = vt_tensor_empty(VT_DIMS(1, 1, 4)); /* arena: saved for backward */
    float *reg = malloc(sizeof(float) * (size_t)(L * 4));
    if (!cls_t || !tgt_box || !ctr_t || !pos || !centre || !stride || !sign || !reg) {
        free(reg);
        vt_error("det loss: out of memory");
        return NULL;
    }
    memcpy(sign->data, (const float[]){-1, -1, 1, 1}, sizeof(float) * 4);
    for (int64_t i = 0; i < L; i++) {
        float x, y;
        int lv;
        vt_fcos_location(&g, i, &x, &y, &lv);
        float *ce = centre->data + 4 * i;
        ce[0] = ce[2] = x, ce[1] = ce[3] = y;
        stride->data[i] = (float)g.stride[lv];
    }
    int64_t n_pos = 0;
    double ctr_sum = 0;
    for (int64_t n = 0; n < N; n++) {
        int64_t f = first[n];
        n_pos += vt_fcos_targets(&g, boxes + 4 * f, cls + f, count[n], (int)K, cls_t->data + n * L * K, reg,
                                 ctr_t->data + n * L, NULL);
        for (int64_t i = 0; i < L; i++) {
            const float *r = reg + 4 * i, *ce = centre->data + 4 * i;
            float *t = tgt_box->data + 4 * (n * L + i);
            int p = r[0] > 0;
            pos->data[n * L + i] = (float)p;
            float s = stride->data[i];
            /* negatives: any valid box (their loss is weighted 0) */
            t[0] = ce[0] - (p ? r[0] : s), t[1] = ce[1] - (p ? r[1] : s);
            t[2] = ce[2] + (p ? r[2] : s), t[3] = ce[3] + (p ? r[3] : s);
            ctr_sum += ctr_t->data[n * L + i];
        }
    }
    free(reg);
    double P = n_pos > 1 ? (double)n_pos : 1.0;
    vt_tensor *focal = vt_mul_scalar(vt_sigmoid_focal_loss(o->cls, cls_t, c->focal_alpha, c->focal_gamma, VT_REDUCE_SUM), (float)(1.0 / P));
    /* predicted boxes (N L, 4): centre + sign * distance * stride */
    vt_tensor *pred = vt_add(centre, vt_mul(vt_mul(o->box, stride), sign));
    pred = vt_reshape(pred, VT_DIMS(N * L, 4));
    vt_tensor *giou = vt_giou_loss(pred, tgt_box, VT_REDUCE_NONE); /* (N L) */
    vt_tensor *box_loss = vt_mul_scalar(vt_sum(vt_mul(giou, ctr_t), 0, NULL, 0), (float)(1.0 / (ctr_sum > 1e-6 ? ctr_sum : 1.0)));
    vt_bce_options bo = vt_bce_options_default();
    bo.reduction = VT_REDUCE_NONE;
    vt_tensor *ctr_logit = vt_reshape(o->ctr, VT_DIMS(N * L));
    vt_tensor *ctr_loss = vt_mul_scalar(vt_sum(vt_mul(vt_bce_with_logits(ctr_logit, ctr_t, &bo), pos), 0, NULL, 0), (float)(1.0 / P));
    if (!focal || !box_loss || !ctr_loss) return NULL;
    if (parts) parts[0] = vt_tensor_item(focal), parts[1] = vt_tensor_item(box_loss), parts[2] = vt_tensor_item(ctr_loss);
    if (n_pos_out) *n_pos_out = n_pos;
    return vt_add(vt_add(vt_mul_scalar(focal, c->w_cls), vt_mul_scalar(box_loss, c->w_box)), vt_mul_scalar(ctr_loss, c->w_ctr));
}
