/* ctbq.h: the spinal-metastasis CT bone-quality method (issue 5, section 1).
 *
 * Model: a shared trunk from the model zoo (densenet121 by default, resnet18, ..., or the
 * small CNN "smallcnn" for quick tests) whose classifier layer is a learned projection to
 * an embedding h (N, embed) (global-average-pooled trunk features -> Linear), ReLU, then
 *   MTL:      heads blastic? (N, 1), lytic? (N, 1), posterolateral? (N, 1) (binary logits) and
 *             a fusion MLP [sigmoid(blastic), sigmoid(lytic) (, h)] -> hidden -> ReLU -> 4
 *             giving the 4-way bone quality (normal / blastic / lytic / mixed) logits;
 *   BASELINE: one Linear h -> 4 trained with cross-entropy alone.
 * Loss (MTL): w_b BCE(blastic) + w_l BCE(lytic) + w_q CE(quality) + w_p BCE(posterolateral),
 * or Kendall uncertainty weighting sum_t exp(-s_t) L_t + 0.5 s_t (classification form) with
 * learned s_t = log sigma_t^2. Self-paced learning re-weights each sub-task's per-sample
 * losses (weights from that sub-task's losses against a threshold lambda, see below).
 *
 * The SPL and Kendall pieces are implemented here (vt_ctbq_spl_*) because losses/
 * losses_extra.h declared the shared versions but had no implementation yet; semantics
 * follow that header (HARD: l < lambda, lambda just above the k-th smallest loss). */
#ifndef VT_CTBQ_H
#define VT_CTBQ_H

#include "layers.h"
#include "classification.h"
#include "model.h"
#include "phantom_ct.h"

/* ---- model ------------------------------------------------------------------------- */
typedef enum { VT_CTBQ_BASELINE = 0, VT_CTBQ_MTL } vt_ctbq_kind;

typedef struct vt_ctbq_model_config {
    const char *arch;   /* model-zoo classifier (densenet121, resnet18, ...) or "smallcnn" */
    vt_ctbq_kind kind;
    int size;           /* input side (needed by smallcnn only) */
    int embed;          /* trunk projection width (default 128) */
    int fusion_hidden;  /* fusion MLP hidden width (default 16) */
    int fuse_features;  /* 1: the fusion MLP also sees h (default 0: only the two probabilities) */
    int kendall;        /* 1: register the 4 log-variances s_t for uncertainty weighting */
} vt_ctbq_model_config;

void vt_ctbq_model_config_default(vt_ctbq_model_config *c);

typedef struct vt_ctbq_model {
    vt_ctbq_model_config cfg;
    char arch[32];
    vt_params *params;    /* trunk + heads (+ log-variances), one store for one optimizer */
    vt_model *zoo;        /* the trunk when arch is a model-zoo name */
    vt_smallcnn *small;   /* the trunk when arch is "smallcnn" */
    vt_linear_layer head_blastic, head_lytic, head_postero, fuse1, fuse2; /* MTL */
    vt_linear_layer head_quality;                                         /* BASELINE */
    vt_tensor *log_vars;  /* (4): blastic, lytic, quality, posterolateral; NULL without Kendall */
} vt_ctbq_model;

/* logits of one forward (arena tensors); binary heads are NULL for the baseline */
typedef struct vt_ctbq_output {
    vt_tensor *blastic, *lytic, *posterolateral; /* (N, 1) */
    vt_tensor *quality;                          /* (N, 4) */
} vt_ctbq_output;

/* Draws from the global RNG (vt_seed first). NULL with vt_last_error() on bad options. */
vt_ctbq_model *vt_ctbq_model_new(const vt_ctbq_model_config *c);
void vt_ctbq_model_free(vt_ctbq_model *m);
/* x (N, 1, size, size) */
vt_status vt_ctbq_forward(vt_ctbq_model *m, vt_tensor *x, int training, vt_ctbq_output *out);

/* ---- self-paced learning ------------------------------------------------------------ */
typedef enum { VT_CTBQ_SPL_OFF = 0, VT_CTBQ_SPL_HARD, VT_CTBQ_SPL_LINEAR, VT_CTBQ_SPL_MIXTURE } vt_ctbq_spl;

/* Per-sample weights w (n) for losses l (n) at threshold lambda (> 0):
 *   HARD     1 if l < lambda else 0                          (Kumar et al. 2010)
 *   LINEAR   max(0, 1 - l / lambda)                          (Jiang et al. 2014)
 *   MIXTURE  1 if l <= lambda2, 0 if l >= lambda, zeta / l - zeta / lambda between,
 *            lambda2 = mix lambda (0 < mix < 1), zeta = lambda lambda2 / (lambda - lambda2)
 *   OFF      1 */
vt_status vt_ctbq_spl_weights(const float *loss, int64_t n, vt_ctbq_spl kind, float lambda,
                              float mix, float *w);
/* fraction of the samples admitted at epoch e (1-based): min(1, start + growth (e - 1)) */
double vt_ctbq_spl_fraction(double start, double growth, int epoch);
/* lambda just above the k-th smallest loss, k = ceil(fraction n) >= 1, so HARD admits the
 * k easiest samples. fraction in (0, 1]. */
float vt_ctbq_spl_lambda(const float *loss, int64_t n, double fraction);

/* ---- loss --------------------------------------------------------------------------- */
typedef struct vt_ctbq_loss_config {
    float w_blastic, w_lytic, w_quality, w_postero; /* default 1 each */
    int kendall;         /* uncertainty weighting instead of the fixed weights */
    vt_ctbq_spl spl;     /* default OFF */
    float spl_start;     /* fraction admitted in epoch 1 (default 0.5) */
    float spl_growth;    /* added to the fraction each epoch (default 0.15) */
    float spl_mix;       /* lambda2 / lambda for MIXTURE (default 0.5) */
} vt_ctbq_loss_config;

void vt_ctbq_loss_config_default(vt_ctbq_loss_config *c);

/* targets (N) each (quality as class indices, the rest 0/1). Returns the scalar loss (1);
 * parts[4] (may be NULL) get the unweighted mean losses blastic, lytic, quality,
 * posterolateral (NAN for the baseline's missing heads). SPL: per sub-task, lambda is set
 * from that sub-task's per-sample losses in the batch so that the fraction of epoch `epoch`
 * is admitted (vt_ctbq_spl_lambda), and the weighted mean sum(w l) / N is used. */
vt_tensor *vt_ctbq_loss(vt_ctbq_model *m, const vt_ctbq_output *o, vt_tensor *quality,
                        vt_tensor *blastic, vt_tensor *lytic, vt_tensor *postero,
                        const vt_ctbq_loss_config *c, int epoch, double parts[4]);

/* ---- evaluation --------------------------------------------------------------------- */
typedef enum { VT_CTBQ_AGG_MEAN = 0, VT_CTBQ_AGG_MAX_LESION } vt_ctbq_agg;

/* Vertebra-level predictions from slice probabilities probs (n, 4) (softmax of the 4-way
 * logits) and slice -> vertebra ids (n). Vertebrae are numbered in order of first
 * appearance; vertebra_of_slice[i] (may be NULL) receives that number, pred (n entries of
 * room) the class of each vertebra. Returns the vertebra count (-1 on error).
 *   MEAN        argmax of the mean slice probability vector
 *   MAX_LESION  p_blastic = max over slices of P(blastic) + P(mixed), p_lytic likewise with
 *               P(lytic) + P(mixed); class = [p_blastic >= 0.5] + 2 [p_lytic >= 0.5]
 *               (a lesion seen on any slice marks the vertebra) */
int64_t vt_ctbq_aggregate(const float *probs, const int *vertebra, int64_t n, vt_ctbq_agg rule,
                          int *pred, int *vertebra_of_slice);

typedef struct vt_ctbq_level {
    int64_t n;
    vt_class_stats cls[4];
    vt_class_summary sum;
} vt_ctbq_level;

typedef struct vt_ctbq_eval {
    vt_ctbq_level slice, vertebra_mean, vertebra_max;
    vt_class_stats postero_slice; /* posterolateral head at 0.5 (MTL; zero for baseline) */
    double loss;                  /* mean 4-way CE over the slices */
} vt_ctbq_eval;

/* Evaluates the model (eval mode, no grad) on rows idx[0..n) of the data set. */
vt_status vt_ctbq_evaluate(vt_ctbq_model *m, const vt_phantom_slices *d, const int64_t *idx,
                           int64_t n, int batch, vt_ctbq_eval *out);
/* a named metric of an evaluation: slice_accuracy, slice_macro_f1, vertebra_accuracy,
 * vertebra_macro_f1 (mean rule), vertebra_max_macro_f1, slice_macro_sensitivity,
 * vertebra_macro_sensitivity; NAN for an unknown name */
double vt_ctbq_metric(const vt_ctbq_eval *e, const char *name);
int vt_ctbq_metric_known(const char *name);

/* ---- training ----------------------------------------------------------------------- */
typedef struct vt_ctbq_train_config {
    int epochs, batch, eval_batch;
    float lr, weight_decay;
    uint64_t seed;            /* shuffling */
    int64_t log_every;
    const char *select;       /* validation metric that picks the best epoch */
    const char *out_dir;      /* metrics.jsonl and summary.json; NULL: none */
    vt_ctbq_loss_config loss;
} vt_ctbq_train_config;

void vt_ctbq_train_config_default(vt_ctbq_train_config *c);

typedef struct vt_ctbq_result {
    int best_epoch, epochs_done;
    double best_val, seconds, first_loss, last_loss;
    vt_ctbq_eval val, test;   /* val of the best epoch, test with its weights */
} vt_ctbq_result;

/* Patient-level split: the patients are shuffled with `seed` and dealt to train / val /
 * test by the fractions (val_frac, test_frac; train gets the rest, each split >= 1 patient).
 * idx arrays are malloc'd (free them); counts in n[3]. */
vt_status vt_ctbq_split_by_patient(const vt_phantom_slices *d, double val_frac, double test_frac,
                                   uint64_t seed, int64_t *idx[3], int64_t n[3]);

/* Adam training with per-epoch validation; keeps the weights of the best epoch on
 * cfg->select, restores them, and evaluates on test. */
vt_status vt_ctbq_train(vt_ctbq_model *m, const vt_ctbq_train_config *cfg,
                        const vt_phantom_slices *d, int64_t *const idx[3], const int64_t n[3],
                        vt_ctbq_result *res);

#endif
