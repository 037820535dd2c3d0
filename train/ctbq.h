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
 * Self-paced weights come from losses/losses_extra.h (vt_spl_weights,
 * vt_spl_lambda_for_fraction: the one SPL implementation of the tree; same closed forms
 * as Kumar et al. 2010 / Jiang et al. 2014, see losses/self_paced.c).
 *
 * Runs (vt_ctbq_train with out_dir): RUN/metrics.jsonl, RUN/summary.json, RUN/checkpoint.vtck
 * (everything to resume bit-identically, written every epoch and on SIGINT/SIGTERM) and
 * RUN/best.vtck (weights of the best epoch). Both checkpoints carry cfg->config_text (the
 * command's resolved config) so `vertebra ctbq --evaluate / --predict` rebuild the model. */
#ifndef VT_CTBQ_H
#define VT_CTBQ_H

#include "layers.h"
#include "classification.h"
#include "model.h"
#include "phantom_ct.h"
#include "safetensors.h"

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

/* fraction of the samples admitted at epoch e (1-based): min(1, start + growth (e - 1))
 * (vt_spl_fraction of losses_extra.h with a 1-based epoch) */
double vt_ctbq_spl_fraction(double start, double growth, int epoch);

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
 * is admitted (vt_spl_lambda_for_fraction: just above the k-th smallest loss, k = ceil(f N)),
 * weights vt_spl_weights (MIXTURE: lambda2 = spl_mix lambda), and the weighted mean
 * sum(w l) / N is used. */
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
/* An evaluation as one JSON object (no newline; NaN as null), as in summary.json's "test";
 * malloc'd (free it), NULL when out of memory. mtl: include the posterolateral head. */
char *vt_ctbq_eval_json(const vt_ctbq_eval *e, int mtl);

/* ---- training ----------------------------------------------------------------------- */
typedef struct vt_ctbq_train_config {
    int epochs, batch, eval_batch;
    float lr, weight_decay;
    uint64_t seed;            /* shuffling */
    int64_t log_every;
    const char *select;       /* validation metric that picks the best epoch */
    const char *out_dir;      /* metrics.jsonl, summary.json, checkpoint.vtck, best.vtck; NULL: none */
    vt_ctbq_loss_config loss;
    int patience;             /* early stopping: epochs without improvement of select; 0: off */
    double min_delta;         /* an improvement must exceed the best by more than this */
    const char *resume;       /* checkpoint.vtck to continue from; NULL / "": a fresh run */
    const char *config_text;  /* stored in the checkpoints (rebuilds the model); NULL: "" */
    int64_t interrupt_after_steps; /* tests: raise(SIGINT) after this many steps; 0: never */
} vt_ctbq_train_config;

void vt_ctbq_train_config_default(vt_ctbq_train_config *c);

typedef struct vt_ctbq_result {
    int best_epoch, epochs_done;
    int stopped_early;        /* patience ran out */
    int interrupted;          /* SIGINT / SIGTERM: checkpoint.vtck saved after a whole step */
    int resumed_from;         /* epoch the run continued at (0: fresh) */
    double best_val, seconds, first_loss, last_loss;
    vt_ctbq_eval val, test;   /* val of the best epoch, test with its weights */
} vt_ctbq_result;

/* Patient-level split: the patients are shuffled with `seed` and dealt to train / val /
 * test by the fractions (val_frac, test_frac; train gets the rest, each split >= 1 patient).
 * idx arrays are malloc'd (free them); counts in n[3]. */
vt_status vt_ctbq_split_by_patient(const vt_phantom_slices *d, double val_frac, double test_frac,
                                   uint64_t seed, int64_t *idx[3], int64_t n[3]);

/* Adam training with per-epoch validation; keeps the weights of the best epoch on
 * cfg->select (vt_imgcls_tracker: ties and NaN never improve, patience), restores them, and
 * evaluates val and test with them. On SIGINT / SIGTERM the current step finishes,
 * checkpoint.vtck is written (epoch, batch cursor, shuffle stream before the epoch's
 * permutation, Adam state, best-so-far weights and score) and VT_ERR is returned with
 * res->interrupted = 1. Resuming (cfg->resume) with the same options ends with the same
 * weights and metrics, bit for bit, as the uninterrupted run. */
vt_status vt_ctbq_train(vt_ctbq_model *m, const vt_ctbq_train_config *cfg,
                        const vt_phantom_slices *d, int64_t *const idx[3], const int64_t n[3],
                        vt_ctbq_result *res);

/* ---- weights and inference (ctbq_weights.c) ----------------------------------------- */
/* Transfer learning: fills the trunk from a safetensors file. File keys, after removing
 * strip_prefix (NULL/"": none) from those starting with it, are the trunk's parameter
 * names (torchvision names for the zoo trunks, conv1/bn1/conv2/bn2/fc1 for smallcnn); the
 * trunk's last layer (the projection to the embedding: densenet "classifier.", resnet "fc.",
 * vgg "classifier.6.", smallcnn "fc2.") and the heads ("head.", "fusion.", "loss.") keep
 * their fresh initialisation. Error if no tensor loads; rep (may be NULL) gets the counts. */
vt_status vt_ctbq_load_pretrained(vt_ctbq_model *m, const char *path, const char *strip_prefix,
                                  vt_load_report *rep);
/* The prefixes vt_ctbq_load_pretrained skips for this model (NULL-terminated, static). */
const char *const *vt_ctbq_pretrained_skips(const vt_ctbq_model *m);

/* One image x (1, 1, size, size) -> probs[7]: P(normal, blastic, lytic, mixed) (softmax of
 * the 4-way output, sums to 1), then sigmoid of the blastic?, lytic? and posterolateral?
 * heads (NAN for the baseline, which has none). Eval mode, no grad. */
vt_status vt_ctbq_predict(vt_ctbq_model *m, const vt_tensor *x, float probs[7]);

#endif
