/* test_augment.c: each transform on hand-checkable inputs; boxes follow the image; masks
 * keep their label set; the pipeline is deterministic per stream. */
#include <math.h>
#include <stdlib.h>

#include "augment.h"
#include "vt_test.h"

static vt_tensor *ramp(int64_t c, int64_t h, int64_t w) {
    vt_tensor *t = vt_tensor_new(VT_DIMS(c, h, w));
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = (float)i;
    return t;
}

START_TEST(identity_parameters_give_identity) {
    vt_tensor *x = ramp(2, 5, 7);
    vt_spatial2d t;
    vt_spatial2d_identity(&t, 5, 7);
    vt_tensor *y = vt_spatial2d_apply(&t, x, 0, -1), *n = vt_spatial2d_apply(&t, x, 1, -1);
    ck_assert_int_eq(memcmp(y->data, x->data, x->numel * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(n->data, x->data, x->numel * sizeof(float)), 0);
    float box[4] = {1, 2, 4, 3};
    vt_spatial2d_boxes(&t, box, 1);
    vt_expect_close(box, (float[]){1, 2, 4, 3}, 4, 1e-6, 0, "identity box");
    /* the pipeline with every probability 0 */
    vt_augment_config c;
    vt_augment_config_default(&c);
    vt_rng r;
    vt_rng_init(&r, 1);
    vt_tensor *o, *m, *mask = vt_tensor_new(VT_DIMS(5, 7));
    float ob[4];
    ck_assert_int_eq(vt_augment2d(&c, &r, x, mask, box, 1, &o, &m, ob), VT_OK);
    ck_assert_int_eq(memcmp(o->data, x->data, x->numel * sizeof(float)), 0);
    ck_assert_int_eq(m->ndim, 2);
    vt_expect_close(ob, box, 4, 0, 0, "pipeline identity box");
    vt_tensor_free(x), vt_tensor_free(y), vt_tensor_free(n), vt_tensor_free(o), vt_tensor_free(m), vt_tensor_free(mask);
}
END_TEST

START_TEST(flip_of_a_known_image_and_its_box) {
    vt_tensor *x = ramp(1, 2, 3); /* [[0 1 2] [3 4 5]] */
    vt_spatial2d t;
    vt_spatial2d_identity(&t, 2, 3);
    t.flip_x = 1;
    vt_tensor *y = vt_spatial2d_apply(&t, x, 0, 0);
    vt_expect_close(y->data, (float[]){2, 1, 0, 5, 4, 3}, 6, 0, 0, "flip x");
    float box[4] = {0, 0, 1, 2}; /* the first column */
    vt_spatial2d_boxes(&t, box, 1);
    vt_expect_close(box, (float[]){2, 0, 3, 2}, 4, 1e-6, 0, "flipped box");
    t.flip_x = 0, t.flip_y = 1;
    vt_tensor *z = vt_spatial2d_apply(&t, x, 1, 0);
    vt_expect_close(z->data, (float[]){3, 4, 5, 0, 1, 2}, 6, 0, 0, "flip y");
    vt_tensor_free(x), vt_tensor_free(y), vt_tensor_free(z);
}
END_TEST

/* rotation by 90 degrees: out[i][j] = in[N-1-j][i] = transpose, then flip along x */
START_TEST(rotation_90_is_transpose_and_flip) {
    const int64_t N = 5;
    vt_tensor *x = ramp(1, N, N);
    vt_spatial2d t;
    vt_spatial2d_identity(&t, N, N);
    t.angle = M_PI / 2;
    for (int nearest = 0; nearest < 2; nearest++) {
        vt_tensor *y = vt_spatial2d_apply(&t, x, nearest, -1);
        for (int64_t i = 0; i < N; i++)
            for (int64_t j = 0; j < N; j++) ck_assert_float_eq(y->data[i * N + j], x->data[(N - 1 - j) * N + i]);
        vt_tensor_free(y);
    }
    /* a box on the input's pixel (x=1, y=0) lands on output pixel (x=4, y=1) */
    float box[4] = {1, 0, 2, 1};
    vt_spatial2d_boxes(&t, box, 1);
    vt_expect_close(box, (float[]){4, 1, 5, 2}, 4, 1e-5, 0, "rotated box");
    ck_assert_float_eq(x->data[0 * N + 1], 1); /* and the pixel value moved there */
    vt_tensor *y = vt_spatial2d_apply(&t, x, 0, -1);
    ck_assert_float_eq(y->data[1 * N + 4], 1);
    vt_tensor_free(x), vt_tensor_free(y);
}
END_TEST

/* image with one bright rectangle = its mask = its box; after any spatial transform every
 * bright image pixel and every mask pixel has its centre inside the transformed box, and
 * the mask keeps only labels {0, 1} */
static void check_box_follows(const vt_spatial2d *t, const vt_tensor *img, const vt_tensor *mask, const float *box0,
                              const char *what) {
    vt_tensor *yi = vt_spatial2d_apply(t, img, 0, 0), *ym = vt_spatial2d_apply(t, mask, 1, 0);
    float b[4];
    memcpy(b, box0, sizeof b);
    vt_spatial2d_boxes(t, b, 1);
    int64_t w = t->out_w, inside = 0;
    for (int64_t i = 0; i < t->out_h; i++)
        for (int64_t j = 0; j < w; j++) {
            float m = ym->data[i * w + j], v = yi->data[i * w + j];
            ck_assert_msg(m == 0 || m == 1, "%s: mask label %g", what, m);
            if (m == 1 || v > 0.5f) {
                inside++;
                ck_assert_msg(j + 0.5 >= b[0] && j + 0.5 <= b[2] && i + 0.5 >= b[1] && i + 0.5 <= b[3],
                              "%s: pixel (%lld, %lld) outside box (%g %g %g %g)", what, (long long)j,
                              (long long)i, b[0], b[1], b[2], b[3]);
            }
        }
    ck_assert_msg(inside > 0, "%s: rectangle vanished", what);
    /* and the box is tight: not more than 2 pixels beyond the mask in any direction */
    int64_t mx0 = w, mx1 = -1, my0 = t->out_h, my1 = -1;
    for (int64_t i = 0; i < t->out_h; i++)
        for (int64_t j = 0; j < w; j++)
            if (ym->data[i * w + j] == 1) {
                mx0 = j < mx0 ? j : mx0, mx1 = j > mx1 ? j : mx1;
                my0 = i < my0 ? i : my0, my1 = i > my1 ? i : my1;
            }
    ck_assert_msg(b[0] >= mx0 - 2 && b[2] <= mx1 + 3 && b[1] >= my0 - 2 && b[3] <= my1 + 3,
                  "%s: box (%g %g %g %g) loose around mask [%lld %lld] x [%lld %lld]", what, b[0], b[1], b[2],
                  b[3], (long long)mx0, (long long)mx1, (long long)my0, (long long)my1);
    vt_tensor_free(yi), vt_tensor_free(ym);
}

START_TEST(boxes_follow_the_image) {
    const int64_t H = 24, W = 32;
    vt_tensor *img = vt_tensor_new(VT_DIMS(1, H, W)), *mask = vt_tensor_new(VT_DIMS(H, W));
    float box[4] = {9, 5, 19, 11}; /* x in [9, 19), y in [5, 11) */
    for (int64_t i = 5; i < 11; i++)
        for (int64_t j = 9; j < 19; j++) img->data[i * W + j] = mask->data[i * W + j] = 1;
    vt_spatial2d t;
    vt_spatial2d_identity(&t, H, W);
    t.angle = 0.5;
    check_box_follows(&t, img, mask, box, "rotate 0.5");
    t.flip_y = 1, t.scale = 1.3, t.angle = -0.8;
    check_box_follows(&t, img, mask, box, "flip+scale+rotate");
    t.out_h = 16, t.out_w = 20, t.off_y = 3, t.off_x = 5;
    check_box_follows(&t, img, mask, box, "crop");
    t.out_h = 30, t.out_w = 40, t.off_y = -3, t.off_x = -4;
    check_box_follows(&t, img, mask, box, "pad");
    vt_rng r;
    vt_rng_init(&r, 9);
    vt_tensor *field = vt_elastic_field(H, W, 40, 3, &r);
    vt_spatial2d_identity(&t, H, W);
    t.disp = field->data;
    check_box_follows(&t, img, mask, box, "elastic");
    t.angle = 0.3;
    check_box_follows(&t, img, mask, box, "elastic+rotate");
    /* a box moved out of the window is dropped */
    vt_spatial2d_identity(&t, H, W);
    t.out_h = 4, t.out_w = 4;
    float gone[4] = {20, 20, 22, 22};
    vt_spatial2d_boxes(&t, gone, 1);
    ck_assert_float_eq(gone[0], -1);
    vt_tensor_free(img), vt_tensor_free(mask), vt_tensor_free(field);
}
END_TEST

/* elastic field: zero mean-ish, smooth (neighbour differences much smaller than values) */
START_TEST(elastic_field_is_smooth_and_scaled) {
    vt_rng r;
    vt_rng_init(&r, 3);
    vt_tensor *f = vt_elastic_field(32, 32, 100, 4, &r);
    double mag = 0, diff = 0;
    for (int64_t i = 0; i < 32; i++)
        for (int64_t j = 0; j + 1 < 32; j++) {
            mag += fabs(f->data[i * 32 + j]);
            diff += fabs(f->data[i * 32 + j + 1] - f->data[i * 32 + j]);
        }
    ck_assert(mag > 0);
    ck_assert_msg(diff < 0.5 * mag, "field not smooth: diff %g mag %g", diff, mag);
    vt_tensor_free(f);
}
END_TEST

START_TEST(intensity_transforms_by_hand) {
    vt_tensor *x = vt_tensor_from_data(VT_DIMS(1, 1, 3), (float[]){0, 1, 4});
    vt_aug_gamma(x, 2); /* ((v - 0) / 4)^2 * 4 */
    vt_expect_close(x->data, (float[]){0, 0.25f, 4}, 3, 1e-6, 0, "gamma");
    vt_aug_contrast(x, 2); /* mean 4.25/3 */
    float m = 4.25f / 3;
    vt_expect_close(x->data, (float[]){-m, 0.5f - m, 8 - m}, 3, 1e-5, 0, "contrast");
    vt_aug_brightness(x, 0.5f);
    vt_expect_close(x->data, (float[]){-m / 2, 0.25f - m / 2, 4 - m / 2}, 3, 1e-5, 0, "brightness");
    vt_tensor_free(x);
    /* blur of a centred delta is the normalised Gaussian: symmetric, sums to 1, peak exp(0)/Z^2 */
    vt_tensor *d = vt_tensor_new(VT_DIMS(1, 11, 11));
    d->data[5 * 11 + 5] = 1;
    ck_assert_int_eq(vt_aug_blur(d, 1.0f), VT_OK);
    double s = 0, z = 0;
    for (int k = -4; k <= 4; k++) z += exp(-0.5 * k * k);
    for (int64_t i = 0; i < d->numel; i++) s += d->data[i];
    ck_assert_double_eq_tol(s, 1.0, 1e-5);
    ck_assert_float_eq_tol(d->data[5 * 11 + 5], (float)(1 / (z * z)), 1e-6);
    ck_assert_float_eq_tol(d->data[5 * 11 + 6], (float)(exp(-0.5) / (z * z)), 1e-6);
    ck_assert_float_eq_tol(d->data[4 * 11 + 5], d->data[5 * 11 + 6], 1e-7);
    vt_tensor_free(d);
    /* noise: mean ~0, std ~ given */
    vt_tensor *n = vt_tensor_new(VT_DIMS(1, 100, 100));
    vt_rng r;
    vt_rng_init(&r, 5);
    vt_aug_noise(n, 0.2f, &r);
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n->numel; i++) mean += n->data[i];
    mean /= n->numel;
    for (int64_t i = 0; i < n->numel; i++) var += (n->data[i] - mean) * (n->data[i] - mean);
    ck_assert_double_lt(fabs(mean), 0.01);
    ck_assert_double_eq_tol(sqrt(var / n->numel), 0.2, 0.01);
    vt_tensor_free(n);
}
END_TEST

/* the full pipeline: same stream -> same result; labels stay in {0, 1, 2}; boxes cover masks */
START_TEST(pipeline_deterministic_and_label_safe) {
    const int64_t H = 20, W = 24;
    vt_tensor *img = vt_tensor_new(VT_DIMS(2, H, W)), *mask = vt_tensor_new(VT_DIMS(1, H, W));
    for (int64_t i = 0; i < H; i++)
        for (int64_t j = 0; j < W; j++) {
            float v = (i >= 4 && i < 10 && j >= 6 && j < 14) ? 1 : (i >= 13 && j >= 15) ? 2 : 0;
            mask->data[i * W + j] = v;
            img->data[i * W + j] = img->data[H * W + i * W + j] = v;
        }
    float boxes[8] = {6, 4, 14, 10, 15, 13, 24, 20}, ob[8], ob2[8];
    vt_augment_config c;
    vt_augment_config_default(&c);
    c.p_flip_x = c.p_flip_y = c.p_rotate = c.p_scale = c.p_elastic = 0.5f;
    c.p_gamma = c.p_contrast = c.p_brightness = c.p_noise = c.p_blur = 0.3f;
    c.crop_h = 16, c.crop_w = 28, c.crop_random = 1;
    for (uint64_t seed = 0; seed < 12; seed++) {
        vt_rng r1, r2;
        vt_rng_init(&r1, seed), vt_rng_init(&r2, seed);
        vt_tensor *a, *am, *b, *bm;
        ck_assert_int_eq(vt_augment2d(&c, &r1, img, mask, boxes, 2, &a, &am, ob), VT_OK);
        ck_assert_int_eq(vt_augment2d(&c, &r2, img, mask, boxes, 2, &b, &bm, ob2), VT_OK);
        ck_assert_int_eq(a->shape[1], 16);
        ck_assert_int_eq(a->shape[2], 28);
        ck_assert_int_eq(am->ndim, 3);
        ck_assert_int_eq(memcmp(a->data, b->data, a->numel * sizeof(float)), 0);
        ck_assert_int_eq(memcmp(am->data, bm->data, am->numel * sizeof(float)), 0);
        ck_assert_int_eq(memcmp(ob, ob2, sizeof ob), 0);
        for (int64_t i = 0; i < 16; i++)
            for (int64_t j = 0; j < 28; j++) {
                float v = am->data[i * 28 + j];
                ck_assert(v == 0 || v == 1 || v == 2);
                if (v > 0) {
                    const float *bb = ob + 4 * ((int)v - 1);
                    ck_assert_msg(j + 0.5 >= bb[0] && j + 0.5 <= bb[2] && i + 0.5 >= bb[1] && i + 0.5 <= bb[3],
                                  "seed %llu label %g at (%lld, %lld) outside its box", (unsigned long long)seed, v,
                                  (long long)j, (long long)i);
                }
            }
        vt_tensor_free(a), vt_tensor_free(am), vt_tensor_free(b), vt_tensor_free(bm);
    }
    vt_tensor *bad = vt_tensor_new(VT_DIMS(H, W + 1)), *o, *om;
    vt_rng r;
    vt_rng_init(&r, 0);
    ck_assert_int_eq(vt_augment2d(&c, &r, img, bad, NULL, 0, &o, &om, NULL), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "(20, 25)"));
    vt_tensor_free(bad), vt_tensor_free(img), vt_tensor_free(mask);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("augment");
    TCase *tc = tcase_create("augment");
    tcase_add_test(tc, identity_parameters_give_identity);
    tcase_add_test(tc, flip_of_a_known_image_and_its_box);
    tcase_add_test(tc, rotation_90_is_transpose_and_flip);
    tcase_add_test(tc, boxes_follow_the_image);
    tcase_add_test(tc, elastic_field_is_smooth_and_scaled);
    tcase_add_test(tc, intensity_transforms_by_hand);
    tcase_add_test(tc, pipeline_deterministic_and_label_safe);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
