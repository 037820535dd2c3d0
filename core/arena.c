/* arena.c: per-step bump allocator for activations, gradients and tape nodes.
 *
 * Memory comes in chunks. Reset rewinds to the start; if a step needed more than one
 * chunk, reset replaces them by one chunk of the total size, so from the second step on
 * a step of the same shape makes no malloc at all. */
#include <string.h>
#include "internal.h"

#define ARENA_ALIGN 64

typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    char *base;
} chunk;

struct vt_arena {
    chunk *head;         /* current chunk (list of older ones behind it) */
    size_t peak_total;   /* bytes used across chunks in the largest step */
    size_t total_used;   /* bytes used since the last reset */
    uint64_t mallocs;
    vt_node *tape;       /* last node recorded into this arena */
};

static chunk *chunk_new(size_t size) {
    chunk *c = malloc(sizeof *c);
    if (!c) return NULL;
    c->base = aligned_alloc(ARENA_ALIGN, (size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN);
    if (!c->base) { free(c); return NULL; }
    c->size = size; c->used = 0; c->next = NULL;
    return c;
}

vt_arena *vt_arena_new(size_t initial_bytes) {
    vt_arena *a = calloc(1, sizeof *a);
    if (!a) { vt_error("arena: out of memory"); return NULL; }
    if (initial_bytes < (1u << 20)) initial_bytes = 1u << 20;
    a->head = chunk_new(initial_bytes);
    if (!a->head) { free(a); vt_error("arena: cannot allocate %zu bytes", initial_bytes); return NULL; }
    a->mallocs = 1;
    return a;
}

static void free_chunks(chunk *c) {
    while (c) { chunk *n = c->next; free(c->base); free(c); c = n; }
}

void vt_arena_free(vt_arena *a) {
    if (!a) return;
    if (vt_arena_current() == a) vt_arena_set(NULL);
    free_chunks(a->head);
    free(a);
}

void vt_arena_reset(vt_arena *a) {
    if (!a) a = vt_arena_current();
    a->tape = NULL;
    if (a->total_used > a->peak_total) a->peak_total = a->total_used;
    a->total_used = 0;
    if (a->head->next) { /* consolidate into one chunk big enough for the whole step */
        chunk *big = chunk_new(a->peak_total + a->peak_total / 8);
        if (big) {
            free_chunks(a->head);
            a->head = big;
            a->mallocs++;
            return;
        }
        /* keep the old chunks when the big one cannot be had */
    }
    for (chunk *c = a->head; c; c = c->next) c->used = 0;
}

void *vt_arena_alloc(vt_arena *a, size_t bytes) {
    bytes = (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (bytes == 0) bytes = ARENA_ALIGN;
    chunk *c = a->head;
    if (c->used + bytes > c->size) {
        /* find a reusable older chunk (after a failed consolidation) or make a new one */
        chunk *prev = NULL, *it = c->next;
        while (it && it->used + bytes > it->size) { prev = it; it = it->next; }
        if (it) {
            if (prev) prev->next = it->next; else c->next = it->next;
        } else {
            size_t size = c->size * 2 > bytes ? c->size * 2 : bytes;
            it = chunk_new(size);
            if (!it) { vt_error("arena: out of memory allocating %zu bytes", size); return NULL; }
            a->mallocs++;
        }
        it->next = c;
        a->head = c = it;
    }
    void *p = c->base + c->used;
    c->used += bytes;
    a->total_used += bytes;
    return p;
}

vt_arena_mark vt_arena_get_mark(vt_arena *a) {
    return (vt_arena_mark){a->head, a->head->used, a->total_used};
}

void vt_arena_release(vt_arena *a, vt_arena_mark m) {
    if (a->head != m.chunk) return; /* a new chunk was started: keep it, it is reused at reset */
    if (a->total_used > a->peak_total) a->peak_total = a->total_used; /* size the next consolidation */
    a->head->used = m.used;
    a->total_used = m.total;
}

size_t vt_arena_used(const vt_arena *a) { return a->total_used; }

size_t vt_arena_capacity(const vt_arena *a) {
    size_t s = 0;
    for (chunk *c = a->head; c; c = c->next) s += c->size;
    return s;
}

uint64_t vt_arena_mallocs(const vt_arena *a) { return a->mallocs; }

vt_node *vt_arena_tape(vt_arena *a) { return a->tape; }
void vt_arena_set_tape(vt_arena *a, vt_node *head) { a->tape = head; }

static _Thread_local vt_arena *current;
static _Thread_local vt_arena *default_arena;

vt_arena *vt_arena_current(void) {
    if (current) return current;
    if (!default_arena) {
        default_arena = vt_arena_new(64u << 20);
        VT_ASSERT(default_arena); /* cannot run anything without it */
    }
    return default_arena;
}

vt_arena *vt_arena_set(vt_arena *a) {
    vt_arena *prev = current;
    current = a;
    return prev;
}
