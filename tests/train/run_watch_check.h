/* run_watch_check.h: the test that a trainer's run folder can be watched (train/run_watch.h):
 * a non-empty TensorBoard event file and the PNG curve `png` (e.g. "loss.png") under plots/. */
#ifndef VT_RUN_WATCH_CHECK_H
#define VT_RUN_WATCH_CHECK_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static inline void assert_run_is_watchable(const char *run_dir, const char *png) {
    DIR *d = opendir(run_dir);
    ck_assert_msg(d != NULL, "%s: cannot list", run_dir);
    char path[4096] = "";
    struct dirent *e;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "events.out.tfevents.", 20)) snprintf(path, sizeof path, "%s/%s", run_dir, e->d_name);
    closedir(d);
    struct stat sb;
    ck_assert_msg(*path && stat(path, &sb) == 0 && sb.st_size > 0, "%s: no (or an empty) events.out.tfevents.* file", run_dir);
    snprintf(path, sizeof path, "%s/plots/%s", run_dir, png);
    FILE *f = fopen(path, "rb");
    unsigned char sig[8] = {0};
    size_t got = f ? fread(sig, 1, 8, f) : 0;
    if (f) fclose(f);
    ck_assert_msg(got == 8 && !memcmp(sig, "\x89PNG\r\n\x1a\n", 8), "%s: missing or not a PNG", path);
}

#endif
