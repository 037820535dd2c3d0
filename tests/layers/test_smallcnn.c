/* test_smallcnn.c: the Fashion-MNIST network end to end against PyTorch: same initial
 * weights, two SGD-momentum steps on one batch (tests/ref/ref_smallcnn.py): logits, loss,
 * every parameter and running statistic after step 2, and eval-mode logits. */
#include "layers.h"
#include "losses.h"
#include "optim.h"
#include "vt_test.h"

static void load_all(vt_params *p, const char *prefix) {
    char key[256];
    for (int i = 0; i < vt_params_count(p); i++) {
        snprintf(key, sizeof key, "%s.%s", prefix, vt_params_name(p, i));
        vt_tensor *src = vt_fixture(key);
        ck_assert_int_eq(vt_tensor_copy_data(vt_params_tensor(p, i), src), VT_OK);
        vt_tensor_free(src);
    }
}

START_TEST(two_sgd_steps_match_pytorch) {
    vt_params *p = vt_params_new();
    vt_smallcnn m;
    ck_assert_int_eq(vt_smallcnn_init(&m, p, 1, 28, 10, 1), VT_OK);
    ck_assert_int_eq(vt_params_finalize(p), VT_OK);
    ck_assert_int_eq(vt_params_count(p), 16); /* 4 conv, 4 bn affine, 4 bn buffers, 4 fc */
    load_all(p, "smallcnn.init");
    vt_tensor *x = vt_fixture("smallcnn.x"), *y = vt_fixture("smallcnn.labels");
    vt_optim *opt = vt_sgd_new(p, 0.05f, 0.9f, 0.f, 0.f, 0);
    ck_assert_ptr_nonnull(opt);
    for (int step = 0; step < 2; step++) {
        vt_tensor *logits = vt_smallcnn_forward(&m, x, 1);
        vt_tensor *loss = vt_cross_entropy(logits, y, NULL);
        ck_assert_msg(loss != NULL, "%s", vt_last_error());
        if (step == 0) {
            vt_tensor *want = vt_fixture("smallcnn.logits"), *wl = vt_fixture("smallcnn.loss");
            vt_expect_tensor_close(logits, want, 1e-5, 1e-4, "logits");
            vt_expect_tensor_close(loss, wl, 1e-6, 1e-5, "loss");
            vt_tensor_free(want);
            vt_tensor_free(wl);
        }
        vt_params_zero_grad(p);
        ck_assert_int_eq(vt_backward(loss), VT_OK);
        vt_optim_step(opt);
        vt_arena_reset(NULL);
    }
    char key[256];
    for (int i = 0; i < vt_params_count(p); i++) {
        snprintf(key, sizeof key, "smallcnn.step2.%s", vt_params_name(p, i));
        vt_tensor *want = vt_fixture(key);
        vt_expect_tensor_close(vt_params_tensor(p, i), want, 2e-5, 2e-4, key);
        vt_tensor_free(want);
    }
    int prev = vt_set_grad_enabled(0);
    vt_tensor *want = vt_fixture("smallcnn.eval_logits");
    vt_expect_tensor_close(vt_smallcnn_forward(&m, x, 0), want, 1e-4, 1e-4, "eval logits");
    vt_set_grad_enabled(prev);
    vt_tensor_free(want);
    vt_optim_free(opt);
    vt_tensor_free(x);
    vt_tensor_free(y);
    vt_params_free(p);
    vt_arena_reset(NULL);
}
END_TEST

/* Same seed, same weights, bit for bit; another seed, other weights. */
START_TEST(init_is_seed_deterministic) {
    float first[3];
    for (int run = 0; run < 3; run++) {
        vt_seed(run < 2 ? 42 : 43);
        vt_params *p = vt_params_new();
        vt_smallcnn m;
        ck_assert_int_eq(vt_smallcnn_init(&m, p, 1, 28, 10, 1), VT_OK);
        ck_assert_int_eq(vt_params_finalize(p), VT_OK);
        float v = vt_params_values(p)[vt_params_numel(p) / 2];
        first[run] = v;
        vt_params_free(p);
    }
    ck_assert(first[0] == first[1]);
    ck_assert(first[0] != first[2]);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("layers/smallcnn");
    TCase *tc = tcase_create("smallcnn");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, two_sgd_steps_match_pytorch);
    tcase_add_test(tc, init_is_seed_deterministic);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
