/* dataset.c: the dataset interface, in-memory tensors and subsets. */
#include "dataset.h"

#include <stdlib.h>
#include <string.h>

void vt_dataset_free(vt_dataset *ds) {
    if (!ds) return;
    if (ds->destroy) ds->destroy(ds);
    free(ds);
}

vt_status vt_dataset_get_alloc(const vt_dataset *ds, int64_t i, vt_rng *rng, vt_tensor **image,
                               vt_tensor **target) {
    *image = NULL;
    if (target) *target = NULL;
    if (i < 0 || i >= ds->length)
        return vt_error("dataset: index %lld out of range [0, %lld)", (long long)i, (long long)ds->length);
    vt_tensor *im = vt_tensor_new(ds->image_ndim, ds->image_shape);
    vt_tensor *tg = ds->target_ndim ? vt_tensor_new(ds->target_ndim, ds->target_shape) : NULL;
    if (!im || (ds->target_ndim && !tg) || ds->get(ds, i, im, tg, rng) != VT_OK) {
        vt_tensor_free(im);
        vt_tensor_free(tg);
        return VT_ERR;
    }
    *image = im;
    if (target) *target = tg;
    else vt_tensor_free(tg);
    return VT_OK;
}

/* ---- in-memory tensors ---------------------------------------------------------------- */
typedef struct { vt_tensor *images, *targets; int64_t image_numel, target_numel; } tensors_ctx;

static vt_status tensors_get(const vt_dataset *ds, int64_t i, vt_tensor *image, vt_tensor *target,
                             vt_rng *rng) {
    const tensors_ctx *c = ds->ctx;
    memcpy(image->data, c->images->data + i * c->image_numel, c->image_numel * sizeof(float));
    if (target) memcpy(target->data, c->targets->data + i * c->target_numel, c->target_numel * sizeof(float));
    return VT_OK;
}

static void tensors_destroy(vt_dataset *ds) {
    tensors_ctx *c = ds->ctx;
    vt_tensor_free(c->images);
    vt_tensor_free(c->targets);
    free(c);
}

vt_dataset *vt_dataset_tensors(vt_tensor *images, vt_tensor *targets) {
    char a[64], b[64];
    if (!images || images->ndim < 1 || !vt_tensor_is_heap(images))
        return vt_error("dataset_tensors: images must be a heap tensor (N, ...)"), NULL;
    if (targets && (!vt_tensor_is_heap(targets) || targets->shape[0] != images->shape[0]))
        return vt_error("dataset_tensors: targets %s do not match images %s in N",
                        vt_shape_str(targets, a, sizeof a), vt_shape_str(images, b, sizeof b)), NULL;
    vt_dataset *ds = calloc(1, sizeof *ds);
    tensors_ctx *c = calloc(1, sizeof *c);
    if (!ds || !c) return free(ds), free(c), vt_error("dataset_tensors: out of memory"), NULL;
    int64_t n = images->shape[0];
    c->images = vt_tensor_retain(images);
    c->targets = targets ? vt_tensor_retain(targets) : NULL;
    c->image_numel = n ? images->numel / n : 0;
    ds->length = n;
    ds->image_ndim = images->ndim > 1 ? images->ndim - 1 : 1;
    ds->image_shape[0] = 1;
    for (int d = 1; d < images->ndim; d++) ds->image_shape[d - 1] = images->shape[d];
    if (targets) {
        c->target_numel = n ? targets->numel / n : 0;
        ds->target_ndim = targets->ndim > 1 ? targets->ndim - 1 : 1;
        ds->target_shape[0] = 1;
        for (int d = 1; d < targets->ndim; d++) ds->target_shape[d - 1] = targets->shape[d];
    }
    ds->get = tensors_get;
    ds->destroy = tensors_destroy;
    ds->ctx = c;
    return ds;
}

/* ---- subsets ------------------------------------------------------------------------- */
typedef struct { const vt_dataset *base; int64_t *indices; } subset_ctx;

static vt_status subset_get(const vt_dataset *ds, int64_t i, vt_tensor *image, vt_tensor *target,
                            vt_rng *rng) {
    const subset_ctx *c = ds->ctx;
    return c->base->get(c->base, c->indices[i], image, target, rng);
}

static void subset_destroy(vt_dataset *ds) {
    subset_ctx *c = ds->ctx;
    free(c->indices);
    free(c);
}

vt_dataset *vt_dataset_subset(const vt_dataset *base, const int64_t *indices, int64_t n) {
    if (!base || n < 0 || (n && !indices)) return vt_error("dataset_subset: bad arguments"), NULL;
    for (int64_t k = 0; k < n; k++)
        if (indices[k] < 0 || indices[k] >= base->length)
            return vt_error("dataset_subset: index %lld out of range [0, %lld)", (long long)indices[k],
                            (long long)base->length), NULL;
    vt_dataset *ds = malloc(sizeof *ds);
    subset_ctx *c = malloc(sizeof *c);
    int64_t *idx = malloc((size_t)(n ? n : 1) * sizeof *idx);
    if (!ds || !c || !idx) return free(ds), free(c), free(idx), vt_error("dataset_subset: out of memory"), NULL;
    if (n) memcpy(idx, indices, (size_t)n * sizeof *idx);
    *ds = *base;
    c->base = base;
    c->indices = idx;
    ds->length = n;
    ds->get = subset_get;
    ds->destroy = subset_destroy;
    ds->ctx = c;
    return ds;
}
