/* test_phantom_bone.c: the multi-domain bone phantom: determinism, 3-class masks with
 * every class present, bone vs background contrast per domain, distinct domains. */
#include <omp.h>
#include "phantom_bone.h"
#include "vt_test.h"

START_TEST(same_seed_same_bytes_any_thread_count) {
    for (int d = 0; d < VT_BONE_N_DOMAINS; d++) {
        vt_tensor *a, *ma, *b, *mb, *c, *mc;
        omp_set_num_threads(1);
        ck_assert_int_eq(vt_phantom_bone_make(d, 12, 32, 4, &a, &ma), VT_OK);
        omp_set_num_threads(2);
        ck_assert_int_eq(vt_phantom_bone_make(d, 6, 32, 4, &b, &mb), VT_OK);
        ck_assert(memcmp(a->data, b->data, sizeof(float) * b->numel) == 0);
        ck_assert(memcmp(ma->data, mb->data, sizeof(float) * mb->numel) == 0);
        ck_assert_int_eq(vt_phantom_bone_make(d, 6, 32, 5, &c, &mc), VT_OK);
        int64_t differ = 0;
        for (int64_t i = 0; i < c->numel; i++) differ += c->data[i] != b->data[i];
        ck_assert_int_gt(differ, c->numel / 2);
        vt_tensor_free(a); vt_tensor_free(ma); vt_tensor_free(b); vt_tensor_free(mb);
        vt_tensor_free(c); vt_tensor_free(mc);
    }
}
END_TEST

/* masks hold 0/1/2 with every class in every image; mean bone (body) intensity differs
 * from the background by > 3 noise-like sigmas (the background's std); the domains'
 * body-minus-background contrasts differ (they are distinct domains) */
START_TEST(masks_and_contrast) {
    const int S = 48, N = 20;
    double contrast[VT_BONE_N_DOMAINS];
    for (int d = 0; d < VT_BONE_N_DOMAINS; d++) {
        vt_tensor *x, *m;
        ck_assert_int_eq(vt_phantom_bone_make(d, N, S, 2, &x, &m), VT_OK);
        double sum[3] = {0}, sq[3] = {0};
        int64_t cnt[3] = {0};
        for (int i = 0; i < N; i++) {
            int64_t per[3] = {0};
            for (int p = 0; p < S * S; p++) {
                float v = m->data[i * S * S + p];
                ck_assert(v == 0 || v == 1 || v == 2);
                int k = (int)v;
                per[k]++;
                double xv = x->data[i * S * S + p];
                sum[k] += xv; sq[k] += xv * xv; cnt[k]++;
            }
            for (int k = 0; k < 3; k++) ck_assert_msg(per[k] > 10, "domain %d image %d class %d: %lld px", d, i, k, (long long)per[k]);
        }
        double mb = sum[1] / cnt[1], m0 = sum[0] / cnt[0], sd0 = sqrt(sq[0] / cnt[0] - m0 * m0);
        contrast[d] = mb - m0;
        ck_assert_msg(fabs(contrast[d]) > 3 * sd0, "domain %s: body %.3f background %.3f sd %.3f",
                      vt_bone_domain_names[d], mb, m0, sd0);
        vt_tensor_free(x); vt_tensor_free(m);
    }
    for (int a = 0; a < 3; a++)
        for (int b = a + 1; b < 3; b++)
            ck_assert_msg(fabs(contrast[a] - contrast[b]) > 0.05, "domains %d and %d look alike", a, b);
}
END_TEST

START_TEST(bad_arguments) {
    vt_tensor *x, *m;
    ck_assert_int_eq(vt_phantom_bone_make(3, 2, 32, 0, &x, &m), VT_ERR);
    ck_assert_ptr_null(x);
    ck_assert_msg(strstr(vt_last_error(), "phantom_bone: domain 3") != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_phantom_bone_make(0, 2, 16, 0, &x, &m), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "size 16") != NULL, "%s", vt_last_error());
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("data/phantom_bone");
    TCase *tc = tcase_create("phantom_bone");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, same_seed_same_bytes_any_thread_count);
    tcase_add_test(tc, masks_and_contrast);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
