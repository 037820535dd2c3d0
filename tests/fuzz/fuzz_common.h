/* fuzz_common.h: what the file-format harnesses share. The readers under test take a path,
 * so each input is written to a per-process temporary file first (in $TMPDIR or /tmp). */
#ifndef VT_FUZZ_COMMON_H
#define VT_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes data[0..size) to <tmp>/vt_fuzz_<pid>_<name> and returns that path (static
 * buffer per name slot: the caller copies it if it needs two at once). NULL if the file
 * cannot be written (then the harness skips the input). */
static inline const char *vt_fuzz_write_temp(const char *name, const void *data, size_t size, char *path,
                                             size_t path_size) {
    const char *dir = getenv("TMPDIR");
    snprintf(path, path_size, "%s/vt_fuzz_%ld_%s", dir && *dir ? dir : "/tmp", (long)getpid(), name);
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    int ok = fwrite(data, 1, size, f) == size;
    if (fclose(f) != 0) ok = 0;
    return ok ? path : NULL;
}

#endif
