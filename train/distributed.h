/* distributed.h: data-parallel training across processes (OpenMPI on CPU).
 *
 * Every rank holds the whole model. Each step the global batch of the epoch permutation
 * (drawn identically on every rank from the shared seed) is cut into one contiguous shard
 * per rank; each rank runs forward/backward on its shard, then one MPI_Allreduce over the
 * flat gradient buffer (vt_params_grads) turns the local gradients into the gradient of
 * the whole global batch. Optimizer steps are then identical on every rank.
 *
 * Processes are distributed only when started by a launcher (mpirun sets
 * OMPI_COMM_WORLD_SIZE / PMIX_RANK / PMI_SIZE): a plain `vertebra ...` never touches MPI,
 * and every function below is then the single-process identity (rank 0 of 1).
 * Built without MPI (no mpicc at build time), vt_dist_init refuses to run under a launcher
 * with more than one process ("built without MPI") instead of training N copies.
 * See docs/multiprocess.md for batch norm, determinism and resume across rank counts. */
#ifndef VT_DISTRIBUTED_H
#define VT_DISTRIBUTED_H

#include <stdint.h>
#include "vertebra.h"

/* 1 when compiled with MPI (-DVT_HAVE_MPI) */
int vt_dist_built_with_mpi(void);

/* Joins the job when started under a launcher (MPI_Init_thread, MPI_THREAD_FUNNELED: only
 * the main thread calls MPI, OpenMP workers never do). Idempotent. */
vt_status vt_dist_init(int *argc, char ***argv);
/* MPI_Finalize if vt_dist_init initialised MPI; safe to call always. */
void vt_dist_finalize(void);

int vt_dist_rank(void);    /* 0 when not distributed */
int vt_dist_size(void);    /* 1 when not distributed */
int vt_dist_is_root(void); /* rank 0: the only rank that prints, logs and checkpoints */

/* This rank's shard of a global batch of m samples: rows [*offset, *offset + *count) of
 * it. Contiguous, disjoint, covering, balanced (counts differ by at most one, lower ranks
 * get the extra ones); a rank may get 0 rows of a tiny last batch. */
void vt_dist_shard(int64_t m, int rank, int size, int64_t *offset, int64_t *count);

/* Gradient all-reduce. On entry each rank's vt_params_grads holds the gradient of its mean
 * loss over local_n samples; on return every rank holds the gradient of the mean loss over
 * the global batch: sum_r (local_n_r / global_n) * grad_r (with equal shards: the average).
 * A rank with local_n == 0 contributes zeros (its grads are ignored). */
vt_status vt_dist_allreduce_grads(vt_params *p, int64_t local_n, int64_t global_n);

/* In place sum over ranks of n doubles (losses, counts, flags). */
vt_status vt_dist_allreduce_sum(double *v, int n);

/* Rank 0's parameter values and buffers (e.g. batch-norm running stats) to every rank. */
vt_status vt_dist_broadcast_params(vt_params *p);
/* Rank 0's buffers only (running stats at checkpoint time; values are already equal). */
vt_status vt_dist_broadcast_buffers(vt_params *p);
/* Rank 0's n floats to every rank (optimizer state after a resume). */
vt_status vt_dist_broadcast_floats(float *v, int64_t n);

/* vt_evaluate_accuracy (classify.h) over the whole of (x, y), each rank evaluating its
 * shard of the rows; the same fraction on every rank. The model must be equal on every
 * rank (after vt_dist_broadcast_buffers for batch-norm running stats). */
double vt_dist_evaluate_accuracy(void *model, vt_tensor *(*forward)(void *, vt_tensor *, int),
                                 const vt_tensor *x, const vt_tensor *y, int batch);

#endif
