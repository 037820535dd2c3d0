/* test_phantom_xray.c: the radiograph phantom: determinism, boxes vs lesion pixels and
 * labels, lesion visibility against the lesion-free twin image, bad arguments. */
#include <omp.h>
#include "phantom_xray.h"
#include "vt_test.h"

static vt_phantom_xray_config config(float abnormal) {
    vt_phantom_xray_config c;
    vt_phantom_xray_config_default(&c);
    c.size = 64;
    c.abnormal_fraction = abnormal;
    return c;
}

START_TEST(same_seed_same_bytes_any_thread_count) {
    vt_phantom_xray_config c = config(0.7f);
    vt_phantom_xray a, b, d;
    omp_set_num_threads(1);
    ck_assert_int_eq(vt_phantom_xray_make(&c, 24, 5, &a), VT_OK);
    omp_set_num_threads(2);
    ck_assert_int_eq(vt_phantom_xray_make(&c, 12, 5, &b), VT_OK); /* first 12 of the 24 */
    ck_assert(memcmp(a.images->data, b.images->data, sizeof(float) * b.images->numel) == 0);
    ck_assert(memcmp(a.labels->data, b.labels->data, sizeof(float) * 12) == 0);
    int64_t nb = 0;
    while (nb < a.n_boxes && a.boxes[nb].image < 12) nb++;
    ck_assert_int_eq(nb, b.n_boxes);
    ck_assert(memcmp(a.boxes, b.boxes, sizeof(vt_phantom_box) * (size_t)nb) == 0);
    ck_assert_int_eq(vt_phantom_xray_make(&c, 12, 6, &d), VT_OK);
    int64_t differ = 0;
    for (int64_t i = 0; i < d.images->numel; i++) differ += d.images->data[i] != b.images->data[i];
    ck_assert_int_gt(differ, d.images->numel / 2);
    vt_phantom_xray_free(&a); vt_phantom_xray_free(&b); vt_phantom_xray_free(&d);
}
END_TEST

/* boxes inside the image, around every pixel of their lesion; label iff boxes; the
 * abnormal fraction and every class show up */
START_TEST(boxes_cover_lesions_and_labels_match) {
    vt_phantom_xray_config c = config(0.6f);
    c.max_lesions = 3;
    vt_phantom_xray p;
    const int64_t n = 150;
    ck_assert_int_eq(vt_phantom_xray_make(&c, n, 11, &p), VT_OK);
    int S = p.size, per_class[VT_XRAY_N_CLASSES] = {0};
    int64_t b = 0, abnormal = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t first = b;
        while (b < p.n_boxes && p.boxes[b].image == i) b++;
        int nb = (int)(b - first);
        ck_assert_int_eq((int)p.labels->data[i], nb > 0);
        abnormal += nb > 0;
        ck_assert_int_le(nb, c.max_lesions);
        for (int k = 0; k < nb; k++) {
            const vt_phantom_box *bx = &p.boxes[first + k];
            ck_assert(bx->x1 >= 0 && bx->y1 >= 0 && bx->x2 <= S && bx->y2 <= S);
            ck_assert(bx->x1 < bx->x2 && bx->y1 < bx->y2);
            ck_assert(bx->cls >= 0 && bx->cls < VT_XRAY_N_CLASSES);
            per_class[bx->cls]++;
        }
        const float *map = p.lesion_map->data + i * S * S;
        int64_t lesion_px = 0;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                int m = (int)map[y * S + x];
                ck_assert_int_le(m, nb);
                if (!m) continue;
                lesion_px++;
                const vt_phantom_box *bx = &p.boxes[first + m - 1];
                ck_assert_msg(x >= bx->x1 && x + 1 <= bx->x2 && y >= bx->y1 && y + 1 <= bx->y2,
                              "image %lld pixel (%d,%d) of lesion %d outside its box", (long long)i, x, y, m);
            }
        ck_assert((lesion_px > 0) == (nb > 0));
    }
    ck_assert_int_eq(b, p.n_boxes);
    ck_assert_msg(abnormal > 70 && abnormal < 110, "abnormal %lld of 150 at fraction 0.6", (long long)abnormal);
    for (int k = 0; k < VT_XRAY_N_CLASSES; k++) ck_assert_msg(per_class[k] > 0, "class %d never drawn", k);
    vt_phantom_xray_free(&p);
}
END_TEST

/* The lesion-free twin (abnormal_fraction 0, same seed) has the same anatomy and noise:
 * inside each lesion, the images differ on average by more than 3 noise sigmas. */
START_TEST(lesions_stand_out_from_noise) {
    vt_phantom_xray_config ca = config(1.f), cn = config(0.f);
    vt_phantom_xray a, z;
    ck_assert_int_eq(vt_phantom_xray_make(&ca, 60, 3, &a), VT_OK);
    ck_assert_int_eq(vt_phantom_xray_make(&cn, 60, 3, &z), VT_OK);
    ck_assert_int_eq(z.n_boxes, 0);
    int S = a.size;
    double sum[VT_XRAY_N_CLASSES] = {0};
    int64_t cnt[VT_XRAY_N_CLASSES] = {0}, outside_diff = 0;
    int64_t b = 0;
    for (int64_t i = 0; i < a.n; i++) {
        int64_t first = b;
        while (b < a.n_boxes && a.boxes[b].image == i) b++;
        ck_assert_int_gt(b - first, 0);
        for (int64_t p = 0; p < S * S; p++) {
            float d = fabsf(a.images->data[i * S * S + p] - z.images->data[i * S * S + p]);
            int m = (int)a.lesion_map->data[i * S * S + p];
            if (!m) { outside_diff += d > 1e-6f; continue; }
            int cls = a.boxes[first + m - 1].cls;
            sum[cls] += d; cnt[cls]++;
        }
    }
    for (int k = 0; k < VT_XRAY_N_CLASSES; k++) {
        ck_assert_int_gt(cnt[k], 0);
        double mean = sum[k] / cnt[k];
        ck_assert_msg(mean > 3 * ca.noise, "class %d: mean |lesion - twin| %.4f <= 3 sigma %.4f", k, mean, 3 * ca.noise);
    }
    /* lesions interact only where their own pixels meet: almost nothing changes elsewhere */
    ck_assert_msg(outside_diff < a.n * S * S / 500, "%lld pixels changed outside every lesion", (long long)outside_diff);
    vt_phantom_xray_free(&a); vt_phantom_xray_free(&z);
}
END_TEST

START_TEST(bad_arguments) {
    vt_phantom_xray p;
    vt_phantom_xray_config c = config(0.5f);
    c.size = 32;
    ck_assert_int_eq(vt_phantom_xray_make(&c, 4, 0, &p), VT_ERR);
    ck_assert_ptr_null(p.images);
    ck_assert_msg(strstr(vt_last_error(), "phantom_xray: size 32") != NULL, "%s", vt_last_error());
    c = config(1.5f);
    ck_assert_int_eq(vt_phantom_xray_make(&c, 4, 0, &p), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "abnormal_fraction") != NULL, "%s", vt_last_error());
    c = config(0.5f);
    c.max_lesions = 9;
    ck_assert_int_eq(vt_phantom_xray_make(&c, 4, 0, &p), VT_ERR);
    ck_assert_int_eq(vt_phantom_xray_make(NULL, 0, 0, &p), VT_ERR);
    ck_assert_str_eq(vt_xray_class_names[VT_XRAY_SPONDYLOLISTHESIS], "Spondylolysthesis");
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("data/phantom_xray");
    TCase *tc = tcase_create("phantom_xray");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, same_seed_same_bytes_any_thread_count);
    tcase_add_test(tc, boxes_cover_lesions_and_labels_match);
    tcase_add_test(tc, lesions_stand_out_from_noise);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
