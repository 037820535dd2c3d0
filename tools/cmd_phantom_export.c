/* cmd_phantom_export.c: `vertebra phantom-export`: writes the synthetic phantoms to files
 * (PNG / NIfTI + CSV) so that users can look at them and feed them to other tools. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "args.h"
#include "commands.h"
#include "nifti.h"
#include "phantom_bone.h"
#include "phantom_cord.h"
#include "phantom_ct.h"
#include "phantom_spect.h"
#include "phantom_xray.h"
#include "png_io.h"

typedef struct options {
    const char *kind, *out;
    int64_t n, seed;
    int size;
    float abnormal, contrast, noise;
} options;

/* mkdir -p */
static int make_dir(const char *path) {
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') { *s = 0; mkdir(p, 0777); *s = '/'; }
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vertebra phantom-export: %s: cannot create: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int fail(void) {
    fprintf(stderr, "vertebra phantom-export: %s\n", vt_last_error());
    return 1;
}

/* one (H, W) plane of a float buffer as an 8-bit PNG, values mapped from [lo, hi] */
static int write_plane(const char *path, const float *src, int h, int w, float lo, float hi) {
    vt_tensor *t = vt_tensor_new(VT_DIMS(1, h, w));
    if (!t) return -1;
    for (int64_t p = 0; p < (int64_t)h * w; p++) t->data[p] = (src[p] - lo) / (hi - lo);
    int rc = vt_png_write(path, t, 1);
    vt_tensor_free(t);
    return rc;
}

static FILE *open_csv(const char *dir, const char *name, const char *header) {
    char p[8300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) { vt_error("%s: cannot create: %s", p, strerror(errno)); return NULL; }
    fprintf(f, "%s\n", header);
    return f;
}

/* images/ct_<index>.png (axial slices, values 0..1.5 mapped to 0..255) and labels.csv:
 * image_id, class (0 normal, 1 blastic, 2 lytic, 3 mixed), blastic, lytic, posterolateral
 * (0/1 per vertebra), visible (this slice shows a lesion), vertebra_id, patient_id.
 * --n is the number of patients, each with 4 vertebrae of 6 slices. */
static int export_ct(const options *o) {
    vt_phantom_vertebra_config c;
    vt_phantom_vertebra_config_default(&c);
    c.n_patients = (int)o->n;
    if (o->size) c.size = o->size;
    c.seed = (uint64_t)o->seed;
    vt_phantom_slices p;
    if (vt_phantom_vertebrae_make(&c, &p) != VT_OK) return fail();
    char dir[4096], path[8300];
    snprintf(dir, sizeof dir, "%s/images", o->out);
    int rc = make_dir(dir);
    FILE *lab = rc ? NULL : open_csv(o->out, "labels.csv",
                                     "image_id,class,blastic,lytic,posterolateral,visible,vertebra_id,patient_id");
    if (!lab) rc = -1;
    int64_t n = p.quality->numel, S = c.size;
    for (int64_t i = 0; i < n && !rc; i++) {
        snprintf(path, sizeof path, "%s/ct_%06lld.png", dir, (long long)i);
        if (write_plane(path, p.images->data + i * S * S, (int)S, (int)S, 0, 1.5f)) { rc = -1; break; }
        fprintf(lab, "ct_%06lld,%d,%d,%d,%d,%d,%d,p%03d\n", (long long)i, (int)p.quality->data[i],
                (int)p.blastic->data[i], (int)p.lytic->data[i], (int)p.posterolateral->data[i],
                (int)p.visible->data[i], (int)p.vertebra->data[i], (int)p.patient->data[i]);
    }
    if (lab && fclose(lab)) rc = -1;
    if (!rc) printf("phantom-export: %lld CT slices (%d patients x %d vertebrae x %d slices) in %s/images, labels.csv\n",
                    (long long)n, c.n_patients, c.vertebrae_per_patient, c.slices_per_vertebra, o->out);
    vt_phantom_slices_free(&p);
    return rc ? fail() : 0;
}

/* images/<id>.png, labels.csv (image_id,label) and annotations.csv in the VinDr-SpineXR
 * layout (image_id,rad_id,lesion_type,xmin,ymin,xmax,ymax; "No finding" rows without
 * coordinates for normal images) */
static int export_xray(const options *o) {
    vt_phantom_xray_config c;
    vt_phantom_xray_config_default(&c);
    if (o->size) c.size = o->size;
    if (o->abnormal >= 0) c.abnormal_fraction = o->abnormal;
    if (o->contrast > 0) c.contrast = o->contrast;
    if (o->noise >= 0) c.noise = o->noise;
    vt_phantom_xray p;
    if (vt_phantom_xray_make(&c, o->n, (uint64_t)o->seed, &p) != VT_OK) return fail();
    char dir[4096], path[8300];
    snprintf(dir, sizeof dir, "%s/images", o->out);
    int rc = make_dir(dir);
    FILE *lab = rc ? NULL : open_csv(o->out, "labels.csv", "image_id,label");
    FILE *ann = lab ? open_csv(o->out, "annotations.csv", "image_id,rad_id,lesion_type,xmin,ymin,xmax,ymax") : NULL;
    if (!ann) rc = -1;
    int64_t b = 0;
    for (int64_t i = 0; i < p.n && !rc; i++) {
        snprintf(path, sizeof path, "%s/xray_%06lld.png", dir, (long long)i);
        if (write_plane(path, p.images->data + i * c.size * c.size, c.size, c.size, 0, 1)) { rc = -1; break; }
        fprintf(lab, "xray_%06lld,%d\n", (long long)i, (int)p.labels->data[i]);
        if (b >= p.n_boxes || p.boxes[b].image != i) fprintf(ann, "xray_%06lld,phantom,No finding,,,,\n", (long long)i);
        for (; b < p.n_boxes && p.boxes[b].image == i; b++)
            fprintf(ann, "xray_%06lld,phantom,%s,%g,%g,%g,%g\n", (long long)i, vt_xray_class_names[p.boxes[b].cls],
                    p.boxes[b].x1, p.boxes[b].y1, p.boxes[b].x2, p.boxes[b].y2);
    }
    if (lab && fclose(lab)) rc = -1;
    if (ann && fclose(ann)) rc = -1;
    if (!rc) printf("phantom-export: %lld radiographs (%lld boxes) in %s/images, labels.csv, annotations.csv\n",
                    (long long)p.n, (long long)p.n_boxes, o->out);
    vt_phantom_xray_free(&p);
    return rc ? fail() : 0;
}

/* images/<id>.png (anterior and, with 2 views, <id>_post.png), thorax/<id>.png (the
 * thoracic crop) and labels.csv; counts 0..3x the bone level map to 0..255 (the bladder
 * saturates) */
static int export_spect(const options *o) {
    vt_phantom_spect_config c;
    vt_phantom_spect_config_default(&c);
    if (o->size) c.height = o->size;
    if (o->abnormal >= 0) c.positive_fraction = o->abnormal;
    if (o->contrast > 0) c.contrast = o->contrast;
    c.views = 2;
    vt_phantom_spect p;
    if (vt_phantom_spect_make(&c, o->n, (uint64_t)o->seed, &p) != VT_OK) return fail();
    vt_tensor *crop = vt_phantom_spect_crop_thorax(&p);
    char dir[4096], dir2[4096], path[8300];
    snprintf(dir, sizeof dir, "%s/images", o->out);
    snprintf(dir2, sizeof dir2, "%s/thorax", o->out);
    int rc = !crop || make_dir(dir) || make_dir(dir2);
    FILE *lab = rc ? NULL : open_csv(o->out, "labels.csv", "image_id,label");
    if (!lab) rc = -1;
    int H = p.height, W = p.width, h = p.thorax_h, w = p.thorax_w;
    float hi = 3 * c.counts;
    for (int64_t i = 0; i < p.n && !rc; i++) {
        snprintf(path, sizeof path, "%s/spect_%06lld.png", dir, (long long)i);
        rc |= write_plane(path, p.images->data + i * 2 * H * W, H, W, 0, hi);
        snprintf(path, sizeof path, "%s/spect_%06lld_post.png", dir, (long long)i);
        rc |= write_plane(path, p.images->data + (i * 2 + 1) * H * W, H, W, 0, hi);
        snprintf(path, sizeof path, "%s/spect_%06lld.png", dir2, (long long)i);
        rc |= write_plane(path, crop->data + i * 2 * h * w, h, w, 0, hi);
        fprintf(lab, "spect_%06lld,%d\n", (long long)i, (int)p.labels->data[i]);
    }
    if (lab && fclose(lab)) rc = -1;
    if (!rc) printf("phantom-export: %lld bone scans (anterior, posterior, thorax crop) in %s, labels.csv\n",
                    (long long)p.n, o->out);
    vt_tensor_free(crop);
    vt_phantom_spect_free(&p);
    return rc ? fail() : 0;
}

/* sub-XXX/anat/sub-XXX_<contrast>.nii.gz, the masks as ..._<contrast>_seg.nii.gz (uint8),
 * the soft mask ..._softseg.nii.gz and csa.csv (slice, true CSA in mm^2) per subject */
static int export_cord(const options *o) {
    int rc = 0;
    for (int64_t s = 0; s < o->n && !rc; s++) {
        vt_phantom_cord p;
        if (vt_phantom_cord_make(NULL, (uint64_t)o->seed, s, &p) != VT_OK) return fail();
        char dir[4096], path[8300];
        snprintf(dir, sizeof dir, "%s/sub-%03lld/anat", o->out, (long long)s + 1);
        rc = make_dir(dir);
        for (int k = 0; k < VT_CORD_N_CONTRASTS && !rc; k++) {
            snprintf(path, sizeof path, "%s/sub-%03lld_%s.nii.gz", dir, (long long)s + 1, vt_cord_contrast_names[k]);
            rc |= vt_nifti_save(path, p.image[k], &p.geometry, VT_NIFTI_FLOAT32);
            snprintf(path, sizeof path, "%s/sub-%03lld_%s_seg.nii.gz", dir, (long long)s + 1, vt_cord_contrast_names[k]);
            rc |= vt_nifti_save(path, p.mask[k], &p.geometry, VT_NIFTI_UINT8);
        }
        snprintf(path, sizeof path, "%s/sub-%03lld_softseg.nii.gz", dir, (long long)s + 1);
        if (!rc) rc = vt_nifti_save(path, p.soft, &p.geometry, VT_NIFTI_FLOAT32);
        FILE *f = rc ? NULL : open_csv(dir, "csa.csv", "slice,csa_mm2");
        if (f) {
            for (int64_t z = 0; z < p.csa->numel; z++) fprintf(f, "%lld,%.4f\n", (long long)z, p.csa->data[z]);
            if (fclose(f)) rc = -1;
        } else rc = -1;
        vt_phantom_cord_free(&p);
    }
    if (rc) return fail();
    printf("phantom-export: %lld cord subjects (4 contrasts, masks, soft mask, csa.csv) in %s\n", (long long)o->n, o->out);
    return 0;
}

/* <domain>/images/<id>.png and <domain>/masks/<id>.png (class x 127: 0 background,
 * 127 vertebral body, 254 posterior elements) for each of the 3 domains */
static int export_bone(const options *o) {
    int S = o->size ? o->size : 64, rc = 0;
    for (int d = 0; d < VT_BONE_N_DOMAINS && !rc; d++) {
        vt_tensor *x, *m;
        if (vt_phantom_bone_make(d, o->n, S, (uint64_t)o->seed, &x, &m) != VT_OK) return fail();
        char di[4096], dm[4096], path[8300];
        snprintf(di, sizeof di, "%s/%s/images", o->out, vt_bone_domain_names[d]);
        snprintf(dm, sizeof dm, "%s/%s/masks", o->out, vt_bone_domain_names[d]);
        rc = make_dir(di) || make_dir(dm);
        for (int64_t i = 0; i < o->n && !rc; i++) {
            snprintf(path, sizeof path, "%s/%s_%06lld.png", di, vt_bone_domain_names[d], (long long)i);
            rc |= write_plane(path, x->data + i * S * S, S, S, 0, 1);
            snprintf(path, sizeof path, "%s/%s_%06lld.png", dm, vt_bone_domain_names[d], (long long)i);
            rc |= write_plane(path, m->data + i * S * S, S, S, 0, 255.f / 127);
        }
        vt_tensor_free(x); vt_tensor_free(m);
    }
    if (rc) return fail();
    printf("phantom-export: %lld images per domain (ct, mr, xray) with masks in %s\n", (long long)o->n, o->out);
    return 0;
}

int vt_cmd_phantom_export(int argc, char **argv) {
    options o = {.kind = NULL, .out = NULL, .n = 8, .abnormal = -1, .contrast = -1, .noise = -1};
    const vt_arg spec[] = {
        {"--kind", VT_ARG_STR, &o.kind, "ct | xray | spect | cord | bone (required)", 1, 0},
        {"--out", VT_ARG_STR, &o.out, "output folder (created)", 1, 0},
        {"--n", VT_ARG_INT64, &o.n, "images (ct: patients; cord: subjects; bone: images per domain), default 8", 1, 100000},
        {"--seed", VT_ARG_INT64, &o.seed, "seed (default 0)", 0, 9.2e18},
        {"--size", VT_ARG_INT, &o.size, "image size (ct 32, xray 128, bone 64 by default; 0 = default)", 0, 1024},
        {"--abnormal", VT_ARG_FLOAT, &o.abnormal, "fraction of abnormal / positive images (xray, spect; default 0.5)", 0, 1},
        {"--contrast", VT_ARG_FLOAT, &o.contrast, "lesion / hot-spot visibility multiplier (xray, spect; default 1)", 0.1, 3},
        {"--noise", VT_ARG_FLOAT, &o.noise, "noise std (xray; default 0.03)", 0, 0.5},
    };
    const char *summary = "write synthetic phantoms (PNG / NIfTI + CSV) to look at or reuse";
    int rc = vt_args_parse("phantom-export", summary, argc, argv, 2, spec, (int)(sizeof spec / sizeof spec[0]));
    if (rc) return rc == 1 ? 0 : rc;
    if (!o.kind || !o.out) {
        fprintf(stderr, "vertebra phantom-export: --kind and --out are required\n");
        vt_args_usage("phantom-export", summary, spec, (int)(sizeof spec / sizeof spec[0]));
        return 2;
    }
    if (make_dir(o.out)) return 1;
    if (!strcmp(o.kind, "ct")) return export_ct(&o);
    if (!strcmp(o.kind, "xray")) return export_xray(&o);
    if (!strcmp(o.kind, "spect")) return export_spect(&o);
    if (!strcmp(o.kind, "cord")) return export_cord(&o);
    if (!strcmp(o.kind, "bone")) return export_bone(&o);
    fprintf(stderr, "vertebra phantom-export: --kind '%s' is not ct, xray, spect, cord or bone\n", o.kind);
    return 2;
}
