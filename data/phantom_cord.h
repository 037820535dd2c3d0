/* phantom_cord.h: procedural spinal-cord MRI of one subject in several contrasts (T2w,
 * T2*w, T1w, MT) with per-contrast binary cord masks that disagree at the boundary as
 * manual masks of different contrasts do, their mean as a soft ground truth, the exact
 * partial-volume cord fraction and the true cord cross-sectional area (CSA) per slice.
 * Volumes use vt_nifti_load's layout (nz, ny, nx) and come with a NIfTI geometry, so they
 * can be written with vt_nifti_save. See docs/phantoms.md. */
#ifndef VT_PHANTOM_CORD_H
#define VT_PHANTOM_CORD_H

#include "nifti.h"

enum { VT_CORD_T2 = 0, VT_CORD_T2STAR = 1, VT_CORD_T1 = 2, VT_CORD_MT = 3, VT_CORD_N_CONTRASTS = 4 };
/* BIDS-like suffixes: "T2w", "T2starw", "T1w", "MTw" */
extern const char *const vt_cord_contrast_names[VT_CORD_N_CONTRASTS];

typedef struct vt_phantom_cord_config {
    int nx, ny, nz;          /* voxels (x = left-right, y = posterior-anterior, z = inferior-superior);
                                nx, ny 24..256, nz 4..512 (default 32 x 32 x 48) */
    float dx, dy, dz;        /* spacing in mm, 0.2..5 (default 0.8, 0.8, 2.5) */
    float noise;             /* Gaussian noise std, 0..0.5 (default 0.03; tissue contrasts are ~0.3-0.8) */
} vt_phantom_cord_config;

void vt_phantom_cord_config_default(vt_phantom_cord_config *c);

typedef struct vt_phantom_cord {
    vt_tensor *image[VT_CORD_N_CONTRASTS]; /* (nz, ny, nx) intensities */
    vt_tensor *mask[VT_CORD_N_CONTRASTS];  /* (nz, ny, nx) binary cord masks, one per contrast */
    vt_tensor *soft;         /* (nz, ny, nx) mean of the masks, in [0, 1] */
    vt_tensor *fraction;     /* (nz, ny, nx) exact cord volume fraction of each voxel */
    vt_tensor *csa;          /* (nz) true cord area of each axial slice in mm^2 */
    vt_nifti_header geometry; /* spacing, qform = sform (RAS+, centred), for vt_nifti_save */
} vt_phantom_cord;

/* One subject: depends only on (seed, subject, config). cfg NULL: defaults. */
vt_status vt_phantom_cord_make(const vt_phantom_cord_config *cfg, uint64_t seed, int64_t subject,
                               vt_phantom_cord *out);
void vt_phantom_cord_free(vt_phantom_cord *p);

#endif
