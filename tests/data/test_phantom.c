/* test_phantom.c: the synthetic vertebra CT phantom: determinism, labels, lesion contrast. */
#include <omp.h>
#include "phantom_ct.h"
#include "vt_test.h"

START_TEST(sample_depends_only_on_seed_and_index) {
    vt_tensor *a, *la, *b, *lb;
    omp_set_num_threads(1);
    ck_assert_int_eq(vt_phantom_ct_make(40, 32, 7, &a, &la), VT_OK);
    omp_set_num_threads(2);
    ck_assert_int_eq(vt_phantom_ct_make(10, 32, 7, &b, &lb), VT_OK);
    vt_expect_close(b->data, a->data, b->numel, 0, 0, "first 10 of 40 vs 10 (threads 1 vs 2)");
    vt_expect_close(lb->data, la->data, 10, 0, 0, "labels");
    vt_tensor *c, *lc;
    ck_assert_int_eq(vt_phantom_ct_make(10, 32, 8, &c, &lc), VT_OK);
    int differ = 0;
    for (int64_t i = 0; i < c->numel; i++) differ += c->data[i] != b->data[i];
    ck_assert_int_gt(differ, c->numel / 2);
    vt_tensor_free(a); vt_tensor_free(la); vt_tensor_free(b); vt_tensor_free(lb);
    vt_tensor_free(c); vt_tensor_free(lc);
}
END_TEST

/* Blastic slices are denser inside the vertebral body than normal ones, lytic ones
 * lighter: the labels are visible in the pixels. Compared over class means. */
START_TEST(lesions_change_body_density_as_labelled) {
    vt_tensor *x, *y;
    const int S = 32;
    ck_assert_int_eq(vt_phantom_ct_make(800, S, 3, &x, &y), VT_OK);
    double sum[4] = {0}, mx[4] = {0}, mn[4] = {0};
    int count[4] = {0};
    for (int i = 0; i < 800; i++) {
        int l = (int)y->data[i];
        ck_assert(l >= 0 && l < 4);
        /* a central window inside the body (body centre ~ (0.5, 0.41) of the frame) */
        double s = 0, hi = -1e9, lo = 1e9;
        for (int r = 10; r < 17; r++)
            for (int c = 12; c < 20; c++) {
                double v = x->data[(int64_t)i * S * S + r * S + c];
                s += v; hi = v > hi ? v : hi; lo = v < lo ? v : lo;
            }
        sum[l] += s / 56; mx[l] += hi; mn[l] += lo; count[l]++;
    }
    for (int l = 0; l < 4; l++) {
        ck_assert_int_gt(count[l], 150); /* roughly balanced classes */
        sum[l] /= count[l]; mx[l] /= count[l]; mn[l] /= count[l];
    }
    ck_assert_msg(mx[VT_BONE_BLASTIC] > mx[VT_BONE_NORMAL] + 0.1, "blastic max %.3f normal %.3f", mx[1], mx[0]);
    ck_assert_msg(mn[VT_BONE_LYTIC] < mn[VT_BONE_NORMAL] - 0.1, "lytic min %.3f normal %.3f", mn[2], mn[0]);
    ck_assert_msg(mx[VT_BONE_MIXED] > mx[VT_BONE_NORMAL] + 0.05 && mn[VT_BONE_MIXED] < mn[VT_BONE_NORMAL] - 0.05,
                  "mixed max %.3f min %.3f, normal max %.3f min %.3f", mx[3], mn[3], mx[0], mn[0]);
    vt_tensor_free(x);
    vt_tensor_free(y);
}
END_TEST

START_TEST(bad_arguments) {
    vt_tensor *x, *y;
    ck_assert_int_eq(vt_phantom_ct_make(0, 32, 0, &x, &y), VT_ERR);
    ck_assert_int_eq(vt_phantom_ct_make(4, 8, 0, &x, &y), VT_ERR);
    ck_assert_ptr_null(x);
    ck_assert_msg(strstr(vt_last_error(), "size") != NULL, "%s", vt_last_error());
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("data/phantom");
    TCase *tc = tcase_create("phantom");
    tcase_add_test(tc, sample_depends_only_on_seed_and_index);
    tcase_add_test(tc, lesions_change_body_density_as_labelled);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
