/* run_watch.h: what a user watches while a trainer runs: TensorBoard scalars in RUN_DIR
 * (tensorboard.h) and the PNG curves RUN_DIR/plots/ regenerated from RUN_DIR/metrics.jsonl
 * after each epoch (curves.h). Watching must never stop a run: every failure here is a
 * warning on stderr, and the calls accept a NULL writer / run folder (no-op). */
#ifndef VT_RUN_WATCH_H
#define VT_RUN_WATCH_H

#include <stdint.h>
#include "tensorboard.h"

/* A new event file in run_dir; NULL (with a warning) if it cannot be created, or run_dir is NULL. */
vt_tb_writer *vt_run_watch_open(const char *run_dir);
/* One scalar at step (= epoch); non-finite values (a metric not defined this epoch) are skipped. */
void vt_run_watch_scalar(vt_tb_writer *tb, const char *tag, int64_t step, double value);
/* run_dir/plots/curve_<field>.png for every numeric top-level field of run_dir/metrics.jsonl
 * and plots/loss.png (fields named *loss*), x = "epoch". Call after the epoch's line is flushed. */
void vt_run_watch_plots(const char *run_dir);
/* Closes the writer (NULL: nothing), warning if a write failed. */
void vt_run_watch_close(vt_tb_writer *tb);

#endif
