/* det_nms.c: decoding of FCOS outputs into boxes and greedy per-class NMS. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "det.h"

void vt_det_decode_config_default(vt_det_decode_config *c) {
    *c = (vt_det_decode_config){.score_threshold = 0.05f, .nms_iou = 0.5f, .pre_nms_top_k = 1000, .max_detections = 100};
}

typedef struct { float score; int64_t i; } ranked;

/* decreasing score, ties by index: a stable order from qsort */
static int by_score(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

int64_t vt_nms(const vt_det_box *boxes, int64_t n, double iou, int64_t *keep) {
    if (n <= 0) return 0;
    ranked *r = malloc(sizeof *r * (size_t)n);
    if (!r) { vt_error("nms: out of memory"); return -1; }
    for (int64_t i = 0; i < n; i++) r[i] = (ranked){boxes[i].score, i};
    qsort(r, (size_t)n, sizeof *r, by_score);
    int64_t nk = 0;
    for (int64_t a = 0; a < n; a++) {
        const vt_det_box *b = &boxes[r[a].i];
        int drop = 0;
        for (int64_t k = 0; k < nk && !drop; k++) {
            const vt_det_box *q = &boxes[keep[k]];
            drop = q->cls == b->cls && q->image == b->image && vt_box_iou(q, b) > iou;
        }
        if (!drop) keep[nk++] = r[a].i;
    }
    free(r);
    return nk;
}

static float sigm(float x) { return 1.f / (1.f + expf(-x)); }

int64_t vt_det_decode(const vt_detector *d, const vt_detector_output *o, int64_t n, int image_id,
                      const vt_det_decode_config *c, vt_det_box *out) {
    vt_fcos_geometry g;
    vt_fcos_geometry_of(d, &g);
    int64_t L = g.n_locations, K = d->cfg.n_classes;
    if (!o->cls || n < 0 || n >= o->cls->shape[0]) { vt_error("det decode: image %lld not in the batch", (long long)n); return -1; }
    if (c->pre_nms_top_k < 1 || c->max_detections < 1) { vt_error("det decode: pre_nms_top_k %d and max_detections %d must be >= 1", c->pre_nms_top_k, c->max_detections); return -1; }
    const float *cl = o->cls->data + n * L * K, *bx = o->box->data + n * L * 4, *ct = o->ctr->data + n * L;
    ranked *cand = malloc(sizeof *cand * (size_t)(L * K));
    if (!cand) { vt_error("det decode: out of memory"); return -1; }
    int64_t nc = 0;
    for (int64_t i = 0; i < L; i++) {
        float pc = sigm(ct[i]);
        for (int64_t k = 0; k < K; k++) {
            float s = sqrtf(sigm(cl[i * K + k]) * pc);
            if (s > c->score_threshold) cand[nc++] = (ranked){s, i * K + k};
        }
    }
    qsort(cand, (size_t)nc, sizeof *cand, by_score);
    if (nc > c->pre_nms_top_k) nc = c->pre_nms_top_k;
    vt_det_box *b = malloc(sizeof *b * (size_t)(nc ? nc : 1));
    int64_t *keep = malloc(sizeof *keep * (size_t)(nc ? nc : 1));
    if (!b || !keep) { free(cand); free(b); free(keep); vt_error("det decode: out of memory"); return -1; }
    float S = (float)d->cfg.size;
    for (int64_t j = 0; j < nc; j++) {
        int64_t i = cand[j].i / K;
        float x, y;
        int lv;
        vt_fcos_location(&g, i, &x, &y, &lv);
        float s = (float)g.stride[lv];
        const float *r = bx + 4 * i;
        b[j] = (vt_det_box){.image = image_id, .cls = (int)(cand[j].i % K), .score = cand[j].score,
                            .x1 = fmaxf(0.f, x - r[0] * s), .y1 = fmaxf(0.f, y - r[1] * s),
                            .x2 = fminf(S, x + r[2] * s), .y2 = fminf(S, y + r[3] * s)};
    }
    int64_t nk = vt_nms(b, nc, c->nms_iou, keep);
    if (nk > c->max_detections) nk = c->max_detections;
    for (int64_t j = 0; j < nk; j++) out[j] = b[keep[j]];
    free(cand); free(b); free(keep);
    return nk;
}
