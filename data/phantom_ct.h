/* phantom_ct.h: procedural axial CT slices of a vertebra with bone-quality labels, the
 * built-in data of the main job (no downloads). A first, 2D version of the phantoms the
 * data issue asks for; intensities are normalised HU-like values in about [0, 1.4]. */
#ifndef VT_PHANTOM_CT_H
#define VT_PHANTOM_CT_H

#include "vertebra.h"

/* bone quality: what the spinal-metastasis paper classifies */
enum { VT_BONE_NORMAL = 0, VT_BONE_BLASTIC = 1, VT_BONE_LYTIC = 2, VT_BONE_MIXED = 3 };

/* n slices of size x size (>= 16): images (n, 1, size, size), labels (n) with classes
 * drawn uniformly. Sample i depends only on (seed, i). Heap tensors; NULL on error. */
vt_status vt_phantom_ct_make(int64_t n, int size, uint64_t seed, vt_tensor **images,
                             vt_tensor **labels);

#endif
