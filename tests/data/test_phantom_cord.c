/* test_phantom_cord.c: the multi-contrast cord MRI phantom: determinism, masks and soft
 * ground truth, true CSA vs partial-volume and mask areas, tissue contrast, NIfTI export. */
#include <stdio.h>
#include <unistd.h>
#include "phantom_cord.h"
#include "vt_test.h"

START_TEST(same_seed_same_bytes) {
    vt_phantom_cord a, b, d;
    ck_assert_int_eq(vt_phantom_cord_make(NULL, 3, 1, &a), VT_OK);
    ck_assert_int_eq(vt_phantom_cord_make(NULL, 3, 1, &b), VT_OK);
    ck_assert_int_eq(vt_phantom_cord_make(NULL, 3, 2, &d), VT_OK); /* another subject */
    for (int k = 0; k < VT_CORD_N_CONTRASTS; k++) {
        ck_assert(memcmp(a.image[k]->data, b.image[k]->data, sizeof(float) * a.image[k]->numel) == 0);
        ck_assert(memcmp(a.mask[k]->data, b.mask[k]->data, sizeof(float) * a.mask[k]->numel) == 0);
        int64_t differ = 0;
        for (int64_t q = 0; q < a.image[k]->numel; q++) differ += a.image[k]->data[q] != d.image[k]->data[q];
        ck_assert_int_gt(differ, a.image[k]->numel / 2);
    }
    ck_assert(memcmp(a.csa->data, b.csa->data, sizeof(float) * a.csa->numel) == 0);
    ck_assert(a.csa->data[0] != d.csa->data[0]);
    vt_phantom_cord_free(&a); vt_phantom_cord_free(&b); vt_phantom_cord_free(&d);
}
END_TEST

/* masks binary and non-empty on every slice, different at the edge but alike (Dice > 0.8);
 * soft = mean of the masks in [0, 1]; CSA: exact from the partial-volume fraction (1 %),
 * close from each mask (15 %) and from the soft mask (8 %); plausible cord (40..120 mm^2) */
START_TEST(masks_soft_truth_and_csa) {
    vt_phantom_cord_config c;
    vt_phantom_cord_config_default(&c);
    for (int subject = 0; subject < 3; subject++) {
        vt_phantom_cord p;
        ck_assert_int_eq(vt_phantom_cord_make(&c, 17, subject, &p), VT_OK);
        int64_t ns = (int64_t)c.nx * c.ny, nv = ns * c.nz, disagree = 0;
        double px = (double)c.dx * c.dy;
        for (int64_t q = 0; q < nv; q++) {
            double s = 0;
            for (int k = 0; k < VT_CORD_N_CONTRASTS; k++) {
                float m = p.mask[k]->data[q];
                ck_assert(m == 0 || m == 1);
                s += m;
            }
            ck_assert_float_eq_tol(p.soft->data[q], s / VT_CORD_N_CONTRASTS, 1e-7);
            ck_assert(p.soft->data[q] >= 0 && p.soft->data[q] <= 1);
            disagree += s > 0 && s < VT_CORD_N_CONTRASTS;
        }
        ck_assert_int_gt(disagree, c.nz * 10); /* the masks differ at the boundary */
        for (int z = 0; z < c.nz; z++) {
            double csa = p.csa->data[z], frac = 0, soft = 0, m[VT_CORD_N_CONTRASTS] = {0};
            ck_assert(csa > 40 && csa < 120);
            for (int64_t q = z * ns; q < (z + 1) * ns; q++) {
                frac += p.fraction->data[q];
                soft += p.soft->data[q];
                for (int k = 0; k < VT_CORD_N_CONTRASTS; k++) m[k] += p.mask[k]->data[q];
            }
            ck_assert_msg(fabs(frac * px - csa) < 0.01 * csa, "slice %d: fraction area %.2f vs CSA %.2f", z, frac * px, csa);
            ck_assert_msg(fabs(soft * px - csa) < 0.08 * csa, "slice %d: soft area %.2f vs CSA %.2f", z, soft * px, csa);
            for (int k = 0; k < VT_CORD_N_CONTRASTS; k++) {
                ck_assert_msg(m[k] > 0 && fabs(m[k] * px - csa) < 0.15 * csa, "slice %d contrast %d: %.2f vs %.2f",
                              z, k, m[k] * px, csa);
            }
        }
        for (int k = 1; k < VT_CORD_N_CONTRASTS; k++) {
            double inter = 0, sa = 0, sb = 0;
            for (int64_t q = 0; q < nv; q++) {
                inter += p.mask[0]->data[q] * p.mask[k]->data[q];
                sa += p.mask[0]->data[q]; sb += p.mask[k]->data[q];
            }
            ck_assert_msg(2 * inter / (sa + sb) > 0.8, "Dice T2 vs contrast %d %.3f", k, 2 * inter / (sa + sb));
        }
        vt_phantom_cord_free(&p);
    }
}
END_TEST

/* pure cord vs pure CSF voxels: T2 and T2* dark cord / bright CSF, T1 and MT inverted,
 * each by more than 5 noise sigmas */
START_TEST(cord_csf_contrast) {
    vt_phantom_cord p;
    vt_phantom_cord_config c;
    vt_phantom_cord_config_default(&c);
    ck_assert_int_eq(vt_phantom_cord_make(&c, 5, 0, &p), VT_OK);
    const int sign[VT_CORD_N_CONTRASTS] = {-1, -1, 1, 1};
    for (int k = 0; k < VT_CORD_N_CONTRASTS; k++) {
        double cord = 0, csf = 0;
        int64_t nc = 0, nf = 0;
        for (int64_t q = 0; q < p.fraction->numel; q++) {
            int64_t z = q / (c.nx * c.ny), j = q / c.nx % c.ny, i = q % c.nx;
            if (p.fraction->data[q] == 1) { cord += p.image[k]->data[q]; nc++; }
            /* CSF: outside the cord next to it, within the canal (a ring voxel whose neighbours are cord-free) */
            else if (p.fraction->data[q] == 0 && i > 0 && i + 1 < c.nx && j > 0 && j + 1 < c.ny) {
                int64_t nb[2] = {q - 2 * c.nx < z * c.nx * c.ny ? q : q - 2 * c.nx, q + 2 * c.nx};
                for (int t = 0; t < 2; t++)
                    if (nb[t] != q && nb[t] < p.fraction->numel && p.fraction->data[nb[t]] == 1) {
                        csf += p.image[k]->data[q]; nf++; break;
                    }
            }
        }
        ck_assert(nc > 100 && nf > 50);
        double diff = sign[k] * (cord / nc - csf / nf);
        ck_assert_msg(diff > 5 * c.noise, "%s: cord %.3f csf %.3f", vt_cord_contrast_names[k], cord / nc, csf / nf);
    }
    vt_phantom_cord_free(&p);
}
END_TEST

START_TEST(writes_nifti_with_its_geometry) {
    vt_phantom_cord p;
    ck_assert_int_eq(vt_phantom_cord_make(NULL, 1, 0, &p), VT_OK);
    char path[64];
    snprintf(path, sizeof path, "/tmp/vt_cord_%d.nii.gz", (int)getpid());
    ck_assert_int_eq(vt_nifti_save(path, p.image[VT_CORD_T1], &p.geometry, VT_NIFTI_FLOAT32), VT_OK);
    vt_nifti_header h;
    vt_tensor *t = vt_nifti_load(path, &h);
    unlink(path);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->shape[0], 48);
    ck_assert_int_eq(t->shape[2], 32);
    double sp[3];
    vt_nifti_spacing(h.affine, sp);
    ck_assert_double_eq_tol(sp[0], 0.8, 1e-6);
    ck_assert_double_eq_tol(sp[2], 2.5, 1e-6);
    ck_assert_double_eq_tol(h.affine[2][3], -0.5 * 47 * 2.5, 1e-4);
    vt_expect_close(t->data, p.image[VT_CORD_T1]->data, t->numel, 0, 0, "round trip");
    vt_tensor_free(t);
    vt_phantom_cord_free(&p);
}
END_TEST

START_TEST(bad_arguments) {
    vt_phantom_cord p;
    vt_phantom_cord_config c;
    vt_phantom_cord_config_default(&c);
    c.nx = 8;
    ck_assert_int_eq(vt_phantom_cord_make(&c, 0, 0, &p), VT_ERR);
    ck_assert_ptr_null(p.soft);
    ck_assert_msg(strstr(vt_last_error(), "phantom_cord: size 8x32x48") != NULL, "%s", vt_last_error());
    vt_phantom_cord_config_default(&c);
    c.dx = 0.5f;
    ck_assert_int_eq(vt_phantom_cord_make(&c, 0, 0, &p), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "field of view") != NULL, "%s", vt_last_error());
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("data/phantom_cord");
    TCase *tc = tcase_create("phantom_cord");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, same_seed_same_bytes);
    tcase_add_test(tc, masks_soft_truth_and_csa);
    tcase_add_test(tc, cord_csf_contrast);
    tcase_add_test(tc, writes_nifti_with_its_geometry);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
