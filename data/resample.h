/* resample.h: resampling of volumes to a voxel spacing or onto another voxel grid.
 *
 * Volumes use vt_nifti_load's layout: (D, H, W) or (C, D, H, W) with W = x = voxel index i
 * fastest, H = y = j, D = z = k; an affine maps voxel (i, j, k, 1) to world (mm). A plain
 * tensor with voxel spacing (sx, sy, sz) uses vt_affine_from_spacing.
 *
 * Grid convention (nibabel.processing.resample_from_to, scipy.ndimage.affine_transform):
 * voxel indices are voxel CENTRES; output voxel o samples the input at the continuous index
 * inv(A_in) A_out o. Outside the input the nearest edge value is used (scipy mode='nearest'),
 * so a slightly larger output grid does not fade to 0 at its border.
 *
 * A spacing change keeps the field of view centred: along an axis of n voxels of size s,
 * the output has m = max(1, round(n s / s')) voxels of size s' exactly, and the output
 * grid's centre (m - 1)/2 lies on the input grid's centre (n - 1)/2 (the affine is updated
 * accordingly; direction cosines are kept). Resampling the result back with
 * vt_resample_to_grid(out, out_affine, in_shape, in_affine) gives the input's exact shape
 * and affine, which is how a prediction is written back in the input geometry. */
#ifndef VT_RESAMPLE_H
#define VT_RESAMPLE_H

#include "vertebra.h"

typedef enum {
    VT_INTERP_LINEAR = 0,          /* trilinear: images */
    VT_INTERP_NEAREST = 1,         /* nearest voxel (index floor(c + 0.5)): label masks */
    VT_INTERP_LINEAR_THRESHOLD = 2 /* trilinear then >= 0.5 -> 1 else 0: binary masks */
} vt_interp;

/* diag(sx, sy, sz, 1): the affine of a tensor known only by its voxel spacing (x, y, z). */
void vt_affine_from_spacing(const double spacing[3], double out[4][4]);

/* Resamples vol to voxel spacing `spacing` (x, y, z mm) as above; writes the output affine
 * to out_affine. Returns a new heap tensor of the same rank. */
vt_tensor *vt_resample_spacing(const vt_tensor *vol, const double affine[4][4],
                               const double spacing[3], vt_interp interp,
                               double out_affine[4][4]);

/* Output shape of vt_resample_spacing along (x, y, z) for input sizes n (x, y, z). */
void vt_resample_shape(const int64_t n[3], const double affine[4][4], const double spacing[3],
                       int64_t out[3]);

/* Resamples vol (affine `affine`) onto the grid of out_dhw = (D, H, W) voxels with affine
 * out_affine (any rotation allowed). Channels of a (C, D, H, W) input are kept. */
vt_tensor *vt_resample_to_grid(const vt_tensor *vol, const double affine[4][4],
                               const int64_t out_dhw[3], const double out_affine[4][4],
                               vt_interp interp);

#endif
