/* imgcls_eval.c: evaluation of a classifier over a dataset: softmax probabilities, mean
 * cross-entropy and the metrics the papers report (metrics/classification.h, roc.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "imgcls.h"
#include "loader.h"
#include "losses.h"
#include "metrics.h"

void vt_imgcls_eval_free(vt_imgcls_eval *e) {
    free(e->probs), free(e->labels);
    e->probs = NULL, e->labels = NULL;
}

/* metrics from probs / labels: binary uses class 1 as positive, k > 2 macro averages */
static void compute_metrics(vt_imgcls_eval *e) {
    int *pred = malloc(sizeof(int) * (size_t)(e->n ? e->n : 1));
    int64_t *cm = calloc((size_t)(e->k * e->k), sizeof(int64_t));
    e->accuracy = e->auroc = e->sensitivity = e->specificity = e->precision = e->f1 = e->balanced_accuracy = NAN;
    if (!pred || !cm || e->n == 0) { free(pred), free(cm); return; }
    vt_argmax_rows(e->probs, e->n, e->k, pred);
    if (vt_confusion_matrix(e->labels, pred, e->n, e->k, cm) == VT_OK) {
        vt_class_stats *cls = calloc((size_t)e->k, sizeof *cls);
        vt_class_summary sum;
        if (cls && vt_classification_report(cm, e->k, cls, &sum) == VT_OK) {
            e->accuracy = sum.accuracy;
            if (e->k == 2) {
                e->sensitivity = cls[1].sensitivity, e->specificity = cls[1].specificity;
                e->precision = cls[1].precision, e->f1 = cls[1].f1;
            } else {
                e->sensitivity = sum.macro.sensitivity, e->specificity = sum.macro.specificity;
                e->precision = sum.macro.precision, e->f1 = sum.macro.f1;
            }
            e->balanced_accuracy = (e->sensitivity + e->specificity) / 2;
            if (e->k > 2) e->balanced_accuracy = sum.macro.sensitivity;
        }
        free(cls);
    }
    double auc = NAN;
    if (e->k == 2) {
        float *score = malloc(sizeof(float) * (size_t)e->n);
        if (score) {
            for (int64_t i = 0; i < e->n; i++) score[i] = e->probs[i * 2 + 1];
            if (vt_auroc(e->labels, score, e->n, &auc) != VT_OK) auc = NAN; /* one class only */
        }
        free(score);
    } else if (vt_auroc_ovr(e->labels, e->probs, e->n, e->k, NULL, &auc) != VT_OK) auc = NAN;
    vt_clear_error();
    e->auroc = auc;
    free(pred), free(cm);
}

vt_status vt_imgcls_evaluate(vt_model *m, const vt_dataset *ds, int batch, int k, vt_imgcls_eval *e) {
    memset(e, 0, sizeof *e);
    e->n = ds->length, e->k = k;
    e->probs = malloc(sizeof(float) * (size_t)(e->n * k + 1));
    e->labels = malloc(sizeof(int) * (size_t)(e->n + 1));
    if (!e->probs || !e->labels) { vt_imgcls_eval_free(e); return vt_error("imgcls eval: out of memory"); }
    vt_loader_config lc;
    vt_loader_config_default(&lc);
    lc.batch_size = batch, lc.num_workers = 0, lc.shuffle = 0, lc.drop_last = 0;
    vt_loader *l = vt_loader_new(ds, &lc);
    if (!l || vt_loader_start_epoch(l, 0) != VT_OK) { vt_loader_free(l); vt_imgcls_eval_free(e); return VT_ERR; }
    int g = vt_no_grad_begin();
    vt_status st = VT_OK;
    double loss_sum = 0;
    int64_t done = 0;
    vt_batch b;
    int more;
    while ((more = vt_loader_next(l, &b)) == 1) {
        vt_tensor *logits = vt_model_forward(m, b.image, 0);
        vt_tensor *y = vt_tensor_empty(1, &b.size);
        if (y) memcpy(y->data, b.target->data, sizeof(float) * (size_t)b.size);
        vt_tensor *loss = vt_cross_entropy(logits, y, NULL);
        vt_tensor *p = vt_softmax(logits, 1);
        if (!loss || !p) { st = VT_ERR; break; }
        if (p->shape[1] != k) { st = vt_error("imgcls eval: model gives %lld classes, expected %d", (long long)p->shape[1], k); break; }
        memcpy(e->probs + done * k, p->data, sizeof(float) * (size_t)(b.size * k));
        for (int64_t i = 0; i < b.size; i++) e->labels[done + i] = (int)b.target->data[i];
        loss_sum += vt_tensor_item(loss) * (double)b.size;
        done += b.size;
        vt_arena_reset(NULL);
    }
    if (more < 0) st = VT_ERR;
    vt_arena_reset(NULL);
    vt_no_grad_end(g);
    vt_loader_free(l);
    if (st != VT_OK) { vt_imgcls_eval_free(e); return st; }
    e->loss = done ? loss_sum / (double)done : NAN;
    compute_metrics(e);
    return VT_OK;
}

double vt_imgcls_metric(const vt_imgcls_eval *e, const char *name) {
    if (!strcmp(name, "accuracy")) return e->accuracy;
    if (!strcmp(name, "auroc")) return e->auroc;
    if (!strcmp(name, "f1")) return e->f1;
    if (!strcmp(name, "sensitivity")) return e->sensitivity;
    if (!strcmp(name, "specificity")) return e->specificity;
    if (!strcmp(name, "precision")) return e->precision;
    if (!strcmp(name, "balanced_accuracy")) return e->balanced_accuracy;
    if (!strcmp(name, "neg_loss")) return -e->loss;
    return NAN;
}
