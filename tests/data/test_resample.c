/* test_resample.c: resampling vs scipy.ndimage.affine_transform (tests/ref/ref_resample.py),
 * hand-computed small cases, round trips, errors, and a real SCT volume to 1 mm and back
 * (skipped when ../shared/data/sct is absent). */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "nifti.h"
#include "resample.h"
#include "vt_test.h"

#define SCT "../shared/data/sct"

static void load_affine(const char *name, double a[4][4]) {
    vt_tensor *t = vt_fixture(name);
    ck_assert_int_eq(t->numel, 16);
    for (int i = 0; i < 16; i++) a[i / 4][i % 4] = t->data[i];
    vt_tensor_free(t);
}

static void scipy_case(const char *name, vt_interp interp, double atol) {
    char b[128];
    snprintf(b, sizeof b, "resample_%s.x", name);
    vt_tensor *x = vt_fixture(b);
    snprintf(b, sizeof b, "resample_%s.y", name);
    vt_tensor *y = vt_fixture(b);
    double ai[4][4], ao[4][4];
    snprintf(b, sizeof b, "resample_%s.a_in", name);
    load_affine(b, ai);
    snprintf(b, sizeof b, "resample_%s.a_out", name);
    load_affine(b, ao);
    vt_tensor *got = vt_resample_to_grid(x, ai, y->shape, ao, interp);
    ck_assert_msg(got, "%s", vt_last_error());
    ck_assert(vt_shape_equal(got, y));
    vt_expect_tensor_close(got, y, atol, 0, name);
    vt_tensor_free(x), vt_tensor_free(y), vt_tensor_free(got);
}

START_TEST(matches_scipy_oblique_grids) {
    scipy_case("oblique_linear", VT_INTERP_LINEAR, 2e-5);
    scipy_case("oblique_nearest", VT_INTERP_NEAREST, 0);
}
END_TEST

START_TEST(spacing_change_matches_scipy_and_affine) {
    vt_tensor *x = vt_fixture("resample_spacing_linear.x"), *y = vt_fixture("resample_spacing_linear.y");
    double ai[4][4], ao[4][4], got_a[4][4];
    load_affine("resample_spacing_linear.a_in", ai);
    load_affine("resample_spacing_linear.a_out", ao);
    vt_tensor *got = vt_resample_spacing(x, ai, (double[]){1.3, 0.7, 1.1}, VT_INTERP_LINEAR, got_a);
    ck_assert_msg(got, "%s", vt_last_error());
    ck_assert(vt_shape_equal(got, y));
    vt_expect_tensor_close(got, y, 2e-5, 0, "spacing_linear");
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) ck_assert_double_eq_tol(got_a[r][c], ao[r][c], 1e-5);
    double sp[3];
    vt_nifti_spacing(got_a, sp);
    ck_assert_double_eq_tol(sp[0], 1.3, 1e-6);
    ck_assert_double_eq_tol(sp[2], 1.1, 1e-6);
    vt_tensor_free(x), vt_tensor_free(y), vt_tensor_free(got);
}
END_TEST

/* 1D along x, by hand: 4 voxels of 1 mm -> 2 mm gives 2 voxels centred on index 1.5:
 * input indices 0.5 and 2.5 -> (v0+v1)/2, (v2+v3)/2; the affine origin moves to +0.5 mm. */
START_TEST(hand_computed_downsample) {
    vt_tensor *x = vt_tensor_from_data(VT_DIMS(1, 1, 4), (float[]){1, 3, 10, 20});
    double a[4][4], oa[4][4];
    vt_affine_from_spacing((double[]){1, 1, 1}, a);
    a[0][3] = 5;
    vt_tensor *y = vt_resample_spacing(x, a, (double[]){2, 1, 1}, VT_INTERP_LINEAR, oa);
    ck_assert_int_eq(y->shape[2], 2);
    ck_assert_float_eq_tol(y->data[0], 2.0f, 1e-6);
    ck_assert_float_eq_tol(y->data[1], 15.0f, 1e-6);
    ck_assert_double_eq_tol(oa[0][0], 2.0, 1e-12);
    ck_assert_double_eq_tol(oa[0][3], 5.5, 1e-12);
    vt_tensor *n = vt_resample_spacing(x, a, (double[]){2, 1, 1}, VT_INTERP_NEAREST, oa);
    ck_assert_float_eq(n->data[0], 3.0f); /* index 0.5 rounds up */
    ck_assert_float_eq(n->data[1], 20.0f);
    /* upsampling 0.5 mm: 8 voxels at indices -0.25, 0.25, ..., 3.25 (edges clamped) */
    vt_tensor *u = vt_resample_spacing(x, a, (double[]){0.5, 1, 1}, VT_INTERP_LINEAR, oa);
    ck_assert_int_eq(u->shape[2], 8);
    float want[8] = {1, 1.5f, 2.5f, 4.75f, 8.25f, 12.5f, 17.5f, 20};
    vt_expect_close(u->data, want, 8, 1e-5, 0, "upsample");
    vt_tensor_free(x), vt_tensor_free(y), vt_tensor_free(n), vt_tensor_free(u);
}
END_TEST

START_TEST(mask_threshold_and_nearest_stay_binary) {
    vt_tensor *m = vt_tensor_new(VT_DIMS(5, 6, 7));
    for (int64_t i = 0; i < m->numel; i++) m->data[i] = (i * 7919 % 13) < 5;
    double a[4][4], oa[4][4];
    vt_affine_from_spacing((double[]){1, 1, 1}, a);
    for (int interp = VT_INTERP_NEAREST; interp <= VT_INTERP_LINEAR_THRESHOLD; interp++) {
        vt_tensor *r = vt_resample_spacing(m, a, (double[]){0.7, 1.6, 0.9}, (vt_interp)interp, oa);
        for (int64_t i = 0; i < r->numel; i++) ck_assert(r->data[i] == 0 || r->data[i] == 1);
        vt_tensor_free(r);
    }
    vt_tensor_free(m);
}
END_TEST

/* down then back: the original shape and affine exactly; a smooth volume comes back close */
START_TEST(round_trip_restores_geometry) {
    int64_t dhw[3] = {6, 9, 11};
    vt_tensor *x = vt_tensor_new(VT_DIMS(2, 6, 9, 11)); /* (C, D, H, W) */
    for (int64_t c = 0; c < 2; c++)
        for (int64_t k = 0; k < 6; k++)
            for (int64_t j = 0; j < 9; j++)
                for (int64_t i = 0; i < 11; i++)
                    x->data[((c * 6 + k) * 9 + j) * 11 + i] = (float)(c + 0.1 * i + 0.2 * j - 0.3 * k);
    double a[4][4] = {{0, 0, -1.2, 30}, {0.8, 0, 0, -20}, {0, 0.9, 0, 7}, {0, 0, 0, 1}}, da[4][4];
    vt_tensor *d = vt_resample_spacing(x, a, (double[]){1.6, 1.8, 2.4}, VT_INTERP_LINEAR, da);
    ck_assert_msg(d, "%s", vt_last_error());
    ck_assert_int_eq(d->ndim, 4);
    ck_assert_int_eq(d->shape[0], 2);
    vt_tensor *back = vt_resample_to_grid(d, da, dhw, a, VT_INTERP_LINEAR);
    ck_assert_int_eq(back->ndim, 4);
    for (int i = 0; i < 4; i++) ck_assert_int_eq(back->shape[i], x->shape[i]);
    /* a linear ramp is reproduced exactly by linear interpolation away from clamped edges */
    for (int64_t k = 1; k < 5; k++)
        for (int64_t j = 2; j < 7; j++)
            for (int64_t i = 2; i < 9; i++) {
                int64_t o = ((6 + k) * 9 + j) * 11 + i;
                ck_assert_float_eq_tol(back->data[o], x->data[o], 1e-4);
            }
    /* identity grid copies bit for bit */
    vt_tensor *same = vt_resample_to_grid(x, a, dhw, a, VT_INTERP_LINEAR);
    ck_assert_int_eq(memcmp(same->data, x->data, x->numel * sizeof(float)), 0);
    vt_tensor_free(x), vt_tensor_free(d), vt_tensor_free(back), vt_tensor_free(same);
}
END_TEST

START_TEST(bad_inputs_give_errors) {
    vt_tensor *v = vt_tensor_new(VT_DIMS(4, 4));
    double a[4][4], oa[4][4];
    vt_affine_from_spacing((double[]){1, 1, 1}, a);
    ck_assert_ptr_null(vt_resample_spacing(v, a, (double[]){1, 1, 1}, VT_INTERP_LINEAR, oa));
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "(4, 4)"));
    vt_tensor *w = vt_tensor_new(VT_DIMS(2, 2, 2));
    ck_assert_ptr_null(vt_resample_spacing(w, a, (double[]){1, 0, 1}, VT_INTERP_LINEAR, oa));
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "positive"));
    double sing[4][4] = {{1, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
    ck_assert_ptr_null(vt_resample_to_grid(w, sing, (int64_t[]){2, 2, 2}, a, VT_INTERP_LINEAR));
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "singular"));
    vt_tensor_free(v), vt_tensor_free(w);
}
END_TEST

/* a real anisotropic volume (t2s: 0.5 x 0.5 x 7.5 mm) to 1 mm and back into its grid, and
 * its uint8 mask with nearest: the write-back geometry is the input's exactly */
START_TEST(sct_volume_to_1mm_and_back) {
    vt_nifti_header h;
    vt_tensor *v = vt_nifti_load(SCT "/t2s/t2s.nii.gz", &h);
    if (!v) {
        fprintf(stderr, "SKIP: %s absent (real resampling test)\n", SCT);
        vt_clear_error();
        return;
    }
    vt_tensor *m = vt_nifti_load(SCT "/t2s/t2s_seg.nii.gz", NULL);
    ck_assert_msg(m, "%s", vt_last_error());
    double oa[4][4], sp[3];
    vt_tensor *r = vt_resample_spacing(v, h.affine, (double[]){1, 1, 1}, VT_INTERP_LINEAR, oa);
    ck_assert_msg(r, "%s", vt_last_error());
    /* 49 x 54 x 9 voxels of 0.5 x 0.5 x 7.499999 (header) -> 25 x 27 x 67 (half up) */
    ck_assert_int_eq(r->shape[2], 25);
    ck_assert_int_eq(r->shape[1], 27);
    ck_assert_int_eq(r->shape[0], 67);
    vt_nifti_spacing(oa, sp);
    for (int a = 0; a < 3; a++) ck_assert_double_eq_tol(sp[a], 1.0, 1e-6);
    vt_tensor *mr = vt_resample_spacing(m, h.affine, (double[]){1, 1, 1}, VT_INTERP_NEAREST, oa);
    vt_tensor *back = vt_resample_to_grid(mr, oa, v->shape, h.affine, VT_INTERP_NEAREST);
    ck_assert(vt_shape_equal(back, m));
    /* the mask survives the round trip mostly (0.5 mm detail is lost at 1 mm) */
    double inter = 0, sm = 0, sb = 0;
    for (int64_t i = 0; i < m->numel; i++) {
        inter += m->data[i] * back->data[i];
        sm += m->data[i];
        sb += back->data[i];
    }
    ck_assert(sm > 0);
    ck_assert_msg(2 * inter / (sm + sb) > 0.7, "round-trip Dice %g", 2 * inter / (sm + sb));
    /* write back in the input geometry and read the header: same affine */
    char path[] = "/tmp/vt_resample_XXXXXX.nii";
    int fd = mkstemps(path, 4);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(vt_nifti_save(path, back, &h, VT_NIFTI_UINT8), VT_OK);
    vt_nifti_header h2;
    ck_assert_int_eq(vt_nifti_read_header(path, &h2), VT_OK);
    for (int a = 0; a < 3; a++) ck_assert_int_eq(h2.dim[1 + a], h.dim[1 + a]);
    for (int rr = 0; rr < 3; rr++)
        for (int c = 0; c < 4; c++) ck_assert_double_eq_tol(h2.affine[rr][c], h.affine[rr][c], 1e-4);
    remove(path);
    vt_tensor_free(v), vt_tensor_free(m), vt_tensor_free(r), vt_tensor_free(mr), vt_tensor_free(back);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("resample");
    TCase *tc = tcase_create("resample");
    tcase_add_test(tc, matches_scipy_oblique_grids);
    tcase_add_test(tc, spacing_change_matches_scipy_and_affine);
    tcase_add_test(tc, hand_computed_downsample);
    tcase_add_test(tc, mask_threshold_and_nearest_stay_binary);
    tcase_add_test(tc, round_trip_restores_geometry);
    tcase_add_test(tc, bad_inputs_give_errors);
    tcase_add_test(tc, sct_volume_to_1mm_and_back);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
