/* test_softseg.c: soft cord segmentation: soft GT averaging and its geometry checks, the
 * config schema and the example config, per-volume z-score, loss going down in a few steps
 * on a tiny phantom, predict-seg writing the input's exact geometry (dims and affine of an
 * oblique, anisotropic input) with values in [0, 1] and {0, 1} with --binarize, and the
 * read of the real SCT subject (skipped when ../shared/data/sct is absent). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "softseg.h"
#include "vt_test.h"

static char tmpdir[256];

static void setup(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vt_softseg_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

/* a geometry with spacing (sx, sy, sz), axes permuted and flipped, an offset */
static vt_nifti_header oblique_geometry(double sx, double sy, double sz) {
    vt_nifti_header g;
    memset(&g, 0, sizeof g);
    g.version = 1;
    g.pixdim[0] = 1;
    g.pixdim[1] = sx; g.pixdim[2] = sy; g.pixdim[3] = sz;
    g.qform_code = 0;
    g.sform_code = 1;
    /* i runs towards posterior, j towards right, k towards superior: axial slices along k */
    double srow[3][4] = {{0, sy, 0, -10.5}, {-sx, 0, 0, 20.25}, {0, 0, sz, -33}};
    memcpy(g.srow, srow, sizeof srow);
    for (int r = 0; r < 3; r++) for (int c = 0; c < 4; c++) g.affine[r][c] = srow[r][c];
    g.affine[3][3] = 1;
    g.xyzt_units = 2;
    return g;
}

static char *tmp(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

START_TEST(softgt_mean_of_masks) {
    vt_tensor *m[3];
    for (int i = 0; i < 3; i++) m[i] = vt_tensor_new(VT_DIMS(2, 2, 3));
    for (int v = 0; v < 12; v++) {
        m[0]->data[v] = v % 2;       /* 0 1 0 1 ... */
        m[1]->data[v] = v < 6 ? 1 : 0;
        m[2]->data[v] = v == 0 ? 7 : 0; /* any nonzero counts as 1 */
    }
    vt_tensor *s = vt_softgt_mean(3, m);
    ck_assert_ptr_nonnull(s);
    for (int v = 0; v < 12; v++) {
        float want = ((v % 2) + (v < 6) + (v == 0)) / 3.f;
        ck_assert_msg(fabsf(s->data[v] - want) < 1e-6f, "voxel %d: %g vs %g", v, s->data[v], want);
    }
    vt_tensor_free(s);
    vt_tensor *odd = vt_tensor_new(VT_DIMS(2, 3, 2));
    vt_tensor *two[2] = {m[0], odd};
    ck_assert_ptr_null(vt_softgt_mean(2, two));
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "another shape"));
    vt_tensor_free(odd);
    for (int i = 0; i < 3; i++) vt_tensor_free(m[i]);
}
END_TEST

START_TEST(softgt_files_check_the_grid) {
    vt_nifti_header g = oblique_geometry(0.5, 0.6, 2.0);
    vt_tensor *a = vt_tensor_new(VT_DIMS(4, 5, 6)), *b = vt_tensor_new(VT_DIMS(4, 5, 6));
    for (int v = 0; v < a->numel; v++) { a->data[v] = v % 3 == 0; b->data[v] = v % 2 == 0; }
    ck_assert_int_eq(vt_nifti_save(tmp("a.nii.gz"), a, &g, VT_NIFTI_UINT8), VT_OK);
    ck_assert_int_eq(vt_nifti_save(tmp("b.nii.gz"), b, &g, VT_NIFTI_UINT8), VT_OK);
    const char *ab[2] = {tmp("a.nii.gz"), tmp("b.nii.gz")};
    ck_assert_msg(vt_softgt_files(2, ab, tmp("soft.nii.gz"), 1e-3) == VT_OK, "%s", vt_last_error());
    vt_nifti_header h;
    vt_tensor *s = vt_nifti_load(tmp("soft.nii.gz"), &h);
    ck_assert_ptr_nonnull(s);
    ck_assert(vt_shape_equal(s, a));
    for (int v = 0; v < s->numel; v++) ck_assert_float_eq_tol(s->data[v], ((v % 3 == 0) + (v % 2 == 0)) / 2.f, 1e-6f);
    for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) ck_assert_double_eq_tol(h.affine[r][c], g.affine[r][c], 1e-5);
    /* same dims, shifted origin: refused */
    vt_nifti_header g2 = g;
    g2.srow[0][3] += 0.5;
    g2.affine[0][3] += 0.5;
    ck_assert_int_eq(vt_nifti_save(tmp("c.nii.gz"), b, &g2, VT_NIFTI_UINT8), VT_OK);
    const char *ac[2] = {tmp("a.nii.gz"), tmp("c.nii.gz")};
    ck_assert_int_eq(vt_softgt_files(2, ac, tmp("bad.nii.gz"), 1e-3), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "different affines") && strstr(vt_last_error(), "c.nii.gz"), "%s", vt_last_error());
    /* ... but accepted within a loose tolerance */
    ck_assert_int_eq(vt_softgt_files(2, ac, tmp("loose.nii.gz"), 1.0), VT_OK);
    /* other dims: refused */
    vt_tensor *d = vt_tensor_new(VT_DIMS(4, 5, 7));
    ck_assert_int_eq(vt_nifti_save(tmp("d.nii.gz"), d, &g, VT_NIFTI_UINT8), VT_OK);
    const char *ad[2] = {tmp("a.nii.gz"), tmp("d.nii.gz")};
    ck_assert_int_eq(vt_softgt_files(2, ad, tmp("bad.nii.gz"), 1e-3), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "dims 6x5x4") && strstr(vt_last_error(), "7x5x4"), "%s", vt_last_error());
    ck_assert_int_eq(access(tmp("bad.nii.gz"), F_OK), -1);
    vt_tensor_free(a); vt_tensor_free(b); vt_tensor_free(d); vt_tensor_free(s);
}
END_TEST

static vt_softseg_options options_from(const char *path, int n_sets, const char *const *sets) {
    vt_config *c = vt_config_load(vt_softseg_schema(), path, n_sets, sets);
    ck_assert_msg(c != NULL, "%s", vt_last_error());
    vt_softseg_options o;
    ck_assert_msg(vt_softseg_options_from_config(c, &o) == VT_OK, "%s", vt_last_error());
    vt_config_free(c);
    return o;
}

START_TEST(config_schema_and_example) {
    vt_softseg_options o = options_from("examples/softseg_cord/config", 0, NULL);
    ck_assert_int_eq(o.soft_gt, 1);
    ck_assert_int_eq(o.loss, VT_SOFTSEG_ADAPWING);
    const char *sets[] = {"loss.gt=binary", "loss.loss=dice", "model.head=clamp"};
    o = options_from("examples/softseg_cord/config", 3, sets);
    ck_assert(o.soft_gt == 0 && o.loss == VT_SOFTSEG_DICE && o.clamp_head == 1);
    const char *bad[] = {"loss.loss=wing"};
    ck_assert_ptr_null(vt_config_load(vt_softseg_schema(), NULL, 1, bad));
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "adapwing"));
}
END_TEST

START_TEST(prepare_zscores_and_keeps_z) {
    vt_nifti_header g = oblique_geometry(0.5, 0.5, 3.0); /* k runs along S: axial slices stay slices */
    vt_tensor *img = vt_tensor_new(VT_DIMS(5, 20, 16));
    for (int v = 0; v < img->numel; v++) img->data[v] = 100.f + 30.f * sinf(0.1f * (float)v);
    const double sp[3] = {1.0, 1.0, 0};
    double aff[4][4], s[3];
    vt_tensor *p = vt_softseg_prepare(img, (const double (*)[4])g.affine, sp, 1, 0, aff);
    ck_assert_msg(p != NULL, "%s", vt_last_error());
    ck_assert_int_eq(p->shape[0], 5); /* z kept at 3 mm */
    ck_assert_int_eq(p->shape[1], 8); /* 16 x 0.5 mm -> 8 x 1 mm (j runs along R: W after RAS+) */
    ck_assert_int_eq(p->shape[2], 10);
    vt_nifti_spacing(aff, s);
    ck_assert_double_eq_tol(s[0], 1.0, 1e-9);
    ck_assert_double_eq_tol(s[2], 3.0, 1e-9);
    double m = 0, m2 = 0;
    for (int v = 0; v < p->numel; v++) { m += p->data[v]; m2 += p->data[v] * p->data[v]; }
    m /= (double)p->numel;
    ck_assert_double_eq_tol(m, 0, 1e-4);
    ck_assert_double_eq_tol(m2 / (double)p->numel - m * m, 1, 1e-3);
    vt_tensor_free(p); vt_tensor_free(img);
}
END_TEST

static vt_softseg_options tiny_options(void) {
    const char *sets[] = {"data.subjects=2", "data.nx=32", "data.ny=32", "data.nz=6", "model.depth=1",
                          "model.base_width=4", "optim.batch=24", "optim.epochs=6", "optim.lr=0.01"};
    vt_softseg_options o = options_from(NULL, 9, sets);
    o.log_every = 1000;
    return o;
}

START_TEST(training_reduces_the_loss) {
    vt_set_num_threads(2);
    vt_softseg_options o = tiny_options();
    vt_softseg_data d;
    ck_assert_msg(vt_softseg_data_load(&o, &d) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(d.n, 8);
    ck_assert_int_eq(d.height % 2, 0);
    ck_assert(d.vol[0].train_hi == 6 && d.vol[0].test_hi == 0 && d.vol[4].train_hi == 0 && d.vol[4].test_hi == 6);
    ck_assert_ptr_nonnull(d.vol[4].true_csa);
    for (int i = 0; i < d.n; i++) /* the soft GT is the mean of the 4 contrasts' masks: in [0, 1], not binary */
        for (int64_t v = 0; v < d.vol[i].soft->numel; v++) ck_assert(d.vol[i].soft->data[v] >= 0 && d.vol[i].soft->data[v] <= 1);
    vt_seed(1);
    vt_model *m = vt_softseg_model_new(&o);
    ck_assert_ptr_nonnull(m);
    vt_softseg_result r;
    /* one full batch per epoch: 6 Adam steps on the same 24 slices */
    ck_assert_msg(vt_softseg_train(m, &o, &d, tmpdir, &r) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(r.epochs_done, 6);
    ck_assert_msg(r.last_loss < 0.8 * r.first_loss, "loss %g -> %g", r.first_loss, r.last_loss);
    ck_assert_int_eq(access(tmp("metrics.jsonl"), F_OK), 0);
    /* the checkpoint rebuilds the same model */
    vt_softseg_options o2;
    memset(&o2, 0, sizeof o2);
    vt_model *m2 = vt_softseg_load(tmp("model.vtck"), &o2);
    ck_assert_msg(m2 != NULL, "%s", vt_last_error());
    ck_assert_int_eq(o2.depth, 1);
    vt_tensor *p1 = vt_softseg_predict_prepared(m, &o, d.vol[4].image), *p2 = vt_softseg_predict_prepared(m2, &o2, d.vol[4].image);
    vt_expect_tensor_close(p2, p1, 1e-6, 0, "reloaded model prediction");
    vt_softseg_eval e;
    ck_assert_int_eq(vt_softseg_evaluate(m, &o, &d, &e), VT_OK);
    ck_assert_int_eq(e.n, 4);
    for (int i = 0; i < 4; i++) ck_assert(e.dice[i] >= 0 && e.dice[i] <= 1 && isfinite(e.csa_abs_err[i]));
    vt_tensor_free(p1); vt_tensor_free(p2);
    vt_model_free(m); vt_model_free(m2);
    vt_softseg_data_free(&d);
}
END_TEST

static int run(const char *args) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s > %s/cmd.log 2>&1", vt_test_bin(), args, tmpdir);
    return system(cmd);
}

START_TEST(predict_writes_the_input_geometry) {
    vt_softseg_options o = tiny_options();
    o.spacing[0] = o.spacing[1] = 0.8;
    vt_seed(2);
    vt_model *m = vt_softseg_model_new(&o);
    ck_assert_int_eq(vt_softseg_save(m, &o, tmp("m.vtck")), VT_OK);
    /* oblique, anisotropic input whose in-plane size is not a multiple of 2^depth */
    vt_nifti_header g = oblique_geometry(0.5, 0.7, 3.0);
    vt_tensor *img = vt_tensor_new(VT_DIMS(5, 27, 21));
    for (int v = 0; v < img->numel; v++) img->data[v] = (float)((v * 37) % 101);
    ck_assert_int_eq(vt_nifti_save(tmp("img.nii.gz"), img, &g, VT_NIFTI_FLOAT32), VT_OK);
    char args[1024];
    snprintf(args, sizeof args, "predict-seg --checkpoint %s --in %s --out %s", tmp("m.vtck"), tmp("img.nii.gz"), tmp("seg.nii.gz"));
    ck_assert_int_eq(run(args), 0);
    snprintf(args, sizeof args, "predict-seg --checkpoint %s --in %s --out %s --binarize 0.5", tmp("m.vtck"),
             tmp("img.nii.gz"), tmp("bin.nii.gz"));
    ck_assert_int_eq(run(args), 0);
    vt_nifti_header hi, hs, hb;
    ck_assert_int_eq(vt_nifti_read_header(tmp("img.nii.gz"), &hi), VT_OK);
    vt_tensor *seg = vt_nifti_load(tmp("seg.nii.gz"), &hs), *bin = vt_nifti_load(tmp("bin.nii.gz"), &hb);
    ck_assert(seg && bin);
    for (int k = 1; k <= 3; k++) ck_assert(hs.dim[k] == hi.dim[k] && hb.dim[k] == hi.dim[k]);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            ck_assert_double_eq_tol(hs.affine[r][c], hi.affine[r][c], 1e-6);
            ck_assert_double_eq_tol(hb.affine[r][c], hi.affine[r][c], 1e-6);
        }
    int64_t ones = 0;
    for (int64_t v = 0; v < seg->numel; v++) {
        ck_assert(seg->data[v] >= 0 && seg->data[v] <= 1);
        ck_assert(bin->data[v] == 0 || bin->data[v] == 1);
        ones += bin->data[v] == 1;
        ck_assert_int_eq((int)bin->data[v], seg->data[v] >= 0.5f); /* same model, same threshold */
    }
    (void)ones;
    /* errors: missing checkpoint */
    snprintf(args, sizeof args, "predict-seg --checkpoint %s --in %s --out %s", tmp("none.vtck"), tmp("img.nii.gz"), tmp("x.nii.gz"));
    ck_assert_int_ne(run(args), 0);
    /* softgt command: masks on one grid are averaged; a missing file is an error */
    snprintf(args, sizeof args, "softgt --out %s %s %s", tmp("s.nii.gz"), tmp("bin.nii.gz"), tmp("seg.nii.gz"));
    ck_assert_int_eq(run(args), 0);
    vt_tensor *s = vt_nifti_load(tmp("s.nii.gz"), NULL);
    ck_assert_ptr_nonnull(s);
    for (int64_t v = 0; v < s->numel; v++) ck_assert_float_eq(s->data[v], ((bin->data[v] != 0) + (seg->data[v] != 0)) / 2.f);
    vt_tensor_free(s);
    snprintf(args, sizeof args, "softgt --out %s %s %s", tmp("s2.nii.gz"), tmp("bin.nii.gz"), tmp("missing.nii.gz"));
    ck_assert_int_ne(run(args), 0);
    vt_tensor_free(seg); vt_tensor_free(bin); vt_tensor_free(img);
    vt_model_free(m);
}
END_TEST

START_TEST(reads_the_real_sct_subject) {
    if (access("../shared/data/sct/t2/t2.nii.gz", R_OK) != 0) {
        printf("test_softseg: ../shared/data/sct absent: real-data read skipped\n");
        return;
    }
    const char *sets[] = {"data.source=sct"};
    vt_softseg_options o = options_from(NULL, 1, sets);
    vt_softseg_data d;
    ck_assert_msg(vt_softseg_data_load(&o, &d) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(d.n, 4);
    ck_assert_int_eq(d.height % 4, 0);
    ck_assert_int_eq(d.width % 4, 0);
    for (int i = 0; i < d.n; i++) {
        const vt_softseg_volume *v = &d.vol[i];
        double cord = 0;
        for (int64_t k = 0; k < v->mask->numel; k++) cord += v->mask->data[k];
        /* a cord of ~50-90 mm^2 on every slice: at least a few dozen voxels of 0.64 mm^2 per slice */
        ck_assert_msg(cord > 40.0 * (double)v->mask->shape[0], "%s: %g mask voxels", v->name, cord);
        ck_assert(v->train_hi > v->train_lo && v->test_hi > v->test_lo && v->train_hi <= v->test_lo);
    }
    /* T2w carries SCT deepseg's mask as another rater; the MT soft GT averages mt0_seg and mt1_seg */
    ck_assert_ptr_nonnull(d.vol[0].other);
    int64_t half = 0;
    for (int64_t k = 0; k < d.vol[2].soft->numel; k++) half += d.vol[2].soft->data[k] > 0.05f && d.vol[2].soft->data[k] < 0.95f;
    ck_assert_int_gt(half, 0);
    vt_softseg_data_free(&d);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("softseg");
    TCase *t = tcase_create("softseg");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, softgt_mean_of_masks);
    tcase_add_test(t, softgt_files_check_the_grid);
    tcase_add_test(t, config_schema_and_example);
    tcase_add_test(t, prepare_zscores_and_keeps_z);
    tcase_add_test(t, training_reduces_the_loss);
    tcase_add_test(t, predict_writes_the_input_geometry);
    tcase_add_test(t, reads_the_real_sct_subject);
    suite_add_tcase(s, t);
    return s;
}

VT_TEST_MAIN(suite)
