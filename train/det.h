/* det.h: training, evaluation and inference of the FCOS lesion detector (issue 7).
 *
 * Why FCOS (anchor-free) and not RetinaNet: no anchor shapes/scales/ratios to tune and no
 * anchor-to-box IoU matching (the phantom and VinDr lesions range from 5-pixel osteophytes
 * to 80 x 35 spondylolisthesis boxes, elongated both ways); every feature location inside
 * a box (near its centre) is a positive, which gives small boxes on small images positives
 * at the stride-4 level where an anchor grid would often match none. Details in
 * examples/xray_detect/README.md.
 *
 * Targets (FCOS with centre sampling, Tian et al. 2019 / 2020): location (x, y) of level l
 * (x = j s + s/2, s the stride) is positive for box B when
 *   - (x, y) is inside B and within radius * s of B's centre (each axis; the window is
 *     clipped to B), and
 *   - the largest of its distances (l, t, r, b) to B's sides is in (range[l-1], range[l]]
 *     with range = (0, 4 s_0, 8 s_0, 16 s_0, inf) = (0, 16, 32, 64, inf) for strides 4..32;
 * a location claimed by several boxes takes the one of smallest area. Positive locations get
 * class one-hot targets, regression targets (l, t, r, b) in pixels and centerness
 * sqrt(min(l, r)/max(l, r) * min(t, b)/max(t, b)).
 * Loss = focal(cls, all locations) / P + GIoU(pred, box; positives) / P
 *        + BCE(centerness; positives) / P,  P = max(1, positives in the batch). */
#ifndef VT_DET_H
#define VT_DET_H

#include "detector.h"
#include "detection.h"
#include "augment.h"
#include "optim.h" /* vt_optim of the resume checkpoint */

/* ---- targets (det_targets.c) ------------------------------------------------------------ */
typedef struct vt_fcos_geometry {
    int n_levels;
    int stride[VT_FPN_MAX_LEVELS], side[VT_FPN_MAX_LEVELS];
    float range_lo[VT_FPN_MAX_LEVELS], range_hi[VT_FPN_MAX_LEVELS];
    float center_radius;  /* 1.5 (FCOS centre sampling); <= 0: the whole box */
    int64_t n_locations;
} vt_fcos_geometry;

/* Geometry of a detector (ranges as above, radius 1.5). */
void vt_fcos_geometry_of(const vt_detector *d, vt_fcos_geometry *g);
/* Centre (x, y) in pixels of location i (0 <= i < n_locations) and its level. */
void vt_fcos_location(const vt_fcos_geometry *g, int64_t i, float *x, float *y, int *level);

/* One image: boxes (nb, 4) (x1, y1, x2, y2) pixels with classes cls[nb] in [0, K).
 * Writes for every location i: cls_t[i K + k] (0/1), reg_t[4 i ..] (l, t, r, b) pixels
 * (0 for negatives), ctr_t[i] and assigned[i] = box index or -1. Returns the number of
 * positive locations. Pointers other than assigned may be NULL to skip. */
int64_t vt_fcos_targets(const vt_fcos_geometry *g, const float *boxes, const int *cls, int64_t nb,
                        int n_classes, float *cls_t, float *reg_t, float *ctr_t, int *assigned);

/* ---- loss (det_loss.c) ---------------------------------------------------------------- */
typedef struct vt_det_loss_config {
    float focal_alpha, focal_gamma; /* 0.25, 2 */
    float w_cls, w_box, w_ctr;      /* 1, 1, 1 */
} vt_det_loss_config;
void vt_det_loss_config_default(vt_det_loss_config *c);

/* Batch of n images: boxes/cls of image i are boxes[first[i] .. first[i] + count[i]).
 * parts[3] (may be NULL): focal, GIoU, centerness terms. Returns the scalar loss. */
vt_tensor *vt_det_loss(const vt_detector *d, const vt_detector_output *o, const float *boxes,
                       const int *cls, const int64_t *first, const int64_t *count,
                       const vt_det_loss_config *c, double parts[3], int64_t *n_pos);

/* ---- decoding and NMS (det_nms.c) ------------------------------------------------------ */
typedef struct vt_det_decode_config {
    float score_threshold;  /* 0.05 */
    float nms_iou;          /* 0.5 */
    int pre_nms_top_k;      /* candidates per image before NMS, 1000 */
    int max_detections;     /* per image after NMS, 100 */
} vt_det_decode_config;
void vt_det_decode_config_default(vt_det_decode_config *c);

/* Greedy NMS per class: boxes sorted by decreasing score (ties: input order); a box is
 * dropped when its IoU with an already kept box of the same class (and image) is > iou.
 * keep (n) receives kept indices in score order; returns their count. */
int64_t vt_nms(const vt_det_box *boxes, int64_t n, double iou, int64_t *keep);

/* Detections of image `n` of a batch output: score = sqrt(sigmoid(cls) sigmoid(ctr)) (FCOS
 * test-time rule), above the threshold, top-k, boxes clipped to the image, per-class NMS,
 * at most max_detections. Writes up to max_detections boxes (image field = image_id) to out;
 * returns their count, -1 on error. */
int64_t vt_det_decode(const vt_detector *d, const vt_detector_output *o, int64_t n, int image_id,
                      const vt_det_decode_config *c, vt_det_box *out);

/* ---- data (det_data.c) ------------------------------------------------------------------ */
typedef struct vt_det_data {
    int64_t n;                 /* images */
    int size, n_classes;
    vt_tensor *images;         /* (n, 1, size, size) */
    int64_t n_boxes;
    float *boxes;              /* (n_boxes, 4) pixels in the size x size frame */
    int *cls;
    int64_t *first, *count;    /* per image */
    char **names;              /* per image id (CSV) or NULL */
} vt_det_data;

/* Radiograph phantoms (data/phantom_xray.h) at the given size; abnormal_fraction: share of
 * images with lesions (the phantom's default is 0.5). */
vt_status vt_det_data_phantom(int64_t n, int size, float abnormal_fraction, uint64_t seed, vt_det_data *out);
/* VinDr-SpineXR-style CSV (image_id, lesion_type, xmin, ymin, xmax, ymax) with PNG images
 * image_dir/<image_id>.png (grey), each resized (bilinear) to size x size and boxes scaled
 * with it. Classes are vt_xray_class_names. */
vt_status vt_det_data_csv(const char *csv, const char *image_dir, int size, vt_det_data *out);
/* Rows [start, start + n) of src as a new data set (deep copy). */
vt_status vt_det_data_subset(const vt_det_data *src, int64_t start, int64_t n, vt_det_data *out);
void vt_det_data_free(vt_det_data *d);

/* A training batch of images idx[0..b): each image through vt_augment2d (aug NULL: none)
 * with its boxes; boxes leaving the image are dropped, the rest clipped to it. Writes the
 * batch to *x (arena (b, 1, S, S)) and boxes/cls/first/count (caller arrays with room
 * for every box of the images). */
vt_status vt_det_batch(const vt_det_data *d, const int64_t *idx, int64_t b, const vt_augment_config *aug,
                       vt_rng *rng, vt_tensor **x, float *boxes, int *cls, int64_t *first, int64_t *count);

/* ---- evaluation and training (det_train.c) ---------------------------------------------- */
#define VT_DET_MAX_CLASSES 16

typedef struct vt_det_eval {
    double ap[VT_DET_MAX_CLASSES]; /* AP@iou per class (NAN: no ground truth of the class) */
    double map;                    /* mean over classes with ground truth */
    int n_classes_used;
    int64_t n_images, n_gt, n_det;
} vt_det_eval;

/* Detects on every image of d (eval mode, no grad, batches of `batch`) and scores the
 * detections with metrics/detection.h at IoU iou_thr. */
vt_status vt_det_evaluate(vt_detector *m, const vt_det_data *d, int batch, const vt_det_decode_config *dc,
                          double iou_thr, vt_det_eval *out);

typedef struct vt_det_train_config {
    int epochs, batch, eval_batch, eval_every;
    float lr, weight_decay, clip_norm;
    uint64_t seed;            /* shuffling and augmentation */
    int64_t log_every;
    vt_augment_config aug;
    vt_det_loss_config loss;
    vt_det_decode_config decode;
    const char *out_dir;      /* metrics.jsonl and best.vtck; NULL: none */
    const char *config_text;  /* stored in the checkpoint's text record (may be NULL) */
    const char *resume;       /* out_dir/checkpoint.vtck of an earlier run to continue; NULL: start */
    int stop_after_epoch;     /* > 0: stop after this epoch as if interrupted (tests of resume) */
} vt_det_train_config;
void vt_det_train_config_default(vt_det_train_config *c);

typedef struct vt_det_result {
    int best_epoch, epochs_done;
    double seconds, first_loss, last_loss;
    vt_det_eval val;          /* of the best epoch (its weights are restored) */
} vt_det_result;

/* Adam with linear warm-up (the first min(100, 10% of all) steps) and cosine decay to 0; evaluates mAP@0.5 on
 * val every eval_every epochs and at the end, keeps (and restores) the best weights; writes
 * out_dir/metrics.jsonl (one line per epoch) and out_dir/best.vtck. */
vt_status vt_det_train(vt_detector *m, const vt_det_train_config *c, const vt_det_data *train,
                       const vt_det_data *val, vt_det_result *res);

/* The resumable state of vt_det_train, written to out_dir/checkpoint.vtck after every epoch
 * (det_resume.c): weights and buffers, Adam state and step, the shuffle / augmentation / global
 * RNG streams, the epoch and global step, the best mAP so far and its weights (np + nbuf floats). */
typedef struct vt_det_run_state {
    int epoch, best_epoch;
    int64_t step;
    double best_map;
    vt_rng shuffle, augment;
} vt_det_run_state;
vt_status vt_det_checkpoint_save(const char *path, const vt_detector *m, vt_optim *opt, const vt_det_run_state *s,
                                 const float *best, const char *config_text);
vt_status vt_det_checkpoint_load(const char *path, vt_detector *m, vt_optim *opt, vt_det_run_state *s, float *best);

/* Checkpoint holding the parameters and the model geometry (ints det.*); config_text (may
 * be NULL) goes to the text record. */
vt_status vt_det_save(const vt_detector *m, const char *path, const char *config_text);
/* Rebuilds the detector from such a checkpoint. */
vt_detector *vt_det_load(const char *path);
/* Detects on the PNG `in` (grey; resized to the model's size, boxes mapped back to the
 * input's pixels) and writes out_dir/detections.csv (lesion_type, class, score, xmin, ymin,
 * xmax, ymax), detections.json and overlay.png (the image in RGB, 2-pixel box outlines in
 * class colours). det: room for dc->max_detections boxes. Returns their count, -1 on error.
 * out_dir must exist. */
int64_t vt_det_predict_png(vt_detector *m, const char *in, const char *out_dir, const vt_det_decode_config *dc,
                           vt_det_box *det);

#endif
