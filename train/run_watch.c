/* run_watch.c: TensorBoard scalars and per-epoch PNG curves for the trainers (run_watch.h). */
#include "run_watch.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "curves.h"

vt_tb_writer *vt_run_watch_open(const char *run_dir) {
    if (!run_dir) return NULL;
    vt_tb_writer *tb = vt_tb_open(run_dir);
    if (!tb) fprintf(stderr, "warning: no TensorBoard events: %s\n", vt_last_error());
    return tb;
}

void vt_run_watch_scalar(vt_tb_writer *tb, const char *tag, int64_t step, double value) {
    if (tb && isfinite(value) && vt_tb_scalar(tb, tag, step, (float)value) != VT_OK)
        fprintf(stderr, "warning: TensorBoard %s: %s\n", tag, vt_last_error());
}

void vt_run_watch_plots(const char *run_dir) {
    if (!run_dir) return;
    char path[4096], dir[4096];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
    snprintf(dir, sizeof dir, "%s/plots", run_dir);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) { fprintf(stderr, "warning: %s: %s\n", dir, strerror(errno)); return; }
    vt_curves *c = vt_curves_new();
    if (!c || vt_curves_load_jsonl(c, path, "epoch") != VT_OK || vt_curves_plot_all(c, dir) != VT_OK)
        fprintf(stderr, "warning: plots: %s\n", vt_last_error());
    vt_curves_free(c);
}

void vt_run_watch_close(vt_tb_writer *tb) {
    if (tb && vt_tb_close(tb) != VT_OK) fprintf(stderr, "warning: TensorBoard events: %s\n", vt_last_error());
}
