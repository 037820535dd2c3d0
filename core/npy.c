/* npy.c: NumPy .npy read/write (format versions 1-3, C order). Loading converts
 * f4/f8/i1/u1/i2/u2/i4/u4/i8/u8/b1 to f32; saving writes little-endian f4. */
#include <errno.h>
#include <string.h>
#include "internal.h"

#define NPY_MAX_HEADER 65536

static int parse_shape(const char *h, int *ndim, int64_t *shape) {
    const char *p = strstr(h, "'shape'");
    if (!p || !(p = strchr(p, '('))) return -1;
    p++;
    *ndim = 0;
    while (*p && *p != ')') {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 0 || *ndim >= VT_MAX_DIMS) return -1;
        shape[(*ndim)++] = v;
        p = end;
    }
    return *p == ')' ? 0 : -1;
}

vt_tensor *vt_npy_load(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { vt_error("%s: cannot open: %s", path, strerror(errno)); return NULL; }
    vt_tensor *t = NULL;
    char *hdr = NULL;
    void *raw = NULL;
    unsigned char pre[10];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        vt_error("%s: not a .npy file (bad magic)", path);
        goto done;
    }
    size_t hlen;
    if (pre[6] == 1) hlen = pre[8] | (size_t)pre[9] << 8;
    else if (pre[6] == 2 || pre[6] == 3) {
        unsigned char b[2];
        if (fread(b, 1, 2, f) != 2) { vt_error("%s: truncated header", path); goto done; }
        hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)b[0] << 16 | (size_t)b[1] << 24;
    } else { vt_error("%s: unsupported .npy version %d", path, pre[6]); goto done; }
    if (hlen > NPY_MAX_HEADER) { vt_error("%s: header of %zu bytes is absurd", path, hlen); goto done; }
    hdr = calloc(1, hlen + 1);
    if (!hdr || fread(hdr, 1, hlen, f) != hlen) { vt_error("%s: truncated header", path); goto done; }
    const char *d = strstr(hdr, "'descr'");
    char kind = 0; int size = 0, big = 0;
    /* d[1], d[2] checked before d[2], d[3] are read: the header may end right after the quote */
    if (d && (d = strchr(d + 7, '\'')) && d[1] && d[2]) {
        big = d[1] == '>';
        kind = d[2];
        size = d[3] - '0';
    }
    if (!strchr("fiub", kind) || !(size == 1 || size == 2 || size == 4 || size == 8) ||
        (kind == 'f' && size < 4) || (big && size > 1)) {
        vt_error("%s: unsupported dtype in header: %s", path, hdr);
        goto done;
    }
    if (strstr(hdr, "'fortran_order': True")) { vt_error("%s: Fortran-order arrays are not supported", path); goto done; }
    int ndim; int64_t shape[VT_MAX_DIMS];
    if (parse_shape(hdr, &ndim, shape) < 0) { vt_error("%s: bad or >%d-dim shape in header", path, VT_MAX_DIMS); goto done; }
    int64_t n = vt_shape_numel(ndim, shape);
    if (n < 0) goto done;
    /* refuse before allocating: the file must hold the data it claims */
    long here = ftell(f);
    fseek(f, 0, SEEK_END);
    long fsize = ftell(f);
    fseek(f, here, SEEK_SET);
    if (here < 0 || fsize < here || n > (fsize - here) / size) { /* n * size may overflow */
        vt_error("%s: truncated data (%lld elements expected)", path, (long long)n);
        goto done;
    }
    raw = malloc((size_t)(n ? n : 1) * (size_t)size);
    if (!raw || fread(raw, (size_t)size, (size_t)n, f) != (size_t)n) { vt_error("%s: cannot read data", path); goto done; }
    t = ndim ? vt_tensor_new(ndim, shape) : vt_tensor_new(1, (int64_t[]){1});
    if (!t) goto done;
    for (int64_t i = 0; i < n; i++) {
        const unsigned char *p = (const unsigned char *)raw + i * size;
        double v = 0;
        switch (kind) {
        case 'f': v = size == 4 ? *(const float *)p : *(const double *)p; break;
        case 'b': v = *p != 0; break;
        case 'u': v = size == 1 ? *p : size == 2 ? *(const uint16_t *)p : size == 4 ? *(const uint32_t *)p : (double)*(const uint64_t *)p; break;
        case 'i': v = size == 1 ? *(const int8_t *)p : size == 2 ? *(const int16_t *)p : size == 4 ? *(const int32_t *)p : (double)*(const int64_t *)p; break;
        }
        t->data[i] = (float)v;
    }
done:
    free(raw);
    free(hdr);
    fclose(f);
    return t;
}

vt_status vt_npy_save(const char *path, const vt_tensor *t) {
    char shape[160];
    size_t k = 0;
    for (int i = 0; i < t->ndim; i++)
        k += (size_t)snprintf(shape + k, sizeof shape - k, "%lld,%s", (long long)t->shape[i], t->ndim == 1 ? "" : " ");
    char hdr[256];
    int len = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%.*s), }",
                       (int)(t->ndim > 1 ? k - 1 : k), shape);
    int total = 10 + len + 1;
    int pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) return vt_error("%s: cannot create: %s", path, strerror(errno));
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    uint16_t hl = (uint16_t)(len + pad + 1);
    pre[8] = hl & 0xff; pre[9] = hl >> 8;
    float *host = malloc((size_t)t->numel * sizeof(float) + 4);
    int ok = host != NULL;
    if (ok) vt_be(t)->to_host(host, t->data, (size_t)t->numel * sizeof(float));
    ok = ok && fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, (size_t)len, f) == (size_t)len;
    for (int i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    ok = ok && fwrite(host, sizeof(float), (size_t)t->numel, f) == (size_t)t->numel;
    free(host);
    if (fclose(f) != 0) ok = 0;
    return ok ? VT_OK : vt_error("%s: write failed: %s", path, strerror(errno));
}
