/* imgcls.h: a reusable image-classification trainer (issue 5, SPECT metastasis and spine
 * X-ray abnormality): any model of layers/model.h on 2D images from a built-in phantom or a
 * labels CSV of PNG files, geometric augmentation, validation every epoch, the best epoch
 * chosen on a named metric, early stopping, resume, transfer-learning init from
 * safetensors, metrics.jsonl, summary.json (test metrics, AUROC bootstrap CI) and a ROC PNG.
 *
 * Everything is driven by a config (train/config.h) with the schema vt_imgcls_schema:
 *   vt_config *c = vt_imgcls_config_load(path, n_sets, sets);  // FILE:LINE errors
 *   vt_imgcls_run(c, &result);                                  // RUN_DIR = run.out
 * RUN_DIR receives config.resolved, metrics.jsonl (one line per epoch), checkpoint.vtck
 * (the last epoch: resume with run.resume = RUN_DIR/checkpoint.vtck), best.vtck (weights of
 * the best epoch), summary.json and roc_test.png. Both checkpoints hold the resolved config
 * as their text record, so eval / predict rebuild the model from the checkpoint alone. */
#ifndef VT_IMGCLS_H
#define VT_IMGCLS_H

#include "config.h"
#include "dataset.h"
#include "model.h"
#include "vertebra.h"

#define VT_IMGCLS_MAX_CLASSES 16

extern const vt_cfg_key vt_imgcls_schema[];

/* Schema defaults, then the file (NULL: none), then "section.key=value" overrides. */
vt_config *vt_imgcls_config_load(const char *path, int n_sets, const char *const *sets);

/* ---- data (imgcls_data.c) ------------------------------------------------------------- */
/* The images of a run, preprocessed once: resized to data.load_size (square), with labels. */
typedef struct vt_imgcls_data {
    vt_tensor *images;      /* (n, C, S, S) heap, S = data.load_size */
    vt_tensor *labels;      /* (n) class indices */
    int64_t *idx[3];        /* train / val / test sample indices (stratified by class) */
    int64_t n_split[3];
    int num_classes;
} vt_imgcls_data;

vt_status vt_imgcls_data_load(const vt_config *c, vt_imgcls_data *d);
void vt_imgcls_data_free(vt_imgcls_data *d);

/* Dataset over the samples idx[0..n) of d: image (C, I, I) with I = model.input_size, target
 * (1) the label. augment != 0: the [augment] transforms and a random I x I crop; else the
 * centre crop. Then per-image normalisation (data.normalize). d must outlive it. */
vt_dataset *vt_imgcls_dataset(const vt_config *c, const vt_imgcls_data *d, const int64_t *idx,
                              int64_t n, int augment);

/* Resizes a batch (N, C, h, w) to (N, C, s, s) bilinear: new heap tensor. */
vt_tensor *vt_imgcls_resize(const vt_tensor *x, int64_t s);
/* One image (C, S, S) -> network input (C, I, I) in place into out: centre crop + normalise. */
vt_status vt_imgcls_prepare(const vt_config *c, const vt_tensor *image, vt_tensor *out);

/* ---- model (imgcls_model.c) ------------------------------------------------------------ */
/* model.arch with data channels and model.num_classes; model.pretrained (a safetensors
 * file) initialises every matching tensor except those under model.skip_prefixes. */
vt_model *vt_imgcls_model_new(const vt_config *c, int in_channels);

/* ---- evaluation (imgcls_eval.c) -------------------------------------------------------- */
typedef struct vt_imgcls_eval {
    int64_t n;
    int k;
    float *probs;          /* (n, k) softmax, malloc'd */
    int *labels;           /* (n) */
    double loss;           /* mean cross-entropy */
    double accuracy, auroc; /* binary: AUROC of probs[:, 1]; k > 2: one-vs-rest macro */
    double sensitivity, specificity, precision, f1; /* binary: class 1; k > 2: macro */
    double balanced_accuracy;
} vt_imgcls_eval;

/* Runs the model (eval mode, no grad) over ds and fills e (free with vt_imgcls_eval_free).
 * Undefined metrics (a class absent) are NAN. */
vt_status vt_imgcls_evaluate(vt_model *m, const vt_dataset *ds, int batch, int k,
                             vt_imgcls_eval *e);
void vt_imgcls_eval_free(vt_imgcls_eval *e);
/* A named metric of an evaluation: accuracy, auroc, f1, sensitivity, specificity,
 * precision, balanced_accuracy, neg_loss (higher is better for all). NAN if unknown. */
double vt_imgcls_metric(const vt_imgcls_eval *e, const char *name);

/* ---- best epoch and early stopping (imgcls_train.c) ------------------------------------ */
typedef struct vt_imgcls_tracker {
    double best;       /* best score so far (-INFINITY before any) */
    int best_epoch;    /* 0 before any */
    int bad_epochs;    /* epochs since the last improvement */
    int patience;      /* stop after this many epochs without improvement; 0: never */
    double min_delta;  /* an improvement must exceed best by more than this */
} vt_imgcls_tracker;

void vt_imgcls_tracker_init(vt_imgcls_tracker *t, int patience, double min_delta);
/* Records epoch's score; 1 if it is the new best (a NaN score never is; the first epoch is
 * the best when every score so far is NaN). */
int vt_imgcls_tracker_update(vt_imgcls_tracker *t, int epoch, double score);
int vt_imgcls_tracker_should_stop(const vt_imgcls_tracker *t);

/* ---- the run (imgcls_train.c) ---------------------------------------------------------- */
typedef struct vt_imgcls_result {
    int epochs_done, best_epoch, stopped_early, resumed_from;
    double best_val, first_loss, last_loss, seconds;
    vt_imgcls_eval test;       /* on the test split with the best epoch's weights */
    double auroc_lo, auroc_hi; /* bootstrap CI of the test AUROC (binary), else NAN */
} vt_imgcls_result;

vt_status vt_imgcls_run(const vt_config *c, vt_imgcls_result *r);
void vt_imgcls_result_free(vt_imgcls_result *r);

/* ---- checkpoints for eval / predict (imgcls_predict.c) --------------------------------- */
/* The config stored in a checkpoint and the model with its weights. */
vt_status vt_imgcls_load_checkpoint(const char *path, vt_config **cfg, vt_model **model);
/* Class probabilities (k floats) of one image (C, h, w) of any size: resized to
 * data.load_size, centre crop, normalisation, forward, softmax. */
vt_status vt_imgcls_predict(const vt_config *c, vt_model *m, const vt_tensor *image, float *probs);
/* Name of class i from data.class_names ("a,b,..."), or its number. buf: >= 64 bytes. */
const char *vt_imgcls_class_name(const vt_config *c, int i, char *buf, size_t n);

#endif
