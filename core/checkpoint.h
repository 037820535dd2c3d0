/* checkpoint.h: one file holding everything needed to resume training bit-identically.
 *
 * A vt_checkpoint is an in-memory list of named records, in a single namespace:
 *   - tensors of a vt_params store (parameters and buffers such as BN running stats),
 *     with their shapes;
 *   - generic flat float arrays (optimizer state: the caller passes vt_optim_state(o, i));
 *   - 64-bit integers (global step, epoch, data cursor, RNG seeds and offsets);
 *   - one free-form text (e.g. the run's config as key=value lines), named "text".
 * Adding a record copies its data at once (a snapshot); vt_checkpoint_save writes the
 * whole list atomically, vt_checkpoint_load reads it back and the getters copy out.
 * Format: see the byte layout at the top of checkpoint.c.
 *
 * Saving, typically after an optimizer step:
 *   vt_checkpoint *ck = vt_checkpoint_new();
 *   vt_checkpoint_add_params(ck, params);
 *   for (int i = 0; i < vt_optim_state_count(o); i++)   // "optim.momentum_buffer", ...
 *       vt_checkpoint_add_array(ck, name_i, vt_optim_state(o, i), vt_optim_state_numel(o));
 *   vt_checkpoint_set_int(ck, "optim.step", vt_optim_get_step(o));
 *   vt_checkpoint_set_int(ck, "step", step); ... "epoch", "cursor"
 *   vt_checkpoint_set_rng(ck, "rng.global", vt_rng_global());
 *   vt_checkpoint_set_rng(ck, "rng.shuffle", &epoch_start);  // shuffle stream's state
 *       // before this epoch's permutation: on resume, redraw it, then skip `cursor` batches
 *   vt_checkpoint_set_text(ck, "model=smallcnn\nlr=0.01\n");
 *   vt_checkpoint_save(ck, "run/last.vtck");  vt_checkpoint_free(ck);
 * Resuming: build the model and optimizer as before, then
 *   ck = vt_checkpoint_load(path); vt_checkpoint_restore_params(ck, params);
 *   vt_checkpoint_get_array(ck, "optim.momentum_buffer", vt_optim_state(o, 0), n); ...
 *   vt_checkpoint_get_rng(ck, "rng.global", vt_rng_global()); ...
 * Every function returns VT_ERR / NULL with a message (vt_last_error) naming the file or
 * the record and the problem; bad files never crash the loader. */
#ifndef VT_CHECKPOINT_H
#define VT_CHECKPOINT_H

#include <stdio.h>
#include "vertebra.h"

#define VT_CHECKPOINT_VERSION 1
#define VT_CHECKPOINT_MAX_NAME 255 /* bytes of a record name */

typedef struct vt_checkpoint vt_checkpoint;

vt_checkpoint *vt_checkpoint_new(void);
void vt_checkpoint_free(vt_checkpoint *ck);

/* ---- adding records (copies; a name may be used once) ----------------------------------- */
/* Every tensor of p (finalized or not) by its name, as a parameter or a buffer record.
 * Tensors on a device are copied to the host. */
vt_status vt_checkpoint_add_params(vt_checkpoint *ck, const vt_params *p);
/* n host floats (n >= 0) */
vt_status vt_checkpoint_add_array(vt_checkpoint *ck, const char *name, const float *data,
                                  int64_t n);
/* n floats living on device dev (an optimizer's state on the parameters' device) */
vt_status vt_checkpoint_add_array_on(vt_checkpoint *ck, const char *name, const float *data,
                                     int64_t n, vt_device dev);
vt_status vt_checkpoint_set_int(vt_checkpoint *ck, const char *name, int64_t value);
/* two integers "<name>.seed" and "<name>.offset" */
vt_status vt_checkpoint_set_rng(vt_checkpoint *ck, const char *name, const vt_rng *r);
/* free-form NUL-terminated text, at most one per checkpoint (replaced if set again) */
vt_status vt_checkpoint_set_text(vt_checkpoint *ck, const char *text);

/* ---- files ------------------------------------------------------------------------------ */
/* Writes "<path>.tmp.<pid>", fflush + fsync, renames it over path and fsyncs the directory.
 * On any error the file previously at path is left untouched and the temp file removed. */
vt_status vt_checkpoint_save(const vt_checkpoint *ck, const char *path);
/* NULL with an error for: missing file, wrong magic, newer format version, truncated or
 * over-long file, CRC mismatch (header or payload), decompression failure, malformed or
 * absurd records. */
vt_checkpoint *vt_checkpoint_load(const char *path);

/* ---- reading records -------------------------------------------------------------------- */
/* Copies every tensor of p from the records of the same name. All or nothing: if any
 * tensor of p has no record (missing), has a record of another shape (mis-shaped), or any
 * parameter/buffer record has no tensor in p (unexpected), nothing is copied and the error
 * lists the offending names. */
vt_status vt_checkpoint_restore_params(const vt_checkpoint *ck, vt_params *p);
/* Copies array `name` into n host floats; error if absent or of another length. */
vt_status vt_checkpoint_get_array(const vt_checkpoint *ck, const char *name, float *out,
                                  int64_t n);
vt_status vt_checkpoint_get_array_on(const vt_checkpoint *ck, const char *name, float *out,
                                     int64_t n, vt_device dev);
/* Length of array or tensor `name`, -1 if there is none. */
int64_t vt_checkpoint_numel(const vt_checkpoint *ck, const char *name);
vt_status vt_checkpoint_get_int(const vt_checkpoint *ck, const char *name, int64_t *out);
vt_status vt_checkpoint_get_rng(const vt_checkpoint *ck, const char *name, vt_rng *out);
/* The text record ("" if none); valid while ck lives. */
const char *vt_checkpoint_text(const vt_checkpoint *ck);
/* Number of records and the name of record i (for listing a checkpoint). */
int vt_checkpoint_count(const vt_checkpoint *ck);
const char *vt_checkpoint_name(const vt_checkpoint *ck, int i);

/* ---- the atomic file writer (exposed for tests and other savers) -------------------------- */
/* Writes n buffers to f, then fflush and fsync (fsync is skipped where the file type does
 * not support it). Errors name `path`. Does not close f. */
vt_status vt_write_stream(FILE *f, const char *path, int n, const void *const *bufs,
                          const size_t *lens);
/* vt_write_stream into "<path>.tmp.<pid>", rename over path, fsync the directory. */
vt_status vt_write_file_atomic(const char *path, int n, const void *const *bufs,
                               const size_t *lens);

#endif
