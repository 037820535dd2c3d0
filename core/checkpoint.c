/* checkpoint.c: training checkpoints (API and usage in checkpoint.h).
 *
 * File layout, all integers little-endian:
 *
 *   offset  size  field
 *   ------  ----  --------------------------------------------------------------------
 *        0     8  magic 89 'V' 'T' 'C' 'K' 0D 0A 1A (PNG-style: catches text-mode damage)
 *        8     4  u32 format version (1; a larger one is refused as "newer")
 *       12     4  u32 flags, 0 (reserved)
 *       16     8  u64 raw_size: payload bytes after decompression
 *       24     8  u64 zsize: compressed payload bytes; the file is exactly 40 + zsize long
 *       32     4  u32 zlib crc32 of the compressed payload
 *       36     4  u32 zlib crc32 of header bytes 0..35
 *       40 zsize  payload, one zlib stream (compress2, level 1: floats barely compress)
 *
 * The raw payload is a sequence of records until its end (no count: the sizes and CRCs
 * above already guard against truncation):
 *
 *   size        field
 *   ----------  ----------------------------------------------------------------------
 *   1           u8 kind: 1 parameter, 2 buffer, 3 float array, 4 integer, 5 text
 *   1           u8 ndim: 1..5 for kinds 1-3 (1 for arrays), 0 otherwise
 *   2           u16 name length L, 1..255
 *   L           name bytes (no NUL), unique within the file
 *   kinds 1-3:  i64 shape[ndim], then f32 data[prod(shape)] (IEEE-754, C order)
 *   kind 4:     u64 value (int64 two's complement, or an RNG seed/offset)
 *   kind 5:     u64 length n, then n bytes of text (at most one text record)
 *
 * Loading checks, before allocating anything, that zsize matches the file size and that
 * raw_size is at most what deflate can expand zsize to (1032:1); every record is bounds
 * checked against the bytes left, so a hostile file gives an error, never a crash. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "checkpoint.h"
#include "internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint.c stores floats in host order and assumes a little-endian host"
#endif

#define HEADER_SIZE 40
#define MAX_DEFLATE_RATIO 1032u
static const unsigned char MAGIC[8] = {0x89, 'V', 'T', 'C', 'K', 0x0D, 0x0A, 0x1A};

enum { REC_PARAM = 1, REC_BUFFER = 2, REC_ARRAY = 3, REC_INT = 4, REC_TEXT = 5 };

/* One record: its bytes live in the checkpoint's payload buffer at data_off. */
typedef struct record {
    char *name;
    int kind, ndim;
    int64_t shape[VT_MAX_DIMS];
    int64_t numel;      /* floats (kinds 1-3) or text bytes (kind 5) */
    size_t data_off;    /* first float / text byte in buf */
    uint64_t value;     /* kind 4 */
} record;

struct vt_checkpoint {
    unsigned char *buf; /* the raw payload, exactly as written / read */
    size_t len, cap;
    record *rec;
    int n, rec_cap;
    char *text;         /* NUL-terminated copy of the text record, NULL if none */
};

vt_checkpoint *vt_checkpoint_new(void) {
    vt_checkpoint *ck = calloc(1, sizeof *ck);
    if (!ck) vt_error("checkpoint: out of memory");
    return ck;
}

void vt_checkpoint_free(vt_checkpoint *ck) {
    if (!ck) return;
    for (int i = 0; i < ck->n; i++) free(ck->rec[i].name);
    free(ck->rec);
    free(ck->buf);
    free(ck->text);
    free(ck);
}

static const record *find(const vt_checkpoint *ck, const char *name) {
    for (int i = 0; i < ck->n; i++)
        if (strcmp(ck->rec[i].name, name) == 0) return &ck->rec[i];
    return NULL;
}

/* ---- building the payload ------------------------------------------------------------- */

/* room for `more` bytes at the end of buf; returns the write position or NULL */
static unsigned char *grow(vt_checkpoint *ck, size_t more) {
    if (ck->len + more > ck->cap) {
        size_t cap = ck->cap ? ck->cap : 4096;
        while (cap < ck->len + more) cap *= 2;
        unsigned char *b = realloc(ck->buf, cap);
        if (!b) { vt_error("checkpoint: out of memory for %zu bytes", cap); return NULL; }
        ck->buf = b; ck->cap = cap;
    }
    unsigned char *at = ck->buf + ck->len;
    ck->len += more;
    return at;
}

static void put_le(unsigned char *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Adds a record to the index (its bytes are already in buf at data_off). */
static record *index_record(vt_checkpoint *ck, int kind, const char *name, int ndim,
                            const int64_t *shape, int64_t numel, size_t data_off) {
    if (find(ck, name)) { vt_error("duplicate record name '%s'", name); return NULL; }
    if (ck->n == ck->rec_cap) {
        int cap = ck->rec_cap ? ck->rec_cap * 2 : 32;
        record *r = realloc(ck->rec, sizeof *r * (size_t)cap);
        if (!r) { vt_error("out of memory"); return NULL; }
        ck->rec = r; ck->rec_cap = cap;
    }
    char *nm = strdup(name);
    if (!nm) { vt_error("out of memory"); return NULL; }
    record *r = &ck->rec[ck->n++];
    *r = (record){.name = nm, .kind = kind, .ndim = ndim, .numel = numel, .data_off = data_off};
    for (int d = 0; d < ndim; d++) r->shape[d] = shape[d];
    return r;
}

/* Appends a record head (kind, ndim, name, shape) plus `body` bytes for the caller to fill
 * and indexes it. Returns the body's position, NULL on error (nothing appended). */
static unsigned char *append(vt_checkpoint *ck, int kind, const char *name, int ndim,
                             const int64_t *shape, int64_t numel, size_t body) {
    size_t nl = name ? strlen(name) : 0;
    if (nl == 0 || nl > VT_CHECKPOINT_MAX_NAME) {
        vt_error("checkpoint: record name '%s' must have 1..%d bytes", name ? name : "(null)", VT_CHECKPOINT_MAX_NAME);
        return NULL;
    }
    size_t old_len = ck->len, head = 4 + nl + 8 * (size_t)ndim;
    unsigned char *p = grow(ck, head + body);
    if (!p) return NULL;
    if (!index_record(ck, kind, name, ndim, shape, numel, old_len + head)) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", vt_last_error());
        vt_error("checkpoint: %s", msg);
        ck->len = old_len;
        return NULL;
    }
    p[0] = (unsigned char)kind;
    p[1] = (unsigned char)ndim;
    put_le(p + 2, nl, 2);
    memcpy(p + 4, name, nl);
    for (int d = 0; d < ndim; d++) put_le(p + 4 + nl + 8 * d, (uint64_t)shape[d], 8);
    return p + head;
}

vt_status vt_checkpoint_add_params(vt_checkpoint *ck, const vt_params *p) {
    for (int i = 0; i < vt_params_count(p); i++) {
        const vt_tensor *t = vt_params_tensor(p, i);
        int kind = vt_params_is_buffer(p, i) ? REC_BUFFER : REC_PARAM;
        size_t bytes = (size_t)t->numel * sizeof(float);
        unsigned char *d = append(ck, kind, vt_params_name(p, i), t->ndim, t->shape, t->numel, bytes);
        if (!d) return VT_ERR;
        if (bytes) vt_be(t)->to_host(d, t->data, bytes);
    }
    return VT_OK;
}

vt_status vt_checkpoint_add_array_on(vt_checkpoint *ck, const char *name, const float *data,
                                     int64_t n, vt_device dev) {
    if (n < 0 || (n > 0 && !data)) return vt_error("checkpoint: array '%s': bad length %lld or NULL data", name, (long long)n);
    size_t bytes = (size_t)n * sizeof(float);
    unsigned char *d = append(ck, REC_ARRAY, name, 1, &n, n, bytes);
    if (!d) return VT_ERR;
    if (bytes) vt_backend_get(dev)->to_host(d, data, bytes);
    return VT_OK;
}

vt_status vt_checkpoint_add_array(vt_checkpoint *ck, const char *name, const float *data, int64_t n) {
    return vt_checkpoint_add_array_on(ck, name, data, n, VT_DEV_CPU);
}

vt_status vt_checkpoint_set_int(vt_checkpoint *ck, const char *name, int64_t value) {
    unsigned char *d = append(ck, REC_INT, name, 0, NULL, 0, 8);
    if (!d) return VT_ERR;
    put_le(d, (uint64_t)value, 8);
    ck->rec[ck->n - 1].value = (uint64_t)value;
    return VT_OK;
}

static void rng_names(const char *name, char *seed, char *offset, size_t n) {
    snprintf(seed, n, "%s.seed", name);
    snprintf(offset, n, "%s.offset", name);
}

vt_status vt_checkpoint_set_rng(vt_checkpoint *ck, const char *name, const vt_rng *r) {
    char s[VT_CHECKPOINT_MAX_NAME + 16], o[VT_CHECKPOINT_MAX_NAME + 16];
    if (strlen(name) > VT_CHECKPOINT_MAX_NAME - 7) return vt_error("checkpoint: rng name '%s' too long", name);
    rng_names(name, s, o, sizeof s);
    if (vt_checkpoint_set_int(ck, s, (int64_t)r->seed) != VT_OK) return VT_ERR;
    return vt_checkpoint_set_int(ck, o, (int64_t)r->offset);
}

static vt_status set_text_copy(vt_checkpoint *ck, const char *text, size_t n) {
    if (ck->text) return vt_error("checkpoint: more than one text record");
    if (!(ck->text = malloc(n + 1))) return vt_error("checkpoint: out of memory for %zu bytes of text", n);
    memcpy(ck->text, text, n);
    ck->text[n] = 0;
    return VT_OK;
}

vt_status vt_checkpoint_set_text(vt_checkpoint *ck, const char *text) {
    if (ck->text) return vt_error("checkpoint: the text record is already set");
    size_t n = strlen(text);
    unsigned char *d = append(ck, REC_TEXT, "text", 0, NULL, (int64_t)n, 8 + n);
    if (!d) return VT_ERR;
    put_le(d, n, 8);
    memcpy(d + 8, text, n);
    ck->rec[ck->n - 1].data_off += 8;
    return set_text_copy(ck, text, n);
}

/* ---- files ----------------------------------------------------------------------------- */

vt_status vt_checkpoint_save(const vt_checkpoint *ck, const char *path) {
    uLong bound = compressBound((uLong)ck->len);
    unsigned char *z = malloc(bound ? bound : 1);
    if (!z) return vt_error("%s: out of memory compressing %zu bytes", path, ck->len);
    uLongf zlen = bound;
    if (compress2(z, &zlen, ck->buf ? ck->buf : (const Bytef *)"", (uLong)ck->len, 1) != Z_OK) {
        free(z);
        return vt_error("%s: zlib compression failed", path);
    }
    unsigned char h[HEADER_SIZE];
    memcpy(h, MAGIC, 8);
    put_le(h + 8, VT_CHECKPOINT_VERSION, 4);
    put_le(h + 12, 0, 4);
    put_le(h + 16, ck->len, 8);
    put_le(h + 24, zlen, 8);
    put_le(h + 32, crc32_z(0L, z, zlen), 4);
    put_le(h + 36, crc32(0L, h, 36), 4);
    vt_status st = vt_write_file_atomic(path, 2, (const void *const[]){h, z}, (const size_t[]){HEADER_SIZE, zlen});
    free(z);
    return st;
}

/* Indexes the records of ck->buf[0..len); errors name path. */
static vt_status parse(vt_checkpoint *ck, const char *path) {
    size_t pos = 0;
    while (pos < ck->len) {
        const unsigned char *p = ck->buf + pos;
        size_t left = ck->len - pos;
        int idx = ck->n;
        if (left < 4) return vt_error("%s: record %d: truncated head", path, idx);
        int kind = p[0], ndim = p[1];
        size_t nl = (size_t)get_le(p + 2, 2);
        if (kind < REC_PARAM || kind > REC_TEXT) return vt_error("%s: record %d: unknown kind %d", path, idx, kind);
        if (nl == 0) return vt_error("%s: record %d: empty name", path, idx);
        if (nl > left - 4) return vt_error("%s: record %d: truncated name (%zu bytes)", path, idx, nl);
        char name[VT_CHECKPOINT_MAX_NAME + 1];
        memcpy(name, p + 4, nl);
        name[nl] = 0;
        if (strlen(name) != nl) return vt_error("%s: record %d: name contains a NUL byte", path, idx);
        int tensor = kind <= REC_ARRAY;
        if (tensor ? (ndim < 1 || ndim > VT_MAX_DIMS || (kind == REC_ARRAY && ndim != 1)) : ndim != 0)
            return vt_error("%s: record '%s': bad ndim %d for kind %d", path, name, ndim, kind);
        size_t head = 4 + nl + 8 * (size_t)ndim;
        if (head > left) return vt_error("%s: record '%s': truncated shape", path, name);
        left -= head;
        int64_t shape[VT_MAX_DIMS], numel = 1;
        size_t body;
        if (tensor) {
            for (int d = 0; d < ndim; d++) {
                uint64_t v = get_le(p + 4 + nl + 8 * d, 8);
                /* each factor and the running product must fit in the bytes left */
                if (v > left / 4 || (v && (uint64_t)numel > left / 4 / v))
                    return vt_error("%s: record '%s': shape dim %d = %llu is absurd for the %zu bytes left",
                                    path, name, d, (unsigned long long)v, left);
                shape[d] = (int64_t)v;
                numel *= (int64_t)v;
            }
            body = (size_t)numel * 4;
        } else {
            if (left < 8) return vt_error("%s: record '%s': truncated value", path, name);
            uint64_t v = get_le(p + head, 8);
            if (kind == REC_TEXT && v > left - 8)
                return vt_error("%s: record '%s': text of %llu bytes is longer than the %zu bytes left",
                                path, name, (unsigned long long)v, left - 8);
            numel = kind == REC_TEXT ? (int64_t)v : 0;
            body = 8 + (kind == REC_TEXT ? (size_t)v : 0);
        }
        if (body > left) return vt_error("%s: record '%s': truncated data", path, name);
        if (kind == REC_TEXT && ck->text) return vt_error("%s: more than one text record", path);
        record *r = index_record(ck, kind, name, ndim, shape, numel, pos + head);
        if (!r) {
            char msg[300];
            snprintf(msg, sizeof msg, "%s", vt_last_error());
            return vt_error("%s: %s", path, msg);
        }
        if (kind == REC_INT) r->value = get_le(p + head, 8);
        if (kind == REC_TEXT && set_text_copy(ck, (const char *)p + head + 8, (size_t)numel) != VT_OK)
            return VT_ERR;
        pos += head + body;
    }
    return VT_OK;
}

vt_checkpoint *vt_checkpoint_load(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { vt_error("%s: cannot open checkpoint: %s", path, strerror(errno)); return NULL; }
    vt_checkpoint *ck = NULL;
    unsigned char *z = NULL;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) { vt_error("%s: cannot stat: %s", path, strerror(errno)); goto fail; }
    if (S_ISDIR(sb.st_mode)) { vt_error("%s: is a directory, not a checkpoint", path); goto fail; }
    uint64_t fsize = (uint64_t)sb.st_size;
    unsigned char h[HEADER_SIZE];
    size_t got = fread(h, 1, HEADER_SIZE, f);
    if (got < 8 || memcmp(h, MAGIC, 8) != 0) {
        vt_error("%s: not a vertebra checkpoint (%s)", path, got < 8 ? "file too short" : "bad magic");
        goto fail;
    }
    if (got < 12) { vt_error("%s: truncated header (%zu of %d bytes)", path, got, HEADER_SIZE); goto fail; }
    uint32_t version = (uint32_t)get_le(h + 8, 4);
    if (version > VT_CHECKPOINT_VERSION) {
        vt_error("%s: checkpoint format version %u is newer than this vertebra reads (%d)", path, version, VT_CHECKPOINT_VERSION);
        goto fail;
    }
    if (version == 0) { vt_error("%s: invalid checkpoint format version 0", path); goto fail; }
    if (got < HEADER_SIZE) { vt_error("%s: truncated header (%zu of %d bytes)", path, got, HEADER_SIZE); goto fail; }
    if (crc32(0L, h, 36) != (uint32_t)get_le(h + 36, 4)) { vt_error("%s: header CRC mismatch (corrupt header)", path); goto fail; }
    if (get_le(h + 12, 4) != 0) { vt_error("%s: unknown header flags 0x%x", path, (unsigned)get_le(h + 12, 4)); goto fail; }
    uint64_t raw = get_le(h + 16, 8), zsize = get_le(h + 24, 8);
    if (zsize != fsize - HEADER_SIZE) {
        vt_error("%s: %s: header promises %llu payload bytes, file has %llu", path,
                 zsize > fsize - HEADER_SIZE ? "truncated file" : "trailing bytes after payload",
                 (unsigned long long)zsize, (unsigned long long)(fsize - HEADER_SIZE));
        goto fail;
    }
    if (raw > zsize * MAX_DEFLATE_RATIO + 64 || raw > (uint64_t)SIZE_MAX / 2) {
        vt_error("%s: absurd uncompressed size %llu for %llu compressed bytes", path,
                 (unsigned long long)raw, (unsigned long long)zsize);
        goto fail;
    }
    z = malloc(zsize ? (size_t)zsize : 1);
    if (!z) { vt_error("%s: out of memory for %llu bytes", path, (unsigned long long)zsize); goto fail; }
    if (fread(z, 1, (size_t)zsize, f) != zsize) { vt_error("%s: read failed (file changed while reading?)", path); goto fail; }
    if (crc32_z(0L, z, (size_t)zsize) != (uint32_t)get_le(h + 32, 4)) {
        vt_error("%s: payload CRC mismatch (corrupt file)", path);
        goto fail;
    }
    if (!(ck = vt_checkpoint_new())) goto fail;
    ck->buf = malloc(raw ? (size_t)raw : 1);
    if (!ck->buf) { vt_error("%s: out of memory for %llu bytes", path, (unsigned long long)raw); goto fail; }
    ck->cap = (size_t)raw;
    uLongf out = (uLongf)raw;
    int zr = uncompress(ck->buf, &out, z, (uLong)zsize);
    if (zr != Z_OK || out != raw) {
        vt_error("%s: decompression failed (%s)", path, zr != Z_OK ? zError(zr) : "size differs from header");
        goto fail;
    }
    ck->len = (size_t)raw;
    if (parse(ck, path) != VT_OK) goto fail;
    free(z);
    fclose(f);
    return ck;
fail:
    vt_checkpoint_free(ck);
    free(z);
    fclose(f);
    return NULL;
}

/* ---- reading records ------------------------------------------------------------------- */

/* appends to an error list, keeping it NUL-terminated and bounded */
static void list_add(char *s, size_t n, const char *fmt, const char *a, const char *b, const char *c) {
    size_t k = strlen(s);
    if (k + 1 < n) snprintf(s + k, n - k, fmt, a, b, c);
}

static const char *shape_of(const record *r, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < r->ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, "%lld%s", (long long)r->shape[d], d + 1 < r->ndim ? ", " : "");
    if (k < n) snprintf(buf + k, n - k, ")");
    return buf;
}

vt_status vt_checkpoint_restore_params(const vt_checkpoint *ck, vt_params *p) {
    char missing[512] = "", misshaped[512] = "", unexpected[512] = "", a[96], b[96];
    for (int i = 0; i < vt_params_count(p); i++) {
        const vt_tensor *t = vt_params_tensor(p, i);
        const char *name = vt_params_name(p, i);
        const record *r = find(ck, name);
        if (!r || (r->kind != REC_PARAM && r->kind != REC_BUFFER)) {
            list_add(missing, sizeof missing, " %s%s%s", name, "", "");
            continue;
        }
        int same = r->ndim == t->ndim;
        for (int d = 0; same && d < t->ndim; d++) same = r->shape[d] == t->shape[d];
        if (!same) {
            vt_shape_str(t, a, sizeof a);
            list_add(misshaped, sizeof misshaped, " %s (file %s, model %s)", name, shape_of(r, b, sizeof b), a);
        }
    }
    for (int i = 0; i < ck->n; i++) {
        const record *r = &ck->rec[i];
        if ((r->kind == REC_PARAM || r->kind == REC_BUFFER) && !vt_params_find(p, r->name))
            list_add(unexpected, sizeof unexpected, " %s%s%s", r->name, "", "");
    }
    if (missing[0] || misshaped[0] || unexpected[0])
        return vt_error("checkpoint: parameters do not match the model:%s%s%s%s%s%s",
                        missing[0] ? " missing:" : "", missing, misshaped[0] ? "; mis-shaped:" : "",
                        misshaped, unexpected[0] ? "; unexpected:" : "", unexpected);
    for (int i = 0; i < vt_params_count(p); i++) {
        vt_tensor *t = vt_params_tensor(p, i);
        const record *r = find(ck, vt_params_name(p, i));
        if (t->numel) vt_be(t)->from_host(t->data, ck->buf + r->data_off, (size_t)t->numel * sizeof(float));
    }
    return VT_OK;
}

vt_status vt_checkpoint_get_array_on(const vt_checkpoint *ck, const char *name, float *out,
                                     int64_t n, vt_device dev) {
    const record *r = find(ck, name);
    if (!r || r->kind > REC_ARRAY) return vt_error("checkpoint: no array '%s'", name);
    if (r->numel != n)
        return vt_error("checkpoint: array '%s' has %lld elements, %lld expected", name, (long long)r->numel, (long long)n);
    if (n) vt_backend_get(dev)->from_host(out, ck->buf + r->data_off, (size_t)n * sizeof(float));
    return VT_OK;
}

vt_status vt_checkpoint_get_array(const vt_checkpoint *ck, const char *name, float *out, int64_t n) {
    return vt_checkpoint_get_array_on(ck, name, out, n, VT_DEV_CPU);
}

int64_t vt_checkpoint_numel(const vt_checkpoint *ck, const char *name) {
    const record *r = find(ck, name);
    return r && r->kind <= REC_ARRAY ? r->numel : -1;
}

vt_status vt_checkpoint_get_int(const vt_checkpoint *ck, const char *name, int64_t *out) {
    const record *r = find(ck, name);
    if (!r || r->kind != REC_INT) return vt_error("checkpoint: no integer '%s'", name);
    *out = (int64_t)r->value;
    return VT_OK;
}

vt_status vt_checkpoint_get_rng(const vt_checkpoint *ck, const char *name, vt_rng *out) {
    char s[VT_CHECKPOINT_MAX_NAME + 16], o[VT_CHECKPOINT_MAX_NAME + 16];
    rng_names(name, s, o, sizeof s);
    int64_t seed = 0, offset = 0;
    if (vt_checkpoint_get_int(ck, s, &seed) != VT_OK || vt_checkpoint_get_int(ck, o, &offset) != VT_OK)
        return vt_error("checkpoint: no rng state '%s'", name);
    out->seed = (uint64_t)seed;
    out->offset = (uint64_t)offset;
    return VT_OK;
}

const char *vt_checkpoint_text(const vt_checkpoint *ck) { return ck->text ? ck->text : ""; }

int vt_checkpoint_count(const vt_checkpoint *ck) { return ck->n; }
const char *vt_checkpoint_name(const vt_checkpoint *ck, int i) {
    return i >= 0 && i < ck->n ? ck->rec[i].name : NULL;
}
