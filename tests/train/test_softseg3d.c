/* test_softseg3d.c: the additions to the soft cord segmentation: the 3D UNet on patches
 * (a few steps reduce the loss; sliding-window inference equals the plain forward when the
 * volume is one patch, and covers larger volumes with values in [0, 1]; predict-seg of a 3D
 * checkpoint writes the input's exact geometry), bit-identical resume (2 epochs = 1 epoch +
 * resume + 1 epoch, 2D and 3D), the run folder's overlays / curves / TensorBoard files, the
 * overlay picture's colours, and config errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "png_io.h"
#include "softseg.h"
#include "vt_test.h"

static char tmpdir[256];

static void setup(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vt_softseg3d_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    vt_set_num_threads(2);
}

static void teardown(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

static char *tmp(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static vt_softseg_options options_with(int n_extra, const char *const *extra) {
    const char *sets[32] = {"data.subjects=2", "data.nx=32", "data.ny=32", "data.nz=8", "model.depth=1",
                            "model.base_width=4", "optim.batch=8", "optim.lr=0.01", "overlays=false",
                            "data.spacing_x=1.6", "data.spacing_y=1.6"}; /* 16x16 prepared slices */
    int n = 11;
    for (int i = 0; i < n_extra; i++) sets[n++] = extra[i];
    vt_config *c = vt_config_load(vt_softseg_schema(), NULL, n, sets);
    ck_assert_msg(c != NULL, "%s", vt_last_error());
    vt_softseg_options o;
    ck_assert_msg(vt_softseg_options_from_config(c, &o) == VT_OK, "%s", vt_last_error());
    vt_config_free(c);
    o.log_every = 1000;
    return o;
}

static vt_softseg_options options_3d(void) {
    const char *s[] = {"model.dims=3d", "model.patch_z=8", "model.patch_y=16", "model.patch_x=16",
                       "optim.patches_per_epoch=8", "optim.epochs=5", "data.fg_prob=1"};
    return options_with(7, s);
}

START_TEST(three_d_training_reduces_the_loss) {
    vt_softseg_options o = options_3d();
    o.epochs = 8;
    o.lr = 0.02f;
    ck_assert(o.dims3d && o.patch[0] == 8 && o.patch[2] == 16 && o.gaussian_window == 1);
    vt_softseg_data d;
    ck_assert_msg(vt_softseg_data_load(&o, &d) == VT_OK, "%s", vt_last_error());
    vt_dataset *ds = vt_softseg_patch_dataset(&o, &d);
    ck_assert_msg(ds != NULL, "%s", vt_last_error());
    ck_assert_int_eq(ds->length, 8);
    ck_assert(ds->image_shape[0] == 1 && ds->image_shape[1] == 8 && ds->image_shape[2] == 16 && ds->image_shape[3] == 16);
    vt_dataset_free(ds);
    vt_seed(1);
    vt_model *m = vt_softseg_model_new(&o);
    ck_assert_msg(m != NULL, "%s", vt_last_error());
    ck_assert_str_eq(m->arch, "unet3d");
    vt_softseg_result r;
    /* one batch of 8 foreground-centred patches per epoch (new patches every epoch): 8 Adam steps */
    ck_assert_msg(vt_softseg_train(m, &o, &d, NULL, &r) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(r.epochs_done, 8);
    ck_assert_msg(r.last_loss < 0.85 * r.first_loss, "loss %g -> %g", r.first_loss, r.last_loss);
    vt_model_free(m);
    vt_softseg_data_free(&d);
}
END_TEST

START_TEST(sliding_window_equals_the_forward_on_one_patch) {
    vt_softseg_options o = options_3d();
    vt_seed(3);
    vt_model *m = vt_softseg_model_new(&o);
    vt_tensor *img = vt_tensor_new(VT_DIMS(8, 16, 16));
    for (int64_t v = 0; v < img->numel; v++) img->data[v] = sinf(0.37f * (float)v) + 0.01f * (float)(v % 17);
    vt_tensor *x = vt_tensor_from_data(VT_DIMS(1, 1, 8, 16, 16), img->data);
    int prev = vt_no_grad_begin();
    vt_tensor *full = vt_tensor_clone(vt_softseg_forward(m, 0, x, 0));
    vt_no_grad_end(prev);
    vt_arena_reset(NULL);
    full->ndim = 3; /* (1, 1, 8, 16, 16) -> (8, 16, 16): same data */
    full->shape[0] = 8; full->shape[1] = 16; full->shape[2] = 16;
    for (int gaussian = 0; gaussian <= 1; gaussian++) {
        vt_tensor *sw = vt_softseg_sliding_window(m, 0, img, o.patch, gaussian);
        ck_assert_msg(sw != NULL, "%s", vt_last_error());
        vt_expect_tensor_close(sw, full, 1e-6, 0, gaussian ? "one Gaussian window" : "one uniform window");
        vt_tensor_free(sw);
    }
    /* a larger volume (several windows on every axis) and one shorter than the patch along z */
    vt_tensor *big = vt_tensor_new(VT_DIMS(13, 28, 20)), *thin = vt_tensor_new(VT_DIMS(5, 16, 24));
    for (int64_t v = 0; v < big->numel; v++) big->data[v] = cosf(0.11f * (float)v);
    for (int64_t v = 0; v < thin->numel; v++) thin->data[v] = cosf(0.23f * (float)v);
    vt_tensor *a = vt_softseg_sliding_window(m, 0, big, o.patch, 1), *b = vt_softseg_sliding_window(m, 0, thin, o.patch, 0);
    ck_assert(a && b && vt_shape_equal(a, big) && vt_shape_equal(b, thin));
    for (int64_t v = 0; v < a->numel; v++) ck_assert(a->data[v] >= 0 && a->data[v] <= 1);
    for (int64_t v = 0; v < b->numel; v++) ck_assert(b->data[v] >= 0 && b->data[v] <= 1);
    /* the predict path of a 3D model is the sliding window */
    o.gaussian_window = 1;
    vt_tensor *p = vt_softseg_predict_prepared(m, &o, big);
    vt_expect_tensor_close(p, a, 0, 0, "predict_prepared of a 3D model");
    /* bad input */
    vt_tensor *flat = vt_tensor_new(VT_DIMS(16, 16));
    ck_assert_ptr_null(vt_softseg_sliding_window(m, 0, flat, o.patch, 1));
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "(16, 16)"));
    vt_tensor_free(flat); vt_tensor_free(p); vt_tensor_free(a); vt_tensor_free(b); vt_tensor_free(big); vt_tensor_free(thin);
    vt_tensor_free(full); vt_tensor_free(x); vt_tensor_free(img);
    vt_model_free(m);
}
END_TEST

static int run(const char *args) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s > %s/cmd.log 2>&1", vt_test_bin(), args, tmpdir);
    return system(cmd);
}

START_TEST(predict_seg_3d_writes_the_input_geometry) {
    vt_softseg_options o = options_3d();
    vt_seed(4);
    vt_model *m = vt_softseg_model_new(&o);
    ck_assert_int_eq(vt_softseg_save(m, &o, tmp("m3.vtck")), VT_OK);
    vt_softseg_options lo;
    memset(&lo, 0, sizeof lo);
    vt_model *m2 = vt_softseg_load(tmp("m3.vtck"), &lo);
    ck_assert_msg(m2 != NULL, "%s", vt_last_error());
    ck_assert(lo.dims3d == 1 && lo.patch[0] == 8 && lo.patch[1] == 16 && lo.patch[2] == 16 && lo.gaussian_window == 1);
    ck_assert_str_eq(m2->arch, "unet3d");
    /* oblique (axes permuted and flipped), anisotropic, odd sizes */
    vt_nifti_header g;
    memset(&g, 0, sizeof g);
    g.version = 1;
    g.pixdim[0] = 1; g.pixdim[1] = 0.6; g.pixdim[2] = 0.7; g.pixdim[3] = 2.5;
    g.sform_code = 1;
    double srow[3][4] = {{0, 0.7, 0, -10.5}, {-0.6, 0, 0, 20.25}, {0, 0, 2.5, -33}};
    memcpy(g.srow, srow, sizeof srow);
    for (int r = 0; r < 3; r++) for (int c = 0; c < 4; c++) g.affine[r][c] = srow[r][c];
    g.affine[3][3] = 1;
    g.xyzt_units = 2;
    vt_tensor *img = vt_tensor_new(VT_DIMS(11, 27, 21));
    for (int64_t v = 0; v < img->numel; v++) img->data[v] = (float)((v * 37) % 101);
    ck_assert_int_eq(vt_nifti_save(tmp("img.nii.gz"), img, &g, VT_NIFTI_FLOAT32), VT_OK);
    char args[1024];
    snprintf(args, sizeof args, "predict-seg --checkpoint %s --in %s --out %s", tmp("m3.vtck"), tmp("img.nii.gz"), tmp("seg.nii.gz"));
    ck_assert_int_eq(run(args), 0);
    vt_nifti_header hi, hs;
    ck_assert_int_eq(vt_nifti_read_header(tmp("img.nii.gz"), &hi), VT_OK);
    vt_tensor *seg = vt_nifti_load(tmp("seg.nii.gz"), &hs);
    ck_assert_ptr_nonnull(seg);
    for (int k = 1; k <= 3; k++) ck_assert_int_eq(hs.dim[k], hi.dim[k]);
    for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) ck_assert_double_eq_tol(hs.affine[r][c], hi.affine[r][c], 1e-6);
    for (int64_t v = 0; v < seg->numel; v++) ck_assert(seg->data[v] >= 0 && seg->data[v] <= 1);
    /* the same as the library's prediction in the input geometry */
    vt_tensor *want = vt_softseg_predict_volume(m2, &lo, img, (const double (*)[4])hi.affine, 0);
    vt_expect_tensor_close(seg, want, 1e-6, 0, "predict-seg 3D vs vt_softseg_predict_volume");
    vt_tensor_free(want); vt_tensor_free(seg); vt_tensor_free(img);
    vt_model_free(m); vt_model_free(m2);
}
END_TEST

/* trains o.epochs epochs from seed-5 weights into dir (resume: from resume) */
static void train_into(vt_softseg_options o, const vt_softseg_data *d, const char *dir, const char *resume) {
    snprintf(o.resume, sizeof o.resume, "%s", resume ? resume : "");
    vt_seed(5);
    vt_model *m = vt_softseg_model_new(&o);
    vt_softseg_result r;
    ck_assert_msg(vt_softseg_train(m, &o, d, dir, &r) == VT_OK, "%s", vt_last_error());
    vt_model_free(m);
}

static void check_resume(vt_softseg_options o) {
    vt_softseg_data d;
    ck_assert_msg(vt_softseg_data_load(&o, &d) == VT_OK, "%s", vt_last_error());
    char a[512], b[512], ca[600], cb[600];
    snprintf(a, sizeof a, "%s/a%d", tmpdir, o.dims3d);
    snprintf(b, sizeof b, "%s/b%d", tmpdir, o.dims3d);
    ck_assert(mkdir(a, 0777) == 0 && mkdir(b, 0777) == 0);
    snprintf(ca, sizeof ca, "%s/model.vtck", a);
    snprintf(cb, sizeof cb, "%s/model.vtck", b);
    o.epochs = 2;
    train_into(o, &d, a, NULL);
    o.epochs = 1;
    train_into(o, &d, b, NULL);
    o.epochs = 2;
    train_into(o, &d, b, cb); /* continues at epoch 2 */
    vt_softseg_options oa, ob;
    memset(&oa, 0, sizeof oa);
    memset(&ob, 0, sizeof ob);
    vt_model *ma = vt_softseg_load(ca, &oa), *mb = vt_softseg_load(cb, &ob);
    ck_assert(ma && mb);
    ck_assert_int_eq(vt_params_count(ma->params), vt_params_count(mb->params));
    for (int i = 0; i < vt_params_count(ma->params); i++) {
        const vt_tensor *ta = vt_params_tensor(ma->params, i), *tb = vt_params_tensor(mb->params, i);
        ck_assert_msg(memcmp(ta->data, tb->data, sizeof(float) * (size_t)ta->numel) == 0,
                      "%s: tensor %d differs after 1 + resume + 1 epochs", o.dims3d ? "3D" : "2D", i);
    }
    /* metrics.jsonl of the resumed run holds both epochs (appended) */
    char path[700], line[4][512];
    snprintf(path, sizeof path, "%s/metrics.jsonl", b);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    int n = 0;
    while (n < 4 && fgets(line[n], sizeof line[n], f)) n++;
    fclose(f);
    ck_assert_int_eq(n, 2);
    ck_assert_ptr_nonnull(strstr(line[1], "\"epoch\": 2"));
    /* nothing left to do: an error naming the epoch */
    vt_seed(5);
    vt_model *m = vt_softseg_model_new(&o);
    snprintf(o.resume, sizeof o.resume, "%s", cb);
    vt_softseg_result r;
    ck_assert_int_eq(vt_softseg_train(m, &o, &d, NULL, &r), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "epoch 3") && strstr(vt_last_error(), "nothing to do"), "%s", vt_last_error());
    /* a weights-only checkpoint cannot be resumed */
    ck_assert_int_eq(vt_softseg_save(m, &o, tmp("w.vtck")), VT_OK);
    snprintf(o.resume, sizeof o.resume, "%s", tmp("w.vtck"));
    ck_assert_int_eq(vt_softseg_train(m, &o, &d, NULL, &r), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "softseg resume") != NULL, "%s", vt_last_error());
    vt_model_free(m); vt_model_free(ma); vt_model_free(mb);
    vt_softseg_data_free(&d);
}

START_TEST(resume_is_bit_identical_2d) {
    /* 24 training slices, batch 8: 3 shuffled steps per epoch */
    check_resume(options_with(0, NULL));
}
END_TEST

START_TEST(resume_is_bit_identical_3d) {
    vt_softseg_options o = options_3d();
    o.patches_per_epoch = 6;
    o.batch = 3;
    o.fg_prob = 0.5f;
    check_resume(o);
}
END_TEST

START_TEST(run_folder_has_overlays_curves_and_events) {
    const char *s[] = {"optim.epochs=2", "overlays=true"};
    vt_softseg_options o = options_with(2, s);
    vt_softseg_data d;
    ck_assert_msg(vt_softseg_data_load(&o, &d) == VT_OK, "%s", vt_last_error());
    vt_seed(6);
    vt_model *m = vt_softseg_model_new(&o);
    vt_softseg_result r;
    ck_assert_msg(vt_softseg_train(m, &o, &d, tmpdir, &r) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(access(tmp("overlays/epoch_001.png"), R_OK), 0);
    ck_assert_int_eq(access(tmp("overlays/epoch_002.png"), R_OK), 0);
    ck_assert_int_eq(access(tmp("plots/curve_train_loss.png"), R_OK), 0);
    ck_assert_int_eq(access(tmp("plots/curve_test_dice.png"), R_OK), 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls %s/events.out.tfevents.* > /dev/null 2>&1", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
    if (vt_png_supported()) {
        vt_png_info info;
        ck_assert_int_eq(vt_png_read_info(tmp("overlays/epoch_002.png"), &info), VT_OK);
        /* the padded 16x16 slice (multiple of 2^depth) magnified 4x, RGB */
        ck_assert_int_eq(info.width, (int)d.width * 4);
        ck_assert_int_eq(info.height, (int)d.height * 4);
    }
    vt_model_free(m);
    vt_softseg_data_free(&d);
}
END_TEST

START_TEST(overlay_colours) {
    if (!vt_png_supported()) return;
    enum { H = 6, W = 7 };
    float img[H * W], pred[H * W], gt[H * W];
    for (int i = 0; i < H * W; i++) {
        int y = i / W, x = i % W;
        img[i] = (float)x;                         /* grey ramp 0..6 */
        gt[i] = y >= 1 && y <= 4 && x >= 1 && x <= 5; /* 4x5 box: contour = its rim */
        pred[i] = y >= 2 && y <= 3 && x >= 2 && x <= 4 ? 1.f : 0.f;
    }
    ck_assert_int_eq(vt_softseg_overlay_png(tmp("o.png"), img, pred, gt, H, W, 2), VT_OK);
    vt_png_options raw = {0};
    raw.raw = 1; /* 0..255 */
    vt_tensor *t = vt_png_load(tmp("o.png"), &raw, NULL);
    ck_assert_ptr_nonnull(t);
    ck_assert(t->shape[0] == 3 && t->shape[1] == 2 * H && t->shape[2] == 2 * W);
    int64_t plane = t->shape[1] * t->shape[2];
#define PX(c, y, x) (t->data[(c) * plane + (2 * (y)) * t->shape[2] + 2 * (x)])
    /* background: grey (equal channels), x = 6 is the brightest */
    ck_assert(PX(0, 0, 6) == PX(1, 0, 6) && PX(1, 0, 6) == PX(2, 0, 6) && PX(0, 0, 6) > 250);
    ck_assert(PX(0, 5, 0) < 1);
    /* GT rim: pure green */
    ck_assert(PX(0, 1, 3) < 1 && PX(1, 1, 3) > 250 && PX(2, 1, 3) < 1);
    /* prediction 1 inside the box: red dominates */
    ck_assert(PX(0, 2, 3) > PX(1, 2, 3) + 100 && PX(1, 2, 3) == PX(2, 2, 3));
#undef PX
    vt_tensor_free(t);
    ck_assert_int_eq(vt_softseg_overlay_png(tmp("bad.png"), img, pred, gt, 0, W, 2), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "softseg overlay"));
}
END_TEST

START_TEST(config_errors) {
    const char *sets[] = {"model.dims=3d", "model.depth=2", "model.patch_z=6"};
    vt_config *c = vt_config_load(vt_softseg_schema(), NULL, 3, sets);
    ck_assert_ptr_nonnull(c);
    vt_softseg_options o;
    ck_assert_int_eq(vt_softseg_options_from_config(c, &o), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "model.patch_z = 6") && strstr(vt_last_error(), "2^depth = 4"), "%s", vt_last_error());
    vt_config_free(c);
    const char *bad[] = {"eval.window=hann"};
    ck_assert_ptr_null(vt_config_load(vt_softseg_schema(), NULL, 1, bad));
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "gaussian"));
    /* the example config parses with the new keys at their defaults */
    c = vt_config_load(vt_softseg_schema(), "examples/softseg_cord/config", 0, NULL);
    ck_assert_msg(c != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_softseg_options_from_config(c, &o), VT_OK);
    ck_assert(o.dims3d == 0 && o.resume[0] == 0 && o.overlays == 1);
    vt_config_free(c);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("softseg3d");
    TCase *t = tcase_create("softseg3d");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, three_d_training_reduces_the_loss);
    tcase_add_test(t, sliding_window_equals_the_forward_on_one_patch);
    tcase_add_test(t, predict_seg_3d_writes_the_input_geometry);
    tcase_add_test(t, resume_is_bit_identical_2d);
    tcase_add_test(t, resume_is_bit_identical_3d);
    tcase_add_test(t, run_folder_has_overlays_curves_and_events);
    tcase_add_test(t, overlay_colours);
    tcase_add_test(t, config_errors);
    suite_add_tcase(s, t);
    return s;
}

VT_TEST_MAIN(suite)
