/* ctbq_eval.c: slice- and vertebra-level evaluation of the CT bone-quality model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "classify.h" /* vt_gather_rows */
#include "ctbq.h"

int64_t vt_ctbq_aggregate(const float *probs, const int *vertebra, int64_t n, vt_ctbq_agg rule,
                          int *pred, int *vertebra_of_slice) {
    if (n < 0 || (rule != VT_CTBQ_AGG_MEAN && rule != VT_CTBQ_AGG_MAX_LESION)) {
        vt_error("ctbq aggregate: bad rule %d or count %lld", (int)rule, (long long)n);
        return -1;
    }
    int *slot = malloc(sizeof(int) * (size_t)(n ? n : 1));
    double *acc = calloc((size_t)(n ? n : 1) * 4, sizeof(double));
    int *count = calloc((size_t)(n ? n : 1), sizeof(int));
    if (!slot || !acc || !count) { free(slot); free(acc); free(count); vt_error("ctbq aggregate: out of memory"); return -1; }
    int64_t nv = 0;
    int *ids = malloc(sizeof(int) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++) {
        int64_t v = 0; /* linear search is fine for the few hundred vertebrae of an evaluation */
        while (v < nv && ids[v] != vertebra[i]) v++;
        if (v == nv) {
            ids[nv++] = vertebra[i];
            if (rule == VT_CTBQ_AGG_MAX_LESION) acc[v * 4] = acc[v * 4 + 1] = 0; /* running maxima */
        }
        slot[i] = (int)v;
        const float *p = probs + i * 4;
        if (rule == VT_CTBQ_AGG_MEAN) {
            for (int c = 0; c < 4; c++) acc[v * 4 + c] += p[c];
        } else {
            double pb = p[VT_BONE_BLASTIC] + p[VT_BONE_MIXED], pl = p[VT_BONE_LYTIC] + p[VT_BONE_MIXED];
            if (pb > acc[v * 4]) acc[v * 4] = pb;
            if (pl > acc[v * 4 + 1]) acc[v * 4 + 1] = pl;
        }
        count[v]++;
    }
    for (int64_t v = 0; v < nv; v++) {
        const double *a = acc + v * 4;
        if (rule == VT_CTBQ_AGG_MEAN) {
            int best = 0;
            for (int c = 1; c < 4; c++) if (a[c] > a[best]) best = c;
            pred[v] = best;
        } else {
            pred[v] = (a[0] >= 0.5) + 2 * (a[1] >= 0.5);
        }
    }
    if (vertebra_of_slice) memcpy(vertebra_of_slice, slot, sizeof(int) * (size_t)n);
    free(slot); free(acc); free(count); free(ids);
    return nv;
}

static vt_status level_stats(const int *truth, const int *pred, int64_t n, vt_ctbq_level *l) {
    int64_t cm[16];
    l->n = n;
    if (vt_confusion_matrix(truth, pred, n, 4, cm) != VT_OK) return VT_ERR;
    return vt_classification_report(cm, 4, l->cls, &l->sum);
}

/* vertebra-level truth (the label of its slices) and predictions by `rule` */
static vt_status vertebra_level(const float *probs, const int *vert, const int *truth, int64_t n,
                                vt_ctbq_agg rule, vt_ctbq_level *out) {
    int *pred = malloc(sizeof(int) * (size_t)n), *slot = malloc(sizeof(int) * (size_t)n);
    int *vtruth = malloc(sizeof(int) * (size_t)n);
    vt_status st = VT_ERR;
    int64_t nv = pred && slot && vtruth ? vt_ctbq_aggregate(probs, vert, n, rule, pred, slot) : -1;
    if (nv >= 0) {
        for (int64_t i = 0; i < n; i++) vtruth[slot[i]] = truth[i];
        st = level_stats(vtruth, pred, nv, out);
    }
    free(pred); free(slot); free(vtruth);
    return st;
}

vt_status vt_ctbq_evaluate(vt_ctbq_model *m, const vt_phantom_slices *d, const int64_t *idx,
                           int64_t n, int batch, vt_ctbq_eval *out) {
    memset(out, 0, sizeof *out);
    if (n < 1 || batch < 1) return vt_error("ctbq evaluate: %lld samples, batch %d", (long long)n, batch);
    float *probs = malloc(sizeof(float) * (size_t)n * 4), *pp = malloc(sizeof(float) * (size_t)n);
    int *truth = malloc(sizeof(int) * (size_t)n), *vert = malloc(sizeof(int) * (size_t)n);
    int *pred = malloc(sizeof(int) * (size_t)n), *pt = malloc(sizeof(int) * (size_t)n);
    vt_status st = probs && pp && truth && vert && pred && pt ? VT_OK : vt_error("ctbq evaluate: out of memory");
    int no_grad = vt_no_grad_begin();
    double loss = 0;
    for (int64_t s = 0; s < n && st == VT_OK; s += batch) {
        int64_t b = n - s < batch ? n - s : batch;
        vt_ctbq_output o;
        if ((st = vt_ctbq_forward(m, vt_gather_rows(d->images, idx + s, b), 0, &o)) != VT_OK) break;
        vt_tensor *p = vt_softmax(o.quality, 1);
        if (!p) { st = VT_ERR; break; }
        memcpy(probs + s * 4, p->data, sizeof(float) * (size_t)b * 4);
        for (int64_t i = 0; i < b; i++) {
            int64_t r = idx[s + i];
            truth[s + i] = (int)d->quality->data[r];
            vert[s + i] = (int)d->vertebra->data[r];
            pt[s + i] = (int)d->posterolateral->data[r];
            pp[s + i] = o.posterolateral ? 1.f / (1.f + expf(-o.posterolateral->data[i])) : 0.f;
            loss -= log(fmax(p->data[i * 4 + truth[s + i]], 1e-12));
        }
        vt_arena_reset(NULL);
    }
    vt_no_grad_end(no_grad);
    if (st == VT_OK) st = vt_argmax_rows(probs, n, 4, pred);
    if (st == VT_OK) st = level_stats(truth, pred, n, &out->slice);
    if (st == VT_OK) st = vertebra_level(probs, vert, truth, n, VT_CTBQ_AGG_MEAN, &out->vertebra_mean);
    if (st == VT_OK) st = vertebra_level(probs, vert, truth, n, VT_CTBQ_AGG_MAX_LESION, &out->vertebra_max);
    if (st == VT_OK && m->cfg.kind == VT_CTBQ_MTL) st = vt_binary_stats_at(pt, pp, n, 0.5f, &out->postero_slice);
    out->loss = loss / (double)n;
    free(probs); free(pp); free(truth); free(vert); free(pred); free(pt);
    return st;
}

static const char *const METRICS[] = {"slice_accuracy", "slice_macro_f1", "slice_macro_sensitivity",
                                      "vertebra_accuracy", "vertebra_macro_f1", "vertebra_macro_sensitivity",
                                      "vertebra_max_accuracy", "vertebra_max_macro_f1", "neg_loss"};

int vt_ctbq_metric_known(const char *name) {
    for (size_t i = 0; name && i < sizeof METRICS / sizeof METRICS[0]; i++)
        if (!strcmp(name, METRICS[i])) return 1;
    return 0;
}

double vt_ctbq_metric(const vt_ctbq_eval *e, const char *name) {
    if (!name) return NAN;
    const vt_ctbq_level *l = !strncmp(name, "slice_", 6) ? &e->slice
                           : !strncmp(name, "vertebra_max_", 13) ? &e->vertebra_max
                           : !strncmp(name, "vertebra_", 9) ? &e->vertebra_mean : NULL;
    if (!strcmp(name, "neg_loss")) return -e->loss;
    if (!l) return NAN;
    if (!vt_ctbq_metric_known(name)) return NAN;
    if (strstr(name, "accuracy")) return l->sum.accuracy;
    if (strstr(name, "macro_f1")) return l->sum.macro.f1;
    if (strstr(name, "macro_sensitivity")) return l->sum.macro.sensitivity;
    return NAN;
}
