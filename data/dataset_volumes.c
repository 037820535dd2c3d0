/* dataset_volumes.c: datasets over 3D volumes: axial 2D slices and nnU-Net style patches. */
#include "dataset.h"

#include <stdlib.h>
#include <string.h>

/* uniform integer in [0, n) from the sample's stream */
static int64_t rng_below(vt_rng *rng, int64_t n) {
    uint64_t r = ((uint64_t)vt_rng_u32(rng) << 32) | vt_rng_u32(rng);
    return (int64_t)(r % (uint64_t)n);
}

/* ---- axial slices ---------------------------------------------------------------------- */
typedef struct {
    int n;
    vt_tensor **volumes, **masks;
    float *labels;
    char **ids;
    int64_t *first; /* first[v]: index of volume v's slice 0; first[n] = length */
    int64_t h, w;
} slices_ctx;

static void slices_destroy(vt_dataset *ds) {
    slices_ctx *c = ds->ctx;
    for (int v = 0; v < c->n; v++) {
        vt_tensor_free(c->volumes[v]);
        if (c->masks) vt_tensor_free(c->masks[v]);
        free(c->ids ? c->ids[v] : NULL);
    }
    free(c->volumes), free(c->masks), free(c->labels), free(c->ids), free(c->first), free(c);
}

void vt_dataset_slices_locate(const vt_dataset *ds, int64_t i, int *volume, int64_t *slice) {
    const slices_ctx *c = ds->ctx;
    int lo = 0, hi = c->n - 1; /* last v with first[v] <= i */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (c->first[mid] <= i) lo = mid;
        else hi = mid - 1;
    }
    *volume = lo;
    *slice = i - c->first[lo];
}

const char *vt_dataset_slices_patient(const vt_dataset *ds, int64_t i) {
    int v;
    int64_t z;
    vt_dataset_slices_locate(ds, i, &v, &z);
    return ((const slices_ctx *)ds->ctx)->ids[v];
}

static vt_status slices_get(const vt_dataset *ds, int64_t i, vt_tensor *image, vt_tensor *target,
                            vt_rng *rng) {
    const slices_ctx *c = ds->ctx;
    int v;
    int64_t z, plane = c->h * c->w;
    vt_dataset_slices_locate(ds, i, &v, &z);
    memcpy(image->data, c->volumes[v]->data + z * plane, plane * sizeof(float));
    if (target && c->masks) memcpy(target->data, c->masks[v]->data + z * plane, plane * sizeof(float));
    else if (target) target->data[0] = c->labels[v];
    return VT_OK;
}

vt_dataset *vt_dataset_slices(int n_volumes, vt_tensor *const *volumes, vt_tensor *const *masks,
                              const float *labels, const char *const *patient_ids) {
    char a[64], b[64];
    if (n_volumes < 1 || !volumes || !patient_ids)
        return vt_error("dataset_slices: need >= 1 volume and patient ids"), NULL;
    for (int v = 0; v < n_volumes; v++) {
        const vt_tensor *t = volumes[v];
        if (!t || t->ndim != 3 || !vt_tensor_is_heap(t))
            return vt_error("dataset_slices: volume %d must be a heap (D, H, W) tensor, got %s", v,
                            t ? vt_shape_str(t, a, sizeof a) : "NULL"), NULL;
        if (t->shape[1] != volumes[0]->shape[1] || t->shape[2] != volumes[0]->shape[2])
            return vt_error("dataset_slices: volume %d is %s but volume 0 is %s (H, W must agree)", v,
                            vt_shape_str(t, a, sizeof a), vt_shape_str(volumes[0], b, sizeof b)), NULL;
        if (masks && (!masks[v] || !vt_shape_equal(masks[v], t) || !vt_tensor_is_heap(masks[v])))
            return vt_error("dataset_slices: mask %d %s does not match volume %s", v,
                            masks[v] ? vt_shape_str(masks[v], a, sizeof a) : "NULL",
                            vt_shape_str(t, b, sizeof b)), NULL;
        if (!patient_ids[v]) return vt_error("dataset_slices: patient id %d is NULL", v), NULL;
    }
    vt_dataset *ds = calloc(1, sizeof *ds);
    slices_ctx *c = calloc(1, sizeof *c);
    if (!ds || !c) goto oom;
    ds->ctx = c;
    ds->destroy = slices_destroy;
    c->volumes = calloc(n_volumes, sizeof *c->volumes);
    c->masks = masks ? calloc(n_volumes, sizeof *c->masks) : NULL;
    c->labels = labels ? malloc(n_volumes * sizeof *c->labels) : NULL;
    c->ids = calloc(n_volumes, sizeof *c->ids);
    c->first = malloc((n_volumes + 1) * sizeof *c->first);
    if (!c->volumes || (masks && !c->masks) || (labels && !c->labels) || !c->ids || !c->first) goto oom;
    c->h = volumes[0]->shape[1];
    c->w = volumes[0]->shape[2];
    c->first[0] = 0;
    for (int v = 0; v < n_volumes; v++) {
        c->n = v + 1; /* destroy frees what is set so far */
        c->volumes[v] = vt_tensor_retain(volumes[v]);
        if (masks) c->masks[v] = vt_tensor_retain(masks[v]);
        if (labels) c->labels[v] = labels[v];
        c->ids[v] = strdup(patient_ids[v]);
        if (!c->ids[v]) goto oom;
        c->first[v + 1] = c->first[v] + volumes[v]->shape[0];
    }
    ds->length = c->first[n_volumes];
    ds->image_ndim = 3;
    ds->image_shape[0] = 1, ds->image_shape[1] = c->h, ds->image_shape[2] = c->w;
    if (masks) {
        ds->target_ndim = 3;
        ds->target_shape[0] = 1, ds->target_shape[1] = c->h, ds->target_shape[2] = c->w;
    } else if (labels) {
        ds->target_ndim = 1;
        ds->target_shape[0] = 1;
    }
    ds->get = slices_get;
    return ds;
oom:
    vt_dataset_free(ds);
    if (!ds) free(c);
    return vt_error("dataset_slices: out of memory"), NULL;
}

/* ---- foreground-oversampled patches ------------------------------------------------------ */
typedef struct {
    int n;
    vt_tensor **images, **masks;
    int64_t **fg, *n_fg; /* flat (D, H, W) indices of mask > 0 voxels per volume */
    int64_t patch[3], channels;
    float fg_prob;
} patches_ctx;

static void patches_destroy(vt_dataset *ds) {
    patches_ctx *c = ds->ctx;
    for (int v = 0; v < c->n; v++) {
        vt_tensor_free(c->images[v]);
        vt_tensor_free(c->masks[v]);
        free(c->fg[v]);
    }
    free(c->images), free(c->masks), free(c->fg), free(c->n_fg), free(c);
}

static vt_status patches_get(const vt_dataset *ds, int64_t i, vt_tensor *image, vt_tensor *target,
                             vt_rng *rng) {
    const patches_ctx *c = ds->ctx;
    int v = (int)(i % c->n);
    const vt_tensor *m = c->masks[v];
    int64_t dim[3] = {m->shape[0], m->shape[1], m->shape[2]}, centre[3];
    float u;
    vt_rng_uniform(rng, &u, 1, 0, 1);
    if (u < c->fg_prob && c->n_fg[v] > 0) {
        int64_t f = c->fg[v][rng_below(rng, c->n_fg[v])];
        centre[0] = f / (dim[1] * dim[2]);
        centre[1] = f / dim[2] % dim[1];
        centre[2] = f % dim[2];
    } else {
        for (int a = 0; a < 3; a++) centre[a] = rng_below(rng, dim[a]);
    }
    int64_t lo[3], vol = dim[0] * dim[1] * dim[2], pvol = c->patch[0] * c->patch[1] * c->patch[2];
    for (int a = 0; a < 3; a++) lo[a] = centre[a] - c->patch[a] / 2;
    memset(image->data, 0, c->channels * pvol * sizeof(float));
    if (target) memset(target->data, 0, pvol * sizeof(float));
    for (int64_t z = 0; z < c->patch[0]; z++) {
        int64_t sz = lo[0] + z;
        if (sz < 0 || sz >= dim[0]) continue;
        for (int64_t y = 0; y < c->patch[1]; y++) {
            int64_t sy = lo[1] + y;
            if (sy < 0 || sy >= dim[1]) continue;
            int64_t x0 = lo[2] < 0 ? -lo[2] : 0, x1 = dim[2] - lo[2] < c->patch[2] ? dim[2] - lo[2] : c->patch[2];
            if (x1 <= x0) continue;
            int64_t src = (sz * dim[1] + sy) * dim[2] + lo[2] + x0, dst = (z * c->patch[1] + y) * c->patch[2] + x0;
            for (int64_t ch = 0; ch < c->channels; ch++)
                memcpy(image->data + ch * pvol + dst, c->images[v]->data + ch * vol + src, (x1 - x0) * sizeof(float));
            if (target) memcpy(target->data + dst, m->data + src, (x1 - x0) * sizeof(float));
        }
    }
    return VT_OK;
}

vt_dataset *vt_dataset_patches(int n_volumes, vt_tensor *const *images, vt_tensor *const *masks,
                               const int64_t patch[3], float fg_prob, int64_t samples_per_epoch) {
    char a[64], b[64];
    if (n_volumes < 1 || !images || !masks) return vt_error("dataset_patches: need >= 1 volume with a mask"), NULL;
    if (patch[0] < 1 || patch[1] < 1 || patch[2] < 1 || !(fg_prob >= 0 && fg_prob <= 1) || samples_per_epoch < 0)
        return vt_error("dataset_patches: bad patch (%lld, %lld, %lld), fg_prob %g or length %lld",
                        (long long)patch[0], (long long)patch[1], (long long)patch[2], fg_prob,
                        (long long)samples_per_epoch), NULL;
    int64_t channels = images[0] && images[0]->ndim == 4 ? images[0]->shape[0] : 1;
    for (int v = 0; v < n_volumes; v++) {
        const vt_tensor *im = images[v], *m = masks[v];
        int ok = im && m && vt_tensor_is_heap(im) && vt_tensor_is_heap(m) && m->ndim == 3 &&
                 (im->ndim == 3 || im->ndim == 4) && (im->ndim == 4 ? im->shape[0] : 1) == channels;
        for (int d = 0; ok && d < 3; d++) ok = im->shape[im->ndim - 3 + d] == m->shape[d];
        if (!ok)
            return vt_error("dataset_patches: volume %d image %s / mask %s: need (C, D, H, W) or (D, H, W) "
                            "with C = %lld and a (D, H, W) mask of the same size", v,
                            im ? vt_shape_str(im, a, sizeof a) : "NULL", m ? vt_shape_str(m, b, sizeof b) : "NULL",
                            (long long)channels), NULL;
    }
    vt_dataset *ds = calloc(1, sizeof *ds);
    patches_ctx *c = calloc(1, sizeof *c);
    if (!ds || !c) return free(ds), free(c), vt_error("dataset_patches: out of memory"), NULL;
    ds->ctx = c;
    ds->destroy = patches_destroy;
    c->images = calloc(n_volumes, sizeof *c->images);
    c->masks = calloc(n_volumes, sizeof *c->masks);
    c->fg = calloc(n_volumes, sizeof *c->fg);
    c->n_fg = calloc(n_volumes, sizeof *c->n_fg);
    if (!c->images || !c->masks || !c->fg || !c->n_fg) goto oom;
    for (int v = 0; v < n_volumes; v++) {
        c->n = v + 1;
        c->images[v] = vt_tensor_retain(images[v]);
        c->masks[v] = vt_tensor_retain(masks[v]);
        int64_t k = 0;
        for (int64_t j = 0; j < masks[v]->numel; j++) k += masks[v]->data[j] > 0;
        c->fg[v] = malloc((size_t)(k ? k : 1) * sizeof(int64_t));
        if (!c->fg[v]) goto oom;
        c->n_fg[v] = k;
        k = 0;
        for (int64_t j = 0; j < masks[v]->numel; j++)
            if (masks[v]->data[j] > 0) c->fg[v][k++] = j;
    }
    memcpy(c->patch, patch, sizeof c->patch);
    c->channels = channels;
    c->fg_prob = fg_prob;
    ds->length = samples_per_epoch;
    ds->image_ndim = ds->target_ndim = 4;
    ds->image_shape[0] = channels, ds->target_shape[0] = 1;
    for (int a = 0; a < 3; a++) ds->image_shape[1 + a] = ds->target_shape[1 + a] = patch[a];
    ds->get = patches_get;
    return ds;
oom:
    vt_dataset_free(ds);
    return vt_error("dataset_patches: out of memory"), NULL;
}
