/* nifti.h: NIfTI-1 / NIfTI-2 volumes (.nii, .nii.gz), read and write.
 *
 * Layout convention: a NIfTI file stores voxel (i, j, k) at i + nx*(j + ny*k), x fastest.
 * vertebra keeps that memory order and reverses the dims into a C-order shape:
 *   3D (nx, ny, nz)     -> heap tensor (nz, ny, nx)
 *   4D (nx, ny, nz, nt) -> (nt, nz, ny, nx)
 * so t->data[k*ny*nx + j*nx + i] is voxel (i, j, k). Files with more than 5 dims load only
 * when the extra dims are 1 (dropped). Values are converted to f32 after applying
 * scl_slope/scl_inter as nibabel's get_fdata does (only when slope is finite and non-zero).
 *
 * Affine: voxel (i, j, k, 1) -> world (mm, RAS+), chosen as nibabel's get_best_affine:
 * sform if sform_code != 0, else qform if qform_code != 0, else pixdim scaling with the
 * x axis flipped and the origin at the volume centre (nibabel's base affine).
 *
 * Errors name the file and the problem; headers are validated (sizes, magic, datatype vs
 * bitpix, dims, vox_offset) before any allocation sized from the file, and data are read
 * incrementally so a truncated or lying .gz fails at EOF without a huge allocation. */
#ifndef VT_NIFTI_H
#define VT_NIFTI_H

#include "vertebra.h"

/* NIfTI datatype codes (the supported ones: no complex, RGB, float128) */
enum {
    VT_NIFTI_UINT8 = 2, VT_NIFTI_INT16 = 4, VT_NIFTI_INT32 = 8, VT_NIFTI_FLOAT32 = 16,
    VT_NIFTI_FLOAT64 = 64, VT_NIFTI_INT8 = 256, VT_NIFTI_UINT16 = 512, VT_NIFTI_UINT32 = 768,
    VT_NIFTI_INT64 = 1024, VT_NIFTI_UINT64 = 1280
};

/* bytes per voxel of a supported datatype, 0 otherwise */
int vt_nifti_type_size(int datatype);

typedef struct vt_nifti_header {
    int version;            /* 1 or 2 */
    int big_endian;         /* byte order of the file */
    int ndim;               /* dim[0], 1..7 */
    int64_t dim[8];         /* dim[1..ndim] = nx, ny, nz, nt, ...; unused entries 1 */
    double pixdim[8];       /* pixdim[0] = qfac (+-1), pixdim[1..3] voxel size */
    int datatype, bitpix;
    int64_t vox_offset;     /* byte offset of the data */
    double scl_slope, scl_inter;
    int qform_code, sform_code, xyzt_units, intent_code;
    double quatern_b, quatern_c, quatern_d, qoffset_x, qoffset_y, qoffset_z;
    double srow[3][4];      /* sform rows */
    char descrip[81];
    double affine[4][4];    /* the chosen voxel -> world matrix (see above) */
} vt_nifti_header;

/* Reads and validates the header only. */
vt_status vt_nifti_read_header(const char *path, vt_nifti_header *hdr);
/* Reads the volume as a heap f32 tensor (shape as above); hdr (may be NULL) receives the
 * header. Release with vt_tensor_free. */
vt_tensor *vt_nifti_load(const char *path, vt_nifti_header *hdr);

/* Writes t (heap, 1..5 dims, reversed into NIfTI dims as above) as NIfTI-1 to path
 * (.gz suffix: gzip). Geometry (pixdim, qform, sform, codes, units) is copied from
 * geometry (NULL: 1 mm voxels, identity qform and sform, codes 1). datatype is VT_NIFTI_FLOAT32 or VT_NIFTI_UINT8 (values rounded and
 * clamped to 0..255, for masks). vox_offset 352, no scaling. */
vt_status vt_nifti_save(const char *path, const vt_tensor *t, const vt_nifti_header *geometry,
                        int datatype);

/* ---- geometry (nifti_affine.c) ---------------------------------------------------- */
/* Affine from the quaternion fields as nibabel's get_qform (qfac = pixdim[0], 0 read as 1). */
vt_status vt_nifti_qform_affine(const vt_nifti_header *hdr, double out[4][4]);
/* Voxel sizes along i, j, k: the column norms of the affine. */
void vt_nifti_spacing(const double affine[4][4], double out[3]);

/* Closest-canonical (RAS+) orientation, as nibabel's io_orientation: for voxel axis a,
 * axis[a] is the world axis (0 R, 1 A, 2 S) it runs along and flip[a] is -1 when it runs
 * towards L/P/I. Returns VT_ERR for a degenerate affine. */
vt_status vt_nifti_orientation(const double affine[4][4], int axis[3], int flip[3]);
/* Reorients vol (a tensor of vt_nifti_load's layout: (..., nz, ny, nx); the last 3 dims
 * are spatial, fewer dims mean size-1 leading spatial axes) to RAS+ by flips and axis
 * permutations, as nibabel's as_closest_canonical. Returns a new heap tensor and writes
 * the new affine (may alias affine). */
vt_tensor *vt_nifti_canonical(const vt_tensor *vol, const double affine[4][4],
                              double out_affine[4][4]);

#endif
