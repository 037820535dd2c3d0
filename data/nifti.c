/* nifti.c: NIfTI-1 (348-byte header, magic "n+1") and NIfTI-2 (540-byte header, magic
 * "n+2\0\r\n\032\n") readers, either byte order (told by sizeof_hdr), plain or gzip (gzread
 * reads both). Header first, validated; then the data, read in growing chunks so that the
 * memory held never exceeds about twice what the file actually delivered. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "nifti.h"

#define NII_MAX_VOXELS (1LL << 31)      /* 2^31 voxels (8 GB as f32): larger is corrupt here */
#define NII_MAX_OFFSET (1LL << 40)
#define NII1_SIZE 348
#define NII2_SIZE 540

/* ---- byte-order aware field access -------------------------------------------------- */
typedef struct { const unsigned char *b; int swap; } raw_hdr;

static void get_bytes(const raw_hdr *h, int off, void *out, int n) {
    unsigned char *o = out;
    for (int i = 0; i < n; i++) o[i] = h->b[off + (h->swap ? n - 1 - i : i)];
}
static int16_t get_i16(const raw_hdr *h, int off) { int16_t v; get_bytes(h, off, &v, 2); return v; }
static int32_t get_i32(const raw_hdr *h, int off) { int32_t v; get_bytes(h, off, &v, 4); return v; }
static int64_t get_i64(const raw_hdr *h, int off) { int64_t v; get_bytes(h, off, &v, 8); return v; }
static double get_f32(const raw_hdr *h, int off) { float v; get_bytes(h, off, &v, 4); return v; }
static double get_f64(const raw_hdr *h, int off) { double v; get_bytes(h, off, &v, 8); return v; }

static int host_big_endian(void) { const uint16_t one = 1; return *(const unsigned char *)&one == 0; }

int vt_nifti_type_size(int datatype) {
    switch (datatype) {
    case VT_NIFTI_UINT8: case VT_NIFTI_INT8: return 1;
    case VT_NIFTI_INT16: case VT_NIFTI_UINT16: return 2;
    case VT_NIFTI_INT32: case VT_NIFTI_UINT32: case VT_NIFTI_FLOAT32: return 4;
    case VT_NIFTI_INT64: case VT_NIFTI_UINT64: case VT_NIFTI_FLOAT64: return 8;
    default: return 0;
    }
}

static const char *unsupported_type_name(int datatype) {
    switch (datatype) {
    case 1: return "binary (1 bit)";
    case 32: case 1792: case 2048: return "complex";
    case 128: case 2304: return "RGB/RGBA";
    case 1536: return "float128";
    default: return "unknown";
    }
}

/* Fields of a NIfTI-1 header (offsets from the standard's nifti1.h). */
static void parse_v1(const raw_hdr *r, vt_nifti_header *h) {
    for (int i = 0; i < 8; i++) h->dim[i] = get_i16(r, 40 + 2 * i);
    h->datatype = get_i16(r, 70);
    h->bitpix = get_i16(r, 72);
    for (int i = 0; i < 8; i++) h->pixdim[i] = get_f32(r, 76 + 4 * i);
    double off = get_f32(r, 108);
    h->vox_offset = (isfinite(off) && off >= 0 && off < (double)NII_MAX_OFFSET && off == floor(off)) ? (int64_t)off : -1;
    h->scl_slope = get_f32(r, 112);
    h->scl_inter = get_f32(r, 116);
    h->xyzt_units = r->b[123];
    h->intent_code = get_i16(r, 68);
    memcpy(h->descrip, r->b + 148, 80);
    h->qform_code = get_i16(r, 252);
    h->sform_code = get_i16(r, 254);
    h->quatern_b = get_f32(r, 256); h->quatern_c = get_f32(r, 260); h->quatern_d = get_f32(r, 264);
    h->qoffset_x = get_f32(r, 268); h->qoffset_y = get_f32(r, 272); h->qoffset_z = get_f32(r, 276);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) h->srow[i][j] = get_f32(r, 280 + 16 * i + 4 * j);
}

/* Fields of a NIfTI-2 header (nifti2.h). */
static void parse_v2(const raw_hdr *r, vt_nifti_header *h) {
    h->datatype = get_i16(r, 12);
    h->bitpix = get_i16(r, 14);
    for (int i = 0; i < 8; i++) h->dim[i] = get_i64(r, 16 + 8 * i);
    for (int i = 0; i < 8; i++) h->pixdim[i] = get_f64(r, 104 + 8 * i);
    int64_t off = get_i64(r, 168);
    h->vox_offset = off >= 0 && off < NII_MAX_OFFSET ? off : -1;
    h->scl_slope = get_f64(r, 176);
    h->scl_inter = get_f64(r, 184);
    memcpy(h->descrip, r->b + 240, 80);
    h->qform_code = get_i32(r, 344);
    h->sform_code = get_i32(r, 348);
    h->quatern_b = get_f64(r, 352); h->quatern_c = get_f64(r, 360); h->quatern_d = get_f64(r, 368);
    h->qoffset_x = get_f64(r, 376); h->qoffset_y = get_f64(r, 384); h->qoffset_z = get_f64(r, 392);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) h->srow[i][j] = get_f64(r, 400 + 32 * i + 8 * j);
    h->xyzt_units = get_i32(r, 500);
    h->intent_code = get_i32(r, 504);
}

vt_status vt_nifti_best_affine(const char *path, vt_nifti_header *h); /* nifti_affine.c */

/* Checks everything later code relies on: dims, datatype/bitpix, vox_offset. */
static vt_status validate(const char *path, vt_nifti_header *h, int hdr_size) {
    int64_t n0 = h->dim[0];
    if (n0 < 1 || n0 > 7) return vt_error("%s: dim[0] = %lld, must be 1..7", path, (long long)n0);
    h->ndim = (int)n0;
    int64_t voxels = 1;
    for (int i = 1; i <= 7; i++) {
        if (i > h->ndim) { h->dim[i] = 1; continue; }
        if (h->dim[i] < 1)
            return vt_error("%s: dim[%d] = %lld, must be >= 1", path, i, (long long)h->dim[i]);
        if (h->dim[i] > NII_MAX_VOXELS || voxels > NII_MAX_VOXELS / h->dim[i])
            return vt_error("%s: dims give more than 2^31 voxels (dim[%d] = %lld)", path, i, (long long)h->dim[i]);
        voxels *= h->dim[i];
    }
    int size = vt_nifti_type_size(h->datatype);
    if (!size)
        return vt_error("%s: unsupported datatype %d (%s); supported: [u]int8/16/32/64, float32/64",
                        path, h->datatype, unsupported_type_name(h->datatype));
    if (h->bitpix != 8 * size)
        return vt_error("%s: bitpix %d does not match datatype %d (%d bits)", path, h->bitpix, h->datatype, 8 * size);
    if (h->vox_offset == 0 && h->version == 1) h->vox_offset = 352; /* "unset" in single files */
    if (h->vox_offset < hdr_size + 4) /* header + the 4-byte extension flag */
        return vt_error("%s: bad vox_offset (%lld): data would overlap the %d-byte header", path,
                        (long long)h->vox_offset, hdr_size);
    for (int i = 0; i < 8; i++)
        if (!isfinite(h->pixdim[i])) return vt_error("%s: pixdim[%d] is not finite", path, i);
    h->descrip[80] = 0;
    return vt_nifti_best_affine(path, h);
}

/* Reads and checks the header from an open stream; leaves it positioned after it. */
static vt_status read_header(const char *path, gzFile f, vt_nifti_header *h, int *hdr_size) {
    unsigned char b[NII2_SIZE];
    memset(h, 0, sizeof *h);
    int got = gzread(f, b, 4);
    if (got != 4) return vt_error("%s: empty or truncated NIfTI header (%d bytes)", path, got < 0 ? 0 : got);
    raw_hdr r = {b, 0};
    int32_t sz = get_i32(&r, 0);
    if (sz != NII1_SIZE && sz != NII2_SIZE) {
        r.swap = 1;
        sz = get_i32(&r, 0);
        if (sz != NII1_SIZE && sz != NII2_SIZE)
            return vt_error("%s: not a NIfTI file (sizeof_hdr is neither 348 nor 540)", path);
    }
    h->big_endian = host_big_endian() ^ r.swap;
    got = gzread(f, b + 4, (unsigned)(sz - 4));
    if (got != sz - 4)
        return vt_error("%s: truncated NIfTI header: %d of %d bytes", path, got < 0 ? 4 : got + 4, sz);
    if (sz == NII1_SIZE) {
        h->version = 1;
        if (!memcmp(b + 344, "ni1", 4))
            return vt_error("%s: two-file NIfTI (.hdr/.img, magic \"ni1\") is not supported", path);
        if (memcmp(b + 344, "n+1", 4)) return vt_error("%s: bad NIfTI-1 magic (want \"n+1\")", path);
        parse_v1(&r, h);
    } else {
        h->version = 2;
        if (!memcmp(b + 4, "ni2", 4))
            return vt_error("%s: two-file NIfTI-2 (magic \"ni2\") is not supported", path);
        if (memcmp(b + 4, "n+2\0\r\n\032\n", 8)) return vt_error("%s: bad NIfTI-2 magic (want \"n+2\")", path);
        parse_v2(&r, h);
    }
    *hdr_size = sz;
    return validate(path, h, sz);
}

vt_status vt_nifti_read_header(const char *path, vt_nifti_header *hdr) {
    gzFile f = gzopen(path, "rb");
    if (!f) return vt_error("%s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
    int hs;
    vt_status s = read_header(path, f, hdr, &hs);
    gzclose(f);
    return s;
}

/* Reads exactly n bytes into a buffer grown geometrically as data arrive: a header
 * claiming 8 GB over a 1 KB file costs 1 MB, not 8 GB, before the EOF is seen. */
static unsigned char *read_exact(const char *path, gzFile f, int64_t n) {
    int64_t cap = n < (1 << 20) ? n : (1 << 20), got = 0;
    unsigned char *buf = malloc((size_t)(cap ? cap : 1));
    if (!buf) { vt_error("%s: out of memory", path); return NULL; }
    while (got < n) {
        if (got == cap) {
            int64_t ncap = cap * 2 < n ? cap * 2 : n;
            unsigned char *nb = realloc(buf, (size_t)ncap);
            if (!nb) { free(buf); vt_error("%s: out of memory (%lld bytes)", path, (long long)ncap); return NULL; }
            buf = nb;
            cap = ncap;
        }
        int64_t want = cap - got;
        int r = gzread(f, buf + got, (unsigned)(want > (1 << 30) ? (1 << 30) : want));
        if (r <= 0) {
            int zerr;
            const char *msg = gzerror(f, &zerr);
            vt_error("%s: truncated data: %lld of %lld bytes%s%s", path, (long long)got, (long long)n,
                     zerr ? ": " : "", zerr ? msg : "");
            free(buf);
            return NULL;
        }
        got += r;
    }
    return buf;
}

/* Skips bytes (extensions) without allocating anything sized from the file. */
static vt_status skip_bytes(const char *path, gzFile f, int64_t n) {
    unsigned char tmp[4096];
    while (n > 0) {
        int r = gzread(f, tmp, (unsigned)(n > (int64_t)sizeof tmp ? (int64_t)sizeof tmp : n));
        if (r <= 0) return vt_error("%s: truncated: file ends before vox_offset", path);
        n -= r;
    }
    return VT_OK;
}

/* Raw voxel i (file byte order) as double. */
static double voxel_value(const unsigned char *p, int datatype, int swap) {
    unsigned char b[8];
    int n = vt_nifti_type_size(datatype);
    for (int i = 0; i < n; i++) b[i] = p[swap ? n - 1 - i : i];
    switch (datatype) {
    case VT_NIFTI_UINT8: return b[0];
    case VT_NIFTI_INT8: return (int8_t)b[0];
    case VT_NIFTI_INT16: { int16_t v; memcpy(&v, b, 2); return v; }
    case VT_NIFTI_UINT16: { uint16_t v; memcpy(&v, b, 2); return v; }
    case VT_NIFTI_INT32: { int32_t v; memcpy(&v, b, 4); return v; }
    case VT_NIFTI_UINT32: { uint32_t v; memcpy(&v, b, 4); return v; }
    case VT_NIFTI_FLOAT32: { float v; memcpy(&v, b, 4); return v; }
    case VT_NIFTI_INT64: { int64_t v; memcpy(&v, b, 8); return (double)v; }
    case VT_NIFTI_UINT64: { uint64_t v; memcpy(&v, b, 8); return (double)v; }
    case VT_NIFTI_FLOAT64: { double v; memcpy(&v, b, 8); return v; }
    }
    return 0;
}

/* Tensor shape: dims reversed; dims beyond the 5 vertebra supports must be 1. */
static int tensor_shape(const char *path, const vt_nifti_header *h, int64_t *shape) {
    int n = h->ndim;
    while (n > VT_MAX_DIMS && h->dim[n] == 1) n--;
    if (n > VT_MAX_DIMS) {
        vt_error("%s: %d non-trivial dims; vertebra tensors hold at most %d", path, n, VT_MAX_DIMS);
        return -1;
    }
    for (int i = 0; i < n; i++) shape[i] = h->dim[n - i];
    return n;
}

vt_tensor *vt_nifti_load(const char *path, vt_nifti_header *out_hdr) {
    gzFile f = gzopen(path, "rb");
    if (!f) { vt_error("%s: cannot open: %s", path, strerror(errno ? errno : ENOENT)); return NULL; }
    vt_nifti_header h;
    int hs;
    unsigned char *raw = NULL;
    vt_tensor *t = NULL;
    int64_t shape[VT_MAX_DIMS];
    if (read_header(path, f, &h, &hs) < 0) goto done;
    int nd = tensor_shape(path, &h, shape);
    if (nd < 0) goto done;
    double slope = h.scl_slope, inter = h.scl_inter;
    int scaled = isfinite(slope) && slope != 0;
    if (scaled && !isfinite(inter)) { vt_error("%s: valid scl_slope but scl_inter is not finite", path); goto done; }
    if (skip_bytes(path, f, h.vox_offset - hs) < 0) goto done;
    int64_t voxels = 1;
    for (int i = 1; i <= h.ndim; i++) voxels *= h.dim[i];
    int size = vt_nifti_type_size(h.datatype);
    raw = read_exact(path, f, voxels * size);
    if (!raw) goto done;
    t = vt_tensor_new(nd, shape);
    if (!t) goto done;
    int swap = h.big_endian != host_big_endian();
    for (int64_t i = 0; i < voxels; i++) {
        double v = voxel_value(raw + i * size, h.datatype, swap);
        t->data[i] = (float)(scaled ? v * slope + inter : v);
    }
    if (out_hdr) *out_hdr = h;
done:
    free(raw);
    gzclose(f);
    return t;
}
