/* phantom_spect.h: procedural whole-body bone scintigraphy (SPECT/planar bone scan
 * stand-in): anterior (and optionally posterior) views of a skeleton's tracer uptake
 * with Poisson counts, kidney and bladder activity as normal confounders, and focal
 * metastasis hot spots in the thoracic spine / ribs of positive cases. See docs/phantoms.md. */
#ifndef VT_PHANTOM_SPECT_H
#define VT_PHANTOM_SPECT_H

#include "vertebra.h"

typedef struct vt_phantom_spect_config {
    int height;              /* image rows, 128..1024 (default 256); width = 3/8 height */
    int views;               /* 1: anterior; 2: anterior + posterior (mirrored) channels (default 1) */
    float positive_fraction; /* probability of metastases, 0..1 (default 0.5) */
    int max_spots;           /* a positive case has 1..max_spots hot spots, 1..8 (default 3) */
    float contrast;          /* hot-spot uptake multiplier, 0.1..3 (default 1: 2-4x bone) */
    float counts;            /* mean counts of a bone pixel (Poisson level), 1..10000 (default 40) */
} vt_phantom_spect_config;

void vt_phantom_spect_config_default(vt_phantom_spect_config *c);

typedef struct vt_phantom_spect {
    int64_t n;
    int height, width, views;
    vt_tensor *images;       /* (n, views, H, W) Poisson counts */
    vt_tensor *labels;       /* (n): 1 metastasis, 0 none */
    vt_tensor *spot_mask;    /* (n, 1, H, W): 1 where a hot spot adds > half its peak (anterior) */
    int thorax_h, thorax_w;  /* size of the thoracic crop */
    int *thorax_y0, *thorax_x0; /* (n) top-left corner of each image's thoracic crop */
} vt_phantom_spect;

/* n images; sample i depends only on (seed, i, config). cfg NULL: defaults. */
vt_status vt_phantom_spect_make(const vt_phantom_spect_config *cfg, int64_t n, uint64_t seed,
                                vt_phantom_spect *out);
void vt_phantom_spect_free(vt_phantom_spect *p);

/* The thoracic region of every image (the paper classifies this crop): a new heap tensor
 * (n, views, thorax_h, thorax_w) cut at each image's known thorax position. */
vt_tensor *vt_phantom_spect_crop_thorax(const vt_phantom_spect *p);

#endif
