/* phantom_xray.h: procedural lateral spine radiographs with boxed lesions in the 7 classes
 * of VinDr-SpineXR and a normal/abnormal image label (abnormal iff the image has a box).
 * The built-in stand-in for the radiograph detection / classification data; see
 * docs/phantoms.md. Intensities are in [0, 1] (bone bright, as on a radiograph). */
#ifndef VT_PHANTOM_XRAY_H
#define VT_PHANTOM_XRAY_H

#include "vertebra.h"

/* lesion classes, in the VinDr-SpineXR order */
enum {
    VT_XRAY_OSTEOPHYTES = 0, VT_XRAY_DISC_NARROWING = 1, VT_XRAY_IMPLANT = 2,
    VT_XRAY_FORAMINAL_STENOSIS = 3, VT_XRAY_SPONDYLOLISTHESIS = 4, VT_XRAY_COLLAPSE = 5,
    VT_XRAY_OTHER = 6, VT_XRAY_N_CLASSES = 7
};
/* lesion_type strings as written in VinDr-SpineXR annotation files ("Spondylolysthesis"
 * is the dataset's spelling); "No finding" marks a normal image. */
extern const char *const vt_xray_class_names[VT_XRAY_N_CLASSES];

typedef struct vt_phantom_xray_config {
    int size;                /* H = W, 64..1024 (default 128) */
    float abnormal_fraction; /* probability that an image has lesions, 0..1 (default 0.5) */
    int max_lesions;         /* an abnormal image has 1..max_lesions lesions, 1..4 (default 2) */
    float lesion_scale;      /* size of the lesion effects, 0.5..2 (default 1) */
    float contrast;          /* intensity change of the lesions, 0.1..3 (default 1) */
    float noise;             /* std of the additive Gaussian noise, 0..0.5 (default 0.03) */
    int class_mask;          /* bit c set: class c may be drawn (default all 7: 0x7f) */
} vt_phantom_xray_config;

void vt_phantom_xray_config_default(vt_phantom_xray_config *c);

typedef struct vt_phantom_box {
    int64_t image;           /* sample index */
    float x1, y1, x2, y2;    /* pixels, x1 < x2, y1 < y2, inside [0, size] */
    int cls;                 /* VT_XRAY_* */
} vt_phantom_box;

typedef struct vt_phantom_xray {
    int64_t n;
    int size;
    vt_tensor *images;       /* (n, 1, size, size) in [0, 1] */
    vt_tensor *labels;       /* (n): 1 abnormal (has boxes), 0 normal */
    vt_tensor *lesion_map;   /* (n, 1, size, size): 1 + index of the image's box whose lesion
                                changed the pixel (noise-free), 0 elsewhere */
    int64_t n_boxes;
    vt_phantom_box *boxes;   /* grouped by image, in image order */
} vt_phantom_xray;

/* n images; sample i depends only on (seed, i, config). cfg NULL: defaults. */
vt_status vt_phantom_xray_make(const vt_phantom_xray_config *cfg, int64_t n, uint64_t seed,
                               vt_phantom_xray *out);
void vt_phantom_xray_free(vt_phantom_xray *p);

#endif
