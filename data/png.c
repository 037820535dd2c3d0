/* png.c: PNG reader and writer on libpng's low-level API (see png_io.h for the contract).
 *
 * libpng reports errors by longjmp to the setjmp in the calling function. Everything the
 * error path frees is either allocated before setjmp and never reassigned, or declared
 * volatile (C11 7.13.2.1: non-volatile locals changed after setjmp are indeterminate after
 * the longjmp). The error callback stores the message with vt_error itself, so nothing in
 * a local is written by libpng between setjmp and longjmp. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "checkpoint.h"
#include "internal.h"
#include "png_io.h"

#define ZLIB_MAX_RATIO 1032 /* deflate's largest possible expansion (zlib FAQ) */

#ifdef VT_HAVE_PNG
#include <png.h>
#include <setjmp.h>

int vt_png_supported(void) { return 1; }

typedef struct {
    const char *path;
    FILE *f;
} read_ctx;

/* The last warning of the current read/write: libpng often warns with the specific reason
 * ("Image width exceeds user limit") just before a generic error ("Invalid IHDR data").
 * Thread-local, not a local of the setjmp function (see the top of the file). */
static _Thread_local char last_warning[160];

/* libpng's message (+ the warning before it), prefixed by the file name; back to setjmp. */
static void on_error(png_structp png, png_const_charp msg) {
    const char *path = png_get_error_ptr(png);
    int w = last_warning[0] != 0;
    vt_error("%s: bad PNG: %s%s%s%s", path, msg, w ? " (" : "", last_warning, w ? ")" : "");
    png_longjmp(png, 1);
}
/* Ancillary-chunk problems (bad CRC in tEXt, odd iCCP) are only warnings: the pixels are fine. */
static void on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    snprintf(last_warning, sizeof last_warning, "%s", msg);
}

static void on_read(png_structp png, png_bytep out, size_t n) {
    read_ctx *c = png_get_io_ptr(png);
    if (fread(out, 1, n, c->f) != n)
        png_error(png, ferror(c->f) ? "read error" : "unexpected end of file (truncated)");
}

/* Opens path and checks the 8-byte signature; *size receives the file size. */
static FILE *open_png(const char *path, int64_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) { vt_error("%s: cannot open: %s", path, strerror(errno)); return NULL; }
    struct stat st;
    unsigned char sig[8];
    size_t got;
    if (fstat(fileno(f), &st) != 0) vt_error("%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode)) vt_error("%s: not a regular file", path);
    else if ((got = fread(sig, 1, 8, f)) == 0) vt_error("%s: empty file, not a PNG", path);
    else if (got < 8 || png_sig_cmp(sig, 0, 8)) vt_error("%s: not a PNG file (bad signature)", path);
    else { *size = st.st_size; return f; }
    fclose(f);
    return NULL;
}

static png_structp new_reader(const char *path, read_ctx *ctx, png_infop *info) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, (void *)path, on_error, on_warning);
    *info = png ? png_create_info_struct(png) : NULL;
    if (!*info) {
        png_destroy_read_struct(&png, NULL, NULL);
        vt_error("%s: out of memory (libpng)", path);
        return NULL;
    }
    last_warning[0] = 0;
    png_set_read_fn(png, ctx, on_read);
    png_set_sig_bytes(png, 8);
    /* libpng 1.6.39 allocates a text chunk by its declared length before reading it (its
     * chunk_malloc_max is not applied there): a 100-byte file declaring a 1 GB tEXt asked for
     * 1 GB (found by tests/fuzz/fuzz_png.c). The pixels never depend on the ancillary chunks
     * (no gamma / colour-profile correction, see png_io.h), so all but tRNS are skipped unread
     * into memory; unknown chunks too. */
    static const png_byte skipped[] = "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0pCAL\0pHYs\0"
                                      "sBIT\0sCAL\0sPLT\0sRGB\0sTER\0tEXt\0tIME\0zTXt";
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, skipped, (int)(sizeof skipped / 5));
    png_set_chunk_malloc_max(png, 8000000);
    png_set_chunk_cache_max(png, 1000);
    return png;
}

static void fill_info(png_structp png, png_infop pi, vt_png_info *info) {
    info->width = (int)png_get_image_width(png, pi);
    info->height = (int)png_get_image_height(png, pi);
    info->bit_depth = png_get_bit_depth(png, pi);
    info->color_type = png_get_color_type(png, pi);
    info->interlaced = png_get_interlace_type(png, pi) != PNG_INTERLACE_NONE;
}

vt_status vt_png_read_info(const char *path, vt_png_info *info) {
    int64_t size;
    FILE *f = open_png(path, &size);
    if (!f) return VT_ERR;
    read_ctx ctx = {path, f};
    png_infop pi;
    png_structp png = new_reader(path, &ctx, &pi);
    if (!png) { fclose(f); return VT_ERR; }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &pi, NULL);
        fclose(f);
        return VT_ERR;
    }
    png_read_info(png, pi);
    vt_png_info tmp;
    fill_info(png, pi, &tmp);
    if (info) *info = tmp;
    png_destroy_read_struct(&png, &pi, NULL);
    fclose(f);
    return VT_OK;
}

/* Rejects images over the value limit, and images whose filtered pixel bytes could not
 * come out of a file this small even at zlib's best ratio (a "dimension bomb"). */
static vt_status check_size(const char *path, const vt_png_info *in, int file_channels, int out_c,
                            int64_t max_values, int64_t file_size) {
    int64_t w = in->width, h = in->height, values = w * h * out_c;
    if (values > max_values)
        return vt_error("%s: %lld x %lld image with %d channel(s) = %lld values, over the limit of %lld "
                        "(vt_png_options.max_values)", path, (long long)w, (long long)h, out_c,
                        (long long)values, (long long)max_values);
    int64_t row_bytes = (w * file_channels * in->bit_depth + 7) / 8 + 1; /* + filter byte */
    if (row_bytes * h > ZLIB_MAX_RATIO * file_size + 4096)
        return vt_error("%s: declares %lld x %lld pixels (%lld bytes of pixel data), more than a %lld-byte "
                        "file can hold: corrupt or truncated", path, (long long)w, (long long)h,
                        (long long)(row_bytes * h), (long long)file_size);
    return VT_OK;
}

static inline uint32_t sample(const unsigned char *p, int k, int sixteen) {
    return sixteen ? (uint32_t)p[2 * k] << 8 | p[2 * k + 1] : p[k];
}

vt_tensor *vt_png_load(const char *path, const vt_png_options *opt, vt_png_info *out_info) {
    vt_png_options o = {0};
    if (opt) o = *opt;
    int64_t max_values = o.max_values > 0 ? o.max_values : VT_PNG_MAX_VALUES, size;
    FILE *f = open_png(path, &size);
    if (!f) return NULL;
    read_ctx ctx = {path, f};
    png_infop pi;
    png_structp png = new_reader(path, &ctx, &pi);
    if (!png) { fclose(f); return NULL; }
    /* assigned after setjmp, freed on the error path: volatile */
    unsigned char *volatile raw = NULL;
    png_bytep *volatile rows = NULL;
    vt_tensor *volatile t = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(raw);
        free(rows);
        vt_tensor_free(t);
        png_destroy_read_struct(&png, &pi, NULL);
        fclose(f);
        return NULL;
    }
    png_read_info(png, pi);
    vt_png_info info;
    fill_info(png, pi, &info);
    int colour = (info.color_type & PNG_COLOR_MASK_COLOR) != 0; /* RGB, RGBA, palette */
    int out_c = o.grey ? 1 : (o.rgb || colour) ? 3 : 1;
    if (check_size(path, &info, png_get_channels(png, pi), out_c, max_values, size) < 0) png_longjmp(png, 1);
    if (info.color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (info.color_type == PNG_COLOR_TYPE_GRAY && info.bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, pi);
    /* now 8 or 16 bits, 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA) samples per pixel */
    int ch = png_get_channels(png, pi), depth = png_get_bit_depth(png, pi), sixteen = depth == 16;
    size_t row_bytes = png_get_rowbytes(png, pi), h = (size_t)info.height, w = (size_t)info.width;
    if ((depth != 8 && depth != 16) || ch < 1 || ch > 4 || row_bytes != w * (size_t)ch * (size_t)(depth / 8))
        png_error(png, "unexpected layout after expansion");
    raw = malloc(row_bytes * h);
    rows = malloc(h * sizeof *rows);
    if (!raw || !rows) png_error(png, "out of memory");
    for (size_t y = 0; y < h; y++) rows[y] = raw + y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL); /* CRCs of the trailing chunks, IEND present */
    t = vt_tensor_new(VT_DIMS(out_c, (int64_t)h, (int64_t)w));
    if (!t) png_longjmp(png, 1);
    float scale = o.raw ? 1.f : 1.f / (sixteen ? 65535.f : 255.f);
    size_t plane = h * w, bpp = (size_t)ch * (sixteen ? 2 : 1);
    for (size_t y = 0; y < h; y++)
        for (size_t x = 0; x < w; x++) {
            const unsigned char *p = raw + y * row_bytes + x * bpp;
            size_t at = y * w + x;
            if (ch >= 3) {
                uint32_t r = sample(p, 0, sixteen), g = sample(p, 1, sixteen), b = sample(p, 2, sixteen);
                if (out_c == 1) /* PIL's L24: ITU-R 601 in 16-bit fixed point, rounded */
                    t->data[at] = (float)(((uint64_t)r * 19595 + (uint64_t)g * 38470 + (uint64_t)b * 7471 + 0x8000) >> 16) * scale;
                else {
                    t->data[at] = (float)r * scale;
                    t->data[plane + at] = (float)g * scale;
                    t->data[2 * plane + at] = (float)b * scale;
                }
            } else {
                float v = (float)sample(p, 0, sixteen) * scale;
                for (int c = 0; c < out_c; c++) t->data[c * plane + at] = v;
            }
        }
    vt_tensor *result = t;
    free(raw);
    free(rows);
    png_destroy_read_struct(&png, &pi, NULL);
    fclose(f);
    if (out_info) *out_info = info;
    return result;
}

/* ---- writer ----------------------------------------------------------------------------- */
typedef struct { unsigned char *buf; size_t len, cap; } membuf; /* heap: libpng grows it after setjmp */

static void on_write(png_structp png, png_bytep data, size_t n) {
    membuf *m = png_get_io_ptr(png);
    if (m->len + n > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + n) cap *= 2;
        unsigned char *b = realloc(m->buf, cap);
        if (!b) png_error(png, "out of memory");
        m->buf = b;
        m->cap = cap;
    }
    memcpy(m->buf + m->len, data, n);
    m->len += n;
}
static void on_flush(png_structp png) { (void)png; }

vt_status vt_png_write_u8(const char *path, const uint8_t *chw, int c, int h, int w) {
    if (!chw) return vt_error("%s: no image to write", path);
    if ((c != 1 && c != 3) || h < 1 || w < 1 || (int64_t)h * w * c > VT_PNG_MAX_VALUES)
        return vt_error("%s: cannot write a PNG of %d channel(s) x %d x %d (need C = 1 or 3, H, W >= 1, "
                        "at most %lld values)", path, c, h, w, (long long)VT_PNG_MAX_VALUES);
    size_t plane = (size_t)h * w;
    unsigned char *hwc = malloc(plane * c);
    png_bytep *rows = malloc((size_t)h * sizeof *rows);
    membuf *m = calloc(1, sizeof *m);
    png_structp png = NULL;
    png_infop pi = NULL;
    vt_status st = VT_ERR;
    if (hwc && rows && m) png = png_create_write_struct(PNG_LIBPNG_VER_STRING, (void *)path, on_error, on_warning);
    if (png) pi = png_create_info_struct(png);
    if (!pi) { vt_error("%s: out of memory", path); goto done; }
    for (size_t i = 0; i < plane; i++)
        for (int k = 0; k < c; k++) hwc[i * c + k] = chw[k * plane + i];
    for (int y = 0; y < h; y++) rows[y] = hwc + (size_t)y * w * c;
    last_warning[0] = 0;
    if (setjmp(png_jmpbuf(png))) goto done; /* message already set by on_error */
    png_set_write_fn(png, m, on_write, on_flush);
    png_set_IHDR(png, pi, (png_uint_32)w, (png_uint_32)h, 8, c == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, pi);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    const void *bufs[1] = {m->buf};
    size_t lens[1] = {m->len};
    st = vt_write_file_atomic(path, 1, bufs, lens);
done:
    if (png) png_destroy_write_struct(&png, pi ? &pi : NULL);
    if (m) free(m->buf);
    free(m);
    free(rows);
    free(hwc);
    return st;
}

#else /* no libpng */

static vt_status not_built(const char *path) {
    return vt_error("%s: PNG support was not built (install libpng-dev and rebuild; make detects it)",
                    path ? path : "(png)");
}
int vt_png_supported(void) { return 0; }
vt_status vt_png_read_info(const char *path, vt_png_info *info) { (void)info; return not_built(path); }
vt_tensor *vt_png_load(const char *path, const vt_png_options *opt, vt_png_info *info) {
    (void)opt, (void)info;
    not_built(path);
    return NULL;
}
vt_status vt_png_write_u8(const char *path, const uint8_t *chw, int c, int h, int w) {
    (void)chw, (void)c, (void)h, (void)w;
    return not_built(path);
}
#endif

vt_status vt_png_write(const char *path, const vt_tensor *t, int scale_01) {
    if (!t) return vt_error("%s: no tensor to write", path);
    int c = t->ndim == 3 ? (int)t->shape[0] : 1;
    if ((t->ndim != 2 && t->ndim != 3) || (c != 1 && c != 3) || t->numel < 1 || t->numel > VT_PNG_MAX_VALUES) {
        char s[96];
        return vt_error("%s: PNG writer needs a (C, H, W) tensor with C = 1 or 3, or (H, W); got %s", path,
                        vt_shape_str(t, s, sizeof s));
    }
    if (!vt_png_supported()) return vt_png_write_u8(path, NULL, 0, 0, 0); /* the "not built" error */
    int h = (int)t->shape[t->ndim - 2], w = (int)t->shape[t->ndim - 1];
    size_t n = (size_t)t->numel;
    float *host = malloc(n * sizeof *host);
    uint8_t *bytes = malloc(n);
    if (!host || !bytes) { free(host), free(bytes); return vt_error("%s: out of memory", path); }
    vt_be(t)->to_host(host, t->data, n * sizeof *host);
    float mul = scale_01 ? 255.f : 1.f;
    for (size_t i = 0; i < n; i++) {
        float v = host[i] * mul;
        bytes[i] = !(v > 0) ? 0 : v >= 255 ? 255 : (uint8_t)lrintf(v); /* NaN -> 0 */
    }
    vt_status st = vt_png_write_u8(path, bytes, c, h, w);
    free(host);
    free(bytes);
    return st;
}
