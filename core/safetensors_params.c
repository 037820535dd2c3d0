/* safetensors_params.c: a vt_params store to and from safetensors files (API, key map and
 * the 3 -> 1 input-channel rule in safetensors.h; the format in docs/weights.md). */
#include <stdarg.h>
#include <string.h>
#include "checkpoint.h"
#include "internal.h"
#include "safetensors.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors_params.c writes floats in host order and assumes a little-endian host"
#endif

/* ---- a growing string for the JSON header ----------------------------------------------- */

typedef struct sbuf { char *s; size_t n, cap; int oom; } sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *t = realloc(b->s, cap);
        if (!t) { b->oom = 1; return; }
        b->s = t;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

static void sb_json_string(sbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { sb_put(b, "\\", 1); sb_put(b, s, 1); }
        else if (c < 0x20) sb_printf(b, "\\u%04x", c);
        else sb_put(b, s, 1);
    }
    sb_put(b, "\"", 1);
}

/* ---- writing ---------------------------------------------------------------------------- */

typedef struct name_key { const char *name; int idx; } name_key;
static int name_cmp(const void *a, const void *b) {
    return strcmp(((const name_key *)a)->name, ((const name_key *)b)->name);
}

vt_status vt_params_save_safetensors(const vt_params *p, const char *path, const char *metadata_json) {
    if (metadata_json && vt_safetensors_check_metadata_(metadata_json) != VT_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", vt_last_error());
        return vt_error("%s: metadata_json must be a JSON object of string -> string (%s)", path, msg);
    }
    int n = vt_params_count(p);
    name_key *order = malloc(sizeof *order * (size_t)(n + 1));
    const void **bufs = calloc((size_t)n + 2, sizeof *bufs);
    size_t *lens = calloc((size_t)n + 2, sizeof *lens);
    float **copies = calloc((size_t)n + 1, sizeof *copies); /* host copies of device tensors */
    sbuf h = {0};
    vt_status st = VT_OK;
    if (!order || !bufs || !lens || !copies) { st = vt_error("%s: out of memory", path); goto done; }
    for (int i = 0; i < n; i++) order[i] = (name_key){vt_params_name(p, i), i};
    qsort(order, (size_t)n, sizeof *order, name_cmp);
    sb_put(&h, "{", 1);
    if (metadata_json) {
        sb_printf(&h, "\"__metadata__\":");
        sb_put(&h, metadata_json, strlen(metadata_json));
        if (n) sb_put(&h, ",", 1);
    }
    uint64_t off = 0;
    for (int k = 0; k < n; k++) {
        const char *name = vt_params_name(p, order[k].idx);
        const vt_tensor *t = vt_params_tensor(p, order[k].idx);
        if (strcmp(name, "__metadata__") == 0) { st = vt_error("%s: a tensor may not be named __metadata__", path); goto done; }
        sb_json_string(&h, name);
        sb_printf(&h, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) sb_printf(&h, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        size_t bytes = (size_t)t->numel * sizeof(float);
        sb_printf(&h, "],\"data_offsets\":[%llu,%llu]}%s", (unsigned long long)off,
                  (unsigned long long)(off + bytes), k + 1 < n ? "," : "");
        off += bytes;
        bufs[k + 2] = t->data;
        lens[k + 2] = bytes;
        if (t->device != VT_DEV_CPU && bytes) {
            if (!(copies[k] = malloc(bytes))) { st = vt_error("%s: out of memory for '%s'", path, name); goto done; }
            vt_be(t)->to_host(copies[k], t->data, bytes);
            bufs[k + 2] = copies[k];
        }
    }
    sb_put(&h, "}", 1);
    while (h.n % 8) sb_put(&h, " ", 1); /* data starts 8-byte aligned, as the reference writer */
    if (h.oom) { st = vt_error("%s: out of memory for the header", path); goto done; }
    unsigned char len8[8];
    for (int k = 0; k < 8; k++) len8[k] = (unsigned char)((uint64_t)h.n >> (8 * k));
    bufs[0] = len8;
    lens[0] = 8;
    bufs[1] = h.s;
    lens[1] = h.n;
    st = vt_write_file_atomic(path, n + 2, bufs, lens);
done:
    for (int k = 0; copies && k < n; k++) free(copies[k]);
    free(copies);
    free(order);
    free(bufs);
    free(lens);
    free(h.s);
    return st;
}

/* ---- loading ---------------------------------------------------------------------------- */

/* the first 10 names of a category, then a count */
typedef struct name_list { char s[700]; int n; } name_list;

static void list_add(name_list *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void list_add(name_list *l, const char *fmt, ...) {
    if (l->n++ >= 10) return;
    size_t k = strlen(l->s);
    va_list ap;
    va_start(ap, fmt);
    if (k + 1 < sizeof l->s) vsnprintf(l->s + k, sizeof l->s - k, fmt, ap);
    va_end(ap);
}

static void list_append_to(sbuf *b, const char *what, const name_list *l) {
    if (!l->n) return;
    sb_printf(b, "%s%s (%d):", b->n ? "; " : "", what, l->n);
    sb_put(b, l->s, strlen(l->s));
    if (l->n > 10) sb_printf(b, " ... and %d more", l->n - 10);
}

static const char *shape_str(int ndim, const int64_t *s, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < ndim && k < n; d++) k += (size_t)snprintf(buf + k, n - k, "%s%lld", d ? ", " : "", (long long)s[d]);
    if (k < n) snprintf(buf + k, n - k, ")");
    return buf;
}

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static int skipped(const char *name, const char *const *prefixes) {
    for (; prefixes && *prefixes; prefixes++)
        if (starts_with(name, *prefixes)) return 1;
    return 0;
}

static int is_num_batches_tracked(const char *name) {
    size_t n = strlen(name), k = strlen("num_batches_tracked");
    return n >= k && strcmp(name + n - k, "num_batches_tracked") == 0 && (n == k || name[n - k - 1] == '.');
}

/* the file key after strip_prefix / add_prefix (malloc'd) */
static char *map_key(const char *key, const vt_load_options *o) {
    if (o->strip_prefix && starts_with(key, o->strip_prefix)) key += strlen(o->strip_prefix);
    const char *add = o->add_prefix ? o->add_prefix : "";
    char *m = malloc(strlen(add) + strlen(key) + 1);
    if (m) { strcpy(m, add); strcat(m, key); }
    return m;
}

enum { SAME, ADAPT_RGB_TO_GREY, MISMATCH };

/* How a file tensor of shape fs (fnd dims) fills model tensor t. */
static int shape_rule(int fnd, const int64_t *fs, const vt_tensor *t) {
    if (fnd == 0) return t->numel == 1 && t->ndim == 1 ? SAME : MISMATCH; /* torch scalars */
    if (fnd != t->ndim) return MISMATCH;
    int same = 1, rest_same = 1;
    for (int d = 0; d < fnd; d++) {
        same &= fs[d] == t->shape[d];
        if (d != 1) rest_same &= fs[d] == t->shape[d];
    }
    if (same) return SAME;
    /* conv weight (out, in, [kd,] kh, kw): RGB in the file, one channel in the model */
    if ((fnd == 4 || fnd == 5) && fs[1] == 3 && t->shape[1] == 1 && rest_same) return ADAPT_RGB_TO_GREY;
    return MISMATCH;
}

/* (out, 3, k...) -> (out, 1, k...): sum over the input channels, c = 0, 1, 2 in order */
static void sum_input_channels(const float *in, float *out, int64_t n_out, int64_t inner) {
    for (int64_t o = 0; o < n_out; o++)
        for (int64_t k = 0; k < inner; k++)
            out[o * inner + k] = in[(o * 3 + 0) * inner + k] + in[(o * 3 + 1) * inner + k] + in[(o * 3 + 2) * inner + k];
}

vt_status vt_params_load_safetensors(vt_params *p, const char *path, const vt_load_options *opt) {
    static const vt_load_options strict_default = {.strict = 1};
    const vt_load_options *o = opt ? opt : &strict_default;
    vt_load_report rep = {0};
    if (o->report) *o->report = rep;
    vt_safetensors *st = vt_safetensors_open(path);
    if (!st) return VT_ERR;
    int nf = vt_safetensors_count(st), nm = vt_params_count(p);
    int *src = malloc(sizeof *src * (size_t)(nm + 1));  /* model tensor -> file index or -1 */
    int *rule = malloc(sizeof *rule * (size_t)(nm + 1));
    float *stage = NULL, *tmp = NULL;
    name_list missing = {{0}, 0}, unexpected = {{0}, 0}, misshaped = {{0}, 0}, clash = {{0}, 0};
    sbuf msg = {0};
    vt_status r = VT_OK;
    if (!src || !rule) { r = vt_error("%s: out of memory", path); goto done; }
    for (int i = 0; i < nm; i++) src[i] = -1;

    /* 1. match every file key to a model tensor */
    char a[160], b[160];
    int64_t fs[VT_SAFETENSORS_MAX_DIMS];
    for (int f = 0; f < nf; f++) {
        char *key = map_key(vt_safetensors_name(st, f), o);
        if (!key) { r = vt_error("%s: out of memory", path); goto done; }
        int m = -1;
        for (int i = 0; i < nm && m < 0; i++)
            if (strcmp(vt_params_name(p, i), key) == 0) m = i;
        if (skipped(key, o->skip_prefixes)) rep.skipped++;
        else if (m < 0 && is_num_batches_tracked(key)) rep.ignored++;
        else if (m < 0) list_add(&unexpected, " %s", vt_safetensors_name(st, f));
        else if (src[m] >= 0) list_add(&clash, " %s and %s -> %s", vt_safetensors_name(st, src[m]), vt_safetensors_name(st, f), key);
        else {
            const vt_tensor *t = vt_params_tensor(p, m);
            int fnd = vt_safetensors_shape(st, f, fs);
            src[m] = f;
            rule[m] = shape_rule(fnd, fs, t);
            if (rule[m] == MISMATCH)
                list_add(&misshaped, " %s (file %s, model %s)", vt_safetensors_name(st, f), shape_str(fnd, fs, a, sizeof a),
                         shape_str(t->ndim, t->shape, b, sizeof b));
        }
        free(key);
    }
    for (int i = 0; i < nm; i++)
        if (src[i] < 0 && !skipped(vt_params_name(p, i), o->skip_prefixes)) list_add(&missing, " %s", vt_params_name(p, i));
    rep.missing = missing.n;
    rep.unexpected = unexpected.n;
    list_append_to(&msg, "missing", &missing);
    list_append_to(&msg, "unexpected", &unexpected);
    list_append_to(&msg, "mis-shaped", &misshaped);
    list_append_to(&msg, "two keys for one tensor", &clash);
    if (msg.oom) { r = vt_error("%s: out of memory", path); goto done; }
    if (msg.n) snprintf(rep.message, sizeof rep.message, "%s", msg.s);
    if (misshaped.n || clash.n || (o->strict && (missing.n || unexpected.n))) {
        r = vt_error("%s: weights do not match the model: %s", path, msg.s);
        goto done;
    }

    /* 2. read and convert everything into a host staging area (nothing changed yet) */
    int64_t total = 0, max_file = 0;
    for (int i = 0; i < nm; i++)
        if (src[i] >= 0) {
            total += vt_params_tensor(p, i)->numel;
            if (rule[i] == ADAPT_RGB_TO_GREY && vt_safetensors_numel(st, src[i]) > max_file) max_file = vt_safetensors_numel(st, src[i]);
        }
    stage = malloc(sizeof *stage * (size_t)(total + 1));
    tmp = malloc(sizeof *tmp * (size_t)(max_file + 1));
    if (!stage || !tmp) { r = vt_error("%s: out of memory for %lld weights", path, (long long)total); goto done; }
    int64_t off = 0;
    for (int i = 0; i < nm; i++) {
        if (src[i] < 0) continue;
        const vt_tensor *t = vt_params_tensor(p, i);
        if (rule[i] == SAME) r = vt_safetensors_read(st, src[i], stage + off, t->numel);
        else {
            r = vt_safetensors_read(st, src[i], tmp, vt_safetensors_numel(st, src[i]));
            if (r == VT_OK) sum_input_channels(tmp, stage + off, t->shape[0], t->shape[0] ? t->numel / t->shape[0] : 0);
        }
        if (r != VT_OK) goto done;
        off += t->numel;
    }

    /* 3. commit */
    off = 0;
    for (int i = 0; i < nm; i++) {
        if (src[i] < 0) continue;
        vt_tensor *t = vt_params_tensor(p, i);
        if (t->numel) vt_be(t)->from_host(t->data, stage + off, (size_t)t->numel * sizeof(float));
        off += t->numel;
        rep.loaded++;
        rep.adapted += rule[i] == ADAPT_RGB_TO_GREY;
    }
done:
    if (o->report) *o->report = rep;
    free(msg.s);
    free(stage);
    free(tmp);
    free(src);
    free(rule);
    vt_safetensors_close(st);
    return r;
}
