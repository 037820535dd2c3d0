/* progress.c: progress line (see progress.h). */
#include <time.h>
#include <unistd.h>
#include "progress.h"

double vt_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void vt_format_duration(double s, char *buf, size_t n) {
    long t = s < 0 ? 0 : (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

void vt_progress_begin(vt_progress *p, FILE *out, int64_t total_steps, int64_t every) {
    p->out = out;
    p->tty = isatty(fileno(out));
    p->total_steps = total_steps;
    p->every = every > 0 ? every : 100;
    p->t_start = p->t_last = vt_now();
    p->images_since_last = 0;
    p->steps_done = 0;
}

void vt_progress_step(vt_progress *p, int epoch, int epochs, int64_t step, int64_t steps_per_epoch,
                      int64_t batch, double loss, const char *extra) {
    p->steps_done++;
    p->images_since_last += batch;
    int last = step == steps_per_epoch;
    if (!last && p->steps_done % (p->tty ? 10 : p->every) != 0) return;
    double now = vt_now(), dt = now - p->t_last;
    double rate = dt > 0 ? (double)p->images_since_last / dt : 0;
    double per_step = (now - p->t_start) / (double)p->steps_done;
    char eta[32];
    vt_format_duration(per_step * (double)(p->total_steps - p->steps_done), eta, sizeof eta);
    fprintf(p->out, "%sepoch %d/%d step %lld/%lld loss %.4f%s%s %.0f img/s ETA %s%s",
            p->tty ? "\r\033[K" : "", epoch, epochs, (long long)step, (long long)steps_per_epoch,
            loss, extra ? " " : "", extra ? extra : "", rate, eta, p->tty ? "" : "\n");
    fflush(p->out);
    p->t_last = now;
    p->images_since_last = 0;
}

void vt_progress_end(vt_progress *p) {
    if (p->tty) fputc('\n', p->out);
    fflush(p->out);
}
