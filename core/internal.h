/* internal.h: what op front-ends share; not part of the public API. */
#ifndef VT_INTERNAL_H
#define VT_INTERNAL_H

#include <stdio.h>
#include <stdlib.h>
#include "backend.h"
#include "vertebra.h"

/* Internal invariant (never user input): abort with file:line. */
#define VT_ASSERT(cond)                                                              \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "vertebra: internal error %s:%d: %s\n", __FILE__,        \
                    __LINE__, #cond);                                                \
            abort();                                                                 \
        }                                                                            \
    } while (0)

struct vt_storage {
    void *data;
    size_t bytes;
    int refcount;
    vt_device device;
};

#define VT_NODE_MAX_IN 4

/* One recorded op on the tape. Lives in the arena. */
struct vt_node {
    vt_node *prev;               /* previous node in creation order */
    const char *name;            /* op name for error messages */
    void (*backward)(vt_node *n);
    uint32_t mark;               /* backward pass that found this node reachable */
    vt_tensor *out;
    vt_tensor *in[VT_NODE_MAX_IN];
    int n_in;
    vt_tensor **ins;             /* for ops with many inputs (concat): n_in entries */
    void *saved;                 /* op-specific data carved from the arena */
    float f[8];                  /* op-specific scalars */
    int64_t i[16];               /* op-specific integers */
};

/* The arena owns the tape that was recorded into it. */
vt_node *vt_arena_tape(vt_arena *a);
void vt_arena_set_tape(vt_arena *a, vt_node *head);

/* Scratch memory: everything carved after a mark is given back by release (when it all
 * came from the same chunk), so per-call workspaces (im2col) do not pile up over a step.
 * Only for memory that nothing outlives: no tensors or nodes in between. */
typedef struct vt_arena_mark { const void *chunk; size_t used, total; } vt_arena_mark;
vt_arena_mark vt_arena_get_mark(vt_arena *a);
void vt_arena_release(vt_arena *a, vt_arena_mark m);

/* Allocate an arena tensor of a shape on a device (data uninitialised). Sets an error
 * and returns NULL on bad shape or OOM. */
vt_tensor *vt_arena_tensor(int ndim, const int64_t *shape, vt_device dev);
/* Arena copy of shape metadata with data pointing at src->data (a view). */
vt_tensor *vt_arena_view(vt_tensor *src, int ndim, const int64_t *shape);

/* Record a node producing `out` from inputs if grad mode is on and any input requires
 * grad; marks out->requires_grad. Returns the node (to fill saved/f/i) or NULL when
 * nothing was recorded (then the op skips saving state). */
vt_node *vt_node_record(const char *name, vt_tensor *out, void (*backward)(vt_node *),
                        int n_in, vt_tensor *const *in);

/* The gradient buffer of t, allocated (zeroed) on first use. NULL when t does not
 * require grad: backward functions skip such inputs. */
float *vt_grad_buf(vt_tensor *t);

/* Contiguous element strides of a shape; returns numel. */
int64_t vt_strides(int ndim, const int64_t *shape, int64_t *strides);
/* Validates a shape (1..VT_MAX_DIMS dims, each >= 1... 0 allowed); returns numel or -1. */
int64_t vt_shape_numel(int ndim, const int64_t *shape);
/* Normalises a possibly negative axis; -1 with an error when out of range. */
int vt_axis(const char *op, int axis, int ndim);
/* Backend of a tensor's device. */
static inline const vt_backend *vt_be(const vt_tensor *t) { return vt_backend_get(t->device); }
/* Short shape string for messages (rotating static buffers, 4 at a time). */
const char *vt_sstr(const vt_tensor *t);

#define VT_CHECK_IN(x) \
    do { if (!(x)) return NULL; } while (0)

#endif
