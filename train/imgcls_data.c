/* imgcls_data.c: images of an image-classification run (phantom or labels CSV of PNGs),
 * resized once to load_size, a stratified train/val/test split, and the augmenting dataset
 * that crops input_size and normalises per image. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "augment.h"
#include "csv.h"
#include "imgcls.h"
#include "phantom_spect.h"
#include "phantom_xray.h"
#include "png_io.h"

/* (N, C, h, w) -> (N, C, s, s): area averaging when shrinking (F.interpolate mode='area'
 * is adaptive average pooling; keeps Poisson noise from aliasing), bilinear when growing.
 * Chunks of 32 images keep the arena small. */
vt_tensor *vt_imgcls_resize(const vt_tensor *x, int64_t s) {
    char a[64];
    if (!x || x->ndim != 4) return vt_error("imgcls resize: images must be (N, C, H, W), got %s", x ? vt_shape_str(x, a, sizeof a) : "NULL"), NULL;
    int64_t n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3];
    vt_tensor *out = vt_tensor_new(4, (int64_t[]){n, c, s, s});
    if (!out) return NULL;
    int g = vt_no_grad_begin();
    for (int64_t i0 = 0; i0 < n; i0 += 32) {
        int64_t m = n - i0 < 32 ? n - i0 : 32;
        vt_tensor *chunk = vt_tensor_from_data(4, (int64_t[]){m, c, h, w}, x->data + i0 * c * h * w);
        vt_tensor *r;
        if (h == s && w == s) r = chunk;
        else if (h >= s && w >= s) r = vt_adaptive_avg_pool(chunk, (const int64_t[]){s, s});
        else r = vt_upsample(chunk, &(vt_upsample_params){.mode = VT_UPSAMPLE_LINEAR, .size = {s, s}});
        if (!r) { vt_tensor_free(chunk); vt_tensor_free(out); out = NULL; break; }
        memcpy(out->data + i0 * c * s * s, r->data, sizeof(float) * (size_t)(m * c * s * s));
        vt_tensor_free(chunk);
        vt_arena_reset(NULL);
    }
    vt_no_grad_end(g);
    return out;
}

static vt_status load_phantom(const vt_config *c, vt_tensor **images, vt_tensor **labels) {
    int64_t n = vt_config_int(c, "data.n"), size = vt_config_int(c, "data.phantom_size");
    uint64_t seed = (uint64_t)vt_config_int(c, "run.seed");
    if (!strcmp(vt_config_string(c, "data.source"), "phantom_spect")) {
        vt_phantom_spect_config pc;
        vt_phantom_spect_config_default(&pc);
        if (size) pc.height = (int)size;
        vt_phantom_spect p;
        if (vt_phantom_spect_make(&pc, n, seed, &p) != VT_OK) return VT_ERR;
        *images = vt_config_bool(c, "data.thorax_crop") ? vt_phantom_spect_crop_thorax(&p) : vt_tensor_retain(p.images);
        *labels = vt_tensor_retain(p.labels);
        vt_phantom_spect_free(&p);
    } else {
        vt_phantom_xray_config pc;
        vt_phantom_xray_config_default(&pc);
        if (size) pc.size = (int)size;
        vt_phantom_xray p;
        if (vt_phantom_xray_make(&pc, n, seed, &p) != VT_OK) return VT_ERR;
        *images = vt_tensor_retain(p.images);
        *labels = vt_tensor_retain(p.labels);
        vt_phantom_xray_free(&p);
    }
    return *images && *labels ? VT_OK : VT_ERR;
}

/* labels CSV: every PNG as grey, each resized to load_size on its own (sizes may differ) */
static vt_status load_csv(const vt_config *c, vt_tensor **images, vt_tensor **labels) {
    const char *csv = vt_config_string(c, "data.csv"), *dir = vt_config_string(c, "data.image_dir");
    if (!*csv) return vt_error("imgcls: data.source = csv needs data.csv");
    int k = (int)vt_config_int(c, "model.num_classes");
    int64_t s = vt_config_int(c, "data.load_size");
    vt_labels *l = vt_labels_load(csv, vt_config_string(c, "data.image_col"), vt_config_string(c, "data.label_col"), NULL, 0, k);
    if (!l) return VT_ERR;
    *images = vt_tensor_new(4, (int64_t[]){l->n, 1, s, s});
    *labels = vt_labels_tensor(l);
    vt_status st = *images && *labels ? VT_OK : VT_ERR;
    for (int64_t i = 0; i < l->n && st == VT_OK; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s%s%s", dir, *dir ? "/" : "", l->image[i]);
        vt_tensor *img = vt_png_load(path, &(vt_png_options){.grey = 1}, NULL);
        if (!img) { st = vt_error("%s:%lld: %s", csv, (long long)l->lines[i], vt_last_error()); break; }
        vt_tensor *one = vt_tensor_from_data(4, (int64_t[]){1, 1, img->shape[1], img->shape[2]}, img->data);
        vt_tensor *r = vt_imgcls_resize(one, s);
        if (r) memcpy((*images)->data + i * s * s, r->data, sizeof(float) * (size_t)(s * s));
        else st = VT_ERR;
        vt_tensor_free(img), vt_tensor_free(one), vt_tensor_free(r);
    }
    vt_labels_free(l);
    return st;
}

/* per class: shuffle, the first round(test_frac n_c) to test, the next round(val_frac n_c)
 * to val, the rest to train (so every split holds every class when n_c allows) */
static vt_status split_stratified(vt_imgcls_data *d, double val_frac, double test_frac, uint64_t seed) {
    int64_t n = d->labels->numel;
    for (int s = 0; s < 3; s++)
        if (!(d->idx[s] = malloc(sizeof(int64_t) * (size_t)n))) return vt_error("imgcls split: out of memory");
    int64_t *members = malloc(sizeof(int64_t) * (size_t)n), *perm = malloc(sizeof(int64_t) * (size_t)n);
    if (!members || !perm) return free(members), free(perm), vt_error("imgcls split: out of memory");
    vt_rng r;
    vt_rng_init(&r, seed ^ 0x1c15a11ull);
    for (int k = 0; k < d->num_classes; k++) {
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++) if ((int)d->labels->data[i] == k) members[m++] = i;
        vt_rng_permutation(&r, perm, m);
        int64_t nt = llround(test_frac * (double)m), nv = llround(val_frac * (double)m);
        for (int64_t j = 0; j < m; j++) {
            int s = j < nt ? 2 : j < nt + nv ? 1 : 0;
            d->idx[s][d->n_split[s]++] = members[perm[j]];
        }
    }
    free(members), free(perm);
    for (int s = 0; s < 3; s++)
        if (d->n_split[s] < 1)
            return vt_error("imgcls split: %lld images leave the %s split empty (val_frac %g, test_frac %g)",
                            (long long)n, s == 0 ? "train" : s == 1 ? "val" : "test", val_frac, test_frac);
    return VT_OK;
}

vt_status vt_imgcls_data_load(const vt_config *c, vt_imgcls_data *d) {
    memset(d, 0, sizeof *d);
    d->num_classes = (int)vt_config_int(c, "model.num_classes");
    vt_tensor *raw = NULL, *labels = NULL;
    vt_status st = !strcmp(vt_config_string(c, "data.source"), "csv") ? load_csv(c, &raw, &labels) : load_phantom(c, &raw, &labels);
    if (st == VT_OK) {
        d->images = raw->shape[2] == vt_config_int(c, "data.load_size") && raw->shape[3] == raw->shape[2]
                        ? vt_tensor_retain(raw) : vt_imgcls_resize(raw, vt_config_int(c, "data.load_size"));
        d->labels = vt_tensor_retain(labels);
        st = d->images ? VT_OK : VT_ERR;
    }
    vt_tensor_free(raw), vt_tensor_free(labels);
    for (int64_t i = 0; st == VT_OK && i < d->labels->numel; i++)
        if (!(d->labels->data[i] >= 0 && d->labels->data[i] < d->num_classes))
            st = vt_error("imgcls: label %g of image %lld is outside 0..%d", (double)d->labels->data[i], (long long)i, d->num_classes - 1);
    if (st == VT_OK)
        st = split_stratified(d, vt_config_float(c, "data.val_frac"), vt_config_float(c, "data.test_frac"),
                              (uint64_t)vt_config_int(c, "run.seed"));
    if (st != VT_OK) vt_imgcls_data_free(d);
    return st;
}

void vt_imgcls_data_free(vt_imgcls_data *d) {
    vt_tensor_free(d->images), vt_tensor_free(d->labels);
    for (int s = 0; s < 3; s++) free(d->idx[s]);
    memset(d, 0, sizeof *d);
}

/* ---- the dataset ----------------------------------------------------------------------- */
typedef struct {
    const vt_imgcls_data *d;
    int64_t *idx;
    vt_augment_config aug;
    int zscore;
} ds_ctx;

static void fill_augment(const vt_config *c, int augment, vt_augment_config *a) {
    vt_augment_config_default(a);
    int64_t in = vt_config_int(c, "model.input_size");
    a->crop_h = a->crop_w = in;
    if (!augment) return; /* centre crop only */
    a->p_flip_x = (float)vt_config_float(c, "augment.p_flip_x");
    a->p_flip_y = (float)vt_config_float(c, "augment.p_flip_y");
    a->p_rotate = (float)vt_config_float(c, "augment.p_rotate");
    a->max_angle_deg = (float)vt_config_float(c, "augment.max_angle_deg");
    a->p_scale = (float)vt_config_float(c, "augment.p_scale");
    a->scale_min = (float)vt_config_float(c, "augment.scale_min");
    a->scale_max = (float)vt_config_float(c, "augment.scale_max");
    a->crop_random = vt_config_bool(c, "augment.random_crop");
}

/* x -> (x - mean) / std over the whole image (a flat image stays 0) */
static void zscore(float *x, int64_t n) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    double mean = s / (double)n;
    for (int64_t i = 0; i < n; i++) s2 += (x[i] - mean) * (x[i] - mean);
    double sd = sqrt(s2 / (double)n);
    float inv = sd > 1e-8 ? (float)(1.0 / sd) : 0.f;
    for (int64_t i = 0; i < n; i++) x[i] = (float)(x[i] - mean) * inv;
}

/* image (C, S, S) -> out (C, I, I): augmentation / crop, then normalisation */
static vt_status transform(const vt_augment_config *a, int zs, const vt_tensor *image, vt_tensor *out, vt_rng *rng) {
    vt_tensor *t = NULL;
    if (vt_augment2d(a, rng, image, NULL, NULL, 0, &t, NULL, NULL) != VT_OK) return VT_ERR;
    if (t->numel != out->numel) {
        vt_tensor_free(t);
        return vt_error("imgcls: augmented image has %lld values, expected %lld", (long long)t->numel, (long long)out->numel);
    }
    memcpy(out->data, t->data, sizeof(float) * (size_t)out->numel);
    vt_tensor_free(t);
    if (zs) zscore(out->data, out->numel);
    return VT_OK;
}

static vt_status ds_get(const vt_dataset *ds, int64_t i, vt_tensor *image, vt_tensor *target, vt_rng *rng) {
    const ds_ctx *x = ds->ctx;
    const vt_tensor *all = x->d->images;
    int64_t j = x->idx[i], c = all->shape[1], s = all->shape[2];
    vt_tensor *src = vt_tensor_from_data(3, (int64_t[]){c, s, s}, all->data + j * c * s * s);
    if (!src) return VT_ERR;
    vt_status st = transform(&x->aug, x->zscore, src, image, rng);
    vt_tensor_free(src);
    if (target) target->data[0] = x->d->labels->data[j];
    return st;
}

static void ds_destroy(vt_dataset *ds) {
    ds_ctx *x = ds->ctx;
    free(x->idx);
    free(x);
}

vt_dataset *vt_imgcls_dataset(const vt_config *c, const vt_imgcls_data *d, const int64_t *idx,
                              int64_t n, int augment) {
    vt_dataset *ds = calloc(1, sizeof *ds);
    ds_ctx *x = calloc(1, sizeof *x);
    if (x) x->idx = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    if (!ds || !x || !x->idx) {
        if (x) free(x->idx);
        free(ds), free(x);
        return vt_error("imgcls dataset: out of memory"), NULL;
    }
    memcpy(x->idx, idx, sizeof(int64_t) * (size_t)n);
    x->d = d;
    x->zscore = !strcmp(vt_config_string(c, "data.normalize"), "zscore");
    fill_augment(c, augment, &x->aug);
    int64_t in = vt_config_int(c, "model.input_size");
    ds->length = n;
    ds->image_ndim = 3;
    ds->image_shape[0] = d->images->shape[1], ds->image_shape[1] = in, ds->image_shape[2] = in;
    ds->target_ndim = 1;
    ds->target_shape[0] = 1;
    ds->get = ds_get;
    ds->destroy = ds_destroy;
    ds->ctx = x;
    return ds;
}

vt_status vt_imgcls_prepare(const vt_config *c, const vt_tensor *image, vt_tensor *out) {
    vt_augment_config a;
    fill_augment(c, 0, &a);
    vt_rng r;
    vt_rng_init(&r, 0); /* drawn but unused: no transform fires */
    return transform(&a, !strcmp(vt_config_string(c, "data.normalize"), "zscore"), image, out, &r);
}
