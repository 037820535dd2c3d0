/* mdseg_files.c: file domains for the multi-domain segmentation (data.source = files):
 * one CSV (columns image, mask) per domain, PNG or single-slice NIfTI pairs, checked
 * against the configured size and the class count (no resizing), split by row order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "csv.h"
#include "mdseg.h"
#include "nifti.h"
#include "png_io.h"

static int is_nifti(const char *p) {
    size_t n = strlen(p);
    return (n > 4 && !strcmp(p + n - 4, ".nii")) || (n > 7 && !strcmp(p + n - 7, ".nii.gz"));
}

/* (1, S, S) / (S, S) PNG grey or NIfTI with one slice of S x S -> heap tensor; raw: PNG
 * sample values 0..255 (masks) instead of [0, 1]. */
static vt_tensor *load_plane(const char *path, int size, int raw) {
    vt_tensor *t;
    int64_t w, h;
    if (is_nifti(path)) {
        vt_nifti_header hdr;
        if (!(t = vt_nifti_load(path, &hdr))) return NULL;
        w = hdr.dim[1], h = hdr.dim[2];
        if (t->numel != w * h) {
            vt_tensor_free(t);
            vt_error("mdseg files: %s: %lld slices; give one axial slice (nz = 1)", path, (long long)(t->numel / (w * h)));
            return NULL;
        }
    } else {
        vt_png_options o = {.grey = 1, .raw = raw};
        vt_png_info info;
        if (!(t = vt_png_load(path, &o, &info))) return NULL;
        w = info.width, h = info.height;
    }
    if (w != size || h != size) {
        vt_tensor_free(t);
        vt_error("mdseg files: %s is %lldx%lld, data.size is %dx%d (resize the files; masks are not interpolated)",
                 path, (long long)w, (long long)h, size, size);
        return NULL;
    }
    return t;
}

vt_status vt_mdseg_load_pair(const char *image_path, const char *mask_path, int size, float *img, float *mask) {
    int64_t plane = (int64_t)size * size;
    vt_tensor *x = load_plane(image_path, size, 0);
    if (!x) return VT_ERR;
    if (is_nifti(image_path)) { /* intensities of any range -> [0, 1] per image */
        float lo = INFINITY, hi = -INFINITY;
        for (int64_t p = 0; p < plane; p++) lo = fminf(lo, x->data[p]), hi = fmaxf(hi, x->data[p]);
        for (int64_t p = 0; p < plane; p++) img[p] = hi > lo ? (x->data[p] - lo) / (hi - lo) : 0.f;
    } else memcpy(img, x->data, sizeof(float) * (size_t)plane);
    vt_tensor_free(x);
    vt_tensor *m = load_plane(mask_path, size, 1);
    if (!m) return VT_ERR;
    /* raw ids when every value is an id; else (PNG) phantom-export's id * 127 */
    int raw_ids = 1, scaled = !is_nifti(mask_path);
    for (int64_t p = 0; p < plane; p++) {
        float v = m->data[p];
        if (!(v == floorf(v) && v >= 0 && v < VT_MDSEG_CLASSES)) raw_ids = 0;
        if (!(v == floorf(v) && fmodf(v, 127.f) == 0 && v / 127 < VT_MDSEG_CLASSES)) scaled = 0;
    }
    if (!raw_ids && !scaled) {
        float bad = 0;
        for (int64_t p = 0; p < plane; p++) {
            float v = m->data[p];
            if (!(v == floorf(v) && v >= 0 && v < VT_MDSEG_CLASSES)) { bad = v; break; }
        }
        vt_tensor_free(m);
        return vt_error("mdseg files: mask %s holds %g: class ids must be 0..%d (PNG also 0, 127, 254 as phantom-export writes)",
                        mask_path, (double)bad, VT_MDSEG_CLASSES - 1);
    }
    for (int64_t p = 0; p < plane; p++) mask[p] = raw_ids ? m->data[p] : m->data[p] / 127.f;
    vt_tensor_free(m);
    return VT_OK;
}

/* dir of the CSV joined with a relative path (absolute kept) */
static void resolve(char *out, size_t cap, const char *csv_path, const char *rel) {
    const char *slash = strrchr(csv_path, '/');
    if (rel[0] == '/' || !slash) snprintf(out, cap, "%s", rel);
    else snprintf(out, cap, "%.*s/%s", (int)(slash - csv_path), csv_path, rel);
}

static void stem(char *out, size_t cap, const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strchr(b, '.');
    snprintf(out, cap, "%.*s", (int)(dot ? dot - b : (long)strlen(b)), b);
}

static vt_status alloc_data(vt_mdseg_data *d, int nd, int64_t n, int size) {
    d->n_domains = nd;
    d->n = n;
    d->images = vt_tensor_new(VT_DIMS(n, 1, size, size));
    d->masks = vt_tensor_new(VT_DIMS(n, 1, size, size));
    d->domain = malloc(sizeof(int) * (size_t)n);
    return d->images && d->masks && d->domain ? VT_OK : vt_error("mdseg files: out of memory");
}

vt_status vt_mdseg_data_load_files(const char *list, int size, double test_fraction, vt_mdseg_data *train,
                                   vt_mdseg_data *test) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    char paths[VT_MDSEG_MAX_DOMAINS][1024];
    int nd = 0;
    for (const char *p = list ? list : ""; *p;) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > p && t[-1] == ' ') t--;
        if (nd == VT_MDSEG_MAX_DOMAINS) return vt_error("mdseg files: more than %d CSV files in data.files", VT_MDSEG_MAX_DOMAINS);
        snprintf(paths[nd++], sizeof paths[0], "%.*s", (int)(t - p), p);
        p = e;
    }
    if (!nd) return vt_error("mdseg files: data.files is empty (comma-separated CSVs with columns image, mask; one per domain)");
    vt_csv *csv[VT_MDSEG_MAX_DOMAINS] = {0};
    int64_t n_test[VT_MDSEG_MAX_DOMAINS], tot_train = 0, tot_test = 0;
    vt_status st = VT_OK;
    for (int d = 0; d < nd && st == VT_OK; d++) {
        if (!(csv[d] = vt_csv_load(paths[d], NULL)) || vt_csv_require_column(csv[d], "image") < 0 ||
            vt_csv_require_column(csv[d], "mask") < 0) { st = VT_ERR; break; }
        int64_t rows = csv[d]->nrows;
        if (rows < 2) { st = vt_error("mdseg files: %s has %lld rows; need at least 2 (train and held out)", paths[d], (long long)rows); break; }
        n_test[d] = (int64_t)llround(test_fraction * (double)rows);
        if (n_test[d] < 1) n_test[d] = 1;
        if (n_test[d] > rows - 1) n_test[d] = rows - 1;
        tot_test += n_test[d], tot_train += rows - n_test[d];
    }
    if (st == VT_OK) st = alloc_data(train, nd, tot_train, size);
    if (st == VT_OK) st = alloc_data(test, nd, tot_test, size);
    int64_t plane = (int64_t)size * size, itr = 0, ite = 0;
    for (int d = 0; d < nd && st == VT_OK; d++) {
        train->phantom[d] = test->phantom[d] = -1;
        stem(train->name[d], sizeof train->name[d], paths[d]);
        memcpy(test->name[d], train->name[d], sizeof train->name[d]);
        int ci = vt_csv_column(csv[d], "image"), cm = vt_csv_column(csv[d], "mask");
        int64_t rows = csv[d]->nrows;
        for (int64_t r = 0; r < rows && st == VT_OK; r++) {
            int held = r >= rows - n_test[d];
            vt_mdseg_data *o = held ? test : train;
            int64_t i = held ? ite++ : itr++;
            char ip[2200], mp[2200];
            resolve(ip, sizeof ip, paths[d], vt_csv_cell(csv[d], r, ci));
            resolve(mp, sizeof mp, paths[d], vt_csv_cell(csv[d], r, cm));
            st = vt_mdseg_load_pair(ip, mp, size, o->images->data + i * plane, o->masks->data + i * plane);
            if (st != VT_OK) { /* copy: vt_error writes the buffer vt_last_error reads */
                char why[1024];
                snprintf(why, sizeof why, "%s", vt_last_error());
                st = vt_error("%s:%lld: %s", paths[d], (long long)csv[d]->lines[r], why);
            }
            o->domain[i] = d;
        }
    }
    for (int d = 0; d < nd; d++) vt_csv_free(csv[d]);
    if (st != VT_OK) { vt_mdseg_data_free(train); vt_mdseg_data_free(test); }
    return st;
}
