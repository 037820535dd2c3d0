/* detection.c: greedy IoU matching, precision/recall curves, AP and mAP. */
#include "detection.h"
#include <math.h>
#include <stdlib.h>

double vt_box_iou(const vt_det_box *a, const vt_det_box *b) {
    double iw = fmin(a->x2, b->x2) - fmax(a->x1, b->x1);
    double ih = fmin(a->y2, b->y2) - fmax(a->y1, b->y1);
    double inter = iw > 0 && ih > 0 ? iw * ih : 0;
    double area_a = ((double)a->x2 - a->x1) * ((double)a->y2 - a->y1);
    double area_b = ((double)b->x2 - b->x1) * ((double)b->y2 - b->y1);
    double uni = area_a + area_b - inter;
    return uni > 0 ? inter / uni : 0;
}

static vt_status check_boxes(const char *op, const char *what, const vt_det_box *b, int64_t n,
                             int n_classes, int need_score) {
    if (n < 0 || (n > 0 && !b)) return vt_error("%s: %s: n = %lld with %s array", op, what, (long long)n, b ? "an" : "a NULL");
    for (int64_t i = 0; i < n; i++) {
        const vt_det_box *x = &b[i];
        if (x->cls < 0 || (n_classes > 0 && x->cls >= n_classes))
            return vt_error("%s: %s box %lld has class %d outside [0, %d)", op, what, (long long)i,
                            x->cls, n_classes);
        if (!(x->x2 >= x->x1 && x->y2 >= x->y1) || !isfinite(x->x1) || !isfinite(x->x2) ||
            !isfinite(x->y1) || !isfinite(x->y2))
            return vt_error("%s: %s box %lld is (%g, %g, %g, %g); need finite x1 <= x2, y1 <= y2",
                            op, what, (long long)i, x->x1, x->y1, x->x2, x->y2);
        if (need_score && isnan(x->score))
            return vt_error("%s: %s box %lld has a NaN score", op, what, (long long)i);
    }
    return VT_OK;
}

/* sort keys: detections by (score desc, index), ground truth by (image, index) */
typedef struct { float key; int image; int64_t i; } sort_item;

static int cmp_det(const void *a, const void *b) {
    const sort_item *x = a, *y = b;
    if (x->key != y->key) return x->key > y->key ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

static int cmp_gt(const void *a, const void *b) {
    const sort_item *x = a, *y = b;
    if (x->image != y->image) return x->image < y->image ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* first position in gts (sorted by image) whose image is >= image */
static int64_t lower_bound(const sort_item *g, int64_t n, int image) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (g[mid].image < image) lo = mid + 1; else hi = mid;
    }
    return lo;
}

/* Matching for one class, boxes already validated. tp_out[j] = 1 if the j-th detection
 * in score order is a true positive. Returns the detection count, -1 on OOM. */
static int64_t match_class(const vt_det_box *gt, int64_t n_gt_boxes, const vt_det_box *det,
                           int64_t n_det_boxes, int cls, double iou_thr, unsigned char **tp_out,
                           int64_t *n_gt) {
    int64_t ng = 0, nd = 0;
    for (int64_t i = 0; i < n_gt_boxes; i++) ng += gt[i].cls == cls;
    for (int64_t i = 0; i < n_det_boxes; i++) nd += det[i].cls == cls;
    sort_item *g = malloc(sizeof(sort_item) * (size_t)(ng + 1));
    sort_item *d = malloc(sizeof(sort_item) * (size_t)(nd + 1));
    unsigned char *used = calloc((size_t)ng + 1, 1);
    unsigned char *tp = malloc((size_t)nd + 1);
    if (!g || !d || !used || !tp) {
        free(g); free(d); free(used); free(tp);
        return -1;
    }
    ng = nd = 0;
    for (int64_t i = 0; i < n_gt_boxes; i++)
        if (gt[i].cls == cls) g[ng++] = (sort_item){0, gt[i].image, i};
    for (int64_t i = 0; i < n_det_boxes; i++)
        if (det[i].cls == cls) d[nd++] = (sort_item){det[i].score, det[i].image, i};
    qsort(g, (size_t)ng, sizeof *g, cmp_gt);
    qsort(d, (size_t)nd, sizeof *d, cmp_det);
    for (int64_t j = 0; j < nd; j++) {
        const vt_det_box *x = &det[d[j].i];
        int64_t best = -1;
        double best_iou = -1;
        for (int64_t q = lower_bound(g, ng, x->image); q < ng && g[q].image == x->image; q++) {
            if (used[q]) continue;
            double iou = vt_box_iou(x, &gt[g[q].i]);
            if (iou > best_iou) { best_iou = iou; best = q; }
        }
        tp[j] = best >= 0 && best_iou >= iou_thr;
        if (tp[j]) used[best] = 1;
    }
    free(g); free(d); free(used);
    *tp_out = tp;
    *n_gt = ng;
    return nd;
}

vt_status vt_detection_pr_curve(const vt_det_box *gt, int64_t n_gt_boxes, const vt_det_box *det,
                                int64_t n_det_boxes, int cls, double iou_thr, double *precision,
                                double *recall, int64_t *n_points, int64_t *n_gt) {
    const char *op = "detection_pr_curve";
    if (!n_points) return vt_error("%s: n_points is NULL", op);
    if (!(iou_thr >= 0 && iou_thr <= 1)) return vt_error("%s: iou_thr %g must lie in [0, 1]", op, iou_thr);
    if (check_boxes(op, "ground truth", gt, n_gt_boxes, 0, 0) != VT_OK ||
        check_boxes(op, "detection", det, n_det_boxes, 0, 1) != VT_OK)
        return VT_ERR;
    unsigned char *tp;
    int64_t ng, nd = match_class(gt, n_gt_boxes, det, n_det_boxes, cls, iou_thr, &tp, &ng);
    if (nd < 0) return vt_error("%s: out of memory", op);
    int64_t ctp = 0;
    for (int64_t j = 0; j < nd; j++) {
        ctp += tp[j];
        if (precision) precision[j] = (double)ctp / (double)(j + 1);
        if (recall) recall[j] = ng ? (double)ctp / (double)ng : NAN;
    }
    free(tp);
    *n_points = nd;
    if (n_gt) *n_gt = ng;
    return VT_OK;
}

double vt_average_precision(const double *precision, const double *recall, int64_t n) {
    /* walk backwards carrying the envelope max_{j >= i} p_j; each recall step
     * r_i - r_{i-1} (r_{-1} = 0) is weighted by the envelope at i */
    double ap = 0, env = 0;
    for (int64_t i = n - 1; i >= 0; i--) {
        env = fmax(env, precision[i]);
        double prev = i > 0 ? recall[i - 1] : 0.0;
        ap += (recall[i] - prev) * env;
    }
    return ap;
}

vt_status vt_detection_map(const vt_det_box *gt, int64_t n_gt_boxes, const vt_det_box *det,
                           int64_t n_det_boxes, int n_classes, double iou_thr, double *ap,
                           double *map, int *n_classes_used) {
    const char *op = "detection_map";
    if (!map || n_classes < 1) return vt_error("%s: need n_classes >= 1 (got %d) and non-NULL map", op, n_classes);
    if (!(iou_thr >= 0 && iou_thr <= 1)) return vt_error("%s: iou_thr %g must lie in [0, 1]", op, iou_thr);
    if (check_boxes(op, "ground truth", gt, n_gt_boxes, n_classes, 0) != VT_OK ||
        check_boxes(op, "detection", det, n_det_boxes, n_classes, 1) != VT_OK)
        return VT_ERR;
    double sum = 0;
    int used = 0;
    for (int c = 0; c < n_classes; c++) {
        unsigned char *tp;
        int64_t ng, nd = match_class(gt, n_gt_boxes, det, n_det_boxes, c, iou_thr, &tp, &ng);
        if (nd < 0) return vt_error("%s: out of memory", op);
        double a = NAN;
        if (ng > 0) {
            double *pr = malloc(sizeof(double) * 2 * (size_t)(nd + 1));
            if (!pr) { free(tp); return vt_error("%s: out of memory", op); }
            int64_t ctp = 0;
            for (int64_t j = 0; j < nd; j++) {
                ctp += tp[j];
                pr[j] = (double)ctp / (double)(j + 1);
                pr[nd + 1 + j] = (double)ctp / (double)ng;
            }
            a = vt_average_precision(pr, pr + nd + 1, nd);
            free(pr);
            sum += a;
            used++;
        }
        free(tp);
        if (ap) ap[c] = a;
    }
    if (n_classes_used) *n_classes_used = used;
    if (used == 0) return vt_error("%s: no class has a ground truth box (%lld boxes); mAP is undefined", op, (long long)n_gt_boxes);
    *map = sum / used;
    return VT_OK;
}
