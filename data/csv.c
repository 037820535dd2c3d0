/* csv.c: the RFC 4180 reader of csv.h. One pass over the text; unescaped fields go into one
 * pool with a NUL after each. Every field consumes at least its terminator (',', LF, CR)
 * in the input, except the very last, so the pool never exceeds the input size + 1 and is
 * allocated once; only the offset and record arrays grow. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "csv.h"

typedef struct {
    int64_t *v;
    int64_t n, cap;
} i64vec;

static int push(i64vec *a, int64_t x) {
    if (a->n == a->cap) {
        int64_t cap = a->cap ? a->cap * 2 : 256;
        int64_t *nv = realloc(a->v, (size_t)cap * sizeof *nv);
        if (!nv) return -1;
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

void vt_csv_free(vt_csv *t) {
    if (!t) return;
    free(t->name), free(t->header), free(t->cells), free(t->lines), free(t->pool);
    free(t);
}

int vt_csv_column(const vt_csv *t, const char *name) {
    for (int c = 0; t && c < t->ncols; c++)
        if (!strcmp(t->header[c], name)) return c;
    return -1;
}

int vt_csv_require_column(const vt_csv *t, const char *name) {
    int c = vt_csv_column(t, name);
    if (c >= 0) return c;
    char list[512] = "";
    size_t at = 0;
    for (int k = 0; k < t->ncols && at + 8 < sizeof list; k++)
        at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", k ? ", " : "", t->header[k]);
    if (at >= sizeof list) strcpy(list + sizeof list - 5, "...");
    vt_error("%s: no column \"%s\" (the header has: %s)", t->name, name, list);
    return -1;
}

const char *vt_csv_cell(const vt_csv *t, int64_t row, int col) {
    if (!t || row < 0 || row >= t->nrows || col < 0 || col >= t->ncols) return NULL;
    return t->cells[row * t->ncols + col];
}

/* Parser state; errors are reported with the record's (or the quote's) first line. */
typedef struct {
    const char *name, *s;
    size_t len, pos;
    int64_t line, max_field;
    char *pool;
    size_t pool_len;
} parser;

/* One field starting at p->pos, appended to the pool; leaves pos on its terminator. */
static vt_status parse_field(parser *p, int64_t record_line) {
    size_t start = p->pool_len;
    if (p->pos < p->len && p->s[p->pos] == '"') {
        int64_t quote_line = p->line;
        p->pos++;
        for (;;) {
            if (p->pos == p->len)
                return vt_error("%s:%lld: unterminated quoted field (the quote opens on this line)", p->name,
                                (long long)quote_line);
            char c = p->s[p->pos++];
            if (c == '"') {
                if (p->pos < p->len && p->s[p->pos] == '"') p->pos++; /* "" -> " */
                else break;
            } else if (c == '\n' || (c == '\r' && !(p->pos < p->len && p->s[p->pos] == '\n'))) {
                p->line++;
            } else if (c == 0) {
                return vt_error("%s:%lld: NUL byte in a field (binary file?)", p->name, (long long)p->line);
            }
            p->pool[p->pool_len++] = c;
            if ((int64_t)(p->pool_len - start) > p->max_field)
                return vt_error("%s:%lld: field longer than %lld bytes (unterminated quote?)", p->name,
                                (long long)quote_line, (long long)p->max_field);
        }
        if (p->pos < p->len && p->s[p->pos] != ',' && p->s[p->pos] != '\n' && p->s[p->pos] != '\r')
            return vt_error("%s:%lld: text after a closing quote (a quote inside a quoted field must be doubled)",
                            p->name, (long long)p->line);
    } else {
        while (p->pos < p->len) {
            char c = p->s[p->pos];
            if (c == ',' || c == '\n' || c == '\r') break;
            if (c == '"')
                return vt_error("%s:%lld: quote inside an unquoted field (quote the whole field and double the quote)",
                                p->name, (long long)record_line);
            if (c == 0) return vt_error("%s:%lld: NUL byte in a field (binary file?)", p->name, (long long)p->line);
            p->pool[p->pool_len++] = c;
            p->pos++;
            if ((int64_t)(p->pool_len - start) > p->max_field)
                return vt_error("%s:%lld: field longer than %lld bytes", p->name, (long long)record_line,
                                (long long)p->max_field);
        }
    }
    p->pool[p->pool_len++] = 0;
    return VT_OK;
}

vt_csv *vt_csv_parse(const char *name, const char *text, size_t len, const vt_csv_limits *lim) {
    int64_t max_file = lim && lim->max_file_bytes > 0 ? lim->max_file_bytes : VT_CSV_MAX_FILE;
    if ((int64_t)len > max_file) {
        vt_error("%s: %zu bytes, over the CSV size limit of %lld (vt_csv_limits.max_file_bytes)", name, len,
                 (long long)max_file);
        return NULL;
    }
    parser p = {name, text, len, 0, 1, lim && lim->max_field_bytes > 0 ? lim->max_field_bytes : VT_CSV_MAX_FIELD,
                NULL, 0};
    vt_csv *t = calloc(1, sizeof *t);
    i64vec offs = {0}, lines = {0};
    if (t) t->name = strdup(name);
    if (t && t->name) p.pool = t->pool = malloc(len + 1);
    if (!p.pool) goto oom;
    if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) p.pos = 3; /* UTF-8 BOM */
    int64_t nrec = 0;
    t->ncols = -1;
    while (p.pos < len) {
        char c = text[p.pos];
        if (c == '\n' || c == '\r') { /* blank line */
            p.pos += (c == '\r' && p.pos + 1 < len && text[p.pos + 1] == '\n') ? 2 : 1;
            p.line++;
            continue;
        }
        int64_t record_line = p.line, nfields = 0;
        for (;;) {
            if (push(&offs, (int64_t)p.pool_len) < 0) goto oom;
            if (parse_field(&p, record_line) < 0) goto fail;
            nfields++;
            if (p.pos == len) break;
            c = text[p.pos++];
            if (c == ',') continue;
            if (c == '\r' && p.pos < len && text[p.pos] == '\n') p.pos++;
            p.line++;
            break;
        }
        if (t->ncols < 0) {
            t->ncols = (int)nfields;
            if (nfields > 1 << 20) { vt_error("%s:%lld: %lld columns in the header", name, (long long)record_line, (long long)nfields); goto fail; }
        } else if (nfields != t->ncols) {
            vt_error("%s:%lld: %lld field(s), but the header has %d", name, (long long)record_line, (long long)nfields,
                     t->ncols);
            goto fail;
        } else if (push(&lines, record_line) < 0) goto oom;
        nrec++;
    }
    if (t->ncols < 0) { vt_error("%s: empty file (no header row)", name); goto fail; }
    t->nrows = nrec - 1;
    t->header = malloc((size_t)t->ncols * sizeof *t->header);
    t->cells = malloc((size_t)(t->nrows * t->ncols + 1) * sizeof *t->cells);
    t->lines = malloc((size_t)(t->nrows + 1) * sizeof *t->lines);
    if (!t->header || !t->cells || !t->lines) goto oom;
    for (int k = 0; k < t->ncols; k++) t->header[k] = t->pool + offs.v[k];
    for (int64_t i = 0; i < t->nrows * t->ncols; i++) t->cells[i] = t->pool + offs.v[t->ncols + i];
    if (t->nrows) memcpy(t->lines, lines.v, (size_t)t->nrows * sizeof *t->lines);
    for (int a = 0; a < t->ncols; a++)
        for (int b = 0; b < a; b++)
            if (t->header[a][0] && !strcmp(t->header[a], t->header[b])) {
                vt_error("%s:1: duplicate column name \"%s\" in the header", name, t->header[a]);
                goto fail;
            }
    free(offs.v), free(lines.v);
    return t;
oom:
    vt_error("%s: out of memory reading CSV", name);
fail:
    free(offs.v), free(lines.v);
    vt_csv_free(t);
    return NULL;
}

vt_csv *vt_csv_load(const char *path, const vt_csv_limits *lim) {
    int64_t max_file = lim && lim->max_file_bytes > 0 ? lim->max_file_bytes : VT_CSV_MAX_FILE;
    FILE *f = fopen(path, "rb");
    if (!f) { vt_error("%s: cannot open: %s", path, strerror(errno)); return NULL; }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > max_file) {
        vt_error("%s: %lld bytes, over the CSV size limit of %lld (vt_csv_limits.max_file_bytes)", path,
                 (long long)st.st_size, (long long)max_file);
        fclose(f);
        return NULL;
    }
    /* read up to the limit + 1 byte (pipes, growing files: no trust in st_size) */
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if ((int64_t)cap > max_file) break;
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb, cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf) { vt_error("%s: out of memory reading CSV", path); return NULL; }
    if (err) { free(buf); vt_error("%s: read error", path); return NULL; }
    vt_csv *t = vt_csv_parse(path, buf, n, lim); /* n > limit: parse reports it */
    free(buf);
    return t;
}
