/* config.c: INI-like run configuration declared by a schema (config.h).
 *
 * Every key of the schema has one entry holding its parsed value and where it came from.
 * Parsing works line by line on a bounded copy-free view of the text: no line is ever
 * copied into a fixed buffer without a length check, so long lines, NUL bytes and binary
 * garbage end in an error message, never in a crash (tests/fuzz/fuzz_config.c). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "checkpoint.h"

typedef struct entry {
    const vt_cfg_key *key;
    char *str;           /* STRING value; ENUM: the choice name once asked for */
    int64_t i;           /* INT, BOOL, ENUM index */
    double f;            /* FLOAT */
    int64_t *list;       /* INT_LIST */
    int n_list;
    char *source;        /* "default", "FILE:LINE", "--set" */
    int line_this_parse; /* line where the current file set it (duplicate check), 0: not yet */
    int was_set;         /* by a file or an override (required check) */
} entry;

struct vt_config {
    const vt_cfg_key *schema;
    int n;
    entry *e;
};

/* ---- small helpers ------------------------------------------------------------------ */

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static const char *type_name(vt_cfg_type t) {
    switch (t) {
    case VT_CFG_STRING: return "string";
    case VT_CFG_INT: return "int";
    case VT_CFG_FLOAT: return "float";
    case VT_CFG_BOOL: return "bool";
    case VT_CFG_ENUM: return "enum";
    case VT_CFG_INT_LIST: return "int list";
    }
    return "?";
}

static int ranged(const vt_cfg_key *k) { return k->min < k->max; }

/* "[optim] lr" or "lr" for the top-level section, for messages */
static void key_label(const vt_cfg_key *k, char *buf, size_t n) {
    if (k->section[0]) snprintf(buf, n, "'%s' in [%s]", k->name, k->section);
    else snprintf(buf, n, "'%s'", k->name);
}

/* Levenshtein distance of a[0..na) and b, capped at 99 (inputs up to a line long). */
static int edit_distance(const char *a, size_t na, const char *b) {
    size_t nb = strlen(b);
    if (na > 64 || nb > 64) return 99;
    int row[65];
    for (size_t j = 0; j <= nb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int up = row[j];
            int sub = diag + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            int best = sub < up + 1 ? sub : up + 1;
            row[j] = best < row[j - 1] + 1 ? best : row[j - 1] + 1;
            diag = up;
        }
    }
    return row[nb];
}

static int close_enough(int dist, size_t len) { return dist <= (len < 6 ? 1 : len < 12 ? 2 : 3); }

/* ---- value parsing -------------------------------------------------------------------- */

static int parse_int(const char *v, int64_t *out) {
    if (!*v) return 0;
    errno = 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || isspace((unsigned char)*v)) return 0;
    *out = x;
    return 1;
}

static int out_of_range(const vt_cfg_key *k, double x) { return ranged(k) && (x < k->min || x > k->max); }

/* Parses v (NUL-terminated, trimmed) as key k's type into tmp; on failure writes a message
 * (without location) to err. */
static int parse_value(const vt_cfg_key *k, const char *v, entry *tmp, char *err, size_t n) {
    char label[160];
    key_label(k, label, sizeof label);
    switch (k->type) {
    case VT_CFG_STRING:
        tmp->str = strdup(v);
        return tmp->str != NULL;
    case VT_CFG_INT:
        if (!parse_int(v, &tmp->i)) {
            snprintf(err, n, "bad int '%.60s' for %s", v, label);
            return 0;
        }
        if (out_of_range(k, (double)tmp->i)) {
            snprintf(err, n, "%s = %.60s is out of range [%g, %g]", label, v, k->min, k->max);
            return 0;
        }
        return 1;
    case VT_CFG_FLOAT: {
        errno = 0;
        char *end;
        double x = strtod(v, &end);
        if (!*v || *end || errno == ERANGE || !isfinite(x) || isspace((unsigned char)*v)) {
            snprintf(err, n, "bad float '%.60s' for %s", v, label);
            return 0;
        }
        if (out_of_range(k, x)) {
            snprintf(err, n, "%s = %.60s is out of range [%g, %g]", label, v, k->min, k->max);
            return 0;
        }
        tmp->f = x;
        return 1;
    }
    case VT_CFG_BOOL: {
        static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
        for (int i = 0; i < 4; i++) {
            if (!strcasecmp(v, yes[i])) { tmp->i = 1; return 1; }
            if (!strcasecmp(v, no[i])) { tmp->i = 0; return 1; }
        }
        snprintf(err, n, "bad bool '%.60s' for %s (use true/false, yes/no, on/off, 1/0)", v, label);
        return 0;
    }
    case VT_CFG_ENUM: {
        const char *c = k->choices, *best = NULL;
        size_t best_len = 0;
        int best_d = 99;
        for (int idx = 0;; idx++) {
            const char *bar = strchr(c, '|');
            size_t len = bar ? (size_t)(bar - c) : strlen(c);
            if (strlen(v) == len && !strncmp(v, c, len)) {
                tmp->i = idx;
                return 1;
            }
            char choice[128];
            snprintf(choice, sizeof choice, "%.*s", (int)(len < 127 ? len : 127), c);
            int d = edit_distance(v, strlen(v), choice);
            if (d < best_d) { best_d = d; best = c; best_len = len; }
            if (!bar) break;
            c = bar + 1;
        }
        char list[512];
        snprintf(list, sizeof list, "%s", k->choices);
        for (char *p = list; *p; p++)
            if (*p == '|') *p = '/';
        int m = snprintf(err, n, "bad value '%.60s' for %s: expected one of %s", v, label, list);
        if (best && close_enough(best_d, strlen(v)) && m > 0 && (size_t)m < n)
            snprintf(err + m, n - (size_t)m, " (did you mean '%.*s'?)", (int)best_len, best);
        return 0;
    }
    case VT_CFG_INT_LIST: {
        int cap = 0;
        tmp->n_list = 0;
        const char *p = v;
        while (isspace((unsigned char)*p)) p++;
        if (!*p) return 1; /* empty list */
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            char item[64];
            while (len && isspace((unsigned char)*p)) { p++; len--; }
            while (len && isspace((unsigned char)p[len - 1])) len--;
            int64_t x = 0;
            int ok = len > 0 && len < sizeof item;
            if (ok) {
                memcpy(item, p, len);
                item[len] = 0;
                ok = parse_int(item, &x);
            }
            if (!ok) {
                snprintf(err, n, "bad int list '%.60s' for %s (item %d: expected an integer)", v, label, tmp->n_list + 1);
                return 0;
            }
            if (out_of_range(k, (double)x)) {
                snprintf(err, n, "%s item %d = %s is out of range [%g, %g]", label, tmp->n_list + 1, item, k->min, k->max);
                return 0;
            }
            if (tmp->n_list == VT_CONFIG_MAX_LIST) {
                snprintf(err, n, "%s has more than %d items", label, VT_CONFIG_MAX_LIST);
                return 0;
            }
            if (tmp->n_list == cap) {
                cap = cap ? 2 * cap : 8;
                int64_t *grown = realloc(tmp->list, (size_t)cap * sizeof *grown);
                if (!grown) { snprintf(err, n, "out of memory"); return 0; }
                tmp->list = grown;
            }
            tmp->list[tmp->n_list++] = x;
            if (!comma) return 1;
            p = comma + 1;
        }
    }
    }
    snprintf(err, n, "%s has an unknown type", label);
    return 0;
}

static void entry_clear_value(entry *e) {
    free(e->str);
    free(e->list);
    e->str = NULL;
    e->list = NULL;
    e->n_list = 0;
}

/* Parses v into e (keeping e unchanged on failure); source is copied. */
static int entry_assign(entry *e, const char *v, const char *source, char *err, size_t n) {
    entry tmp = {0};
    tmp.key = e->key;
    if (!parse_value(e->key, v, &tmp, err, n)) {
        free(tmp.str);
        free(tmp.list);
        return 0;
    }
    char *src = strdup(source);
    if (!src) {
        free(tmp.str);
        free(tmp.list);
        snprintf(err, n, "out of memory");
        return 0;
    }
    entry_clear_value(e);
    free(e->source);
    e->str = tmp.str;
    e->i = tmp.i;
    e->f = tmp.f;
    e->list = tmp.list;
    e->n_list = tmp.n_list;
    e->source = src;
    return 1;
}

/* ---- schema, lookup ------------------------------------------------------------------- */

static int valid_name(const char *s, int allow_empty) {
    if (!s) return 0;
    if (!*s) return allow_empty;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-') return 0;
    return 1;
}

static int section_exists(const vt_config *c, const char *s, size_t len) {
    for (int i = 0; i < c->n; i++)
        if (strlen(c->schema[i].section) == len && !strncmp(c->schema[i].section, s, len)) return 1;
    return 0;
}

static entry *find_entry(const vt_config *c, const char *section, size_t slen, const char *name, size_t nlen) {
    for (int i = 0; i < c->n; i++) {
        const vt_cfg_key *k = &c->schema[i];
        if (strlen(k->section) == slen && !strncmp(k->section, section, slen) && strlen(k->name) == nlen &&
            !strncmp(k->name, name, nlen))
            return &c->e[i];
    }
    return NULL;
}

void vt_config_free(vt_config *c) {
    if (!c) return;
    for (int i = 0; i < c->n; i++) {
        entry_clear_value(&c->e[i]);
        free(c->e[i].source);
    }
    free(c->e);
    free(c);
}

vt_config *vt_config_new(const vt_cfg_key *schema) {
    if (!schema) return vt_error("config: NULL schema"), NULL;
    int n = 0;
    while (schema[n].name) n++;
    vt_config *c = calloc(1, sizeof *c);
    if (!c) return vt_error("config: out of memory"), NULL;
    c->schema = schema;
    c->n = n;
    c->e = calloc((size_t)(n ? n : 1), sizeof *c->e);
    if (!c->e) return free(c), vt_error("config: out of memory"), NULL;
    for (int i = 0; i < n; i++) c->e[i].key = &schema[i];
    for (int i = 0; i < n; i++) {
        const vt_cfg_key *k = &schema[i];
        if (!valid_name(k->section, 1) || !valid_name(k->name, 0)) {
            vt_error("config schema: bad section or key name '%s.%s' (letters, digits, _ and - only)",
                     k->section ? k->section : "(null)", k->name);
            goto fail;
        }
        if (k->type < VT_CFG_STRING || k->type > VT_CFG_INT_LIST) {
            vt_error("config schema: key '%s.%s' has no valid type", k->section, k->name);
            goto fail;
        }
        if (k->type == VT_CFG_ENUM && (!k->choices || !*k->choices)) {
            vt_error("config schema: enum key '%s.%s' has no choices", k->section, k->name);
            goto fail;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(schema[j].section, k->section) && !strcmp(schema[j].name, k->name)) {
                vt_error("config schema: key '%s.%s' declared twice", k->section, k->name);
                goto fail;
            }
        if (k->def) {
            char err[512];
            if (!entry_assign(&c->e[i], k->def, "default", err, sizeof err)) {
                vt_error("config schema: default of '%s.%s': %s", k->section, k->name, err);
                goto fail;
            }
        } else if (!(c->e[i].source = strdup("required, not set"))) {
            vt_error("config: out of memory");
            goto fail;
        }
    }
    return c;
fail:
    vt_config_free(c);
    return NULL;
}

/* ---- file parsing --------------------------------------------------------------------- */

static vt_status fail_at(const char *where, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static vt_status fail_at(const char *where, int line, const char *fmt, ...) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0) return vt_error("%.200s:%d: %s", where, line, msg);
    return vt_error("%.200s: %s", where, msg);
}

/* Extracts the value of "key = VALUE" from s[0..n) into out (capacity >= n + 1): a quoted
 * string with escapes, or bare text up to a comment ('#' at the start or after whitespace)
 * when comments is set. Returns 0 with err set on a malformed quote. */
static int extract_value(const char *s, size_t n, int comments, char *out, char *err, size_t errn) {
    size_t i = 0, o = 0;
    while (i < n && isspace((unsigned char)s[i])) i++;
    if (i < n && s[i] == '"') {
        for (i++; i < n && s[i] != '"'; i++) {
            char ch = s[i];
            if (ch == '\\') {
                if (++i == n) break;
                switch (s[i]) {
                case 'n': ch = '\n'; break;
                case 't': ch = '\t'; break;
                case '"': ch = '"'; break;
                case '\\': ch = '\\'; break;
                default: snprintf(err, errn, "unknown escape '\\%c' in quoted value", isprint((unsigned char)s[i]) ? s[i] : '?'); return 0;
                }
            }
            out[o++] = ch;
        }
        if (i >= n) {
            snprintf(err, errn, "unterminated quoted value");
            return 0;
        }
        for (i++; i < n && isspace((unsigned char)s[i]); i++) {}
        if (i < n && !(comments && s[i] == '#')) {
            snprintf(err, errn, "unexpected text after the closing quote");
            return 0;
        }
        out[o] = 0;
        return 1;
    }
    size_t end = i;
    while (end < n && !(comments && s[end] == '#' && (end == i || isspace((unsigned char)s[end - 1])))) end++;
    while (end > i && isspace((unsigned char)s[end - 1])) end--;
    memcpy(out, s + i, end - i);
    out[end - i] = 0;
    return 1;
}

/* "unknown key 'x' in [s] (did you mean 'y'?)" */
static vt_status unknown_key(const vt_config *c, const char *where, int line, const char *sec, size_t slen,
                             const char *name, size_t nlen) {
    const vt_cfg_key *best = NULL, *elsewhere = NULL;
    int best_d = 99;
    for (int i = 0; i < c->n; i++) {
        const vt_cfg_key *k = &c->schema[i];
        int same = strlen(k->section) == slen && !strncmp(k->section, sec, slen);
        int d = edit_distance(name, nlen, k->name);
        if (same && d < best_d) { best_d = d; best = k; }
        if (!same && d == 0 && !elsewhere) elsewhere = k;
    }
    char in[200] = "";
    if (slen) snprintf(in, sizeof in, " in [%.*s]", (int)(slen < 60 ? slen : 60), sec);
    int show = (int)(nlen < 60 ? nlen : 60);
    if (best && close_enough(best_d, nlen))
        return fail_at(where, line, "unknown key '%.*s'%s (did you mean '%s'?)", show, name, in, best->name);
    if (elsewhere)
        return fail_at(where, line, "unknown key '%.*s'%s (it belongs in [%s])", show, name, in, elsewhere->section);
    return fail_at(where, line, "unknown key '%.*s'%s", show, name, in);
}

static vt_status unknown_section(const vt_config *c, const char *where, int line, const char *s, size_t len) {
    const char *best = NULL;
    int best_d = 99;
    for (int i = 0; i < c->n; i++) {
        int d = edit_distance(s, len, c->schema[i].section);
        if (c->schema[i].section[0] && d < best_d) { best_d = d; best = c->schema[i].section; }
    }
    int show = (int)(len < 60 ? len : 60);
    if (best && close_enough(best_d, len))
        return fail_at(where, line, "unknown section [%.*s] (did you mean [%s]?)", show, s, best);
    return fail_at(where, line, "unknown section [%.*s]", show, s);
}

static const char *trim(const char *s, size_t *n) {
    while (*n && isspace((unsigned char)*s)) { s++; (*n)--; }
    while (*n && isspace((unsigned char)s[*n - 1])) (*n)--;
    return s;
}

static vt_status parse_line(vt_config *c, const char *name, int lineno, const char *s, size_t n,
                            const char **sec, size_t *slen, char *valbuf) {
    s = trim(s, &n);
    if (n == 0 || s[0] == '#') return VT_OK;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) return fail_at(name, lineno, "section header without ']'");
        size_t rest = n - (size_t)(close + 1 - s);
        const char *after = trim(close + 1, &rest);
        if (rest && after[0] != '#') return fail_at(name, lineno, "unexpected text after the section header");
        size_t len = (size_t)(close - s - 1);
        const char *sname = trim(s + 1, &len);
        if (!len) return fail_at(name, lineno, "empty section name");
        if (!section_exists(c, sname, len)) return unknown_section(c, name, lineno, sname, len);
        *sec = sname;
        *slen = len;
        return VT_OK;
    }
    const char *eq = memchr(s, '=', n);
    if (!eq) return fail_at(name, lineno, "expected 'key = value', '[section]' or a '#' comment");
    size_t klen = (size_t)(eq - s);
    const char *key = trim(s, &klen);
    if (!klen) return fail_at(name, lineno, "missing key name before '='");
    entry *e = find_entry(c, *sec, *slen, key, klen);
    if (!e) return unknown_key(c, name, lineno, *sec, *slen, key, klen);
    char label[160];
    key_label(e->key, label, sizeof label);
    if (e->line_this_parse)
        return fail_at(name, lineno, "duplicate key %s (first set on line %d)", label, e->line_this_parse);
    char err[600];
    if (!extract_value(eq + 1, n - (size_t)(eq + 1 - s), 1, valbuf, err, sizeof err))
        return fail_at(name, lineno, "%s: %s", label, err);
    char source[300];
    snprintf(source, sizeof source, "%.200s:%d", name, lineno);
    if (!entry_assign(e, valbuf, source, err, sizeof err)) return fail_at(name, lineno, "%s", err);
    e->line_this_parse = lineno;
    e->was_set = 1;
    return VT_OK;
}

vt_status vt_config_parse_string(vt_config *c, const char *text, size_t len, const char *name) {
    if (!c || (!text && len)) return vt_error("config: NULL argument");
    if (!name) name = "(config)";
    if (len > VT_CONFIG_MAX_BYTES)
        return fail_at(name, 0, "%zu bytes, more than the limit of %d for a config file", len, VT_CONFIG_MAX_BYTES);
    for (int i = 0; i < c->n; i++) c->e[i].line_this_parse = 0;
    char *valbuf = malloc(VT_CONFIG_MAX_LINE + 1);
    if (!valbuf) return vt_error("config: out of memory");
    const char *sec = "";
    size_t slen = 0;
    vt_status st = VT_OK;
    int lineno = 0;
    for (size_t pos = 0; pos < len && st == VT_OK;) {
        lineno++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (n > VT_CONFIG_MAX_LINE)
            st = fail_at(name, lineno, "line longer than %d bytes", VT_CONFIG_MAX_LINE);
        else if (memchr(text + pos, 0, n))
            st = fail_at(name, lineno, "NUL byte in line (not a text file?)");
        else
            st = parse_line(c, name, lineno, text + pos, n, &sec, &slen, valbuf);
        pos += n + 1;
    }
    free(valbuf);
    for (int i = 0; i < c->n; i++) c->e[i].line_this_parse = 0;
    return st;
}

vt_status vt_config_parse_file(vt_config *c, const char *path) {
    if (!c || !path) return vt_error("config: NULL argument");
    FILE *f = fopen(path, "rb");
    if (!f) return vt_error("%s: cannot open: %s", path, strerror(errno));
    char *buf = malloc(VT_CONFIG_MAX_BYTES + 1);
    if (!buf) return fclose(f), vt_error("config: out of memory");
    size_t len = fread(buf, 1, VT_CONFIG_MAX_BYTES + 1, f);
    int bad = ferror(f);
    fclose(f);
    vt_status st;
    if (bad) st = vt_error("%s: read error", path);
    else st = vt_config_parse_string(c, buf, len, path); /* > limit reports the size */
    free(buf);
    return st;
}

vt_status vt_config_set(vt_config *c, const char *a) {
    if (!c || !a) return vt_error("config: NULL argument");
    char where[300];
    snprintf(where, sizeof where, "--set %.200s%s", a, strlen(a) > 200 ? "..." : "");
    size_t n = strlen(a);
    if (n > VT_CONFIG_MAX_LINE) return fail_at(where, 0, "longer than %d bytes", VT_CONFIG_MAX_LINE);
    const char *eq = strchr(a, '=');
    if (!eq) return fail_at(where, 0, "expected section.key=value");
    size_t llen = (size_t)(eq - a);
    const char *lhs = trim(a, &llen);
    const char *dot = memchr(lhs, '.', llen);
    const char *sec = "", *key = lhs;
    size_t slen = 0, klen = llen;
    if (dot) {
        sec = lhs;
        slen = (size_t)(dot - lhs);
        key = dot + 1;
        klen = llen - slen - 1;
    }
    if (!klen) return fail_at(where, 0, "missing key name (expected section.key=value)");
    if (slen && !section_exists(c, sec, slen)) return unknown_section(c, where, 0, sec, slen);
    entry *e = find_entry(c, sec, slen, key, klen);
    if (!e) return unknown_key(c, where, 0, sec, slen, key, klen);
    char *val = malloc(n + 1), err[600];
    if (!val) return vt_error("config: out of memory");
    vt_status st = VT_OK;
    if (!extract_value(eq + 1, strlen(eq + 1), 0, val, err, sizeof err) ||
        !entry_assign(e, val, "--set", err, sizeof err))
        st = fail_at(where, 0, "%s", err);
    else
        e->was_set = 1;
    free(val);
    return st;
}

vt_status vt_config_check_required(const vt_config *c) {
    for (int i = 0; i < c->n; i++)
        if (!c->schema[i].def && !c->e[i].was_set) {
            char label[160];
            key_label(&c->schema[i], label, sizeof label);
            return vt_error("config: missing required key %s (%s): set it in the config file or with --set %s%s%s=...",
                            label, c->schema[i].doc ? c->schema[i].doc : "", c->schema[i].section,
                            c->schema[i].section[0] ? "." : "", c->schema[i].name);
        }
    return VT_OK;
}

vt_config *vt_config_load(const vt_cfg_key *schema, const char *path, int n_sets, const char *const *sets) {
    vt_config *c = vt_config_new(schema);
    if (!c) return NULL;
    if (path && vt_config_parse_file(c, path) != VT_OK) goto fail;
    for (int i = 0; i < n_sets; i++)
        if (vt_config_set(c, sets[i]) != VT_OK) goto fail;
    if (vt_config_check_required(c) != VT_OK) goto fail;
    return c;
fail:
    vt_config_free(c);
    return NULL;
}

/* ---- getters -------------------------------------------------------------------------- */

static const entry *get(const vt_config *c, const char *key, vt_cfg_type want, vt_cfg_type also) {
    const char *dot = strchr(key, '.');
    const entry *e = dot ? find_entry(c, key, (size_t)(dot - key), dot + 1, strlen(dot + 1))
                         : find_entry(c, "", 0, key, strlen(key));
    if (!e || (e->key->type != want && e->key->type != also)) {
        fprintf(stderr, "vertebra: config key '%s' %s (programming error)\n", key,
                e ? "read with the wrong type" : "is not declared in the schema");
        abort();
    }
    return e;
}

const char *vt_config_string(const vt_config *c, const char *key) {
    const entry *e = get(c, key, VT_CFG_STRING, VT_CFG_ENUM);
    if (e->key->type == VT_CFG_STRING) return e->str ? e->str : "";
    /* enum: the choice name, made on first use and kept until the value changes (so
     * earlier returned pointers stay valid) */
    entry *m = (entry *)e;
    if (!m->str) {
        const char *ch = e->key->choices;
        for (int64_t i = 0; i < e->i; i++) ch = strchr(ch, '|') + 1;
        const char *bar = strchr(ch, '|');
        m->str = dup_n(ch, bar ? (size_t)(bar - ch) : strlen(ch));
    }
    return m->str ? m->str : "";
}
int64_t vt_config_int(const vt_config *c, const char *key) { return get(c, key, VT_CFG_INT, VT_CFG_INT)->i; }
double vt_config_float(const vt_config *c, const char *key) { return get(c, key, VT_CFG_FLOAT, VT_CFG_FLOAT)->f; }
int vt_config_bool(const vt_config *c, const char *key) { return (int)get(c, key, VT_CFG_BOOL, VT_CFG_BOOL)->i; }
int vt_config_enum(const vt_config *c, const char *key) { return (int)get(c, key, VT_CFG_ENUM, VT_CFG_ENUM)->i; }
int vt_config_int_list(const vt_config *c, const char *key, const int64_t **values) {
    const entry *e = get(c, key, VT_CFG_INT_LIST, VT_CFG_INT_LIST);
    if (values) *values = e->list;
    return e->n_list;
}
const char *vt_config_source(const vt_config *c, const char *key) {
    const char *dot = strchr(key, '.');
    const entry *e = dot ? find_entry(c, key, (size_t)(dot - key), dot + 1, strlen(dot + 1))
                         : find_entry(c, "", 0, key, strlen(key));
    return e && e->source ? e->source : "unknown key";
}

/* ---- writing back --------------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (m < 0) { b->oom = 1; return; }
        if (b->p && b->n + (size_t)m < b->cap) { b->n += (size_t)m; return; }
        size_t cap = (b->cap + (size_t)m + 1) * 2;
        char *g = realloc(b->p, cap);
        if (!g) { b->oom = 1; return; }
        b->p = g;
        b->cap = cap;
    }
}

static void sb_one_line(sbuf *b, const char *s) {
    for (; s && *s; s++) sb_printf(b, "%c", *s == '\n' || *s == '\r' ? ' ' : *s);
}

/* shortest %g text that reads back to exactly x */
static void format_double(double x, char *buf, size_t n) {
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, x);
        if (strtod(buf, NULL) == x) return;
    }
}

static void write_value(sbuf *b, const entry *e) {
    switch (e->key->type) {
    case VT_CFG_STRING:
        sb_printf(b, "\"");
        for (const char *s = e->str ? e->str : ""; *s; s++) {
            if (*s == '"' || *s == '\\') sb_printf(b, "\\%c", *s);
            else if (*s == '\n') sb_printf(b, "\\n");
            else if (*s == '\t') sb_printf(b, "\\t");
            else sb_printf(b, "%c", *s);
        }
        sb_printf(b, "\"");
        break;
    case VT_CFG_INT: sb_printf(b, "%lld", (long long)e->i); break;
    case VT_CFG_FLOAT: {
        char d[64];
        format_double(e->f, d, sizeof d);
        sb_printf(b, "%s", d);
        break;
    }
    case VT_CFG_BOOL: sb_printf(b, "%s", e->i ? "true" : "false"); break;
    case VT_CFG_ENUM: {
        const char *ch = e->key->choices;
        for (int64_t i = 0; i < e->i; i++) ch = strchr(ch, '|') + 1;
        const char *bar = strchr(ch, '|');
        sb_printf(b, "%.*s", (int)(bar ? bar - ch : (long)strlen(ch)), ch);
        break;
    }
    case VT_CFG_INT_LIST:
        for (int i = 0; i < e->n_list; i++) sb_printf(b, "%s%lld", i ? ", " : "", (long long)e->list[i]);
        break;
    }
}

/* sections in schema order, the top-level one ("") first; calls fn for each once */
static int section_first_index(const vt_cfg_key *schema, int i) {
    for (int j = 0; j < i; j++)
        if (!strcmp(schema[j].section, schema[i].section)) return 0;
    return 1;
}

char *vt_config_to_string(const vt_config *c) {
    sbuf b = {0};
    sb_printf(&b, "# resolved configuration: every key with the value this run used (defaults included)\n");
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < c->n; i++) {
            const vt_cfg_key *k = &c->schema[i];
            if ((pass == 0) != (k->section[0] == 0) || !section_first_index(c->schema, i)) continue;
            if (k->section[0]) sb_printf(&b, "\n[%s]\n", k->section);
            for (int j = i; j < c->n; j++) {
                if (strcmp(c->schema[j].section, k->section)) continue;
                const entry *e = &c->e[j];
                sb_printf(&b, "# ");
                sb_one_line(&b, e->key->doc);
                sb_printf(&b, " (%s; from ", type_name(e->key->type));
                sb_one_line(&b, e->source);
                sb_printf(&b, ")\n%s = ", e->key->name);
                write_value(&b, e);
                sb_printf(&b, "\n");
            }
        }
    if (b.oom) {
        free(b.p);
        vt_error("config: out of memory");
        return NULL;
    }
    return b.p;
}

vt_status vt_config_write(const vt_config *c, const char *path) {
    char *s = vt_config_to_string(c);
    if (!s) return VT_ERR;
    size_t len = strlen(s);
    vt_status st = vt_write_file_atomic(path, 1, (const void *const[]){s}, &len);
    free(s);
    return st;
}

void vt_config_doc(const vt_cfg_key *schema, FILE *out) {
    int n = 0;
    while (schema[n].name) n++;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            const vt_cfg_key *k = &schema[i];
            if ((pass == 0) != (k->section[0] == 0) || !section_first_index(schema, i)) continue;
            fprintf(out, "%s[%s]\n\n| key | type | default | allowed | description |\n|---|---|---|---|---|\n",
                    pass || i ? "\n" : "", k->section[0] ? k->section : "top level, before any section");
            for (int j = i; j < n; j++) {
                const vt_cfg_key *q = &schema[j];
                if (strcmp(q->section, k->section)) continue;
                fprintf(out, "| `%s` | %s | %s%s%s | ", q->name, type_name(q->type), q->def ? "`" : "",
                        q->def ? q->def : "(required)", q->def ? "`" : "");
                if (q->type == VT_CFG_ENUM)
                    for (const char *s = q->choices; *s; s++) fputs(*s == '|' ? ", " : (char[]){*s, 0}, out);
                else if (ranged(q) && q->type != VT_CFG_STRING && q->type != VT_CFG_BOOL)
                    fprintf(out, "%g .. %g", q->min, q->max);
                fprintf(out, " | %s |\n", q->doc ? q->doc : "");
            }
        }
}
