/* nifti_write.c: NIfTI-1 single-file writer (.nii, or gzip when the path ends in .gz),
 * little-endian, vox_offset 352, no extensions, float32 or uint8 voxels, unscaled. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "internal.h"
#include "nifti.h"

static void put_i16(unsigned char *b, int off, int v) { int16_t x = (int16_t)v; memcpy(b + off, &x, 2); }
static void put_i32(unsigned char *b, int off, int32_t v) { memcpy(b + off, &v, 4); }
static void put_f32(unsigned char *b, int off, double v) { float x = (float)v; memcpy(b + off, &x, 4); }

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The 348-byte header + 4 zero extension bytes, little-endian (written on a LE host). */
static vt_status build_header(const char *path, const vt_tensor *t, const vt_nifti_header *g, int datatype,
                              unsigned char b[352]) {
    memset(b, 0, 352);
    put_i32(b, 0, 348);
    put_i16(b, 40, t->ndim);
    for (int i = 0; i < t->ndim; i++) {
        int64_t n = t->shape[t->ndim - 1 - i];
        if (n > 32767) return vt_error("%s: dim %lld does not fit NIfTI-1 (max 32767)", path, (long long)n);
        put_i16(b, 42 + 2 * i, (int)n);
    }
    for (int i = t->ndim + 1; i < 8; i++) put_i16(b, 40 + 2 * i, 1);
    put_i16(b, 70, datatype);
    put_i16(b, 72, 8 * vt_nifti_type_size(datatype));
    put_f32(b, 108, 352);
    put_f32(b, 112, 1); /* scl_slope 1, scl_inter 0: values as stored */
    b[123] = (unsigned char)(g ? g->xyzt_units : 2); /* NIFTI_UNITS_MM */
    if (g) {
        double qfac = g->pixdim[0] == -1 ? -1 : 1;
        put_f32(b, 76, qfac);
        for (int i = 1; i < 8; i++) put_f32(b, 76 + 4 * i, i <= t->ndim ? g->pixdim[i] : 1);
        put_i16(b, 252, g->qform_code);
        put_i16(b, 254, g->sform_code);
        double q[6] = {g->quatern_b, g->quatern_c, g->quatern_d, g->qoffset_x, g->qoffset_y, g->qoffset_z};
        for (int i = 0; i < 6; i++) put_f32(b, 256 + 4 * i, q[i]);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) put_f32(b, 280 + 16 * i + 4 * j, g->srow[i][j]);
        memcpy(b + 148, g->descrip, strnlen(g->descrip, 79));
    } else { /* 1 mm voxels, identity qform and sform */
        put_f32(b, 76, 1);
        for (int i = 1; i < 8; i++) put_f32(b, 76 + 4 * i, 1);
        put_i16(b, 252, 1);
        put_i16(b, 254, 1);
        for (int i = 0; i < 3; i++) put_f32(b, 280 + 16 * i + 4 * i, 1);
    }
    memcpy(b + 344, "n+1", 4);
    return VT_OK;
}

vt_status vt_nifti_save(const char *path, const vt_tensor *t, const vt_nifti_header *geometry, int datatype) {
    if (!t) return vt_error("%s: no tensor to save", path);
    if (datatype != VT_NIFTI_FLOAT32 && datatype != VT_NIFTI_UINT8)
        return vt_error("%s: can only write float32 (16) or uint8 (2) NIfTI, not datatype %d", path, datatype);
    const uint16_t one = 1;
    if (*(const unsigned char *)&one == 0) return vt_error("%s: NIfTI writing needs a little-endian host", path);
    unsigned char hdr[352];
    if (build_header(path, t, geometry, datatype, hdr) < 0) return VT_ERR;
    size_t n = (size_t)t->numel, bytes = n * (size_t)vt_nifti_type_size(datatype);
    float *host = malloc(n * sizeof(float) + 4);
    unsigned char *out = datatype == VT_NIFTI_UINT8 ? malloc(n + 1) : NULL;
    if (!host || (datatype == VT_NIFTI_UINT8 && !out)) {
        free(host), free(out);
        return vt_error("%s: out of memory", path);
    }
    vt_be(t)->to_host(host, t->data, n * sizeof(float));
    if (out) /* masks: round, clamp to 0..255 (NaN -> 0) */
        for (size_t i = 0; i < n; i++) {
            float v = host[i];
            out[i] = !(v > 0) ? 0 : v >= 255 ? 255 : (unsigned char)lrintf(v);
        }
    const void *data = out ? (const void *)out : (const void *)host;
    /* "T": transparent (uncompressed) write through the same zlib interface */
    gzFile f = gzopen(path, ends_with(path, ".gz") ? "wb6" : "wbT");
    int ok = f != NULL;
    ok = ok && gzwrite(f, hdr, sizeof hdr) == (int)sizeof hdr;
    for (size_t done = 0; ok && done < bytes;) {
        unsigned chunk = (unsigned)(bytes - done > (1u << 30) ? (1u << 30) : bytes - done);
        ok = gzwrite(f, (const unsigned char *)data + done, chunk) == (int)chunk;
        done += chunk;
    }
    if (f && gzclose(f) != Z_OK) ok = 0;
    free(host);
    free(out);
    return ok ? VT_OK : vt_error("%s: cannot write: %s", path, strerror(errno ? errno : EIO));
}
