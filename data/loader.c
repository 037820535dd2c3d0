/* loader.c: prefetching batch loader (pthreads; see loader.h).
 *
 * Batch b of an epoch lives in slot b % depth. Workers claim batch numbers in order under
 * the mutex, only while b < consumed + depth, so the slots of batches in flight are
 * distinct and the batch the consumer holds (number `consumed`) is never overwritten. A
 * worker fills its slot without the lock; start_epoch bumps a generation and waits until
 * no worker is busy before reusing the slots, so stale work is never published. */
#include "loader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SLOT_FREE, SLOT_FILLING, SLOT_READY };

typedef struct {
    int state;
    int64_t batch;
    vt_tensor *image, *target;
    int64_t *indices, size;
    int failed;
    char msg[512];
} slot;

struct vt_loader {
    const vt_dataset *ds;
    vt_loader_config cfg;
    int64_t n_batches, epoch;
    int64_t *order;           /* the epoch's sample order (length ds->length) */
    int active, stop, failed; /* an epoch is running / shutting down / a get failed */
    uint64_t generation;
    int64_t next_claim, consumed;
    int holding, busy;
    int depth;
    slot *slots;
    pthread_t *threads;
    int n_threads;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
};

void vt_loader_config_default(vt_loader_config *c) {
    memset(c, 0, sizeof *c);
    c->batch_size = 32;
    c->num_workers = 2;
    c->shuffle = 1;
}

/* splitmix64 finaliser: decorrelates nearby (seed, epoch, index) triples */
static uint64_t mix(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void vt_loader_sample_rng(uint64_t seed, int64_t epoch, int64_t index, vt_rng *out) {
    vt_rng_init(out, mix(mix(mix(seed) ^ (uint64_t)epoch) ^ (uint64_t)index));
}

int64_t vt_loader_num_batches(const vt_loader *l) { return l->n_batches; }

/* Fills slot s with batch b (no lock held; the slot is this thread's alone). */
static void fill_batch(vt_loader *l, int64_t b, slot *s) {
    const vt_dataset *ds = l->ds;
    int64_t start = b * l->cfg.batch_size, n = ds->length - start;
    if (n > l->cfg.batch_size) n = l->cfg.batch_size;
    s->failed = 0;
    s->msg[0] = 0;
    if (!s->image || s->image->shape[0] != n) { /* full-size slots are reused across batches */
        vt_tensor_free(s->image);
        vt_tensor_free(s->target);
        s->image = s->target = NULL;
        int64_t shape[VT_MAX_DIMS] = {n};
        memcpy(shape + 1, ds->image_shape, ds->image_ndim * sizeof(int64_t));
        s->image = vt_tensor_new(ds->image_ndim + 1, shape);
        if (ds->target_ndim) {
            memcpy(shape + 1, ds->target_shape, ds->target_ndim * sizeof(int64_t));
            s->target = vt_tensor_new(ds->target_ndim + 1, shape);
        }
        if (!s->image || (ds->target_ndim && !s->target)) {
            s->failed = 1;
            snprintf(s->msg, sizeof s->msg, "loader: batch %lld: %s", (long long)b, vt_last_error());
            return;
        }
    }
    s->size = n;
    int64_t in_numel = s->image->numel / n, tg_numel = s->target ? s->target->numel / n : 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t i = l->order[start + k];
        s->indices[k] = i;
        /* views of the sample's place in the batch: get() writes data only */
        vt_tensor im = {.ndim = ds->image_ndim, .numel = in_numel, .data = s->image->data + k * in_numel};
        memcpy(im.shape, ds->image_shape, sizeof ds->image_shape);
        vt_tensor tg = {.ndim = ds->target_ndim, .numel = tg_numel};
        if (s->target) {
            tg.data = s->target->data + k * tg_numel;
            memcpy(tg.shape, ds->target_shape, sizeof ds->target_shape);
        }
        vt_rng rng;
        vt_loader_sample_rng(l->cfg.seed, l->epoch, i, &rng);
        if (ds->get(ds, i, &im, s->target ? &tg : NULL, &rng) != VT_OK) {
            s->failed = 1;
            snprintf(s->msg, sizeof s->msg, "loader: sample %lld: %s", (long long)i, vt_last_error());
            return;
        }
    }
}

static void *worker(void *arg) {
    vt_loader *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->stop && !(l->active && !l->failed && l->next_claim < l->n_batches &&
                             l->next_claim < l->consumed + l->depth))
            pthread_cond_wait(&l->work_cv, &l->mu);
        if (l->stop) break;
        int64_t b = l->next_claim++;
        uint64_t gen = l->generation;
        slot *s = &l->slots[b % l->depth];
        s->state = SLOT_FILLING;
        l->busy++;
        pthread_mutex_unlock(&l->mu);
        fill_batch(l, b, s);
        pthread_mutex_lock(&l->mu);
        l->busy--;
        if (gen == l->generation) {
            s->batch = b;
            s->state = SLOT_READY;
        }
        pthread_cond_broadcast(&l->done_cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

vt_loader *vt_loader_new(const vt_dataset *ds, const vt_loader_config *cfg) {
    if (!ds || !cfg || !ds->get) return vt_error("loader: NULL dataset or config"), NULL;
    if (cfg->batch_size < 1 || cfg->num_workers < 0 || cfg->num_workers > 256 || cfg->queue_depth < 0)
        return vt_error("loader: bad config (batch_size %lld, num_workers %d, queue_depth %d)",
                        (long long)cfg->batch_size, cfg->num_workers, cfg->queue_depth), NULL;
    vt_loader *l = calloc(1, sizeof *l);
    if (!l) return vt_error("loader: out of memory"), NULL;
    l->ds = ds;
    l->cfg = *cfg;
    l->depth = cfg->queue_depth ? cfg->queue_depth : cfg->num_workers ? 2 * cfg->num_workers : 1;
    l->n_batches = cfg->drop_last ? ds->length / cfg->batch_size
                                  : (ds->length + cfg->batch_size - 1) / cfg->batch_size;
    l->order = malloc((size_t)(ds->length ? ds->length : 1) * sizeof *l->order);
    l->slots = calloc(l->depth, sizeof *l->slots);
    l->threads = calloc(cfg->num_workers ? cfg->num_workers : 1, sizeof *l->threads);
    int ok = l->order && l->slots && l->threads;
    for (int k = 0; ok && k < l->depth; k++) ok = (l->slots[k].indices = malloc(cfg->batch_size * sizeof(int64_t))) != NULL;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->work_cv, NULL);
    pthread_cond_init(&l->done_cv, NULL);
    for (int k = 0; ok && k < cfg->num_workers; k++) {
        ok = pthread_create(&l->threads[k], NULL, worker, l) == 0;
        if (ok) l->n_threads++;
    }
    if (!ok) {
        vt_loader_free(l);
        return vt_error("loader: out of memory or threads (%d workers)", cfg->num_workers), NULL;
    }
    return l;
}

/* stops the current epoch and waits for busy workers; lock held */
static void quiesce(vt_loader *l) {
    l->active = 0;
    l->generation++;
    while (l->busy) pthread_cond_wait(&l->done_cv, &l->mu);
}

vt_status vt_loader_start_epoch(vt_loader *l, int64_t epoch) {
    pthread_mutex_lock(&l->mu);
    quiesce(l);
    for (int k = 0; k < l->depth; k++) l->slots[k].state = SLOT_FREE;
    l->epoch = epoch;
    int64_t n = l->ds->length;
    if (l->cfg.shuffle) {
        vt_rng r;
        vt_rng_init(&r, mix(mix(l->cfg.seed ^ 0x5348554646ull) ^ (uint64_t)epoch));
        vt_rng_permutation(&r, l->order, n);
    } else {
        for (int64_t i = 0; i < n; i++) l->order[i] = i;
    }
    l->next_claim = l->consumed = 0;
    l->holding = l->failed = 0;
    l->active = 1;
    pthread_cond_broadcast(&l->work_cv);
    pthread_mutex_unlock(&l->mu);
    return VT_OK;
}

static int publish(vt_loader *l, slot *s, vt_batch *out) {
    l->holding = 1;
    if (s->failed) {
        l->failed = 1;
        vt_error("%s", s->msg);
        return VT_ERR;
    }
    out->image = s->image;
    out->target = s->target;
    out->indices = s->indices;
    out->size = s->size;
    out->number = l->consumed;
    return 1;
}

int vt_loader_next(vt_loader *l, vt_batch *out) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&l->mu);
    if (!l->active) {
        pthread_mutex_unlock(&l->mu);
        return vt_error("loader: vt_loader_start_epoch was not called");
    }
    if (l->holding) { /* release the batch handed out last time */
        l->slots[l->consumed % l->depth].state = SLOT_FREE;
        l->consumed++;
        l->holding = 0;
        pthread_cond_broadcast(&l->work_cv);
    }
    if (l->failed || l->consumed >= l->n_batches) {
        pthread_mutex_unlock(&l->mu);
        return 0;
    }
    slot *s = &l->slots[l->consumed % l->depth];
    if (!l->n_threads) { /* no workers: read the batch here */
        pthread_mutex_unlock(&l->mu);
        fill_batch(l, l->consumed, s);
        pthread_mutex_lock(&l->mu);
    } else {
        while (!(s->state == SLOT_READY && s->batch == l->consumed)) pthread_cond_wait(&l->done_cv, &l->mu);
    }
    int r = publish(l, s, out);
    pthread_mutex_unlock(&l->mu);
    return r;
}

void vt_loader_free(vt_loader *l) {
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    quiesce(l);
    l->stop = 1;
    pthread_cond_broadcast(&l->work_cv);
    pthread_mutex_unlock(&l->mu);
    for (int k = 0; k < l->n_threads; k++) pthread_join(l->threads[k], NULL);
    for (int k = 0; l->slots && k < l->depth; k++) {
        vt_tensor_free(l->slots[k].image);
        vt_tensor_free(l->slots[k].target);
        free(l->slots[k].indices);
    }
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->work_cv);
    pthread_cond_destroy(&l->done_cv);
    free(l->slots), free(l->threads), free(l->order), free(l);
}
