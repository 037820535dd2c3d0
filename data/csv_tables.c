/* csv_tables.c: typed loaders on the CSV reader: labels per image, and VinDr-SpineXR
 * bounding boxes grouped per image (see csv.h). Every value is validated with the line it
 * came from; the strings stay in the parsed table, which the result owns. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "csv.h"

static int is_space(char c) { return c == ' ' || c == '\t'; }

/* Integer with optional surrounding spaces; 0 on success. */
static int parse_int(const char *s, long *out) {
    while (is_space(*s)) s++;
    if (!*s) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    while (is_space(*end)) end++;
    if (*end || errno || v < INT_MIN || v > INT_MAX) return -1;
    *out = v;
    return 0;
}

/* Empty, spaces only, or "nan" (pandas writes missing values either way). */
static int is_missing(const char *s) {
    while (is_space(*s)) s++;
    if (!*s) return 1;
    return (s[0] == 'n' || s[0] == 'N') && (s[1] == 'a' || s[1] == 'A') && (s[2] == 'n' || s[2] == 'N') &&
           (s[3] == 0 || is_space(s[3]));
}

/* Finite decimal number with optional surrounding spaces. */
static int parse_coord(const char *s, double *out) {
    while (is_space(*s)) s++;
    if (!*s) return -1;
    char *end;
    double v = strtod(s, &end);
    while (is_space(*end)) end++;
    if (*end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* ---- labels --------------------------------------------------------------------------- */
void vt_labels_free(vt_labels *l) {
    if (!l) return;
    free((void *)l->image), free(l->label), free((void *)l->extra_names), free((void *)l->extra);
    vt_csv_free(l->csv);
    free(l);
}

vt_labels *vt_labels_load(const char *path, const char *image_col, const char *label_col,
                          const char *const *extra_cols, int n_extra, int num_classes) {
    if (n_extra < 0 || (n_extra > 0 && !extra_cols)) {
        vt_error("%s: bad extra column list (%d columns)", path, n_extra);
        return NULL;
    }
    vt_csv *t = vt_csv_load(path, NULL);
    if (!t) return NULL;
    vt_labels *l = calloc(1, sizeof *l);
    int *cols = malloc((size_t)(n_extra + 2) * sizeof *cols);
    if (!l || !cols) { vt_error("%s: out of memory", path); free(cols), free(l), vt_csv_free(t); return NULL; }
    l->csv = t;
    int ci = vt_csv_require_column(t, image_col), cl = ci < 0 ? -1 : vt_csv_require_column(t, label_col);
    if (cl < 0) goto fail;
    for (int j = 0; j < n_extra; j++)
        if ((cols[j] = vt_csv_require_column(t, extra_cols[j])) < 0) goto fail;
    int64_t n = l->n = t->nrows;
    l->n_extra = n_extra;
    l->lines = t->lines;
    l->image = malloc((size_t)(n + 1) * sizeof *l->image);
    l->label = malloc((size_t)(n + 1) * sizeof *l->label);
    l->extra_names = malloc((size_t)(n_extra + 1) * sizeof *l->extra_names);
    l->extra = malloc((size_t)(n * n_extra + 1) * sizeof *l->extra);
    if (!l->image || !l->label || !l->extra_names || !l->extra) { vt_error("%s: out of memory", path); goto fail; }
    for (int j = 0; j < n_extra; j++) l->extra_names[j] = t->header[cols[j]];
    for (int64_t i = 0; i < n; i++) {
        const char *img = vt_csv_cell(t, i, ci), *lab = vt_csv_cell(t, i, cl);
        long v;
        if (!img[0]) { vt_error("%s:%lld: empty %s", path, (long long)t->lines[i], image_col); goto fail; }
        if (parse_int(lab, &v) < 0) {
            vt_error("%s:%lld: %s \"%s\" is not an integer", path, (long long)t->lines[i], label_col, lab);
            goto fail;
        }
        if (num_classes > 0 && (v < 0 || v >= num_classes)) {
            vt_error("%s:%lld: %s %ld outside 0..%d (%d classes)", path, (long long)t->lines[i], label_col, v,
                     num_classes - 1, num_classes);
            goto fail;
        }
        l->image[i] = img;
        l->label[i] = (int)v;
        for (int j = 0; j < n_extra; j++) l->extra[j * n + i] = vt_csv_cell(t, i, cols[j]);
    }
    free(cols);
    return l;
fail:
    free(cols);
    vt_labels_free(l);
    return NULL;
}

vt_tensor *vt_labels_tensor(const vt_labels *l) {
    if (!l || l->n < 1) { vt_error("vt_labels_tensor: no labels"); return NULL; }
    vt_tensor *t = vt_tensor_new(1, (int64_t[]){l->n});
    if (t)
        for (int64_t i = 0; i < l->n; i++) t->data[i] = (float)l->label[i];
    return t;
}

/* ---- boxes ---------------------------------------------------------------------------- */
/* open-addressing hash: image id -> image index */
typedef struct { int64_t *slot; uint64_t mask; } id_index;

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Index of id among ids[], inserting it as image *n when new; -1 only if absent and !insert. */
static int64_t index_find(const id_index *x, const char **ids, int64_t *n, const char *id, int insert) {
    for (uint64_t h = fnv1a(id) & x->mask;; h = (h + 1) & x->mask) {
        int64_t k = x->slot[h];
        if (k < 0) {
            if (!insert) return -1;
            ids[*n] = id;
            return x->slot[h] = (*n)++;
        }
        if (!strcmp(ids[k], id)) return k;
    }
}

void vt_box_set_free(vt_box_set *b) {
    if (!b) return;
    free((void *)b->image_ids), free((void *)b->first), free((void *)b->count), free((void *)b->boxes);
    id_index *x = b->index;
    if (x) free(x->slot);
    free(x);
    vt_csv_free(b->csv);
    free(b);
}

int64_t vt_box_set_find(const vt_box_set *b, const char *image_id) {
    if (!b || !b->index) return -1;
    int64_t n = b->n_images;
    return index_find(b->index, (const char **)b->image_ids, &n, image_id, 0);
}

static const char NO_FINDING[] = "No finding";

vt_box_set *vt_boxes_load(const char *path, const char *const *class_names, int n_classes) {
    if (n_classes < 1 || !class_names) {
        vt_error("%s: boxes need a class-name list (got %d names)", path, n_classes);
        return NULL;
    }
    vt_csv *t = vt_csv_load(path, NULL);
    if (!t) return NULL;
    vt_box_set *b = calloc(1, sizeof *b);
    id_index *x = calloc(1, sizeof *x);
    if (!b || !x) { vt_error("%s: out of memory", path); free(b), free(x), vt_csv_free(t); return NULL; }
    b->csv = t;
    b->index = x;
    static const char *const need[6] = {"image_id", "lesion_type", "xmin", "ymin", "xmax", "ymax"};
    int col[6];
    for (int k = 0; k < 6; k++)
        if ((col[k] = vt_csv_require_column(t, need[k])) < 0) goto fail;
    int64_t n = t->nrows, cap = 16;
    while (cap < 2 * n) cap *= 2;
    x->mask = (uint64_t)cap - 1;
    x->slot = malloc((size_t)cap * sizeof *x->slot);
    const char **ids = malloc((size_t)(n + 1) * sizeof *ids);
    int64_t *row_image = malloc((size_t)(n + 1) * sizeof *row_image), *first = calloc((size_t)n + 1, sizeof *first);
    int64_t *count = calloc((size_t)n + 1, sizeof *count);
    vt_box *boxes = malloc((size_t)(n + 1) * sizeof *boxes), *row_box = malloc((size_t)(n + 1) * sizeof *row_box);
    b->image_ids = ids, b->first = first, b->count = count, b->boxes = boxes;
    if (!x->slot || !ids || !row_image || !first || !count || !boxes || !row_box) {
        vt_error("%s: out of memory", path);
        goto fail_rows;
    }
    memset(x->slot, 0xff, (size_t)cap * sizeof *x->slot); /* all -1 */
    /* pass 1: validate each row, assign its image, count boxes per image */
    int64_t n_images = 0;
    for (int64_t r = 0; r < n; r++) {
        long long line = (long long)t->lines[r];
        const char *id = vt_csv_cell(t, r, col[0]), *type = vt_csv_cell(t, r, col[1]);
        if (!id[0]) { vt_error("%s:%lld: empty image_id", path, line); goto fail_rows; }
        row_image[r] = index_find(x, ids, &n_images, id, 1);
        if (!strcmp(type, NO_FINDING)) {
            for (int k = 2; k < 6; k++)
                if (!is_missing(vt_csv_cell(t, r, col[k]))) {
                    vt_error("%s:%lld: \"%s\" row with a %s coordinate (\"%s\"); it must be empty", path, line,
                             NO_FINDING, need[k], vt_csv_cell(t, r, col[k]));
                    goto fail_rows;
                }
            row_box[r].cls = -1;
            continue;
        }
        int cls = -1;
        for (int c = 0; c < n_classes && cls < 0; c++)
            if (class_names[c] && !strcmp(type, class_names[c])) cls = c;
        if (cls < 0) {
            char known[400] = "";
            size_t at = 0;
            for (int c = 0; c < n_classes && at + 8 < sizeof known; c++)
                at += (size_t)snprintf(known + at, sizeof known - at, "%s\"%s\"", c ? ", " : "", class_names[c] ? class_names[c] : "");
            vt_error("%s:%lld: unknown lesion_type \"%s\" (known: %s, or \"%s\")", path, line, type, known, NO_FINDING);
            goto fail_rows;
        }
        double v[4];
        for (int k = 0; k < 4; k++)
            if (parse_coord(vt_csv_cell(t, r, col[2 + k]), &v[k]) < 0) {
                vt_error("%s:%lld: %s \"%s\" is not a finite number", path, line, need[2 + k], vt_csv_cell(t, r, col[2 + k]));
                goto fail_rows;
            }
        if (!(v[0] < v[2]) || !(v[1] < v[3])) {
            vt_error("%s:%lld: empty box: need xmin < xmax and ymin < ymax, got (%g, %g, %g, %g)", path, line, v[0],
                     v[1], v[2], v[3]);
            goto fail_rows;
        }
        row_box[r] = (vt_box){(float)v[0], (float)v[1], (float)v[2], (float)v[3], cls, t->lines[r]};
        count[row_image[r]]++;
    }
    /* pass 2: group boxes by image (stable: file order within an image) */
    int64_t total = 0;
    for (int64_t i = 0; i < n_images; i++) first[i] = total, total += count[i];
    int64_t *fill = calloc((size_t)n_images + 1, sizeof *fill);
    if (!fill) { vt_error("%s: out of memory", path); goto fail_rows; }
    for (int64_t r = 0; r < n; r++)
        if (row_box[r].cls >= 0) boxes[first[row_image[r]] + fill[row_image[r]]++] = row_box[r];
    free(fill);
    free(row_image), free(row_box);
    b->n_images = n_images;
    b->n_boxes = total;
    return b;
fail_rows:
    free(row_image), free(row_box);
fail:
    vt_box_set_free(b);
    return NULL;
}
