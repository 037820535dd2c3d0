/* idx.c: the IDX format of (Fashion-)MNIST: big-endian magic 0x0000080D (D = dims) for
 * unsigned bytes, D big-endian u32 sizes, then the bytes. Read through gzread so .gz and
 * plain files both work. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "data.h"

#define IDX_MAX_ELEMS (1LL << 31) /* 2 GB of pixels: anything larger is corrupt here */

static int read_be32(gzFile f, uint32_t *v) {
    unsigned char b[4];
    if (gzread(f, b, 4) != 4) return -1;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    return 0;
}

/* Reads an IDX of unsigned bytes with `want_dims` dims; returns malloc'ed bytes. */
static unsigned char *idx_read(const char *path, int want_dims, uint32_t *dims, int64_t limit, int64_t *count) {
    gzFile f = gzopen(path, "rb");
    if (!f) { vt_error("%s: cannot open: %s", path, strerror(errno ? errno : ENOENT)); return NULL; }
    unsigned char *buf = NULL;
    uint32_t magic;
    if (read_be32(f, &magic) < 0) { vt_error("%s: empty or truncated IDX header", path); goto fail; }
    if ((magic >> 8) != 0x08 || (int)(magic & 0xff) != want_dims) {
        vt_error("%s: not an IDX file of %d-dim unsigned bytes (magic 0x%08x)", path, want_dims, magic);
        goto fail;
    }
    int64_t per = 1;
    for (int d = 0; d < want_dims; d++) {
        if (read_be32(f, &dims[d]) < 0) { vt_error("%s: truncated IDX header", path); goto fail; }
        if (dims[d] == 0 || (d > 0 && dims[d] > 65536)) { vt_error("%s: absurd dimension %u", path, dims[d]); goto fail; }
        if (d > 0) per *= dims[d];
    }
    int64_t n = dims[0];
    if (limit > 0 && limit < n) n = limit;
    if (n * per > IDX_MAX_ELEMS) { vt_error("%s: %lld x %lld elements is too large", path, (long long)n, (long long)per); goto fail; }
    buf = malloc((size_t)(n * per));
    if (!buf) { vt_error("%s: out of memory", path); goto fail; }
    int64_t want = n * per, got = 0;
    while (got < want) {
        int chunk = (int)((want - got) > (1 << 30) ? (1 << 30) : (want - got));
        int r = gzread(f, buf + got, (unsigned)chunk);
        if (r <= 0) break;
        got += r;
    }
    if (got != want) {
        int zerr;
        const char *msg = gzerror(f, &zerr);
        vt_error("%s: truncated data: %lld of %lld bytes%s%s", path, (long long)got, (long long)want,
                 zerr ? ": " : "", zerr ? msg : "");
        goto fail;
    }
    gzclose(f);
    *count = n;
    return buf;
fail:
    free(buf);
    gzclose(f);
    return NULL;
}

vt_tensor *vt_idx_load_images(const char *path, int64_t limit) {
    uint32_t dims[3];
    int64_t n;
    unsigned char *b = idx_read(path, 3, dims, limit, &n);
    if (!b) return NULL;
    vt_tensor *t = vt_tensor_new(VT_DIMS(n, 1, dims[1], dims[2]));
    if (t)
        for (int64_t i = 0; i < t->numel; i++) t->data[i] = b[i] / 255.f;
    free(b);
    return t;
}

vt_tensor *vt_idx_load_labels(const char *path, int64_t limit) {
    uint32_t dims[1];
    int64_t n;
    unsigned char *b = idx_read(path, 1, dims, limit, &n);
    if (!b) return NULL;
    vt_tensor *t = vt_tensor_new(VT_DIMS(n));
    if (t)
        for (int64_t i = 0; i < n; i++) t->data[i] = b[i];
    free(b);
    return t;
}
