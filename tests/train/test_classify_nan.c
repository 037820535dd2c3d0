/* test_classify_nan.c: the classification loop's NaN/Inf policy: stop (default) names the
 * epoch and step; skip drops the bad step without touching the weights, and still stops
 * after VT_NAN_SKIP_MAX bad steps in a row. */
#include <math.h>
#include "classify.h"
#include "vt_test.h"

typedef struct {
    vt_tensor *w;      /* (2, 4) */
    int calls, bad_from, bad_to; /* training forwards bad_from..bad_to (1-based) give NaN */
} toy;

static vt_tensor *toy_forward(void *model, vt_tensor *x, int training) {
    toy *t = model;
    vt_tensor *y = vt_linear(vt_flatten(x), t->w, NULL);
    if (training && ++t->calls >= t->bad_from && t->calls <= t->bad_to) y = vt_mul_scalar(y, NAN);
    return y;
}

static void setup(vt_params **p, toy *t, vt_tensor **x, vt_tensor **y) {
    *p = vt_params_new();
    t->w = vt_params_add(*p, "w", VT_DIMS(2, 4));
    vt_tensor_fill(t->w, 0.1f);
    ck_assert_int_eq(vt_params_finalize(*p), VT_OK);
    *x = vt_test_rand(VT_DIMS(32, 4), -1, 1, 1);
    vt_tensor_set_requires_grad(*x, 0);
    *y = vt_tensor_new(VT_DIMS(32));
    for (int i = 0; i < 32; i++) (*y)->data[i] = (float)(i % 2);
}

START_TEST(nan_stops_by_default) {
    vt_params *p; toy t = {.bad_from = 3, .bad_to = 3}; vt_tensor *x, *y;
    setup(&p, &t, &x, &y);
    vt_classify_config c;
    vt_classify_config_default(&c);
    c.batch_size = 8; c.epochs = 1; c.log_every = 0;
    vt_classify_report r;
    ck_assert_int_eq(vt_train_classifier(&c, &t, toy_forward, p, x, y, NULL, NULL, &r), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "nan at epoch 1 step 3; stopping") != NULL, "%s", vt_last_error());
    vt_params_free(p); vt_tensor_free(x); vt_tensor_free(y);
}
END_TEST

START_TEST(nan_skip_drops_the_step) {
    vt_params *p; toy t = {.bad_from = 2, .bad_to = 2}; vt_tensor *x, *y;
    setup(&p, &t, &x, &y);
    vt_classify_config c;
    vt_classify_config_default(&c);
    c.batch_size = 8; c.epochs = 1; c.log_every = 0; c.nan_policy = VT_NAN_SKIP;
    c.lr = 0.1f; c.momentum = 0;
    vt_classify_report r;
    ck_assert_int_eq(vt_train_classifier(&c, &t, toy_forward, p, x, y, NULL, NULL, &r), VT_OK);
    ck_assert_int_eq(r.skipped_steps, 1);
    for (int i = 0; i < 8; i++) ck_assert(isfinite(t.w->data[i]));
    vt_params_free(p); vt_tensor_free(x); vt_tensor_free(y);
    /* too many in a row: stops anyway */
    toy t2 = {.bad_from = 1, .bad_to = 1000};
    setup(&p, &t2, &x, &y);
    c.epochs = 4;
    ck_assert_int_eq(vt_train_classifier(&c, &t2, toy_forward, p, x, y, NULL, NULL, &r), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "after too many skipped steps in a row") != NULL, "%s", vt_last_error());
    for (int i = 0; i < 8; i++) ck_assert_float_eq(t2.w->data[i], 0.1f); /* never updated */
    vt_params_free(p); vt_tensor_free(x); vt_tensor_free(y);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("classify_nan");
    TCase *tc = tcase_create("nan");
    tcase_add_test(tc, nan_stops_by_default);
    tcase_add_test(tc, nan_skip_drops_the_step);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
