/* detection.h: per-class average precision at an IoU threshold and mAP (VinDr-SpineXR
 * reports mAP at IoU 0.5). Conventions in docs/metrics.md.
 *
 * Boxes are (x1, y1, x2, y2) in pixels, x2 >= x1, y2 >= y1. IoU uses continuous areas:
 * area = (x2 - x1) (y2 - y1), no "+1" (torchvision box_iou, COCO; the old VOC devkit added
 * 1 to widths and heights). */
#ifndef VT_METRICS_DETECTION_H
#define VT_METRICS_DETECTION_H

#include "vertebra.h"

typedef struct vt_det_box {
    int image;    /* image index (any int; boxes match only within one image) */
    int cls;      /* class in [0, n_classes) */
    float x1, y1, x2, y2;
    float score;  /* detections only; ignored for ground truth */
} vt_det_box;

/* IoU of two boxes; 0 when the union is empty. */
double vt_box_iou(const vt_det_box *a, const vt_det_box *b);

/* Precision/recall of one class. Detections of class `cls` are taken in decreasing score
 * (ties: input order, a stable sort) and each is matched greedily to the unmatched ground
 * truth box of the same image and class with the highest IoU, if that IoU >= iou_thr:
 * a true positive; otherwise (no overlap enough, or only already matched boxes) a false
 * positive. Each ground truth box is matched at most once.
 * precision/recall: caller arrays with one entry per detection of the class (after the
 * i-th detection in score order); *n_points = that count; *n_gt = ground truth boxes of
 * the class. With n_gt == 0 recall is NAN. Outputs may be NULL except n_points. */
vt_status vt_detection_pr_curve(const vt_det_box *gt, int64_t n_gt_boxes, const vt_det_box *det,
                                int64_t n_det_boxes, int cls, double iou_thr, double *precision,
                                double *recall, int64_t *n_points, int64_t *n_gt);

/* Average precision: the area under the all-point interpolated precision envelope
 * (PASCAL VOC 2010+): p_interp(r) = max precision at recall >= r, summed over the recall
 * steps. ap[c] for every class (NAN for a class with no ground truth box; 0 for one with
 * ground truth but no detection); *map = mean of ap over classes that have ground truth
 * (classes without are excluded, not counted as 0); *n_classes_used = their number.
 * Error if no class has ground truth. ap, n_classes_used may be NULL. */
vt_status vt_detection_map(const vt_det_box *gt, int64_t n_gt_boxes, const vt_det_box *det,
                           int64_t n_det_boxes, int n_classes, double iou_thr, double *ap,
                           double *map, int *n_classes_used);

/* AP from one precision/recall curve (recall non-decreasing), as above. */
double vt_average_precision(const double *precision, const double *recall, int64_t n);

#endif
