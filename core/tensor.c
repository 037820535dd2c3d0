/* tensor.c: creation, reference counting and small utilities of vt_tensor. */
#include <string.h>
#include "internal.h"

int64_t vt_shape_numel(int ndim, const int64_t *shape) {
    if (ndim < 0 || ndim > VT_MAX_DIMS) {
        vt_error("tensor: %d dims (vertebra supports 0..%d)", ndim, VT_MAX_DIMS);
        return -1;
    }
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) { vt_error("tensor: negative dimension %lld", (long long)shape[i]); return -1; }
        if (shape[i] > 0 && n > INT64_MAX / 4 / shape[i]) { vt_error("tensor: shape too large"); return -1; }
        n *= shape[i];
    }
    return n;
}

int64_t vt_strides(int ndim, const int64_t *shape, int64_t *strides) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) { strides[i] = s; s *= shape[i]; }
    return s;
}

int vt_axis(const char *op, int axis, int ndim) {
    int a = axis < 0 ? axis + ndim : axis;
    if (a < 0 || a >= ndim) { vt_error("%s: axis %d out of range for %d dims", op, axis, ndim); return -1; }
    return a;
}

static void set_shape(vt_tensor *t, int ndim, const int64_t *shape, int64_t numel) {
    t->ndim = ndim;
    for (int i = 0; i < VT_MAX_DIMS; i++) t->shape[i] = i < ndim ? shape[i] : 1;
    t->numel = numel;
}

vt_tensor *vt_tensor_new(int ndim, const int64_t *shape) {
    int64_t n = vt_shape_numel(ndim, shape);
    if (n < 0) return NULL;
    const vt_backend *be = vt_backend_cpu();
    vt_tensor *t = calloc(1, sizeof *t);
    vt_storage *s = calloc(1, sizeof *s);
    void *data = be->alloc((size_t)(n ? n : 1) * sizeof(float));
    if (!t || !s || !data) {
        free(t); free(s); be->free(data);
        vt_error("tensor: out of memory for %lld floats", (long long)n);
        return NULL;
    }
    memset(data, 0, (size_t)n * sizeof(float));
    s->data = data; s->bytes = (size_t)n * sizeof(float); s->refcount = 1; s->device = VT_DEV_CPU;
    set_shape(t, ndim, shape, n);
    t->storage = s; t->data = data; t->refcount = 1; t->device = VT_DEV_CPU;
    return t;
}

vt_tensor *vt_tensor_from_data(int ndim, const int64_t *shape, const float *data) {
    vt_tensor *t = vt_tensor_new(ndim, shape);
    if (t && data) memcpy(t->data, data, (size_t)t->numel * sizeof(float));
    return t;
}

vt_tensor *vt_tensor_clone(const vt_tensor *src) {
    if (!src) return NULL;
    vt_tensor *t = vt_tensor_new(src->ndim, src->shape);
    if (t) vt_be(src)->copy(t->data, src->data, (size_t)src->numel * sizeof(float));
    return t;
}

vt_tensor *vt_tensor_retain(vt_tensor *t) {
    if (t && t->storage) t->refcount++;
    return t;
}

static void storage_release(vt_storage *s) {
    if (--s->refcount == 0) {
        vt_backend_get(s->device)->free(s->data);
        free(s);
    }
}

void vt_tensor_free(vt_tensor *t) {
    if (!t || !t->storage) return; /* arena tensors go with their arena */
    if (--t->refcount > 0) return;
    vt_tensor_free(t->grad); /* own buffer, or a heap view of a vt_params grad buffer */
    storage_release(t->storage);
    free(t);
}

int vt_tensor_is_heap(const vt_tensor *t) { return t && t->storage; }

vt_tensor *vt_arena_tensor(int ndim, const int64_t *shape, vt_device dev) {
    int64_t n = vt_shape_numel(ndim, shape);
    if (n < 0) return NULL;
    vt_arena *a = vt_arena_current();
    vt_tensor *t = vt_arena_alloc(a, sizeof *t);
    float *data = vt_arena_alloc(a, (size_t)n * sizeof(float));
    if (!t || !data) return NULL;
    memset(t, 0, sizeof *t);
    set_shape(t, ndim, shape, n);
    t->data = data; t->device = dev;
    return t;
}

vt_tensor *vt_arena_view(vt_tensor *src, int ndim, const int64_t *shape) {
    vt_tensor *t = vt_arena_alloc(vt_arena_current(), sizeof *t);
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    set_shape(t, ndim, shape, src->numel);
    t->data = src->data; t->device = src->device;
    return t;
}

vt_tensor *vt_tensor_empty(int ndim, const int64_t *shape) {
    return vt_arena_tensor(ndim, shape, VT_DEV_CPU);
}

vt_tensor *vt_tensor_full(int ndim, const int64_t *shape, float value) {
    vt_tensor *t = vt_tensor_empty(ndim, shape);
    if (t) vt_be(t)->fill(t->data, t->numel, value);
    return t;
}

vt_tensor *vt_tensor_zeros(int ndim, const int64_t *shape) { return vt_tensor_full(ndim, shape, 0.f); }

vt_tensor *vt_tensor_detach(vt_tensor *t) {
    if (!t) return NULL;
    return vt_arena_view(t, t->ndim, t->shape);
}

int vt_shape_equal(const vt_tensor *a, const vt_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

const char *vt_shape_str(const vt_tensor *t, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < t->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    if (k < n) snprintf(buf + k, n - k, ")");
    return buf;
}

const char *vt_sstr(const vt_tensor *t) {
    static _Thread_local char bufs[4][96];
    static _Thread_local int k;
    char *b = bufs[k++ & 3];
    return vt_shape_str(t, b, 96);
}

void vt_tensor_fill(vt_tensor *t, float v) { vt_be(t)->fill(t->data, t->numel, v); }

vt_status vt_tensor_copy_data(vt_tensor *dst, const vt_tensor *src) {
    if (dst->numel != src->numel)
        return vt_error("copy: %s into %s: element counts differ", vt_sstr(src), vt_sstr(dst));
    vt_be(dst)->copy(dst->data, src->data, (size_t)src->numel * sizeof(float));
    return VT_OK;
}

float vt_tensor_item(const vt_tensor *t) {
    float v = 0;
    vt_be(t)->to_host(&v, t->data, sizeof v);
    return v;
}

void vt_tensor_uniform_(vt_tensor *t, float lo, float hi) {
    vt_rng *r = vt_rng_global();
    vt_be(t)->rng_uniform(r->seed, r->offset, t->numel, lo, hi, t->data);
    r->offset += (uint64_t)t->numel;
}

void vt_tensor_normal_(vt_tensor *t, float mean, float std) {
    vt_rng *r = vt_rng_global();
    vt_be(t)->rng_normal(r->seed, r->offset, t->numel, mean, std, t->data);
    r->offset += (uint64_t)t->numel;
}
