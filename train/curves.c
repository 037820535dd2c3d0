/* curves.c: scalar histories and their PNG plots (curves.h). */
#include "curves.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct curve {
    char *tag;
    float *x, *y; /* plot.h takes float arrays */
    int n, cap;
} curve;

struct vt_curves {
    curve *c;
    int n, cap;
};

static const uint8_t palette[][3] = {{31, 119, 180}, {214, 39, 40},  {44, 160, 44},  {255, 127, 14},
                                     {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};

vt_curves *vt_curves_new(void) {
    vt_curves *c = calloc(1, sizeof *c);
    if (!c) vt_error("curves: out of memory");
    return c;
}

void vt_curves_free(vt_curves *c) {
    if (!c) return;
    for (int i = 0; i < c->n; i++) {
        free(c->c[i].tag);
        free(c->c[i].x);
        free(c->c[i].y);
    }
    free(c->c);
    free(c);
}

static curve *find(const vt_curves *c, const char *tag, size_t len) {
    for (int i = 0; i < c->n; i++)
        if (strlen(c->c[i].tag) == len && !memcmp(c->c[i].tag, tag, len)) return &c->c[i];
    return NULL;
}

static vt_status add_n(vt_curves *c, const char *tag, size_t len, int64_t step, double value) {
    if (!c || !tag || !len) return vt_error("curves: empty tag");
    curve *k = find(c, tag, len);
    if (!k) {
        if (c->n == VT_CURVES_MAX_TAGS) return vt_error("curves: more than %d tags", VT_CURVES_MAX_TAGS);
        if (c->n == c->cap) {
            int cap = c->cap ? 2 * c->cap : 8;
            curve *g = realloc(c->c, (size_t)cap * sizeof *g);
            if (!g) return vt_error("curves: out of memory");
            c->c = g;
            c->cap = cap;
        }
        k = &c->c[c->n];
        memset(k, 0, sizeof *k);
        if (!(k->tag = malloc(len + 1))) return vt_error("curves: out of memory");
        memcpy(k->tag, tag, len);
        k->tag[len] = 0;
        c->n++;
    }
    if (k->n == k->cap) {
        int cap = k->cap ? 2 * k->cap : 64;
        float *gx = realloc(k->x, (size_t)cap * sizeof *gx);
        if (!gx) return vt_error("curves: out of memory");
        k->x = gx;
        float *gy = realloc(k->y, (size_t)cap * sizeof *gy);
        if (!gy) return vt_error("curves: out of memory");
        k->y = gy;
        k->cap = cap;
    }
    k->x[k->n] = (float)step;
    k->y[k->n] = (float)value;
    k->n++;
    return VT_OK;
}

vt_status vt_curves_add(vt_curves *c, const char *tag, int64_t step, double value) {
    return add_n(c, tag, tag ? strlen(tag) : 0, step, value);
}

int vt_curves_points(const vt_curves *c, const char *tag) {
    const curve *k = find(c, tag, strlen(tag));
    return k ? k->n : 0;
}
int vt_curves_n_tags(const vt_curves *c) { return c->n; }
const char *vt_curves_tag(const vt_curves *c, int i) { return i >= 0 && i < c->n ? c->c[i].tag : NULL; }

/* ---- metrics.jsonl -------------------------------------------------------------------- */

typedef struct field {
    const char *key;
    size_t key_len;
    int numeric;
    double value;
} field;

/* Skips a JSON string starting at *p == '"'; returns 0 if unterminated. */
static int skip_string(const char **p) {
    for ((*p)++; **p && **p != '"'; (*p)++)
        if (**p == '\\' && !*++(*p)) return 0;
    if (**p != '"') return 0;
    (*p)++;
    return 1;
}

/* Skips one value (number, literal, string, or a nested object/array, balanced). */
static int skip_value(const char **p) {
    if (**p == '"') return skip_string(p);
    if (**p == '{' || **p == '[') {
        int depth = 0;
        do {
            if (**p == '"') {
                if (!skip_string(p)) return 0;
                continue;
            }
            if (**p == '{' || **p == '[') depth++;
            else if (**p == '}' || **p == ']') depth--;
            else if (!**p) return 0;
            (*p)++;
        } while (depth > 0);
        return 1;
    }
    const char *s = *p;
    while (**p && **p != ',' && **p != '}' && !isspace((unsigned char)**p)) (*p)++;
    return *p > s;
}

static void skip_ws(const char **p) {
    while (isspace((unsigned char)**p)) (*p)++;
}

/* Parses one flat object into fields; returns count, -1 on malformed JSON. */
static int parse_object(const char *p, field *f, int max) {
    int n = 0;
    skip_ws(&p);
    if (*p++ != '{') return -1;
    skip_ws(&p);
    if (*p == '}') return 0;
    for (;;) {
        skip_ws(&p);
        if (*p != '"') return -1;
        const char *k = p + 1;
        if (!skip_string(&p)) return -1;
        size_t klen = (size_t)(p - 1 - k);
        skip_ws(&p);
        if (*p++ != ':') return -1;
        skip_ws(&p);
        const char *v = p;
        if (!skip_value(&p)) return -1;
        if (n < max) {
            char num[64];
            size_t vlen = (size_t)(p - v);
            f[n] = (field){k, klen, 0, 0};
            if (vlen < sizeof num && (isdigit((unsigned char)*v) || *v == '-')) {
                memcpy(num, v, vlen);
                num[vlen] = 0;
                char *end;
                f[n].value = strtod(num, &end);
                f[n].numeric = *end == 0;
            }
            n++;
        }
        skip_ws(&p);
        if (*p == '}') return n;
        if (*p++ != ',') return -1;
    }
}

vt_status vt_curves_load_jsonl(vt_curves *c, const char *path, const char *step_key) {
    if (!c || !path) return vt_error("curves: NULL argument");
    FILE *fp = fopen(path, "r");
    if (!fp) return vt_error("%s: cannot open: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, index = 0;
    vt_status st = VT_OK;
    field f[VT_CURVES_MAX_TAGS];
    while (st == VT_OK && (len = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        if ((size_t)len != strlen(line)) { st = vt_error("%s:%d: NUL byte in line", path, lineno); break; }
        const char *p = line;
        skip_ws(&p);
        if (!*p) continue;
        int n = parse_object(p, f, VT_CURVES_MAX_TAGS);
        if (n < 0) { st = vt_error("%s:%d: not a flat JSON object", path, lineno); break; }
        int64_t step = index++;
        if (step_key) {
            int found = 0;
            for (int i = 0; i < n; i++)
                if (f[i].numeric && f[i].key_len == strlen(step_key) && !memcmp(f[i].key, step_key, f[i].key_len)) {
                    step = (int64_t)f[i].value;
                    found = 1;
                }
            if (!found) { st = vt_error("%s:%d: no numeric \"%s\"", path, lineno, step_key); break; }
        }
        for (int i = 0; i < n && st == VT_OK; i++) {
            if (!f[i].numeric || (step_key && f[i].key_len == strlen(step_key) && !memcmp(f[i].key, step_key, f[i].key_len)))
                continue;
            st = add_n(c, f[i].key, f[i].key_len, step, f[i].value);
        }
    }
    free(line);
    fclose(fp);
    return st;
}

/* ---- plots ---------------------------------------------------------------------------- */

vt_status vt_curves_plot(const vt_curves *c, const char *const *tags, int n_tags, const char *path, int width,
                         int height, vt_plot_range *range_used) {
    if (!c || !tags || n_tags < 1 || !path) return vt_error("curves plot: no tags");
    vt_plot_series *s = calloc((size_t)n_tags, sizeof *s);
    if (!s) return vt_error("curves: out of memory");
    vt_status st = VT_OK;
    for (int i = 0; i < n_tags && st == VT_OK; i++) {
        const curve *k = find(c, tags[i], strlen(tags[i]));
        if (!k) st = vt_error("curves plot %s: no tag '%s'", path, tags[i]);
        else s[i] = (vt_plot_series){k->x, k->y, k->n, {palette[i % 8][0], palette[i % 8][1], palette[i % 8][2]}};
    }
    vt_plot_range r;
    if (st == VT_OK) st = vt_plot_auto_range(s, n_tags, &r);
    if (st == VT_OK) st = vt_plot_lines(path, width, height, s, n_tags, &r);
    if (st == VT_OK && range_used) *range_used = r;
    free(s);
    return st;
}

/* bookkeeping fields of metrics.jsonl that are not curves worth a plot */
static int is_bookkeeping(const char *tag) {
    static const char *const names[] = {"seconds", "epoch", "step", "lr_step"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(tag, names[i])) return 1;
    size_t n = strlen(tag);
    static const char *const suffixes[] = {"_samples", "_slices", "_seconds", "_count"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t k = strlen(suffixes[i]);
        if (n >= k && !strcmp(tag + n - k, suffixes[i])) return 1;
    }
    return 0;
}

vt_status vt_curves_plot_all(const vt_curves *c, const char *dir) {
    if (!c || !dir) return vt_error("curves: NULL argument");
    size_t cap = strlen(dir) + 64 + 1024;
    char *path = malloc(cap);
    const char **loss = malloc((size_t)(c->n ? c->n : 1) * sizeof *loss);
    if (!path || !loss) return free(path), free(loss), vt_error("curves: out of memory");
    vt_status st = VT_OK;
    int n_loss = 0;
    for (int i = 0; i < c->n && st == VT_OK; i++) {
        if (is_bookkeeping(c->c[i].tag)) continue;
        int m = snprintf(path, cap, "%s/curve_", dir);
        for (const char *t = c->c[i].tag; *t && m < (int)cap - 8; t++)
            path[m++] = isalnum((unsigned char)*t) || *t == '-' || *t == '_' ? *t : '_';
        strcpy(path + m, ".png");
        st = vt_curves_plot(c, (const char *const[]){c->c[i].tag}, 1, path, 640, 400, NULL);
        if (strstr(c->c[i].tag, "loss")) loss[n_loss++] = c->c[i].tag;
    }
    if (st == VT_OK && n_loss) {
        snprintf(path, cap, "%s/loss.png", dir);
        st = vt_curves_plot(c, loss, n_loss, path, 640, 400, NULL);
    }
    free(path);
    free(loss);
    return st;
}
