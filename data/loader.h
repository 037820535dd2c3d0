/* loader.h: a multi-threaded prefetching batch loader over a vt_dataset.
 *
 * N worker threads fill whole batches into a ring of queue_depth slots; the consumer takes
 * them in order. Batch contents depend only on (seed, epoch, dataset): the epoch's order is
 * a Philox permutation of (seed, epoch), and sample i's get() receives a Philox stream
 * seeded from (seed, epoch, i), so 0, 1 or 8 workers give the same bits. A batch stays
 * valid until the next vt_loader_next / vt_loader_start_epoch / vt_loader_free call.
 * Stopping early is fine: start_epoch or free discard what is in flight and join cleanly.
 * An error in get() ends the epoch: vt_loader_next returns VT_ERR with the message
 * "loader: sample <i>: <get's message>". */
#ifndef VT_LOADER_H
#define VT_LOADER_H

#include "dataset.h"

typedef struct vt_loader_config {
    int64_t batch_size;  /* >= 1 */
    int num_workers;     /* 0: samples are read in the consumer's thread */
    int queue_depth;     /* batches prepared ahead (>= 1; default 2 x workers) */
    int shuffle;         /* permute the samples every epoch */
    int drop_last;       /* drop a last batch smaller than batch_size */
    uint64_t seed;
} vt_loader_config;

void vt_loader_config_default(vt_loader_config *c); /* batch 32, 2 workers, shuffle, seed 0 */

typedef struct vt_batch {
    vt_tensor *image;       /* (n, image_shape...) heap tensor owned by the loader */
    vt_tensor *target;      /* (n, target_shape...) or NULL when the dataset has no target */
    const int64_t *indices; /* the n dataset indices of the batch */
    int64_t size;           /* n */
    int64_t number;         /* batch number within the epoch */
} vt_batch;

typedef struct vt_loader vt_loader;

/* The dataset must outlive the loader. Starts the workers (idle until an epoch starts). */
vt_loader *vt_loader_new(const vt_dataset *ds, const vt_loader_config *cfg);
/* Batches per epoch. */
int64_t vt_loader_num_batches(const vt_loader *l);
/* Begins epoch `epoch` (any order, repeatable), discarding an unfinished one. */
vt_status vt_loader_start_epoch(vt_loader *l, int64_t epoch);
/* 1: *out holds the next batch; 0: the epoch is over; VT_ERR: a get() failed (message set). */
int vt_loader_next(vt_loader *l, vt_batch *out);
/* Stops and joins the workers, frees every batch. NULL is a no-op. */
void vt_loader_free(vt_loader *l);

/* The stream a loader hands to get() for sample `index` of `epoch`. */
void vt_loader_sample_rng(uint64_t seed, int64_t epoch, int64_t index, vt_rng *out);

#endif
