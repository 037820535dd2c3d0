/* softseg_data.c: volumes for the soft cord segmentation: preparation (RAS+, training
 * spacing, per-volume z-score), the cord phantom (subjects x 4 contrasts, split by subject)
 * and the SCT subject (t2, t2s, mt0, mt1; held out by z-range since there is one subject). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "phantom_cord.h"
#include "resample.h"
#include "softseg.h"

vt_tensor *vt_softseg_prepare(const vt_tensor *vol, const double affine[4][4],
                              const double spacing[3], int is_image, int binary,
                              double out_affine[4][4]) {
    if (!vol || vol->ndim != 3) { vt_error("softseg prepare: need a (D, H, W) volume"); return NULL; }
    double caff[4][4], sp[3], native[3], oaff[4][4];
    vt_tensor *can = vt_nifti_canonical(vol, affine, caff);
    if (!can) return NULL;
    vt_nifti_spacing(caff, native);
    for (int k = 0; k < 3; k++) sp[k] = spacing[k] > 0 ? spacing[k] : native[k];
    vt_tensor *out = vt_resample_spacing(can, caff, sp, binary ? VT_INTERP_LINEAR_THRESHOLD : VT_INTERP_LINEAR, oaff);
    vt_tensor_free(can);
    if (!out) return NULL;
    if (out_affine) memcpy(out_affine, oaff, sizeof oaff);
    if (is_image) {
        /* z-score per volume: contrasts differ in scale and offset; the network sees the same range */
        double s = 0, s2 = 0;
        for (int64_t i = 0; i < out->numel; i++) { s += out->data[i]; s2 += (double)out->data[i] * out->data[i]; }
        double mean = s / (double)out->numel, var = s2 / (double)out->numel - mean * mean;
        double inv = 1.0 / (sqrt(var > 0 ? var : 0) + 1e-6);
        for (int64_t i = 0; i < out->numel; i++) out->data[i] = (float)((out->data[i] - mean) * inv);
    }
    return out;
}

/* zero-pads (D, h, w) to (D, H, W), centred; frees t */
static vt_tensor *pad_center(vt_tensor *t, int64_t H, int64_t W) {
    if (!t) return NULL;
    int64_t D = t->shape[0], h = t->shape[1], w = t->shape[2];
    if (h == H && w == W) return t;
    vt_tensor *o = vt_tensor_new(VT_DIMS(D, H, W));
    if (!o) { vt_tensor_free(t); return NULL; }
    int64_t oy = (H - h) / 2, ox = (W - w) / 2;
    for (int64_t z = 0; z < D; z++)
        for (int64_t y = 0; y < h; y++)
            memcpy(o->data + (z * H + y + oy) * W + ox, t->data + (z * h + y) * w, sizeof(float) * (size_t)w);
    vt_tensor_free(t);
    return o;
}

void vt_softseg_data_free(vt_softseg_data *d) {
    if (!d) return;
    for (int i = 0; i < d->n; i++) {
        vt_softseg_volume *v = &d->vol[i];
        vt_tensor_free(v->image); vt_tensor_free(v->soft); vt_tensor_free(v->mask);
        vt_tensor_free(v->other); vt_tensor_free(v->true_csa);
    }
    free(d->vol);
    memset(d, 0, sizeof *d);
}

/* common padded size (multiple of 2^depth) and the padding itself */
static vt_status pad_all(vt_softseg_data *d, int depth) {
    int64_t H = 0, W = 0, m = (int64_t)1 << depth;
    for (int i = 0; i < d->n; i++) {
        if (d->vol[i].image->shape[1] > H) H = d->vol[i].image->shape[1];
        if (d->vol[i].image->shape[2] > W) W = d->vol[i].image->shape[2];
    }
    H = (H + m - 1) / m * m;
    W = (W + m - 1) / m * m;
    for (int i = 0; i < d->n; i++) {
        vt_softseg_volume *v = &d->vol[i];
        if (!(v->image = pad_center(v->image, H, W)) || !(v->soft = pad_center(v->soft, H, W)) ||
            !(v->mask = pad_center(v->mask, H, W)) || (v->other && !(v->other = pad_center(v->other, H, W))))
            return VT_ERR;
    }
    d->height = H;
    d->width = W;
    return VT_OK;
}

static vt_status load_phantom(const vt_softseg_options *o, vt_softseg_data *d) {
    vt_phantom_cord_config pc;
    vt_phantom_cord_config_default(&pc);
    pc.nx = o->nx; pc.ny = o->ny; pc.nz = o->nz; pc.noise = o->noise;
    d->n = o->subjects * VT_CORD_N_CONTRASTS;
    if (!(d->vol = calloc((size_t)d->n, sizeof *d->vol))) return vt_error("softseg data: out of memory");
    for (int s = 0; s < o->subjects; s++) {
        vt_phantom_cord p;
        if (vt_phantom_cord_make(&pc, o->seed, s, &p) != VT_OK) return VT_ERR;
        const double (*A)[4] = (const double (*)[4])p.geometry.affine;
        int test = s >= o->subjects - o->test_subjects;
        vt_status st = VT_OK;
        for (int c = 0; c < VT_CORD_N_CONTRASTS && st == VT_OK; c++) {
            vt_softseg_volume *v = &d->vol[s * VT_CORD_N_CONTRASTS + c];
            snprintf(v->contrast, sizeof v->contrast, "%s", vt_cord_contrast_names[c]);
            snprintf(v->name, sizeof v->name, "sub-%02d_%s", s, v->contrast);
            v->subject = s;
            double aff[4][4];
            v->image = vt_softseg_prepare(p.image[c], A, o->spacing, 1, 0, aff);
            v->soft = vt_softseg_prepare(p.soft, A, o->spacing, 0, 0, NULL);
            v->mask = vt_softseg_prepare(p.mask[c], A, o->spacing, 0, 1, NULL);
            if (!v->image || !v->soft || !v->mask) { st = VT_ERR; break; }
            vt_nifti_spacing(aff, v->spacing);
            int64_t D = v->image->shape[0];
            /* the exact CSA is per phantom slice: usable while the slices are the phantom's */
            if (D == p.csa->numel) v->true_csa = vt_tensor_clone(p.csa);
            v->train_lo = 0; v->train_hi = test ? 0 : D;
            v->test_lo = 0; v->test_hi = test ? D : 0;
        }
        vt_phantom_cord_free(&p);
        if (st != VT_OK) return st;
    }
    return VT_OK;
}

typedef struct sct_entry {
    const char *contrast, *image, *mask, *soft_with, *other;
} sct_entry;

/* the SCT subject: one entry per contrast image; soft GT = mean of the masks of that
 * voxel grid (mt0 / mt1 share one; t2 and t2s have one manual mask each, softened only
 * by the partial-volume resampling); deepseg kept apart as another rater. */
static const sct_entry SCT[] = {
    {"T2w", "t2/t2.nii.gz", "t2/t2_seg-manual.nii.gz", NULL, "t2/t2_seg-deepseg_sc-2d.nii.gz"},
    {"T2starw", "t2s/t2s.nii.gz", "t2s/t2s_seg.nii.gz", NULL, "t2s/t2s_seg-deepseg.nii.gz"},
    {"MT0", "mt/mt0.nii.gz", "mt/mt0_seg.nii.gz", "mt/mt1_seg.nii.gz", NULL},
    {"MT1", "mt/mt1.nii.gz", "mt/mt1_seg.nii.gz", "mt/mt0_seg.nii.gz", NULL},
};

static vt_tensor *load_at(const char *dir, const char *rel, vt_nifti_header *h) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return vt_nifti_load(path, h);
}

static vt_status load_sct(const vt_softseg_options *o, vt_softseg_data *d) {
    d->n = (int)(sizeof SCT / sizeof SCT[0]);
    if (!(d->vol = calloc((size_t)d->n, sizeof *d->vol))) return vt_error("softseg data: out of memory");
    for (int i = 0; i < d->n; i++) {
        const sct_entry *e = &SCT[i];
        vt_softseg_volume *v = &d->vol[i];
        snprintf(v->contrast, sizeof v->contrast, "%s", e->contrast);
        snprintf(v->name, sizeof v->name, "errsm30_%s", e->contrast);
        vt_nifti_header hi, hm, h2;
        vt_tensor *img = load_at(o->sct_dir, e->image, &hi), *mask = img ? load_at(o->sct_dir, e->mask, &hm) : NULL;
        vt_tensor *mask2 = mask && e->soft_with ? load_at(o->sct_dir, e->soft_with, &h2) : NULL;
        vt_tensor *other = mask && e->other ? load_at(o->sct_dir, e->other, NULL) : NULL;
        vt_status st = img && mask && (!e->soft_with || mask2) && (!e->other || other) ? VT_OK : VT_ERR;
        if (st == VT_OK) st = vt_softgt_same_grid(&hi, &hm, e->image, e->mask, 1e-3);
        if (st == VT_OK && mask2) st = vt_softgt_same_grid(&hm, &h2, e->mask, e->soft_with, 1e-3);
        vt_tensor *soft = NULL;
        if (st == VT_OK) {
            vt_tensor *both[2] = {mask, mask2};
            if (!(soft = vt_softgt_mean(mask2 ? 2 : 1, both))) st = VT_ERR;
        }
        double aff[4][4];
        if (st == VT_OK) {
            const double (*A)[4] = (const double (*)[4])hi.affine;
            v->image = vt_softseg_prepare(img, A, o->spacing, 1, 0, aff);
            v->soft = vt_softseg_prepare(soft, A, o->spacing, 0, 0, NULL);
            v->mask = vt_softseg_prepare(mask, A, o->spacing, 0, 1, NULL);
            if (other) v->other = vt_softseg_prepare(other, A, o->spacing, 0, 1, NULL);
            if (!v->image || !v->soft || !v->mask || (other && !v->other)) st = VT_ERR;
        }
        vt_tensor_free(img); vt_tensor_free(mask); vt_tensor_free(mask2); vt_tensor_free(other); vt_tensor_free(soft);
        if (st != VT_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", vt_last_error());
            return vt_error("softseg data: %s/%s: %s", o->sct_dir, e->image, msg);
        }
        vt_nifti_spacing(aff, v->spacing);
        /* one subject: hold out the top slices (superior end) of every contrast */
        int64_t D = v->image->shape[0], nt = (int64_t)ceil(o->test_z_fraction * (double)D);
        if (nt < 1) nt = 1;
        if (nt >= D) return vt_error("softseg data: %s has %lld axial slices: cannot hold out %lld and train on the rest",
                                     e->image, (long long)D, (long long)nt);
        v->train_lo = 0; v->train_hi = D - nt;
        v->test_lo = D - nt; v->test_hi = D;
    }
    return VT_OK;
}

vt_status vt_softseg_data_load(const vt_softseg_options *o, vt_softseg_data *d) {
    memset(d, 0, sizeof *d);
    vt_status st = o->source_sct ? load_sct(o, d) : load_phantom(o, d);
    if (st == VT_OK) st = pad_all(d, o->depth);
    if (st != VT_OK) vt_softseg_data_free(d);
    return st;
}
