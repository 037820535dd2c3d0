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

/* ---- vertebra-structured phantom (the CT bone-quality method, issue 5) -----------------
 * Patients hold vertebrae, a vertebra is `slices_per_vertebra` consecutive axial slices of
 * one synthetic vertebra with one lesion status. Lesions are 3D ellipsoids: their radius
 * changes from slice to slice and the end slices may not show them at all (label noise a
 * slice classifier has to live with; `visible` says which slices show a lesion).
 * Posterolateral involvement: one extra lesion of the vertebra's kind centred in a pedicle /
 * posterior-arch region (outside the vertebral body), visible on the slices it reaches. */
typedef struct vt_phantom_vertebra_config {
    int n_patients;           /* >= 1 */
    int vertebrae_per_patient;/* >= 1 */
    int slices_per_vertebra;  /* >= 1 */
    int size;                 /* 16..1024 */
    float p_posterolateral;   /* probability that a lesioned vertebra involves the posterior
                                 elements (default 0.4); normal vertebrae never do */
    uint64_t seed;
} vt_phantom_vertebra_config;

/* defaults: 20 patients x 4 vertebrae x 6 slices of 32 x 32, p_posterolateral 0.4, seed 0 */
void vt_phantom_vertebra_config_default(vt_phantom_vertebra_config *c);

/* N = n_patients * vertebrae_per_patient * slices_per_vertebra slices, ordered patient,
 * vertebra, slice. Heap tensors of shape (N) unless noted; labels are 0/1 floats. */
typedef struct vt_phantom_slices {
    vt_tensor *images;         /* (N, 1, size, size) */
    vt_tensor *quality;        /* 4-way class: normal / blastic / lytic / mixed (enum above),
                                  always 1 * blastic + 2 * lytic */
    vt_tensor *blastic;        /* the vertebra has a sclerotic lesion */
    vt_tensor *lytic;          /* the vertebra has a lucent lesion */
    vt_tensor *posterolateral; /* a lesion extends into the pedicle / posterior elements */
    vt_tensor *visible;        /* this slice shows some lesion (not a training label) */
    vt_tensor *vertebra;       /* global vertebra index (0..n_patients*vertebrae-1) */
    vt_tensor *patient;        /* patient index */
} vt_phantom_slices;

/* Vertebra v depends only on (seed, v). Fills *out (all NULL on error). */
vt_status vt_phantom_vertebrae_make(const vt_phantom_vertebra_config *c, vt_phantom_slices *out);
void vt_phantom_slices_free(vt_phantom_slices *s);

#endif
