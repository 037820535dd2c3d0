/* det_data.c: detection data sets in memory (phantoms or VinDr-style CSV + PNG) and
 * augmented training batches whose boxes move with the images. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "csv.h"
#include "det.h"
#include "phantom_xray.h"
#include "png_io.h"

void vt_det_data_free(vt_det_data *d) {
    if (!d) return;
    vt_tensor_free(d->images);
    free(d->boxes); free(d->cls); free(d->first); free(d->count);
    if (d->names)
        for (int64_t i = 0; i < d->n; i++) free(d->names[i]);
    free(d->names);
    memset(d, 0, sizeof *d);
}

static vt_status alloc_boxes(vt_det_data *d, int64_t n, int64_t nb) {
    d->n = n, d->n_boxes = nb;
    d->boxes = malloc(sizeof(float) * 4 * (size_t)(nb ? nb : 1));
    d->cls = malloc(sizeof(int) * (size_t)(nb ? nb : 1));
    d->first = calloc((size_t)(n ? n : 1), sizeof(int64_t));
    d->count = calloc((size_t)(n ? n : 1), sizeof(int64_t));
    return d->boxes && d->cls && d->first && d->count ? VT_OK : vt_error("det data: out of memory");
}

vt_status vt_det_data_phantom(int64_t n, int size, float abnormal_fraction, uint64_t seed, vt_det_data *out) {
    memset(out, 0, sizeof *out);
    vt_phantom_xray_config c;
    vt_phantom_xray_config_default(&c);
    c.size = size;
    c.abnormal_fraction = abnormal_fraction;
    vt_phantom_xray p;
    if (vt_phantom_xray_make(&c, n, seed, &p) != VT_OK) return VT_ERR;
    out->size = size, out->n_classes = VT_XRAY_N_CLASSES;
    if (alloc_boxes(out, n, p.n_boxes) != VT_OK) { vt_phantom_xray_free(&p); vt_det_data_free(out); return VT_ERR; }
    out->images = vt_tensor_retain(p.images);
    for (int64_t k = 0; k < p.n_boxes; k++) {
        const vt_phantom_box *b = &p.boxes[k];
        float *o = out->boxes + 4 * k;
        o[0] = b->x1, o[1] = b->y1, o[2] = b->x2, o[3] = b->y2;
        out->cls[k] = b->cls;
        if (!out->count[b->image]) out->first[b->image] = k;
        out->count[b->image]++;
    }
    for (int64_t i = 1; i < n; i++) if (!out->count[i]) out->first[i] = out->first[i - 1] + out->count[i - 1];
    vt_phantom_xray_free(&p);
    return VT_OK;
}

vt_status vt_det_data_csv(const char *csv, const char *image_dir, int size, vt_det_data *out) {
    memset(out, 0, sizeof *out);
    vt_box_set *bs = vt_boxes_load(csv, vt_xray_class_names, VT_XRAY_N_CLASSES);
    if (!bs) return VT_ERR;
    out->size = size, out->n_classes = VT_XRAY_N_CLASSES;
    vt_status st = alloc_boxes(out, bs->n_images, bs->n_boxes);
    if (st == VT_OK && !(out->names = calloc((size_t)(bs->n_images ? bs->n_images : 1), sizeof(char *)))) st = vt_error("det data: out of memory");
    if (st == VT_OK && !(out->images = vt_tensor_new(VT_DIMS(bs->n_images, 1, size, size)))) st = VT_ERR;
    vt_png_options po = {.grey = 1};
    for (int64_t i = 0; i < bs->n_images && st == VT_OK; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.png", image_dir, bs->image_ids[i]);
        out->names[i] = strdup(bs->image_ids[i]);
        vt_tensor *img = vt_png_load(path, &po, NULL);
        if (!img) { st = VT_ERR; break; }
        int64_t h = img->shape[1], w = img->shape[2];
        /* bilinear resize to size x size (aspect not kept; boxes scaled per axis) */
        vt_tensor *x = vt_reshape(img, VT_DIMS(1, 1, h, w));
        vt_upsample_params up = {.mode = VT_UPSAMPLE_LINEAR, .size = {size, size}};
        int g = vt_no_grad_begin();
        vt_tensor *r = vt_upsample(x, &up);
        vt_no_grad_end(g);
        if (!r) { vt_tensor_free(img); st = VT_ERR; break; }
        memcpy(out->images->data + i * size * size, r->data, sizeof(float) * (size_t)(size * size));
        vt_tensor_free(img);
        vt_arena_reset(NULL);
        out->first[i] = bs->first[i], out->count[i] = bs->count[i];
        float sx = (float)size / (float)w, sy = (float)size / (float)h;
        for (int64_t k = bs->first[i]; k < bs->first[i] + bs->count[i]; k++) {
            const vt_box *b = &bs->boxes[k];
            float *o = out->boxes + 4 * k;
            o[0] = b->xmin * sx, o[1] = b->ymin * sy, o[2] = b->xmax * sx, o[3] = b->ymax * sy;
            out->cls[k] = b->cls;
        }
    }
    vt_box_set_free(bs);
    if (st != VT_OK) vt_det_data_free(out);
    return st;
}

vt_status vt_det_data_subset(const vt_det_data *src, int64_t start, int64_t n, vt_det_data *out) {
    memset(out, 0, sizeof *out);
    if (start < 0 || n < 1 || start + n > src->n)
        return vt_error("det data: subset [%lld, %lld) outside %lld images", (long long)start, (long long)(start + n), (long long)src->n);
    int64_t b0 = src->first[start], nb = 0;
    for (int64_t i = start; i < start + n; i++) nb += src->count[i];
    out->size = src->size, out->n_classes = src->n_classes;
    if (alloc_boxes(out, n, nb) != VT_OK) { vt_det_data_free(out); return VT_ERR; }
    int64_t S = src->size;
    if (!(out->images = vt_tensor_from_data(VT_DIMS(n, 1, S, S), src->images->data + start * S * S))) { vt_det_data_free(out); return VT_ERR; }
    memcpy(out->boxes, src->boxes + 4 * b0, sizeof(float) * 4 * (size_t)nb);
    memcpy(out->cls, src->cls + b0, sizeof(int) * (size_t)nb);
    for (int64_t i = 0; i < n; i++) out->first[i] = src->first[start + i] - b0, out->count[i] = src->count[start + i];
    if (src->names) {
        out->names = calloc((size_t)n, sizeof(char *));
        for (int64_t i = 0; out->names && i < n; i++) out->names[i] = strdup(src->names[start + i]);
    }
    return VT_OK;
}

vt_status vt_det_batch(const vt_det_data *d, const int64_t *idx, int64_t b, const vt_augment_config *aug,
                       vt_rng *rng, vt_tensor **x, float *boxes, int *cls, int64_t *first, int64_t *count) {
    int64_t S = d->size, nb = 0;
    *x = vt_tensor_empty(VT_DIMS(b, 1, S, S));
    if (!*x) return VT_ERR;
    for (int64_t j = 0; j < b; j++) {
        int64_t i = idx[j];
        if (i < 0 || i >= d->n) return vt_error("det batch: image %lld outside %lld", (long long)i, (long long)d->n);
        const float *src_b = d->boxes + 4 * d->first[i];
        int64_t c = d->count[i];
        first[j] = nb;
        float *ob = boxes + 4 * nb;
        if (aug) {
            vt_tensor *img = vt_tensor_from_data(VT_DIMS(1, S, S), d->images->data + i * S * S), *out = NULL;
            vt_status st = img ? vt_augment2d(aug, rng, img, NULL, src_b, c, &out, NULL, ob) : VT_ERR;
            vt_tensor_free(img);
            if (st != VT_OK) return VT_ERR;
            memcpy((*x)->data + j * S * S, out->data, sizeof(float) * (size_t)(S * S));
            vt_tensor_free(out);
        } else {
            memcpy((*x)->data + j * S * S, d->images->data + i * S * S, sizeof(float) * (size_t)(S * S));
            memcpy(ob, src_b, sizeof(float) * 4 * (size_t)c);
        }
        int64_t kept = 0;
        for (int64_t k = 0; k < c; k++) {
            float *q = ob + 4 * k;
            float x1 = fmaxf(q[0], 0), y1 = fmaxf(q[1], 0), x2 = fminf(q[2], (float)S), y2 = fminf(q[3], (float)S);
            if (q[2] < 0 || x2 - x1 < 1 || y2 - y1 < 1) continue; /* left the image or a sliver */
            float *o = ob + 4 * kept;
            o[0] = x1, o[1] = y1, o[2] = x2, o[3] = y2;
            cls[nb + kept] = d->cls[d->first[i] + k];
            kept++;
        }
        count[j] = kept;
        nb += kept;
    }
    return VT_OK;
}
