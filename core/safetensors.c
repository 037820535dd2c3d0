/* safetensors.c: the safetensors reader (format, checks and API in safetensors.h).
 *
 * open reads the 8-byte length and the JSON header, parses it with a small strict JSON
 * parser that knows only the shapes safetensors uses (an object of objects with a string,
 * an integer array and a two-integer array; "__metadata__" an object of strings), and
 * validates every entry against the file size before anything is allocated from it.
 * Tensor bytes are read later, 64 KB at a time, and converted to f32. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "internal.h"
#include "safetensors.h"

#define MAX_DIM ((uint64_t)1 << 40)   /* a larger dimension is absurd (and overflows) */
#define MAX_JSON_INT ((uint64_t)1 << 53) /* integers JSON readers agree on */
#define CHUNK 65536

typedef struct dtype_info { const char *name; int size; } dtype_info;
enum { F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, N_DTYPES };
static const dtype_info DTYPES[N_DTYPES] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2},
    {"I8", 1}, {"U64", 8}, {"U32", 4}, {"U16", 2}, {"U8", 1}, {"BOOL", 1}};

typedef struct st_entry {
    char *name;
    int dtype, ndim;
    int64_t shape[VT_SAFETENSORS_MAX_DIMS];
    int64_t numel;
    uint64_t begin, end; /* byte offsets in the data buffer */
} st_entry;

struct vt_safetensors {
    char *path;
    FILE *f;
    uint64_t data_start, data_size; /* data buffer: file bytes [data_start, +data_size) */
    st_entry *e;
    int n, cap;
    int *by_name; /* entry indices sorted by name, for find */
    char **meta;  /* key0, value0, key1, value1, ... */
    int n_meta, meta_cap;
};

/* ---- the JSON parser -------------------------------------------------------------------- */

typedef struct jp {
    const char *s;
    size_t n, i;
    const char *path; /* for messages */
} jp;

static vt_status jerr(const jp *j, const char *what) {
    return vt_error("%s: bad safetensors header: %s at byte %zu of %zu", j->path, what, j->i, j->n);
}

static void ws(jp *j) {
    while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' || j->s[j->i] == '\r')) j->i++;
}

static int peek(jp *j) { ws(j); return j->i < j->n ? (unsigned char)j->s[j->i] : -1; }

static vt_status expect(jp *j, char c) {
    if (peek(j) != c) {
        char what[40];
        snprintf(what, sizeof what, "expected '%c'", c);
        return jerr(j, what);
    }
    j->i++;
    return VT_OK;
}

static int hex4(const char *s, uint32_t *v) {
    *v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}

static size_t put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 0x3f)); o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A JSON string, decoded to a new NUL-terminated UTF-8 string (no NUL inside). */
static vt_status parse_string(jp *j, char **out) {
    *out = NULL;
    if (expect(j, '"') != VT_OK) return VT_ERR;
    size_t start = j->i, end = start;
    while (end < j->n && j->s[end] != '"') end += j->s[end] == '\\' ? 2 : 1;
    if (end >= j->n) return jerr(j, "unterminated string");
    char *o = malloc(end - start + 1); /* decoding never grows a string */
    if (!o) return vt_error("%s: out of memory", j->path);
    size_t k = 0;
    while (j->i < end) {
        unsigned char c = (unsigned char)j->s[j->i];
        if (c < 0x20) { free(o); return jerr(j, "control character in string"); }
        if (c != '\\') { o[k++] = (char)c; j->i++; continue; }
        char e = j->s[j->i + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) { o[k++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"]; j->i += 2; continue; }
        uint32_t cp, lo;
        if (e != 'u' || j->i + 6 > end || hex4(j->s + j->i + 2, &cp) < 0) { free(o); return jerr(j, "bad escape in string"); }
        j->i += 6;
        if (cp >= 0xd800 && cp < 0xdc00) { /* high surrogate: a low one must follow */
            if (j->i + 6 > end || j->s[j->i] != '\\' || j->s[j->i + 1] != 'u' || hex4(j->s + j->i + 2, &lo) < 0 ||
                lo < 0xdc00 || lo > 0xdfff) { free(o); return jerr(j, "unpaired surrogate in string"); }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            j->i += 6;
        } else if (cp >= 0xdc00 && cp < 0xe000) { free(o); return jerr(j, "unpaired surrogate in string"); }
        if (cp == 0) { free(o); return jerr(j, "NUL character in string"); }
        k += put_utf8(o + k, cp);
    }
    j->i = end + 1;
    o[k] = 0;
    *out = o;
    return VT_OK;
}

/* A non-negative JSON integer (no sign, fraction or exponent), at most 2^53. */
static vt_status parse_uint(jp *j, uint64_t *v) {
    int c = peek(j);
    if (c == '-') return jerr(j, "negative number");
    if (c < '0' || c > '9') return jerr(j, "expected a non-negative integer");
    if (c == '0' && j->i + 1 < j->n && j->s[j->i + 1] >= '0' && j->s[j->i + 1] <= '9') return jerr(j, "number with a leading zero");
    *v = 0;
    while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') {
        *v = *v * 10 + (uint64_t)(j->s[j->i++] - '0');
        if (*v > MAX_JSON_INT) return jerr(j, "integer too large");
    }
    if (j->i < j->n && strchr(".eE", j->s[j->i])) return jerr(j, "expected an integer, got a fraction or exponent");
    return VT_OK;
}

/* '[' uint (',' uint)* ']' with at most max values; returns the count in *n. */
static vt_status parse_uint_array(jp *j, uint64_t *v, int max, int *n) {
    *n = 0;
    if (expect(j, '[') != VT_OK) return VT_ERR;
    if (peek(j) == ']') { j->i++; return VT_OK; }
    for (;;) {
        if (*n == max) return jerr(j, "too many values in array");
        if (parse_uint(j, &v[(*n)++]) != VT_OK) return VT_ERR;
        int c = peek(j);
        j->i++;
        if (c == ']') return VT_OK;
        if (c != ',') { j->i--; return jerr(j, "expected ',' or ']' in array"); }
    }
}

/* ---- header contents -------------------------------------------------------------------- */

static vt_status add_meta(vt_safetensors *st, char *key, char *val) {
    if (st->n_meta == st->meta_cap) {
        int cap = st->meta_cap ? st->meta_cap * 2 : 8;
        char **m = realloc(st->meta, sizeof *m * 2 * (size_t)cap);
        if (!m) { free(key); free(val); return vt_error("%s: out of memory", st->path); }
        st->meta = m;
        st->meta_cap = cap;
    }
    st->meta[2 * st->n_meta] = key;
    st->meta[2 * st->n_meta + 1] = val;
    st->n_meta++;
    return VT_OK;
}

/* '{' (string ':' string (',' ...)*)? '}'; pairs go to st (NULL: validate only) */
static vt_status parse_metadata(jp *j, vt_safetensors *st) {
    if (expect(j, '{') != VT_OK) return VT_ERR;
    if (peek(j) == '}') { j->i++; return VT_OK; }
    for (;;) {
        char *k = NULL, *v = NULL;
        if (parse_string(j, &k) != VT_OK) return VT_ERR;
        if (expect(j, ':') != VT_OK) { free(k); return VT_ERR; }
        if (peek(j) != '"') { free(k); return jerr(j, "__metadata__ values must be strings"); }
        if (parse_string(j, &v) != VT_OK) { free(k); return VT_ERR; }
        if (st) {
            if (vt_safetensors_metadata(st, k)) {
                vt_status r = vt_error("%s: bad safetensors header: duplicate __metadata__ key '%s'", j->path, k);
                free(k); free(v);
                return r;
            }
            if (add_meta(st, k, v) != VT_OK) return VT_ERR;
        } else { free(k); free(v); }
        int c = peek(j);
        j->i++;
        if (c == '}') return VT_OK;
        if (c != ',') { j->i--; return jerr(j, "expected ',' or '}' in __metadata__"); }
    }
}

vt_status vt_safetensors_check_metadata_(const char *json) {
    jp j = {json, strlen(json), 0, "metadata"};
    if (parse_metadata(&j, NULL) != VT_OK) return VT_ERR;
    if (peek(&j) != -1) return jerr(&j, "trailing characters after the metadata object");
    return VT_OK;
}

static int dtype_of(const char *s) {
    for (int d = 0; d < N_DTYPES; d++)
        if (strcmp(s, DTYPES[d].name) == 0) return d;
    return -1;
}

/* {"dtype": .., "shape": [..], "data_offsets": [b, e]} in any order, nothing else. */
static vt_status parse_info(jp *j, st_entry *e) {
    if (peek(j) != '{') return vt_error("%s: bad safetensors header: tensor '%s' is not an object (byte %zu)", j->path, e->name, j->i);
    j->i++;
    int seen = 0;
    for (;;) {
        char *k = NULL;
        if (parse_string(j, &k) != VT_OK) return VT_ERR;
        int field = strcmp(k, "dtype") == 0 ? 1 : strcmp(k, "shape") == 0 ? 2 : strcmp(k, "data_offsets") == 0 ? 4 : 0;
        if (!field || seen & field) {
            vt_status r = vt_error("%s: bad safetensors header: tensor '%s': %s field '%s'", j->path, e->name,
                                   field ? "duplicate" : "unknown", k);
            free(k);
            return r;
        }
        free(k);
        seen |= field;
        if (expect(j, ':') != VT_OK) return VT_ERR;
        if (field == 1) {
            char *d = NULL;
            if (parse_string(j, &d) != VT_OK) return VT_ERR;
            e->dtype = dtype_of(d);
            if (e->dtype < 0) {
                vt_status r = vt_error("%s: tensor '%s': unsupported dtype '%s' (supported: F32 F16 BF16 F64 I64 I32 I16 I8 U64 U32 U16 U8 BOOL)",
                                       j->path, e->name, d);
                free(d);
                return r;
            }
            free(d);
        } else if (field == 2) {
            uint64_t v[VT_SAFETENSORS_MAX_DIMS];
            if (parse_uint_array(j, v, VT_SAFETENSORS_MAX_DIMS, &e->ndim) != VT_OK) return VT_ERR;
            e->numel = 1;
            for (int d = 0; d < e->ndim; d++) {
                if (v[d] > MAX_DIM)
                    return vt_error("%s: tensor '%s': shape dim %d = %llu is absurd", j->path, e->name, d, (unsigned long long)v[d]);
                e->shape[d] = (int64_t)v[d];
                if (__builtin_mul_overflow(e->numel, e->shape[d], &e->numel) || e->numel > (INT64_MAX >> 4))
                    return vt_error("%s: tensor '%s': shape has too many elements", j->path, e->name);
            }
        } else {
            uint64_t v[2];
            int n;
            if (parse_uint_array(j, v, 2, &n) != VT_OK) return VT_ERR;
            if (n != 2) return vt_error("%s: bad safetensors header: tensor '%s': data_offsets needs 2 values, has %d", j->path, e->name, n);
            e->begin = v[0];
            e->end = v[1];
        }
        int c = peek(j);
        j->i++;
        if (c == '}') break;
        if (c != ',') { j->i--; return jerr(j, "expected ',' or '}' in tensor entry"); }
    }
    if (seen != 7)
        return vt_error("%s: bad safetensors header: tensor '%s' lacks %s", j->path, e->name,
                        !(seen & 1) ? "\"dtype\"" : !(seen & 2) ? "\"shape\"" : "\"data_offsets\"");
    return VT_OK;
}

static vt_status parse_header(vt_safetensors *st, const char *h, size_t n) {
    jp j = {h, n, 0, st->path};
    int have_meta = 0;
    if (expect(&j, '{') != VT_OK) return VT_ERR;
    if (peek(&j) == '}') j.i++;
    else
        for (;;) {
            char *key = NULL;
            if (parse_string(&j, &key) != VT_OK) return VT_ERR;
            if (expect(&j, ':') != VT_OK) { free(key); return VT_ERR; }
            if (strcmp(key, "__metadata__") == 0) {
                free(key);
                if (have_meta++) return jerr(&j, "duplicate __metadata__");
                if (parse_metadata(&j, st) != VT_OK) return VT_ERR;
            } else {
                if (st->n == st->cap) {
                    int cap = st->cap ? st->cap * 2 : 64;
                    st_entry *e = realloc(st->e, sizeof *e * (size_t)cap);
                    if (!e) { free(key); return vt_error("%s: out of memory", st->path); }
                    st->e = e;
                    st->cap = cap;
                }
                st_entry *e = &st->e[st->n++];
                memset(e, 0, sizeof *e);
                e->name = key;
                if (parse_info(&j, e) != VT_OK) return VT_ERR;
            }
            int c = peek(&j);
            j.i++;
            if (c == '}') break;
            if (c != ',') { j.i--; return jerr(&j, "expected ',' or '}' after a tensor entry"); }
        }
    if (peek(&j) != -1) return jerr(&j, "trailing characters after the header object");
    return VT_OK;
}

/* ---- validation ------------------------------------------------------------------------- */

/* sort keys carrying their entry index (no global context: open may run on many threads) */
typedef struct name_key { const char *name; int idx; } name_key;
typedef struct offset_key { uint64_t begin, end; int idx; } offset_key;

static int by_name_cmp(const void *a, const void *b) {
    return strcmp(((const name_key *)a)->name, ((const name_key *)b)->name);
}

static int by_offset_cmp(const void *a, const void *b) {
    const offset_key *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

static vt_status validate(vt_safetensors *st) {
    for (int i = 0; i < st->n; i++) {
        const st_entry *e = &st->e[i];
        if (e->begin > e->end || e->end > st->data_size)
            return vt_error("%s: tensor '%s': data_offsets [%llu, %llu] are outside the data buffer of %llu bytes",
                            st->path, e->name, (unsigned long long)e->begin, (unsigned long long)e->end,
                            (unsigned long long)st->data_size);
        uint64_t want = (uint64_t)e->numel * (uint64_t)DTYPES[e->dtype].size;
        if (e->end - e->begin != want)
            return vt_error("%s: tensor '%s': %lld elements of %s need %llu bytes, data_offsets [%llu, %llu] give %llu",
                            st->path, e->name, (long long)e->numel, DTYPES[e->dtype].name, (unsigned long long)want,
                            (unsigned long long)e->begin, (unsigned long long)e->end, (unsigned long long)(e->end - e->begin));
    }
    size_t n = (size_t)(st->n ? st->n : 1);
    name_key *names = malloc(sizeof *names * n);
    offset_key *order = malloc(sizeof *order * n);
    st->by_name = malloc(sizeof *st->by_name * n);
    if (!names || !order || !st->by_name) { free(names); free(order); return vt_error("%s: out of memory", st->path); }
    for (int i = 0; i < st->n; i++) {
        names[i] = (name_key){st->e[i].name, i};
        order[i] = (offset_key){st->e[i].begin, st->e[i].end, i};
    }
    qsort(names, (size_t)st->n, sizeof *names, by_name_cmp);
    qsort(order, (size_t)st->n, sizeof *order, by_offset_cmp);
    for (int i = 0; i < st->n; i++) st->by_name[i] = names[i].idx;
    free(names);
    vt_status r = VT_OK;
    for (int i = 1; i < st->n && r == VT_OK; i++)
        if (strcmp(st->e[st->by_name[i]].name, st->e[st->by_name[i - 1]].name) == 0)
            r = vt_error("%s: bad safetensors header: duplicate tensor name '%s'", st->path, st->e[st->by_name[i]].name);
    /* empty tensors occupy no bytes; every other one must start at or after the end of the
     * previous one in offset order */
    uint64_t prev_end = 0;
    int prev = -1;
    for (int k = 0; k < st->n && r == VT_OK; k++) {
        const st_entry *e = &st->e[order[k].idx];
        if (e->begin == e->end) continue;
        if (prev >= 0 && e->begin < prev_end)
            r = vt_error("%s: tensors '%s' and '%s' overlap (data_offsets [%llu, %llu] and [%llu, %llu])", st->path,
                         st->e[prev].name, e->name, (unsigned long long)st->e[prev].begin, (unsigned long long)prev_end,
                         (unsigned long long)e->begin, (unsigned long long)e->end);
        prev = order[k].idx;
        prev_end = e->end;
    }
    free(order);
    return r;
}

/* ---- open / close ----------------------------------------------------------------------- */

void vt_safetensors_close(vt_safetensors *st) {
    if (!st) return;
    if (st->f) fclose(st->f);
    for (int i = 0; i < st->n; i++) free(st->e[i].name);
    for (int i = 0; i < 2 * st->n_meta; i++) free(st->meta[i]);
    free(st->e);
    free(st->by_name);
    free(st->meta);
    free(st->path);
    free(st);
}

vt_safetensors *vt_safetensors_open(const char *path) {
    vt_safetensors *st = calloc(1, sizeof *st);
    char *hdr = NULL;
    if (!st || !(st->path = strdup(path))) { vt_error("%s: out of memory", path); goto fail; }
    if (!(st->f = fopen(path, "rb"))) { vt_error("%s: cannot open safetensors file: %s", path, strerror(errno)); goto fail; }
    struct stat sb;
    if (fstat(fileno(st->f), &sb) != 0) { vt_error("%s: cannot stat: %s", path, strerror(errno)); goto fail; }
    if (S_ISDIR(sb.st_mode)) { vt_error("%s: is a directory, not a safetensors file", path); goto fail; }
    uint64_t fsize = (uint64_t)sb.st_size;
    unsigned char len8[8];
    if (fsize < 8 || fread(len8, 1, 8, st->f) != 8) {
        vt_error("%s: not a safetensors file: %llu bytes, too short for the 8-byte header length", path, (unsigned long long)fsize);
        goto fail;
    }
    uint64_t hlen = 0;
    for (int k = 7; k >= 0; k--) hlen = hlen << 8 | len8[k];
    if (hlen > VT_SAFETENSORS_MAX_HEADER) {
        vt_error("%s: not a safetensors file: header length %llu exceeds the %u-byte limit", path, (unsigned long long)hlen, VT_SAFETENSORS_MAX_HEADER);
        goto fail;
    }
    if (hlen > fsize - 8) {
        vt_error("%s: truncated safetensors file: header length %llu is larger than the %llu bytes after it", path,
                 (unsigned long long)hlen, (unsigned long long)(fsize - 8));
        goto fail;
    }
    if (hlen < 2) { vt_error("%s: not a safetensors file: header of %llu bytes", path, (unsigned long long)hlen); goto fail; }
    if (!(hdr = malloc((size_t)hlen + 1))) { vt_error("%s: out of memory for a %llu-byte header", path, (unsigned long long)hlen); goto fail; }
    if (fread(hdr, 1, (size_t)hlen, st->f) != hlen) { vt_error("%s: read failed in the header", path); goto fail; }
    hdr[hlen] = 0;
    if (hdr[0] != '{') { vt_error("%s: not a safetensors file: header does not start with '{'", path); goto fail; }
    st->data_start = 8 + hlen;
    st->data_size = fsize - st->data_start;
    if (parse_header(st, hdr, (size_t)hlen) != VT_OK || validate(st) != VT_OK) goto fail;
    free(hdr);
    return st;
fail:
    free(hdr);
    vt_safetensors_close(st);
    return NULL;
}

/* ---- queries ---------------------------------------------------------------------------- */

int vt_safetensors_count(const vt_safetensors *st) { return st->n; }
const char *vt_safetensors_name(const vt_safetensors *st, int i) { return i >= 0 && i < st->n ? st->e[i].name : NULL; }
const char *vt_safetensors_dtype(const vt_safetensors *st, int i) { return i >= 0 && i < st->n ? DTYPES[st->e[i].dtype].name : NULL; }
int64_t vt_safetensors_numel(const vt_safetensors *st, int i) { return i >= 0 && i < st->n ? st->e[i].numel : -1; }

int vt_safetensors_shape(const vt_safetensors *st, int i, int64_t *shape) {
    if (i < 0 || i >= st->n) return -1;
    memcpy(shape, st->e[i].shape, sizeof(int64_t) * (size_t)st->e[i].ndim);
    return st->e[i].ndim;
}

int vt_safetensors_find(const vt_safetensors *st, const char *name) {
    int lo = 0, hi = st->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(st->e[st->by_name[mid]].name, name);
        if (c == 0) return st->by_name[mid];
        if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
}

int vt_safetensors_metadata_count(const vt_safetensors *st) { return st->n_meta; }
const char *vt_safetensors_metadata_key(const vt_safetensors *st, int i) {
    return i >= 0 && i < st->n_meta ? st->meta[2 * i] : NULL;
}
const char *vt_safetensors_metadata(const vt_safetensors *st, const char *key) {
    for (int i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta[2 * i], key) == 0) return st->meta[2 * i + 1];
    return NULL;
}

/* ---- conversion to f32 ------------------------------------------------------------------ */

static uint64_t le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; k--) v = v << 8 | p[k];
    return v;
}

static float bits_f32(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }

static float half_f32(uint32_t h) {
    uint32_t sign = (h & 0x8000u) << 16, exp = h >> 10 & 0x1f, mant = h & 0x3ff;
    if (exp == 0x1f) return bits_f32(sign | 0x7f800000u | mant << 13); /* inf, nan */
    if (exp) return bits_f32(sign | (exp + 112) << 23 | mant << 13);     /* rebias 15 -> 127 */
    float v = (float)mant * 0x1p-24f;                                    /* zero, subnormal */
    return sign ? -v : v;
}

static void convert(int dtype, const unsigned char *src, float *dst, size_t n) {
    int size = DTYPES[dtype].size;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (dtype == F32) { memcpy(dst, src, n * 4); return; } /* the common case, no per-element work */
#endif
    for (size_t i = 0; i < n; i++, src += size) {
        uint64_t v = le(src, size);
        double d;
        switch (dtype) {
        case F64: { memcpy(&d, &v, 8); dst[i] = (float)d; break; }
        case F32: dst[i] = bits_f32((uint32_t)v); break;
        case F16: dst[i] = half_f32((uint32_t)v); break;
        case BF16: dst[i] = bits_f32((uint32_t)v << 16); break;
        case I64: dst[i] = (float)(int64_t)v; break;
        case I32: dst[i] = (float)(int32_t)(uint32_t)v; break;
        case I16: dst[i] = (float)(int16_t)(uint16_t)v; break;
        case I8: dst[i] = (float)(int8_t)(uint8_t)v; break;
        case BOOL: dst[i] = v != 0; break;
        default: dst[i] = (float)v; break; /* U64 .. U8 */
        }
    }
}

vt_status vt_safetensors_read(vt_safetensors *st, int i, float *out, int64_t n) {
    if (i < 0 || i >= st->n) return vt_error("%s: no tensor %d", st->path, i);
    const st_entry *e = &st->e[i];
    if (n != e->numel)
        return vt_error("%s: tensor '%s' has %lld elements, %lld requested", st->path, e->name, (long long)e->numel, (long long)n);
    int size = DTYPES[e->dtype].size;
    if (fseeko(st->f, (off_t)(st->data_start + e->begin), SEEK_SET) != 0)
        return vt_error("%s: tensor '%s': seek failed: %s", st->path, e->name, strerror(errno));
    unsigned char *buf = malloc(CHUNK);
    if (!buf) return vt_error("%s: out of memory", st->path);
    int64_t per = CHUNK / size, done = 0;
    while (done < n) {
        int64_t k = n - done < per ? n - done : per;
        if (fread(buf, (size_t)size, (size_t)k, st->f) != (size_t)k) {
            free(buf);
            return vt_error("%s: tensor '%s': read failed (file truncated since it was opened?)", st->path, e->name);
        }
        convert(e->dtype, buf, out + done, (size_t)k);
        done += k;
    }
    free(buf);
    return VT_OK;
}

vt_tensor *vt_safetensors_get(vt_safetensors *st, const char *name) {
    int i = vt_safetensors_find(st, name);
    if (i < 0) { vt_error("%s: no tensor '%s'", st->path, name); return NULL; }
    const st_entry *e = &st->e[i];
    if (e->ndim > VT_MAX_DIMS) {
        vt_error("%s: tensor '%s' has %d dims, vertebra tensors have at most %d", st->path, name, e->ndim, VT_MAX_DIMS);
        return NULL;
    }
    vt_tensor *t = e->ndim ? vt_tensor_new(e->ndim, e->shape) : vt_tensor_new(VT_DIMS(1));
    if (!t) return NULL;
    if (vt_safetensors_read(st, i, t->data, e->numel) != VT_OK) { vt_tensor_free(t); return NULL; }
    return t;
}
