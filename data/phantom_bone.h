/* phantom_bone.h: procedural multi-domain bone segmentation data: 2D images of vertebrae
 * in three "domains" with different intensity mappings, noise models and resolutions,
 * each with a 3-class mask (background / vertebral body / posterior elements), so a
 * network trained on the union can be compared with per-domain models. See docs/phantoms.md. */
#ifndef VT_PHANTOM_BONE_H
#define VT_PHANTOM_BONE_H

#include "vertebra.h"

enum { VT_BONE_DOMAIN_CT = 0, VT_BONE_DOMAIN_MR = 1, VT_BONE_DOMAIN_XRAY = 2, VT_BONE_N_DOMAINS = 3 };
enum { VT_BONE_CLASS_BACKGROUND = 0, VT_BONE_CLASS_BODY = 1, VT_BONE_CLASS_POSTERIOR = 2 };
extern const char *const vt_bone_domain_names[VT_BONE_N_DOMAINS]; /* "ct", "mr", "xray" */

/* n images of one domain, size x size (32..512): images (n, 1, size, size) in about
 * [0, 1], masks (n, 1, size, size) holding class indices 0/1/2 as floats. CT: axial,
 * bright bone, Gaussian noise; MR: axial T1-like, dark cortex, bright marrow, half
 * resolution, bias field, Rician noise; X-ray: lateral projection of 3 vertebrae, blurred,
 * Poisson-like noise. Sample i depends only on (seed, domain, i). Heap tensors. */
vt_status vt_phantom_bone_make(int domain, int64_t n, int size, uint64_t seed, vt_tensor **images,
                               vt_tensor **masks);

#endif
