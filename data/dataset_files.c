/* dataset_files.c: CSV- and folder-defined datasets of PNG / NIfTI files, read in get(). */
#include "dataset_files.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "csv.h"
#include "nifti.h"
#include "png_io.h"

typedef struct {
    int64_t n;
    char **path, **patient; /* n each, owned */
    int *label;
    int n_classes;
    char **class_names;     /* folder datasets: n_classes names; CSV: NULL */
    int channels, slice, slice_set;
} files_ctx;

static void files_destroy(vt_dataset *ds) {
    files_ctx *c = ds->ctx;
    if (!c) return;
    for (int64_t i = 0; i < c->n; i++) { free(c->path[i]); free(c->patient[i]); }
    for (int k = 0; c->class_names && k < c->n_classes; k++) free(c->class_names[k]);
    free(c->path); free(c->patient); free(c->label); free(c->class_names);
    free(c);
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}
static int is_nifti(const char *p) { return ends_with(p, ".nii") || ends_with(p, ".nii.gz"); }
static int is_image_file(const char *p) { return ends_with(p, ".png") || is_nifti(p); }

/* The file as a heap (C, H, W) tensor: PNG as is, NIfTI one axial slice. */
static vt_tensor *load_sample(const files_ctx *c, const char *path) {
    if (!is_nifti(path)) {
        vt_png_options o = {.grey = c->channels == 1, .rgb = c->channels == 3};
        return vt_png_load(path, &o, NULL);
    }
    vt_tensor *v = vt_nifti_load(path, NULL);
    if (!v) return NULL;
    /* (nz, ny, nx) or (ny, nx); 4D+ volumes are not images */
    if (v->ndim > 3 || v->ndim < 2) {
        vt_error("%s: a %d-dim NIfTI volume is not a 2D image or 3D stack of slices", path, v->ndim);
        vt_tensor_free(v);
        return NULL;
    }
    int64_t nz = v->ndim == 3 ? v->shape[0] : 1, ny = v->shape[v->ndim - 2], nx = v->shape[v->ndim - 1];
    int64_t z = c->slice >= 0 && (c->slice_set || c->slice > 0) ? c->slice : nz / 2;
    if (z < 0 || z >= nz) {
        vt_error("%s: slice %lld outside the volume's %lld slices", path, (long long)z, (long long)nz);
        vt_tensor_free(v);
        return NULL;
    }
    vt_tensor *t = vt_tensor_new(VT_DIMS(c->channels, ny, nx));
    if (t)
        for (int ch = 0; ch < c->channels; ch++)
            memcpy(t->data + ch * ny * nx, v->data + z * ny * nx, (size_t)(ny * nx) * sizeof(float));
    vt_tensor_free(v);
    return t;
}

static vt_status files_get(const vt_dataset *ds, int64_t i, vt_tensor *image, vt_tensor *target, vt_rng *rng) {
    (void)rng;
    const files_ctx *c = ds->ctx;
    vt_tensor *t = load_sample(c, c->path[i]);
    if (!t) return VT_ERR;
    if (t->ndim != 3 || t->shape[0] != ds->image_shape[0] || t->shape[1] != ds->image_shape[1] ||
        t->shape[2] != ds->image_shape[2]) {
        char a[64];
        vt_error("%s: image %s, but the dataset's samples are (%lld, %lld, %lld)", c->path[i],
                 vt_shape_str(t, a, sizeof a), (long long)ds->image_shape[0], (long long)ds->image_shape[1],
                 (long long)ds->image_shape[2]);
        vt_tensor_free(t);
        return VT_ERR;
    }
    memcpy(image->data, t->data, (size_t)t->numel * sizeof(float));
    if (target) target->data[0] = (float)c->label[i];
    vt_tensor_free(t);
    return VT_OK;
}

/* Wraps a filled context into a dataset; reads the first file for the sample size. */
static vt_dataset *make_dataset(files_ctx *c, const vt_dataset_files_options *opt, const char *what) {
    vt_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) { files_destroy(&(vt_dataset){.ctx = c}); vt_error("%s: out of memory", what); return NULL; }
    ds->ctx = c;
    ds->destroy = files_destroy;
    if (c->n == 0) { vt_error("%s: no images", what); vt_dataset_free(ds); return NULL; }
    int64_t h = opt ? opt->height : 0, w = opt ? opt->width : 0;
    if (h <= 0 || w <= 0) {
        vt_tensor *first = load_sample(c, c->path[0]);
        if (!first) { vt_dataset_free(ds); return NULL; }
        h = first->shape[1];
        w = first->shape[2];
        vt_tensor_free(first);
    }
    ds->length = c->n;
    ds->image_ndim = 3;
    ds->image_shape[0] = c->channels;
    ds->image_shape[1] = h;
    ds->image_shape[2] = w;
    ds->target_ndim = 1;
    ds->target_shape[0] = 1;
    ds->get = files_get;
    return ds;
}

static files_ctx *new_ctx(int64_t n, const vt_dataset_files_options *opt, const char *what) {
    int channels = opt && opt->channels ? opt->channels : 1;
    if (channels != 1 && channels != 3) { vt_error("%s: channels %d must be 1 or 3", what, channels); return NULL; }
    files_ctx *c = calloc(1, sizeof *c);
    if (c) {
        c->path = calloc((size_t)(n ? n : 1), sizeof *c->path);
        c->patient = calloc((size_t)(n ? n : 1), sizeof *c->patient);
        c->label = calloc((size_t)(n ? n : 1), sizeof *c->label);
    }
    if (!c || !c->path || !c->patient || !c->label) {
        if (c) { free(c->path); free(c->patient); free(c->label); free(c); }
        vt_error("%s: out of memory", what);
        return NULL;
    }
    c->channels = channels;
    c->slice = opt ? opt->slice : -1;
    c->slice_set = opt ? opt->slice_set : 0;
    return c;
}

static char *join3(const char *a, const char *b, const char *d) {
    size_t n = strlen(a) + strlen(b) + strlen(d) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%s", a, b, d);
    return s;
}

vt_dataset *vt_dataset_csv(const char *csv_path, const char *image_col, const char *label_col,
                           const char *patient_col, int num_classes, const vt_dataset_files_options *opt) {
    const char *extra[1] = {patient_col};
    vt_labels *l = vt_labels_load(csv_path, image_col, label_col, extra, patient_col ? 1 : 0, num_classes);
    if (!l) return NULL;
    files_ctx *c = new_ctx(l->n, opt, csv_path);
    if (!c) { vt_labels_free(l); return NULL; }
    /* the CSV's folder, with its trailing '/' ("" for a bare file name) */
    const char *slash = strrchr(csv_path, '/');
    char *dir = strndup(csv_path, slash ? (size_t)(slash - csv_path + 1) : 0);
    const char *pre = opt && opt->path_prefix ? opt->path_prefix : "", *suf = opt && opt->path_suffix ? opt->path_suffix : "";
    int ok = dir != NULL;
    for (int64_t i = 0; ok && i < l->n; i++) {
        char *rel = join3(pre, l->image[i], suf);
        c->path[i] = rel && rel[0] != '/' ? join3(dir, rel, "") : rel;
        if (c->path[i] != rel) free(rel);
        c->patient[i] = strdup(patient_col ? l->extra[i] : l->image[i]);
        c->label[i] = l->label[i];
        c->n++;
        if (c->label[i] + 1 > c->n_classes) c->n_classes = c->label[i] + 1;
        ok = c->path[i] && c->patient[i];
        if (ok && patient_col && !l->extra[i][0]) {
            vt_error("%s:%lld: empty %s", csv_path, (long long)l->lines[i], patient_col);
            ok = 0;
            break;
        }
        if (!ok) vt_error("%s: out of memory", csv_path);
    }
    free(dir);
    vt_labels_free(l);
    if (!ok) { files_destroy(&(vt_dataset){.ctx = c}); return NULL; }
    return make_dataset(c, opt, csv_path);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted names of the entries of dir that pass keep (NULL on error); *n receives the count. */
static char **list_dir(const char *dir, int want_dirs, int64_t *n) {
    DIR *d = opendir(dir);
    if (!d) { vt_error("%s: cannot open folder", dir); return NULL; }
    char **names = NULL;
    int64_t cap = 0;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *full = join3(dir, "/", e->d_name);
        struct stat st;
        int keep = full && stat(full, &st) == 0 &&
                   (want_dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode) && is_image_file(e->d_name));
        free(full);
        if (!keep) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn) break;
            names = nn;
        }
        names[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (*n) qsort(names, (size_t)*n, sizeof *names, cmp_str);
    return names ? names : calloc(1, sizeof *names);
}

static void free_names(char **names, int64_t n) {
    for (int64_t i = 0; names && i < n; i++) free(names[i]);
    free(names);
}

vt_dataset *vt_dataset_folder(const char *root, const vt_dataset_files_options *opt) {
    int64_t n_cls;
    char **classes = list_dir(root, 1, &n_cls);
    if (!classes) return NULL;
    if (n_cls == 0) { free(classes); vt_error("%s: no class sub-folders", root); return NULL; }
    /* count first, then fill: the context is sized once */
    int64_t total = 0, *counts = calloc((size_t)n_cls, sizeof *counts);
    char ***files = calloc((size_t)n_cls, sizeof *files);
    int ok = counts && files;
    for (int64_t k = 0; ok && k < n_cls; k++) {
        char *sub = join3(root, "/", classes[k]);
        files[k] = sub ? list_dir(sub, 0, &counts[k]) : NULL;
        free(sub);
        ok = files[k] != NULL;
        total += counts[k];
    }
    files_ctx *c = ok ? new_ctx(total, opt, root) : NULL;
    if (c) {
        c->n_classes = (int)n_cls;
        c->class_names = classes;
        classes = NULL;
        for (int64_t k = 0; k < n_cls && ok; k++)
            for (int64_t j = 0; j < counts[k] && ok; j++) {
                int64_t i = c->n++;
                char *dir = join3(root, "/", c->class_names[k]);
                c->path[i] = dir ? join3(dir, "/", files[k][j]) : NULL;
                free(dir);
                c->patient[i] = strdup(files[k][j]);
                if (c->patient[i]) { /* the name without its extension(s) */
                    char *dot = strchr(c->patient[i], '.');
                    if (dot && dot != c->patient[i]) *dot = 0;
                }
                c->label[i] = (int)k;
                ok = c->path[i] && c->patient[i];
            }
        if (!ok) vt_error("%s: out of memory", root);
    }
    for (int64_t k = 0; files && k < n_cls; k++) free_names(files[k], counts ? counts[k] : 0);
    free(files);
    free(counts);
    free_names(classes, n_cls);
    if (!c) return NULL;
    if (!ok) { files_destroy(&(vt_dataset){.ctx = c}); return NULL; }
    return make_dataset(c, opt, root);
}

static const files_ctx *ctx_of(const vt_dataset *ds) {
    return ds && ds->get == files_get ? ds->ctx : NULL;
}

const char *vt_dataset_files_path(const vt_dataset *ds, int64_t i) {
    const files_ctx *c = ctx_of(ds);
    return c && i >= 0 && i < c->n ? c->path[i] : NULL;
}

const char *vt_dataset_files_patient(const vt_dataset *ds, int64_t i) {
    const files_ctx *c = ctx_of(ds);
    return c && i >= 0 && i < c->n ? c->patient[i] : NULL;
}

int vt_dataset_files_label(const vt_dataset *ds, int64_t i) {
    const files_ctx *c = ctx_of(ds);
    return c && i >= 0 && i < c->n ? c->label[i] : -1;
}

int vt_dataset_files_n_classes(const vt_dataset *ds) {
    const files_ctx *c = ctx_of(ds);
    return c ? c->n_classes : 0;
}

const char *vt_dataset_files_class_name(const vt_dataset *ds, int k) {
    const files_ctx *c = ctx_of(ds);
    return c && c->class_names && k >= 0 && k < c->n_classes ? c->class_names[k] : NULL;
}
