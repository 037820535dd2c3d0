/* softseg_patch.c: the 3D variant of the soft cord segmentation: training patches drawn from
 * the prepared volumes (data/dataset.h patches, foreground-oversampled) and sliding-window
 * inference over a whole volume (50 % overlap, Gaussian or uniform weights). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "softseg.h"

/* copies slices [lo, hi) of a (D, H, W) volume into a new heap tensor */
static vt_tensor *slab(const vt_tensor *v, int64_t lo, int64_t hi) {
    int64_t hw = v->shape[1] * v->shape[2];
    vt_tensor *t = vt_tensor_new(VT_DIMS(hi - lo, v->shape[1], v->shape[2]));
    if (t) memcpy(t->data, v->data + lo * hw, sizeof(float) * (size_t)((hi - lo) * hw));
    return t;
}

vt_dataset *vt_softseg_patch_dataset(const vt_softseg_options *o, const vt_softseg_data *d) {
    vt_tensor **img = calloc((size_t)d->n + 1, sizeof *img), **tgt = calloc((size_t)d->n + 1, sizeof *tgt);
    int n = 0;
    vt_dataset *ds = NULL;
    if (!img || !tgt) { vt_error("softseg patches: out of memory"); goto done; }
    for (int i = 0; i < d->n; i++) {
        const vt_softseg_volume *v = &d->vol[i];
        if (v->train_hi <= v->train_lo) continue;
        img[n] = slab(v->image, v->train_lo, v->train_hi);
        tgt[n] = slab(o->soft_gt ? v->soft : v->mask, v->train_lo, v->train_hi);
        n++;
        if (!img[n - 1] || !tgt[n - 1]) goto done;
    }
    if (n == 0) { vt_error("softseg train: no training volumes"); goto done; }
    /* the target doubles as the foreground map: patches are centred on voxels with target > 0 */
    ds = vt_dataset_patches(n, img, tgt, o->patch, o->fg_prob, o->patches_per_epoch);
done:
    for (int i = 0; i < n; i++) { vt_tensor_free(img[i]); vt_tensor_free(tgt[i]); }
    free(img);
    free(tgt);
    return ds;
}

/* window starts along one axis of length len (>= p): stride p / 2, evenly spread so that the
 * first starts at 0 and the last at len - p; returns the count */
static int64_t starts(int64_t len, int64_t p, int64_t *out) {
    if (len <= p) { out[0] = 0; return 1; }
    int64_t stride = p / 2 > 0 ? p / 2 : 1, n = (len - p + stride - 1) / stride + 1;
    for (int64_t k = 0; k < n; k++) out[k] = (int64_t)llround((double)k * (double)(len - p) / (double)(n - 1));
    return n;
}

/* per-axis weights of one window: Gaussian with sigma = p / 8 around the centre (peak 1,
 * floored at 1e-3 so every voxel keeps a positive weight), or all ones */
static void axis_weights(int64_t p, int gaussian, float *w) {
    double c = (double)(p - 1) / 2, sigma = (double)p / 8;
    for (int64_t i = 0; i < p; i++) {
        double g = gaussian ? exp(-0.5 * ((double)i - c) * ((double)i - c) / (sigma * sigma)) : 1.0;
        w[i] = (float)(g > 1e-3 ? g : 1e-3);
    }
}

vt_tensor *vt_softseg_sliding_window(vt_model *m, int clamp_head, const vt_tensor *image, const int64_t patch[3],
                                     int gaussian) {
    char buf[64];
    if (!image || image->ndim != 3 || patch[0] < 1 || patch[1] < 1 || patch[2] < 1) {
        vt_error("softseg sliding window: need a (D, H, W) image and a positive patch, got %s",
                 image ? vt_shape_str(image, buf, sizeof buf) : "NULL");
        return NULL;
    }
    int64_t dim[3], P[3], pvol = patch[0] * patch[1] * patch[2];
    for (int a = 0; a < 3; a++) { dim[a] = image->shape[a]; P[a] = dim[a] > patch[a] ? dim[a] : patch[a]; }
    int64_t *st[3], ns[3];
    float *w[3];
    for (int a = 0; a < 3; a++) {
        st[a] = malloc(sizeof(int64_t) * (size_t)(P[a] + 1));
        w[a] = malloc(sizeof(float) * (size_t)patch[a]);
    }
    double *acc = calloc((size_t)(P[0] * P[1] * P[2]), sizeof(double)), *wsum = calloc((size_t)(P[0] * P[1] * P[2]), sizeof(double));
    vt_tensor *out = vt_tensor_new(VT_DIMS(dim[0], dim[1], dim[2]));
    vt_status status = st[0] && st[1] && st[2] && w[0] && w[1] && w[2] && acc && wsum && out ? VT_OK : VT_ERR;
    if (status != VT_OK && out) vt_error("softseg sliding window: out of memory");
    if (status == VT_OK)
        for (int a = 0; a < 3; a++) { ns[a] = starts(P[a], patch[a], st[a]); axis_weights(patch[a], gaussian, w[a]); }
    int prev = vt_no_grad_begin();
    for (int64_t iz = 0; status == VT_OK && iz < ns[0]; iz++)
        for (int64_t iy = 0; status == VT_OK && iy < ns[1]; iy++)
            for (int64_t ix = 0; status == VT_OK && ix < ns[2]; ix++) {
                int64_t z0 = st[0][iz], y0 = st[1][iy], x0 = st[2][ix];
                /* (1, 1, pd, ph, pw) window; voxels past the volume's end stay 0 */
                vt_tensor *x = vt_tensor_zeros(VT_DIMS(1, 1, patch[0], patch[1], patch[2]));
                if (!x) { status = VT_ERR; break; }
                for (int64_t z = 0; z < patch[0] && z0 + z < dim[0]; z++)
                    for (int64_t y = 0; y < patch[1] && y0 + y < dim[1]; y++) {
                        int64_t nx = dim[2] - x0 < patch[2] ? dim[2] - x0 : patch[2];
                        memcpy(x->data + (z * patch[1] + y) * patch[2],
                               image->data + ((z0 + z) * dim[1] + y0 + y) * dim[2] + x0, sizeof(float) * (size_t)nx);
                    }
                vt_tensor *p = vt_softseg_forward(m, clamp_head, x, 0);
                if (!p || p->numel != pvol) {
                    status = p ? vt_error("softseg sliding window: the model maps a %s window to %lld values",
                                          vt_shape_str(x, buf, sizeof buf), (long long)p->numel) : VT_ERR;
                    break;
                }
                for (int64_t z = 0; z < patch[0]; z++)
                    for (int64_t y = 0; y < patch[1]; y++)
                        for (int64_t xx = 0; xx < patch[2]; xx++) {
                            double wt = (double)w[0][z] * w[1][y] * w[2][xx];
                            int64_t g = ((z0 + z) * P[1] + y0 + y) * P[2] + x0 + xx;
                            acc[g] += wt * p->data[(z * patch[1] + y) * patch[2] + xx];
                            wsum[g] += wt;
                        }
                vt_arena_reset(NULL);
            }
    vt_no_grad_end(prev);
    if (status == VT_OK)
        for (int64_t z = 0; z < dim[0]; z++)
            for (int64_t y = 0; y < dim[1]; y++)
                for (int64_t x = 0; x < dim[2]; x++) {
                    int64_t g = (z * P[1] + y) * P[2] + x;
                    out->data[(z * dim[1] + y) * dim[2] + x] = (float)(acc[g] / wsum[g]);
                }
    for (int a = 0; a < 3; a++) { free(st[a]); free(w[a]); }
    free(acc);
    free(wsum);
    if (status != VT_OK) { vt_tensor_free(out); out = NULL; }
    return out;
}
