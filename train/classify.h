/* classify.h: a supervised image-classification training loop over in-memory tensors
 * (the loop of the Fashion-MNIST example; the paper trainers reuse its pieces). */
#ifndef VT_CLASSIFY_H
#define VT_CLASSIFY_H

#include "vertebra.h"

#define VT_MAX_EPOCHS 1000

/* model forward: x (N, C, H, W) -> logits (N, classes) */
typedef vt_tensor *(*vt_forward_fn)(void *model, vt_tensor *x, int training);

typedef enum { VT_OPT_SGD, VT_OPT_ADAM, VT_OPT_ADAMW } vt_optimizer_kind;
/* A NaN/Inf loss stops the run (default) or skips that step (no update), up to
 * VT_NAN_SKIP_MAX steps in a row before stopping anyway. */
typedef enum { VT_NAN_STOP, VT_NAN_SKIP } vt_nan_policy;
#define VT_NAN_SKIP_MAX 10

typedef struct vt_classify_config {
    int epochs;
    int batch_size;
    vt_optimizer_kind optimizer;
    float lr, momentum, weight_decay;
    int nesterov;
    float clip_grad_norm;   /* 0: off */
    int lr_schedule;        /* vt_lr_kind: 0 constant, 1 step, 3 cosine, 4 poly (optim.h);
                               cosine/poly span the whole run; step: x0.1 every epoch/3 */
    int64_t warmup_steps;   /* linear warm-up from lr/3 (torch LinearLR default), 0: none */
    uint64_t seed;          /* shuffling stream */
    int64_t log_every;      /* progress line every N steps when not on a terminal */
    const char *run_dir;    /* metrics.jsonl and checkpoint.vtck (each epoch and on
                               SIGINT/SIGTERM), TensorBoard events (events.out.tfevents.*)
                               and plots/curve_*.png are written here when non-NULL */
    vt_nan_policy nan_policy;
    const char *resume;     /* checkpoint to continue from, or NULL */
    int eval_batch;
} vt_classify_config;

void vt_classify_config_default(vt_classify_config *c);

typedef struct vt_classify_report {
    int epochs_done;
    double test_accuracy[VT_MAX_EPOCHS]; /* fraction in [0, 1] after each epoch */
    double epoch_seconds[VT_MAX_EPOCHS]; /* training time, without evaluation */
    double last_loss;
    double images_per_second;
    int interrupted;                     /* stopped by SIGINT/SIGTERM after a whole step */
    int64_t skipped_steps;               /* NaN/Inf losses skipped (VT_NAN_SKIP) */
} vt_classify_report;

/* Trains `model` (parameters in `params`, already finalized) on (x_train, y_train) and
 * evaluates on (x_test, y_test) after every epoch. Stops with an error on a NaN/Inf loss, and
 * on SIGINT/SIGTERM after finishing the current step (report->interrupted set). */
vt_status vt_train_classifier(const vt_classify_config *cfg, void *model, vt_forward_fn forward,
                              vt_params *params, const vt_tensor *x_train,
                              const vt_tensor *y_train, const vt_tensor *x_test,
                              const vt_tensor *y_test, vt_classify_report *report);

/* Accuracy of argmax(logits) against labels, in eval mode without grad. */
double vt_evaluate_accuracy(void *model, vt_forward_fn forward, const vt_tensor *x,
                            const vt_tensor *y, int batch);

/* Copies rows idx[0..n) of src (N, ...) into a new arena tensor (n, ...). */
vt_tensor *vt_gather_rows(const vt_tensor *src, const int64_t *idx, int64_t n);

#endif
