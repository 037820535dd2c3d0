/* params.c: the contiguous parameter store.
 *
 * Before finalize each registered tensor owns its storage (so modules can initialise it at
 * once). finalize copies every trainable tensor into one value buffer, gives it a gradient
 * view into one gradient buffer, and does the same for buffers (running stats), so that
 * zero-grad, clipping, all-reduce and checkpoints are a few operations on big arrays. */
#include <string.h>
#include "internal.h"

typedef struct entry {
    char *name;
    vt_tensor *t;
    int is_buffer;
    int64_t offset; /* into values/grads (params) or buffer values (buffers) */
} entry;

struct vt_params {
    entry *e;
    int n, cap;
    int finalized;
    int64_t numel, buf_numel;
    vt_tensor *values, *grads, *buffers; /* flat heap tensors after finalize */
};

vt_params *vt_params_new(void) {
    vt_params *p = calloc(1, sizeof *p);
    if (!p) vt_error("params: out of memory");
    return p;
}

void vt_params_free(vt_params *p) {
    if (!p) return;
    for (int i = 0; i < p->n; i++) { vt_tensor_free(p->e[i].t); free(p->e[i].name); }
    vt_tensor_free(p->values);
    vt_tensor_free(p->grads);
    vt_tensor_free(p->buffers);
    free(p->e);
    free(p);
}

static vt_tensor *add(vt_params *p, const char *name, int ndim, const int64_t *shape, int is_buffer) {
    if (p->finalized) { vt_error("params: cannot add '%s' after finalize", name); return NULL; }
    if (vt_params_find(p, name)) { vt_error("params: duplicate name '%s'", name); return NULL; }
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 64;
        entry *e = realloc(p->e, sizeof *e * (size_t)cap);
        if (!e) { vt_error("params: out of memory"); return NULL; }
        p->e = e; p->cap = cap;
    }
    vt_tensor *t = vt_tensor_new(ndim, shape);
    char *nm = strdup(name);
    if (!t || !nm) { vt_tensor_free(t); free(nm); vt_error("params: out of memory for '%s'", name); return NULL; }
    t->requires_grad = !is_buffer;
    p->e[p->n++] = (entry){nm, t, is_buffer, 0};
    return t;
}

vt_tensor *vt_params_add(vt_params *p, const char *name, int ndim, const int64_t *shape) {
    return add(p, name, ndim, shape, 0);
}

vt_tensor *vt_params_add_buffer(vt_params *p, const char *name, int ndim, const int64_t *shape) {
    return add(p, name, ndim, shape, 1);
}

/* Point t at flat->data + off, sharing flat's storage (the old storage is released). */
static void rebind(vt_tensor *t, vt_tensor *flat, int64_t off) {
    memcpy(flat->data + off, t->data, (size_t)t->numel * sizeof(float));
    vt_storage *old = t->storage;
    t->storage = flat->storage;
    t->storage->refcount++;
    t->data = flat->data + off;
    if (--old->refcount == 0) { vt_backend_cpu()->free(old->data); free(old); }
}

/* A heap tensor viewing flat's storage at an offset with t's shape. */
static vt_tensor *view_of(vt_tensor *flat, int64_t off, const vt_tensor *like) {
    vt_tensor *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    *v = (vt_tensor){.ndim = like->ndim, .numel = like->numel, .device = flat->device,
                     .data = flat->data + off, .storage = flat->storage, .refcount = 1};
    memcpy(v->shape, like->shape, sizeof v->shape);
    flat->storage->refcount++;
    return v;
}

vt_status vt_params_finalize(vt_params *p) {
    if (p->finalized) return VT_OK;
    int64_t np = 0, nb = 0;
    for (int i = 0; i < p->n; i++) {
        entry *e = &p->e[i];
        /* 16-float alignment keeps every parameter 64-byte aligned for SIMD kernels */
        int64_t *cursor = e->is_buffer ? &nb : &np;
        e->offset = *cursor;
        *cursor += (e->t->numel + 15) / 16 * 16;
    }
    p->values = vt_tensor_new(VT_DIMS(np ? np : 1));
    p->grads = vt_tensor_new(VT_DIMS(np ? np : 1));
    p->buffers = vt_tensor_new(VT_DIMS(nb ? nb : 1));
    if (!p->values || !p->grads || !p->buffers) return vt_error("params: out of memory for %lld values", (long long)np);
    for (int i = 0; i < p->n; i++) {
        entry *e = &p->e[i];
        if (e->is_buffer) { rebind(e->t, p->buffers, e->offset); continue; }
        rebind(e->t, p->values, e->offset);
        vt_tensor_free(e->t->grad); /* any grad accumulated before finalize is dropped */
        e->t->grad = view_of(p->grads, e->offset, e->t);
        if (!e->t->grad) return vt_error("params: out of memory");
        e->t->is_param = 1;
    }
    p->numel = np;
    p->buf_numel = nb;
    p->finalized = 1;
    return VT_OK;
}

int vt_params_finalized(const vt_params *p) { return p->finalized; }
int64_t vt_params_numel(const vt_params *p) { return p->numel; }
float *vt_params_values(vt_params *p) { return p->finalized ? p->values->data : NULL; }
float *vt_params_grads(vt_params *p) { return p->finalized ? p->grads->data : NULL; }
int64_t vt_params_buffer_numel(const vt_params *p) { return p->buf_numel; }
float *vt_params_buffer_values(vt_params *p) { return p->finalized ? p->buffers->data : NULL; }

void vt_params_zero_grad(vt_params *p) {
    if (p->finalized) vt_tensor_fill(p->grads, 0.f);
    else
        for (int i = 0; i < p->n; i++) vt_tensor_zero_grad(p->e[i].t);
}

int vt_params_count(const vt_params *p) { return p->n; }
vt_tensor *vt_params_tensor(const vt_params *p, int i) { return i >= 0 && i < p->n ? p->e[i].t : NULL; }
const char *vt_params_name(const vt_params *p, int i) { return i >= 0 && i < p->n ? p->e[i].name : NULL; }
int vt_params_is_buffer(const vt_params *p, int i) { return i >= 0 && i < p->n && p->e[i].is_buffer; }

vt_tensor *vt_params_find(const vt_params *p, const char *name) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->e[i].name, name) == 0) return p->e[i].t;
    return NULL;
}

vt_device vt_params_device(const vt_params *p) { return p->finalized ? p->values->device : VT_DEV_CPU; }
