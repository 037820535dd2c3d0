/* giou.c: generalized IoU loss (Rezatofighi et al., CVPR 2019), composed as
 * torchvision.ops.generalized_box_iou_loss for boxes (N, 4) = (x1, y1, x2, y2):
 *   inter = w h if w > 0 and h > 0 else 0 (w, h of the overlap), union = a1 + a2 - inter,
 *   l = 1 - inter / (union + eps) + (area_c - union) / (area_c + eps),  eps = 1e-7,
 * area_c the smallest enclosing box. max/min carry torch.maximum's gradient (halved at ties). */
#include "internal.h"
#include "loss_masks.h"
#include "loss_reduce.h"
#include "losses_extra.h"

#define GIOU_EPS 1e-7f
static float both_positive(float w, float h, float unused) { (void)unused; return w > 0.f && h > 0.f ? 1.f : 0.f; }

vt_tensor *vt_giou_loss(vt_tensor *b1, vt_tensor *b2, vt_reduction reduction) {
    VT_CHECK_IN(b1);
    VT_CHECK_IN(b2);
    if (b1->ndim != 2 || b1->shape[1] != 4 || !vt_shape_equal(b1, b2)) {
        vt_error("giou_loss: boxes1 %s and boxes2 %s must both be (N, 4) as (x1, y1, x2, y2)",
                 vt_sstr(b1), vt_sstr(b2));
        return NULL;
    }
    if ((unsigned)reduction > VT_REDUCE_PER_SAMPLE) {
        vt_error("giou_loss: unknown reduction %d", (int)reduction);
        return NULL;
    }
    vt_tensor *a[4], *g[4]; /* columns (N, 1) */
    for (int k = 0; k < 4; k++) {
        a[k] = vt_slice(b1, 1, k, k + 1);
        g[k] = vt_slice(b2, 1, k, k + 1);
    }
    const char *op = "giou_loss";
    vt_tensor *w = vt_sub(vt_loss_min(op, a[2], g[2]), vt_loss_max(op, a[0], g[0]));
    vt_tensor *h = vt_sub(vt_loss_min(op, a[3], g[3]), vt_loss_max(op, a[1], g[1]));
    vt_tensor *inter = vt_mul(vt_loss_mask(op, w, h, both_positive, 0.f), vt_mul(w, h));
    vt_tensor *area1 = vt_mul(vt_sub(a[2], a[0]), vt_sub(a[3], a[1]));
    vt_tensor *area2 = vt_mul(vt_sub(g[2], g[0]), vt_sub(g[3], g[1]));
    vt_tensor *uni = vt_sub(vt_add(area1, area2), inter);
    vt_tensor *iou = vt_div(inter, vt_add_scalar(uni, GIOU_EPS));
    vt_tensor *cw = vt_sub(vt_loss_max(op, a[2], g[2]), vt_loss_min(op, a[0], g[0]));
    vt_tensor *ch = vt_sub(vt_loss_max(op, a[3], g[3]), vt_loss_min(op, a[1], g[1]));
    vt_tensor *area_c = vt_mul(cw, ch);
    vt_tensor *penalty = vt_div(vt_sub(area_c, uni), vt_add_scalar(area_c, GIOU_EPS));
    vt_tensor *elem = vt_add_scalar(vt_sub(penalty, iou), 1.f);
    elem = vt_reshape(elem, 1, (int64_t[]){b1->shape[0]});
    return vt_loss_reduce(op, elem, reduction, (double)b1->shape[0]);
}
