/* progress.h: the progress line of a training run: loss, metrics, images/s, ETA.
 * On a terminal it redraws one line; otherwise it prints a line every `every` steps. */
#ifndef VT_PROGRESS_H
#define VT_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef struct vt_progress {
    FILE *out;
    int tty;
    int64_t total_steps, every;
    double t_start, t_last;
    int64_t images_since_last, steps_done;
} vt_progress;

double vt_now(void); /* monotonic seconds */
void vt_progress_begin(vt_progress *p, FILE *out, int64_t total_steps, int64_t every);
/* one call per step; prints when due. extra: "acc 81.2%" or NULL */
void vt_progress_step(vt_progress *p, int epoch, int epochs, int64_t step_in_epoch,
                      int64_t steps_per_epoch, int64_t batch, double loss, const char *extra);
void vt_progress_end(vt_progress *p);
/* "1:02:03" or "2:03" */
void vt_format_duration(double seconds, char *buf, size_t n);

#endif
