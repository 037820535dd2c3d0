/* softseg_gt.c: the soft ground truth: the mean of co-registered binary masks, with a check
 * that every mask lives on the same voxel grid (averaging masks of different grids would
 * silently mix unrelated voxels). */
#include <math.h>
#include <stdlib.h>
#include "softseg.h"

vt_status vt_softgt_same_grid(const vt_nifti_header *a, const vt_nifti_header *b,
                              const char *name_a, const char *name_b, double tol) {
    for (int k = 1; k <= 3; k++)
        if (a->dim[k] != b->dim[k])
            return vt_error("softgt: %s has dims %lldx%lldx%lld but %s has %lldx%lldx%lld: masks must be on one grid",
                            name_a, (long long)a->dim[1], (long long)a->dim[2], (long long)a->dim[3], name_b,
                            (long long)b->dim[1], (long long)b->dim[2], (long long)b->dim[3]);
    for (int k = 4; k <= 7; k++)
        if ((k <= a->ndim ? a->dim[k] : 1) != 1 || (k <= b->ndim ? b->dim[k] : 1) != 1)
            return vt_error("softgt: %s / %s: 4-D masks are not supported", name_a, name_b);
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++)
            if (!(fabs(a->affine[r][c] - b->affine[r][c]) <= tol))
                return vt_error("softgt: %s and %s have different affines (row %d col %d: %g vs %g, tolerance %g mm): "
                                "masks must be co-registered on one grid", name_a, name_b, r, c, a->affine[r][c],
                                b->affine[r][c], tol);
    return VT_OK;
}

vt_tensor *vt_softgt_mean(int n, vt_tensor *const *masks) {
    if (n < 1 || !masks || !masks[0]) { vt_error("softgt: need at least one mask"); return NULL; }
    for (int i = 1; i < n; i++)
        if (!masks[i] || !vt_shape_equal(masks[i], masks[0])) {
            vt_error("softgt: mask %d has another shape than mask 0", i);
            return NULL;
        }
    vt_tensor *out = vt_tensor_new(masks[0]->ndim, masks[0]->shape);
    if (!out) return NULL;
    for (int i = 0; i < n; i++)
        for (int64_t v = 0; v < out->numel; v++) out->data[v] += masks[i]->data[v] != 0.f;
    for (int64_t v = 0; v < out->numel; v++) out->data[v] /= (float)n;
    return out;
}

vt_status vt_softgt_files(int n, const char *const *paths, const char *out_path, double tol) {
    if (n < 1) return vt_error("softgt: need at least one mask file");
    vt_tensor **m = calloc((size_t)n, sizeof *m);
    vt_nifti_header *h = calloc((size_t)n, sizeof *h);
    vt_status st = m && h ? VT_OK : vt_error("softgt: out of memory");
    for (int i = 0; i < n && st == VT_OK; i++) {
        if (vt_nifti_read_header(paths[i], &h[i]) != VT_OK) { st = VT_ERR; break; }
        if (i > 0 && (st = vt_softgt_same_grid(&h[0], &h[i], paths[0], paths[i], tol)) != VT_OK) break;
        if (!(m[i] = vt_nifti_load(paths[i], NULL))) st = VT_ERR;
    }
    vt_tensor *mean = st == VT_OK ? vt_softgt_mean(n, m) : NULL;
    if (st == VT_OK && !mean) st = VT_ERR;
    if (st == VT_OK) st = vt_nifti_save(out_path, mean, &h[0], VT_NIFTI_FLOAT32);
    vt_tensor_free(mean);
    for (int i = 0; m && i < n; i++) vt_tensor_free(m[i]);
    free(m);
    free(h);
    return st;
}
