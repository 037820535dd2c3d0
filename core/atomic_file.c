/* atomic_file.c: write a file so that readers see either the old or the new version.
 *
 * The data goes to "<path>.tmp.<pid>" (same directory, so rename is atomic), is flushed and
 * fsynced, then renamed over path and the directory fsynced so the rename survives a crash.
 * Any failure (disk full, quota, EFBIG) removes the temp file and leaves path untouched. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "checkpoint.h"

/* fsync is meaningless on pipes, terminals and some devices (/dev/full): not an error */
static int fsync_unsupported(int err) { return err == EINVAL || err == ENOTSUP || err == EROFS; }

vt_status vt_write_stream(FILE *f, const char *path, int n, const void *const *bufs,
                          const size_t *lens) {
    for (int i = 0; i < n; i++)
        if (lens[i] && fwrite(bufs[i], 1, lens[i], f) != lens[i])
            return vt_error("%s: write failed: %s", path, strerror(errno ? errno : EIO));
    if (fflush(f) != 0) return vt_error("%s: write failed: %s", path, strerror(errno));
    if (fsync(fileno(f)) != 0 && !fsync_unsupported(errno))
        return vt_error("%s: fsync failed: %s", path, strerror(errno));
    return VT_OK;
}

/* fsync of the directory holding path ("." when path has no slash) */
static vt_status fsync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 1;
    if (slash && n == 0) n = 1; /* "/file" lives in "/" */
    char *dir = malloc(n + 1);
    if (!dir) return vt_error("%s: out of memory", path);
    if (slash) memcpy(dir, path, n); else dir[0] = '.';
    dir[n] = 0;
    vt_status st = VT_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) st = vt_error("%s: cannot open directory %s to fsync: %s", path, dir, strerror(errno));
    else {
        if (fsync(fd) != 0 && !fsync_unsupported(errno))
            st = vt_error("%s: fsync of directory %s failed: %s", path, dir, strerror(errno));
        close(fd);
    }
    free(dir);
    return st;
}

vt_status vt_write_file_atomic(const char *path, int n, const void *const *bufs,
                               const size_t *lens) {
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (!tmp) return vt_error("%s: out of memory", path);
    snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        vt_status st = vt_error("%s: cannot create temp file %s: %s", path, tmp, strerror(errno));
        free(tmp);
        return st;
    }
    errno = 0;
    vt_status st = vt_write_stream(f, path, n, bufs, lens);
    if (fclose(f) != 0 && st == VT_OK) st = vt_error("%s: write failed on close: %s", path, strerror(errno));
    if (st == VT_OK && rename(tmp, path) != 0)
        st = vt_error("%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
    if (st != VT_OK) { unlink(tmp); free(tmp); return st; }
    free(tmp);
    return fsync_dir(path);
}
