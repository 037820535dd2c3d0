/* run_state.h: the state of a training run in one checkpoint file (core/checkpoint.h):
 * model parameters and buffers, optimizer state and step, the epoch and the batch cursor
 * within it, the global random stream and the shuffle stream as it was before the epoch's
 * permutation (a resumed run redraws the same permutation and skips `cursor` samples). */
#ifndef VT_RUN_STATE_H
#define VT_RUN_STATE_H

#include "optim.h"
#include "vertebra.h"

/* epoch: the 1-based epoch to continue; cursor: samples of it already done (global samples,
 * so that another rank count or batch size can resume; classify.c, docs/multiprocess.md) */
vt_status vt_run_save(const char *path, const vt_params *p, vt_optim *o, int epoch,
                      int64_t cursor, const vt_rng *shuffle_epoch_start);
vt_status vt_run_resume(const char *path, vt_params *p, vt_optim *o, int *epoch,
                        int64_t *cursor, vt_rng *shuffle_epoch_start);

#endif
