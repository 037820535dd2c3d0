/* test_phantom_spect.c: the bone-scan phantom: determinism, labels vs hot spots, hot
 * spots brighter than the bone under them (twin images), the thoracic crop, errors. */
#include <omp.h>
#include "phantom_spect.h"
#include "vt_test.h"

static vt_phantom_spect_config config(float positive) {
    vt_phantom_spect_config c;
    vt_phantom_spect_config_default(&c);
    c.height = 128;
    c.views = 2;
    c.positive_fraction = positive;
    return c;
}

START_TEST(same_seed_same_bytes_any_thread_count) {
    vt_phantom_spect_config c = config(0.5f);
    vt_phantom_spect a, b, d;
    omp_set_num_threads(1);
    ck_assert_int_eq(vt_phantom_spect_make(&c, 16, 9, &a), VT_OK);
    omp_set_num_threads(2);
    ck_assert_int_eq(vt_phantom_spect_make(&c, 8, 9, &b), VT_OK);
    ck_assert(memcmp(a.images->data, b.images->data, sizeof(float) * b.images->numel) == 0);
    ck_assert(memcmp(a.spot_mask->data, b.spot_mask->data, sizeof(float) * b.spot_mask->numel) == 0);
    ck_assert(memcmp(a.labels->data, b.labels->data, sizeof(float) * 8) == 0);
    ck_assert_int_eq(vt_phantom_spect_make(&c, 8, 10, &d), VT_OK);
    int64_t differ = 0;
    for (int64_t i = 0; i < d.images->numel; i++) differ += d.images->data[i] != b.images->data[i];
    ck_assert_int_gt(differ, d.images->numel / 10); /* background pixels are mostly 0 counts */
    vt_phantom_spect_free(&a); vt_phantom_spect_free(&b); vt_phantom_spect_free(&d);
}
END_TEST

/* label iff hot spots; counts are non-negative integers; every spot lies in the thorax
 * crop; in negatives the hottest pixel (bladder, kidneys) is outside the thorax */
START_TEST(labels_spots_and_thorax) {
    vt_phantom_spect_config c = config(0.5f);
    vt_phantom_spect p;
    const int64_t n = 60;
    ck_assert_int_eq(vt_phantom_spect_make(&c, n, 4, &p), VT_OK);
    int H = p.height, W = p.width, pos = 0, neg_hot_outside = 0, neg = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t spot = 0, hot = 0;
        const float *img = p.images->data + i * 2 * H * W;
        for (int64_t q = 0; q < 2 * H * W; q++) ck_assert(img[q] >= 0 && img[q] == floorf(img[q]));
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                if (img[y * W + x] > img[hot]) hot = y * W + x;
                if (p.spot_mask->data[i * H * W + y * W + x] == 0) continue;
                ck_assert_float_eq(p.spot_mask->data[i * H * W + y * W + x], 1);
                spot++;
                ck_assert(y >= p.thorax_y0[i] && y < p.thorax_y0[i] + p.thorax_h);
                ck_assert(x >= p.thorax_x0[i] && x < p.thorax_x0[i] + p.thorax_w);
            }
        ck_assert_int_eq((int)p.labels->data[i], spot > 0);
        pos += spot > 0;
        if (!spot) {
            neg++;
            int y = (int)(hot / W), x = (int)(hot % W);
            neg_hot_outside += y < p.thorax_y0[i] || y >= p.thorax_y0[i] + p.thorax_h || x < p.thorax_x0[i] ||
                               x >= p.thorax_x0[i] + p.thorax_w;
        }
    }
    ck_assert_msg(pos > 18 && pos < 42, "%d positives of 60", pos);
    ck_assert_msg(neg_hot_outside >= neg * 9 / 10, "hottest pixel outside the thorax in %d of %d negatives",
                  neg_hot_outside, neg);
    vt_tensor *crop = vt_phantom_spect_crop_thorax(&p);
    ck_assert_ptr_nonnull(crop);
    ck_assert_int_eq(crop->shape[1], 2);
    ck_assert_int_eq(crop->shape[2], p.thorax_h);
    int64_t i = 5, y = 3, x = 7;
    ck_assert_float_eq(crop->data[((i * 2) * p.thorax_h + y) * p.thorax_w + x],
                       p.images->data[((i * 2) * H + p.thorax_y0[i] + y) * W + p.thorax_x0[i] + x]);
    vt_tensor_free(crop);
    vt_phantom_spect_free(&p);
}
END_TEST

/* Positive and negative twins (same seed, positive_fraction 1 vs 0) share anatomy and
 * Poisson draws: inside the spots the counts are more than twice those of the bone
 * under them. */
START_TEST(hot_spots_exceed_bone) {
    vt_phantom_spect_config cp = config(1.f), cn = config(0.f);
    vt_phantom_spect a, z;
    ck_assert_int_eq(vt_phantom_spect_make(&cp, 30, 8, &a), VT_OK);
    ck_assert_int_eq(vt_phantom_spect_make(&cn, 30, 8, &z), VT_OK);
    int H = a.height, W = a.width;
    double hot = 0, bone = 0;
    for (int64_t i = 0; i < 30; i++) {
        ck_assert_float_eq(a.labels->data[i], 1);
        ck_assert_float_eq(z.labels->data[i], 0);
        for (int64_t q = 0; q < H * W; q++)
            if (a.spot_mask->data[i * H * W + q]) {
                hot += a.images->data[i * 2 * H * W + q];
                bone += z.images->data[i * 2 * H * W + q];
            }
    }
    ck_assert_msg(hot > 2.0 * bone, "spot counts %.0f vs the same pixels without metastasis %.0f", hot, bone);
    vt_phantom_spect_free(&a); vt_phantom_spect_free(&z);
}
END_TEST

START_TEST(bad_arguments) {
    vt_phantom_spect p;
    vt_phantom_spect_config c = config(0.5f);
    c.views = 3;
    ck_assert_int_eq(vt_phantom_spect_make(&c, 2, 0, &p), VT_ERR);
    ck_assert_ptr_null(p.images);
    ck_assert_msg(strstr(vt_last_error(), "phantom_spect: views 3") != NULL, "%s", vt_last_error());
    c = config(0.5f);
    c.height = 64;
    ck_assert_int_eq(vt_phantom_spect_make(&c, 2, 0, &p), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "height 64") != NULL, "%s", vt_last_error());
    ck_assert_ptr_null(vt_phantom_spect_crop_thorax(NULL));
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("data/phantom_spect");
    TCase *tc = tcase_create("phantom_spect");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, same_seed_same_bytes_any_thread_count);
    tcase_add_test(tc, labels_spots_and_thorax);
    tcase_add_test(tc, hot_spots_exceed_bone);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
