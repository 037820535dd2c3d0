/* test_phantom_export.c: `vertebra phantom-export --kind K` for every kind (ct, xray, spect,
 * cord, bone) with tiny sizes into a temporary folder, everything read back with the
 * project's readers (PNG: vt_png_load, NIfTI: vt_nifti_load, CSV: vt_csv_load /
 * vt_labels_load / vt_boxes_load): file counts, shapes, label ranges and consistency,
 * boxes inside their images. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include "csv.h"
#include "nifti.h"
#include "phantom_bone.h"
#include "phantom_cord.h"
#include "phantom_xray.h"
#include "png_io.h"
#include "vt_test.h"

/* Runs `vertebra phantom-export ARGS --out DIR` into a fresh temp dir (written to dir). */
static void export_kind(const char *args, char *dir, size_t n) {
    snprintf(dir, n, "/tmp/vt_test_export_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd, "phantom-export %s --out %s", args, dir);
    int rc = vt_test_cli(cmd, out, sizeof out);
    ck_assert_msg(rc == 0, "%s failed: %s", cmd, out);
    ck_assert_msg(strstr(out, "phantom-export:") != NULL, "%s", out);
}

static void remove_tree(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* PNG at dir/sub/name.png: (1, h, w) in [0, 1]; returns it (caller frees) */
static vt_tensor *load_png(const char *dir, const char *sub, const char *name, int64_t h, int64_t w) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s.png", dir, sub, name);
    vt_tensor *t = vt_png_load(path, NULL, NULL);
    ck_assert_msg(t != NULL, "%s", vt_last_error());
    ck_assert_int_eq(t->ndim, 3);
    ck_assert_int_eq(t->shape[0], 1);
    if (h > 0) ck_assert_int_eq(t->shape[1], h);
    if (w > 0) ck_assert_int_eq(t->shape[2], w);
    float lo = 1, hi = 0;
    for (int64_t i = 0; i < t->numel; i++) { lo = fminf(lo, t->data[i]); hi = fmaxf(hi, t->data[i]); }
    ck_assert_msg(lo >= 0 && hi <= 1 && hi > lo, "%s: values %g..%g", path, lo, hi);
    return t;
}

static int label_of(const vt_labels *l, int j, int64_t i) { return atoi(l->extra[j * l->n + i]); }

START_TEST(ct_slices_and_labels) {
    if (!vt_png_supported()) return;
    char dir[256], path[512];
    export_kind("--kind ct --n 2 --size 16 --seed 3", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/labels.csv", dir);
    const char *extra[] = {"blastic", "lytic", "posterolateral", "visible", "vertebra_id", "patient_id"};
    vt_labels *l = vt_labels_load(path, "image_id", "class", extra, 6, 4);
    ck_assert_msg(l != NULL, "%s", vt_last_error());
    ck_assert_int_eq(l->n, 2 * 4 * 6); /* patients x vertebrae x slices */
    int seen[4] = {0};
    for (int64_t i = 0; i < l->n; i++) {
        int cls = l->label[i], bl = label_of(l, 0, i), ly = label_of(l, 1, i), pl = label_of(l, 2, i);
        ck_assert_int_eq(cls, bl + 2 * ly);
        ck_assert(pl == 0 || pl == 1);
        if (cls == 0) ck_assert_int_eq(pl, 0);
        ck_assert_int_eq(label_of(l, 4, i), (int)(i / 6));        /* vertebra: 6 consecutive slices */
        char want[16];
        snprintf(want, sizeof want, "p%03d", (int)(i / 24));
        ck_assert_str_eq(l->extra[5 * l->n + i], want);
        seen[cls]++;
        vt_tensor_free(load_png(dir, "images", l->image[i], 16, 16));
    }
    ck_assert_msg(seen[0] + seen[1] + seen[2] + seen[3] == 48, "classes");
    vt_labels_free(l);
    remove_tree(dir);
}
END_TEST

START_TEST(xray_images_labels_and_boxes) {
    if (!vt_png_supported()) return;
    char dir[256], path[512];
    export_kind("--kind xray --n 6 --size 64 --seed 1", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/labels.csv", dir);
    vt_labels *l = vt_labels_load(path, "image_id", "label", NULL, 0, 2);
    ck_assert_msg(l != NULL, "%s", vt_last_error());
    ck_assert_int_eq(l->n, 6);
    snprintf(path, sizeof path, "%s/annotations.csv", dir);
    vt_box_set *b = vt_boxes_load(path, vt_xray_class_names, VT_XRAY_N_CLASSES);
    ck_assert_msg(b != NULL, "%s", vt_last_error());
    ck_assert_int_eq(b->n_images, 6); /* normal images are listed by their "No finding" row */
    for (int64_t i = 0; i < l->n; i++) {
        vt_tensor_free(load_png(dir, "images", l->image[i], 64, 64));
        int64_t k = vt_box_set_find(b, l->image[i]);
        ck_assert_msg(k >= 0, "%s not in annotations.csv", l->image[i]);
        ck_assert_int_eq(l->label[i], b->count[k] > 0); /* abnormal iff boxed */
        for (int64_t j = b->first[k]; j < b->first[k] + b->count[k]; j++) {
            const vt_box *x = &b->boxes[j];
            ck_assert_msg(x->xmin >= 0 && x->ymin >= 0 && x->xmax <= 64 && x->ymax <= 64,
                          "box %g %g %g %g outside 64 x 64", x->xmin, x->ymin, x->xmax, x->ymax);
        }
    }
    vt_box_set_free(b);
    vt_labels_free(l);
    remove_tree(dir);
}
END_TEST

START_TEST(spect_views_and_thorax) {
    if (!vt_png_supported()) return;
    char dir[256], path[512], name[64];
    export_kind("--kind spect --n 3 --size 128", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/labels.csv", dir);
    vt_labels *l = vt_labels_load(path, "image_id", "label", NULL, 0, 2);
    ck_assert_msg(l != NULL, "%s", vt_last_error());
    ck_assert_int_eq(l->n, 3);
    for (int64_t i = 0; i < l->n; i++) {
        vt_tensor_free(load_png(dir, "images", l->image[i], 128, 48)); /* width = 3/8 height */
        snprintf(name, sizeof name, "%s_post", l->image[i]);
        vt_tensor_free(load_png(dir, "images", name, 128, 48));
        vt_tensor *crop = load_png(dir, "thorax", l->image[i], 0, 0);
        ck_assert(crop->shape[1] < 128 && crop->shape[2] <= 48);
        vt_tensor_free(crop);
    }
    vt_labels_free(l);
    remove_tree(dir);
}
END_TEST

START_TEST(cord_volumes_masks_and_csa) {
    char dir[256], path[1024];
    export_kind("--kind cord --n 1", dir, sizeof dir);
    vt_nifti_header h0;
    vt_tensor *ref = NULL;
    for (int k = 0; k < VT_CORD_N_CONTRASTS; k++) {
        snprintf(path, sizeof path, "%s/sub-001/anat/sub-001_%s.nii.gz", dir, vt_cord_contrast_names[k]);
        vt_nifti_header h;
        vt_tensor *img = vt_nifti_load(path, &h);
        ck_assert_msg(img != NULL, "%s", vt_last_error());
        ck_assert_int_eq(img->ndim, 3);
        if (!ref) { ref = img; h0 = h; }
        else {
            ck_assert(img->shape[0] == ref->shape[0] && img->shape[1] == ref->shape[1] && img->shape[2] == ref->shape[2]);
            ck_assert(memcmp(h.affine, h0.affine, sizeof h.affine) == 0);
        }
        snprintf(path, sizeof path, "%s/sub-001/anat/sub-001_%s_seg.nii.gz", dir, vt_cord_contrast_names[k]);
        vt_tensor *m = vt_nifti_load(path, &h);
        ck_assert_msg(m != NULL, "%s", vt_last_error());
        ck_assert_int_eq(h.datatype, VT_NIFTI_UINT8);
        ck_assert_int_eq(m->numel, ref->numel);
        int64_t fg = 0;
        for (int64_t i = 0; i < m->numel; i++) {
            ck_assert(m->data[i] == 0 || m->data[i] == 1);
            fg += m->data[i] == 1;
        }
        ck_assert(fg > 0);
        vt_tensor_free(m);
        if (img != ref) vt_tensor_free(img);
    }
    snprintf(path, sizeof path, "%s/sub-001/anat/sub-001_softseg.nii.gz", dir);
    vt_tensor *soft = vt_nifti_load(path, NULL);
    ck_assert_msg(soft != NULL, "%s", vt_last_error());
    for (int64_t i = 0; i < soft->numel; i++) ck_assert(soft->data[i] >= 0 && soft->data[i] <= 1);
    snprintf(path, sizeof path, "%s/sub-001/anat/csa.csv", dir);
    vt_csv *csa = vt_csv_load(path, NULL);
    ck_assert_msg(csa != NULL, "%s", vt_last_error());
    ck_assert_int_eq(csa->nrows, ref->shape[0]); /* one row per axial slice */
    int c = vt_csv_require_column(csa, "csa_mm2");
    ck_assert_int_ge(c, 0);
    for (int64_t z = 0; z < csa->nrows; z++) ck_assert(atof(vt_csv_cell(csa, z, c)) > 0);
    vt_csv_free(csa);
    vt_tensor_free(soft);
    vt_tensor_free(ref);
    remove_tree(dir);
}
END_TEST

START_TEST(bone_domains_images_and_masks) {
    if (!vt_png_supported()) return;
    char dir[256], name[64], sub[64];
    export_kind("--kind bone --n 2 --size 32", dir, sizeof dir);
    for (int d = 0; d < VT_BONE_N_DOMAINS; d++)
        for (int i = 0; i < 2; i++) {
            snprintf(name, sizeof name, "%s_%06d", vt_bone_domain_names[d], i);
            snprintf(sub, sizeof sub, "%s/images", vt_bone_domain_names[d]);
            vt_tensor_free(load_png(dir, sub, name, 32, 32));
            snprintf(sub, sizeof sub, "%s/masks", vt_bone_domain_names[d]);
            vt_tensor *m = load_png(dir, sub, name, 32, 32);
            for (int64_t p = 0; p < m->numel; p++) { /* class x 127 / 255 */
                float cls = m->data[p] * 255.f / 127.f;
                ck_assert_msg(fabsf(cls - roundf(cls)) < 1e-4f && cls < 2.001f, "mask value %g", m->data[p]);
            }
            vt_tensor_free(m);
        }
    remove_tree(dir);
}
END_TEST

START_TEST(unknown_kind_is_an_error) {
    char out[2048];
    ck_assert_int_eq(vt_test_cli("phantom-export --kind mri --out /tmp/vt_test_export_never", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "is not ct, xray, spect, cord or bone") != NULL, "%s", out);
    rmdir("/tmp/vt_test_export_never");
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("phantom_export");
    TCase *tc = tcase_create("kinds");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, ct_slices_and_labels);
    tcase_add_test(tc, xray_images_labels_and_boxes);
    tcase_add_test(tc, spect_views_and_thorax);
    tcase_add_test(tc, cord_volumes_masks_and_csa);
    tcase_add_test(tc, bone_domains_images_and_masks);
    tcase_add_test(tc, unknown_kind_is_an_error);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
