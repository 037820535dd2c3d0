/* test_dataset_files.c: datasets defined by a CSV (paths relative to the CSV's folder,
 * labels, patient ids, prefix / suffix) and by a folder per class, PNG and NIfTI slices
 * loaded in get(): values, shapes, labels, patients, ordering and the error messages. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dataset_files.h"
#include "nifti.h"
#include "png_io.h"
#include "vt_test.h"

static char root[256];

/* H = 8, W = 6 grey PNG whose pixel p holds (p + 10 * k) % 256 */
static void write_png(const char *rel, int k, int h, int w) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    uint8_t px[64 * 64];
    for (int p = 0; p < h * w; p++) px[p] = (uint8_t)((p + 10 * k) % 256);
    ck_assert_msg(vt_png_write_u8(path, px, 1, h, w) == VT_OK, "%s", vt_last_error());
}

static void write_text(const char *rel, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void make_dir(const char *rel) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    ck_assert_int_eq(mkdir(path, 0777), 0);
}

static void setup(void) {
    snprintf(root, sizeof root, "/tmp/vt_test_dsfiles_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    make_dir("images");
    for (int k = 0; k < 3; k++) {
        char rel[64];
        snprintf(rel, sizeof rel, "images/im%d.png", k);
        write_png(rel, k, 8, 6);
    }
    /* a (4, 8, 6) volume: voxel (z, y, x) = 100 z + 6 y + x */
    vt_tensor *v = vt_tensor_new(VT_DIMS(4, 8, 6));
    for (int64_t i = 0; i < v->numel; i++) v->data[i] = (float)(100 * (i / 48) + i % 48);
    char path[512];
    snprintf(path, sizeof path, "%s/images/vol.nii.gz", root);
    ck_assert_int_eq(vt_nifti_save(path, v, NULL, VT_NIFTI_FLOAT32), VT_OK);
    vt_tensor_free(v);
}

static void teardown(void) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", root);
}

static void expect_png_sample(const vt_dataset *ds, int64_t i, int k, int label) {
    vt_tensor *x, *y;
    ck_assert_msg(vt_dataset_get_alloc(ds, i, NULL, &x, &y) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(x->ndim, 3);
    for (int64_t c = 0; c < x->shape[0]; c++)
        for (int p = 0; p < 48; p++)
            ck_assert_float_eq_tol(x->data[c * 48 + p], (float)((p + 10 * k) % 256) / 255.f, 1e-6f);
    ck_assert_float_eq(y->data[0], (float)label);
    vt_tensor_free(x);
    vt_tensor_free(y);
}

START_TEST(csv_png_and_nifti) {
    if (!vt_png_supported()) return;
    write_text("labels.csv", "path,label,patient_id\nimages/im2.png,1,pA\nimages/im0.png,0,pB\nimages/vol.nii.gz,2,pA\n");
    char csv[512];
    snprintf(csv, sizeof csv, "%s/labels.csv", root);
    vt_dataset *ds = vt_dataset_csv(csv, "path", "label", "patient_id", 3, NULL);
    ck_assert_msg(ds != NULL, "%s", vt_last_error());
    ck_assert_int_eq(ds->length, 3);
    ck_assert_int_eq(ds->image_ndim, 3);
    ck_assert_int_eq(ds->image_shape[0], 1);
    ck_assert_int_eq(ds->image_shape[1], 8);
    ck_assert_int_eq(ds->image_shape[2], 6);
    ck_assert_int_eq(ds->target_ndim, 1);
    ck_assert_str_eq(vt_dataset_files_patient(ds, 0), "pA");
    ck_assert_str_eq(vt_dataset_files_patient(ds, 1), "pB");
    char want[600];
    snprintf(want, sizeof want, "%s/images/im2.png", root);
    ck_assert_str_eq(vt_dataset_files_path(ds, 0), want); /* relative to the CSV's folder */
    ck_assert_int_eq(vt_dataset_files_label(ds, 2), 2);
    ck_assert_int_eq(vt_dataset_files_n_classes(ds), 3);
    ck_assert_ptr_null(vt_dataset_files_path(ds, 3));
    expect_png_sample(ds, 0, 2, 1);
    expect_png_sample(ds, 1, 0, 0);
    /* the NIfTI row: the middle axial slice (z = 2) of the (4, 8, 6) volume */
    vt_tensor *x, *y;
    ck_assert_msg(vt_dataset_get_alloc(ds, 2, NULL, &x, &y) == VT_OK, "%s", vt_last_error());
    for (int p = 0; p < 48; p++) ck_assert_float_eq(x->data[p], 200.f + p);
    ck_assert_float_eq(y->data[0], 2.f);
    vt_tensor_free(x);
    vt_tensor_free(y);
    vt_dataset_free(ds);
    /* slice 0 explicitly, RGB replication, patient = path without a patient column */
    vt_dataset_files_options o = {.channels = 3, .slice = 0, .slice_set = 1};
    ds = vt_dataset_csv(csv, "path", "label", NULL, 0, &o);
    ck_assert_msg(ds != NULL, "%s", vt_last_error());
    ck_assert_int_eq(ds->image_shape[0], 3);
    ck_assert_str_eq(vt_dataset_files_patient(ds, 1), "images/im0.png");
    expect_png_sample(ds, 1, 0, 0);
    ck_assert_msg(vt_dataset_get_alloc(ds, 2, NULL, &x, &y) == VT_OK, "%s", vt_last_error());
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < 48; p++) ck_assert_float_eq(x->data[c * 48 + p], (float)p);
    vt_tensor_free(x);
    vt_tensor_free(y);
    vt_dataset_free(ds);
}
END_TEST

/* ids without folder and extension, as `vertebra phantom-export` writes them */
START_TEST(csv_prefix_and_suffix) {
    if (!vt_png_supported()) return;
    write_text("ids.csv", "image_id,label\nim1,0\nim2,1\n");
    char csv[512];
    snprintf(csv, sizeof csv, "%s/ids.csv", root);
    vt_dataset_files_options o = {.path_prefix = "images/", .path_suffix = ".png"};
    vt_dataset *ds = vt_dataset_csv(csv, "image_id", "label", NULL, 2, &o);
    ck_assert_msg(ds != NULL, "%s", vt_last_error());
    expect_png_sample(ds, 0, 1, 0);
    expect_png_sample(ds, 1, 2, 1);
    vt_dataset_free(ds);
}
END_TEST

START_TEST(folder_per_class) {
    if (!vt_png_supported()) return;
    make_dir("tree");
    make_dir("tree/normal");
    make_dir("tree/lesion");
    make_dir("tree/.hidden");
    write_png("tree/normal/b.png", 1, 8, 6);
    write_png("tree/normal/a.png", 0, 8, 6);
    write_png("tree/lesion/z.png", 2, 8, 6);
    write_text("tree/normal/notes.txt", "not an image\n");
    write_png("tree/.hidden/h.png", 0, 8, 6);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tree", root);
    vt_dataset *ds = vt_dataset_folder(dir, NULL);
    ck_assert_msg(ds != NULL, "%s", vt_last_error());
    ck_assert_int_eq(ds->length, 3);
    ck_assert_int_eq(vt_dataset_files_n_classes(ds), 2);
    ck_assert_str_eq(vt_dataset_files_class_name(ds, 0), "lesion"); /* byte order */
    ck_assert_str_eq(vt_dataset_files_class_name(ds, 1), "normal");
    ck_assert_str_eq(vt_dataset_files_patient(ds, 0), "z");
    ck_assert_str_eq(vt_dataset_files_patient(ds, 1), "a");
    expect_png_sample(ds, 0, 2, 0);
    expect_png_sample(ds, 1, 0, 1);
    expect_png_sample(ds, 2, 1, 1);
    vt_dataset_free(ds);
}
END_TEST

START_TEST(errors_name_the_file) {
    if (!vt_png_supported()) return;
    char csv[512], p[512];
    write_png("images/small.png", 0, 4, 4);
    write_text("mixed.csv", "path,label\nimages/im0.png,0\nimages/small.png,1\nimages/missing.png,1\n");
    snprintf(csv, sizeof csv, "%s/mixed.csv", root);
    vt_dataset *ds = vt_dataset_csv(csv, "path", "label", NULL, 2, NULL);
    ck_assert_msg(ds != NULL, "%s", vt_last_error());
    vt_tensor *x, *y;
    ck_assert_int_eq(vt_dataset_get_alloc(ds, 1, NULL, &x, &y), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "small.png: image (1, 4, 4), but the dataset's samples are (1, 8, 6)"),
                  "%s", vt_last_error());
    ck_assert_int_eq(vt_dataset_get_alloc(ds, 2, NULL, &x, &y), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "missing.png") != NULL, "%s", vt_last_error());
    vt_dataset_free(ds);
    ck_assert_ptr_null(vt_dataset_csv(csv, "image", "label", NULL, 2, NULL));
    ck_assert_msg(strstr(vt_last_error(), "image") != NULL, "%s", vt_last_error());
    ck_assert_ptr_null(vt_dataset_csv(csv, "path", "label", NULL, 1, NULL)); /* label 1 >= 1 class */
    ck_assert_msg(strstr(vt_last_error(), "mixed.csv:3") != NULL, "%s", vt_last_error());
    write_text("vol.csv", "path,label\nimages/vol.nii.gz,0\n");
    snprintf(csv, sizeof csv, "%s/vol.csv", root);
    ck_assert_ptr_null(vt_dataset_csv(csv, "path", "label", NULL, 0, &(vt_dataset_files_options){.slice = 9}));
    ck_assert_msg(strstr(vt_last_error(), "vol.nii.gz: slice 9 outside the volume's 4 slices"), "%s", vt_last_error());
    ck_assert_ptr_null(vt_dataset_csv(csv, "path", "label", NULL, 0, &(vt_dataset_files_options){.channels = 2}));
    ck_assert_msg(strstr(vt_last_error(), "channels 2 must be 1 or 3"), "%s", vt_last_error());
    snprintf(p, sizeof p, "%s/nowhere", root);
    ck_assert_ptr_null(vt_dataset_folder(p, NULL));
    ck_assert_msg(strstr(vt_last_error(), "nowhere: cannot open folder"), "%s", vt_last_error());
    make_dir("empty");
    snprintf(p, sizeof p, "%s/empty", root);
    ck_assert_ptr_null(vt_dataset_folder(p, NULL));
    ck_assert_msg(strstr(vt_last_error(), "no class sub-folders"), "%s", vt_last_error());
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("dataset_files");
    TCase *tc = tcase_create("files");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, csv_png_and_nifti);
    tcase_add_test(tc, csv_prefix_and_suffix);
    tcase_add_test(tc, folder_per_class);
    tcase_add_test(tc, errors_name_the_file);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
