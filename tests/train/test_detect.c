/* test_detect.c: the FCOS detector (issue 7): greedy per-class NMS on hand cases, target
 * assignment on a hand-worked box (which locations are positive on which level, their
 * regression and centerness targets, smallest-box rule), a few training steps lowering the
 * loss on a tiny phantom set, evaluation giving mAP in [0, 1], checkpoint round trip, and
 * predict writing CSV / JSON / PNG; bad options give messages; resume is bit-identical. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "det.h"
#include "optim.h"
#include "png_io.h"
#include "run_watch_check.h"
#include "vt_test.h"

START_TEST(nms_hand_cases) {
    vt_det_box b[5] = {
        {.image = 0, .cls = 1, .x1 = 0, .y1 = 0, .x2 = 10, .y2 = 10, .score = 0.9f},   /* kept (best) */
        {.image = 0, .cls = 1, .x1 = 1, .y1 = 0, .x2 = 11, .y2 = 10, .score = 0.8f},   /* IoU 9/11 with 0: dropped */
        {.image = 0, .cls = 2, .x1 = 1, .y1 = 0, .x2 = 11, .y2 = 10, .score = 0.85f},  /* other class: kept */
        {.image = 0, .cls = 1, .x1 = 5, .y1 = 0, .x2 = 15, .y2 = 10, .score = 0.7f},   /* IoU 50/150 = 1/3 with 0: kept */
        {.image = 1, .cls = 1, .x1 = 0, .y1 = 0, .x2 = 10, .y2 = 10, .score = 0.6f},   /* other image: kept */
    };
    int64_t keep[5];
    int64_t n = vt_nms(b, 5, 0.5, keep);
    ck_assert_int_eq(n, 4);
    ck_assert_int_eq(keep[0], 0);
    ck_assert_int_eq(keep[1], 2);
    ck_assert_int_eq(keep[2], 3);
    ck_assert_int_eq(keep[3], 4);
    /* a lower threshold: box 3 (IoU 1/3 with box 0) now goes too */
    ck_assert_int_eq(vt_nms(b, 5, 0.3, keep), 3);
    /* IoU exactly at the threshold is kept (suppression needs IoU > thr) */
    vt_det_box e[2] = {{.cls = 0, .x1 = 0, .y1 = 0, .x2 = 10, .y2 = 10, .score = 0.5f},
                       {.cls = 0, .x1 = 5, .y1 = 0, .x2 = 15, .y2 = 10, .score = 0.5f}};
    ck_assert_int_eq(vt_nms(e, 2, 1.0 / 3.0, keep), 2);
    ck_assert_int_eq(keep[0], 0); /* equal scores: input order */
    ck_assert_int_eq(vt_nms(b, 0, 0.5, keep), 0);
}
END_TEST

/* a 64-pixel geometry: strides 4, 8, 16, 32, sides 16, 8, 4, 2, ranges (0,16], (16,32],
 * (32,64], (64,inf), radius 1.5 */
static void geometry64(vt_fcos_geometry *g) {
    memset(g, 0, sizeof *g);
    g->n_levels = 4, g->center_radius = 1.5f;
    const float lo[4] = {0, 16, 32, 64}, hi[4] = {16, 32, 64, INFINITY};
    for (int l = 0; l < 4; l++) {
        g->stride[l] = 4 << l, g->side[l] = 64 / (4 << l);
        g->range_lo[l] = lo[l], g->range_hi[l] = hi[l];
        g->n_locations += g->side[l] * g->side[l];
    }
}

static int64_t loc_index(const vt_fcos_geometry *g, int level, float x, float y) {
    int64_t off = 0;
    for (int l = 0; l < level; l++) off += g->side[l] * g->side[l];
    int s = g->stride[level];
    return off + (int64_t)((y - s / 2.f) / s) * g->side[level] + (int64_t)((x - s / 2.f) / s);
}

/* Box (10, 10, 30, 22), class 3, centre (20, 16). Level 0 (stride 4, centres 2, 6, 10, ...):
 * centre window x in (14, 26), y in (10, 22) -> x 18, 22 and y 14, 18; largest distance
 * <= 12 fits (0, 16]: 4 positives. Level 1 (stride 8, centres 4, 12, 20, 28): window
 * x (8, 32) & box -> (10, 30), y (4, 28) & box -> (10, 22): x 12, 20, 28, y 12, 20; only
 * those with largest distance in (16, 32]: x 12 or 28 (l or r = 18): 4 positives.
 * Level 2 (centres 8, 24, ...): no y centre inside (10, 22). 8 in all. */
START_TEST(fcos_targets_hand_case) {
    vt_fcos_geometry g;
    geometry64(&g);
    ck_assert_int_eq(g.n_locations, 256 + 64 + 16 + 4);
    float x, y;
    int lv;
    vt_fcos_location(&g, 256 + 8 + 3, &x, &y, &lv); /* level 1, row 1, col 3 */
    ck_assert(lv == 1 && x == 28.f && y == 12.f);
    const float box[4] = {10, 10, 30, 22};
    const int cls[1] = {3};
    int64_t L = g.n_locations;
    float *ct = malloc(sizeof(float) * L * 7), *rt = malloc(sizeof(float) * L * 4), *zt = malloc(sizeof(float) * L);
    int *as = malloc(sizeof(int) * L);
    ck_assert_int_eq(vt_fcos_targets(&g, box, cls, 1, 7, ct, rt, zt, as), 8);
    const float want[8][3] = {{0, 18, 14}, {0, 22, 14}, {0, 18, 18}, {0, 22, 18},
                              {1, 12, 12}, {1, 28, 12}, {1, 12, 20}, {1, 28, 20}};
    int n_found = 0;
    for (int k = 0; k < 8; k++) {
        int64_t i = loc_index(&g, (int)want[k][0], want[k][1], want[k][2]);
        ck_assert_msg(as[i] == 0, "level %g (%g, %g) should be positive", want[k][0], want[k][1], want[k][2]);
        for (int c = 0; c < 7; c++) ck_assert(ct[i * 7 + c] == (c == 3 ? 1.f : 0.f));
        n_found++;
    }
    ck_assert_int_eq(n_found, 8);
    /* (18, 14) on level 0: l, t, r, b = 8, 4, 12, 8; centerness sqrt(8/12 * 4/8) */
    int64_t i = loc_index(&g, 0, 18, 14);
    ck_assert(rt[4 * i] == 8 && rt[4 * i + 1] == 4 && rt[4 * i + 2] == 12 && rt[4 * i + 3] == 8);
    ck_assert_double_eq_tol(zt[i], sqrt(1.0 / 3.0), 1e-6);
    /* (20, 12) on level 1 is inside and central but its largest distance (10) belongs to level 0 */
    ck_assert_int_eq(as[loc_index(&g, 1, 20, 12)], -1);
    ck_assert(zt[loc_index(&g, 1, 20, 12)] == 0 && rt[4 * loc_index(&g, 1, 20, 12)] == 0);
    /* a location in two boxes takes the smaller: add (6, 6, 34, 26) (area 560 > 240) */
    const float two[8] = {6, 6, 34, 26, 10, 10, 30, 22};
    const int cls2[2] = {5, 3};
    vt_fcos_targets(&g, two, cls2, 2, 7, ct, rt, zt, as);
    i = loc_index(&g, 0, 18, 14);
    ck_assert_int_eq(as[i], 1);
    ck_assert(ct[i * 7 + 3] == 1.f && ct[i * 7 + 5] == 0.f);
    /* no boxes: nothing positive */
    ck_assert_int_eq(vt_fcos_targets(&g, NULL, NULL, 0, 7, ct, rt, zt, as), 0);
    free(ct); free(rt); free(zt); free(as);
}
END_TEST

static vt_detector *tiny_detector(void) {
    vt_detector_config c;
    vt_detector_config_default(&c);
    c.size = 64, c.fpn_channels = 16, c.head_convs = 1;
    vt_seed(3);
    vt_detector *m = vt_detector_new(&c);
    ck_assert_msg(m != NULL, "%s", vt_last_error());
    return m;
}

START_TEST(training_steps_reduce_loss) {
    vt_set_num_threads(2);
    vt_detector *m = tiny_detector();
    vt_det_data d;
    ck_assert_msg(vt_det_data_phantom(3, 64, 1.0f, 7, &d) == VT_OK, "%s", vt_last_error());
    ck_assert_int_gt(d.n_boxes, 2);
    vt_optim *opt = vt_adam_new(m->params, 1e-3f, 0.9f, 0.999f, 1e-8f, 0);
    int64_t idx[3] = {0, 1, 2}, first[3], count[3];
    float *boxes = malloc(sizeof(float) * 4 * (size_t)d.n_boxes);
    int *cls = malloc(sizeof(int) * (size_t)d.n_boxes);
    vt_det_loss_config lc;
    vt_det_loss_config_default(&lc);
    double l0 = 0, l_last = 0;
    for (int s = 0; s < 6; s++) {
        vt_tensor *x;
        ck_assert(vt_det_batch(&d, idx, 3, NULL, NULL, &x, boxes, cls, first, count) == VT_OK);
        vt_detector_output o;
        ck_assert_msg(vt_detector_forward(m, x, 1, &o) == VT_OK, "%s", vt_last_error());
        ck_assert_int_eq(o.cls->shape[1], 256 + 64 + 16 + 4);
        double parts[3];
        int64_t np;
        vt_tensor *loss = vt_det_loss(m, &o, boxes, cls, first, count, &lc, parts, &np);
        ck_assert_msg(loss != NULL, "%s", vt_last_error());
        ck_assert_int_gt(np, 0);
        double l = vt_tensor_item(loss);
        ck_assert(isfinite(l) && parts[0] > 0 && parts[1] > 0 && parts[2] > 0);
        if (s == 0) l0 = l;
        l_last = l;
        vt_params_zero_grad(m->params);
        ck_assert(vt_backward(loss) == VT_OK);
        ck_assert(vt_optim_step(opt) == VT_OK);
        vt_arena_reset(NULL);
    }
    ck_assert_msg(l_last < 0.8 * l0, "loss %g -> %g did not go down", l0, l_last);
    /* evaluation on the same images: mAP in [0, 1], per-class AP in [0, 1] or NaN */
    vt_det_decode_config dc;
    vt_det_decode_config_default(&dc);
    dc.max_detections = 20;
    vt_det_eval ev;
    ck_assert_msg(vt_det_evaluate(m, &d, 2, &dc, 0.5, &ev) == VT_OK, "%s", vt_last_error());
    ck_assert(ev.map >= 0 && ev.map <= 1);
    ck_assert(ev.n_det <= 3 * 20 && ev.n_gt == d.n_boxes && ev.n_classes_used >= 1);
    for (int k = 0; k < 7; k++) ck_assert(isnan(ev.ap[k]) || (ev.ap[k] >= 0 && ev.ap[k] <= 1));
    free(boxes); free(cls);
    vt_optim_free(opt);
    vt_det_data_free(&d);
    vt_detector_free(m);
}
END_TEST

/* boxes move with flipped images; empty/sliver boxes are dropped */
START_TEST(augmented_batch_moves_boxes) {
    vt_det_data d;
    ck_assert(vt_det_data_phantom(2, 64, 1.0f, 11, &d) == VT_OK);
    vt_augment_config a;
    vt_augment_config_default(&a);
    a.p_flip_x = 1;
    vt_rng r;
    vt_rng_init(&r, 1);
    int64_t idx[2] = {0, 1}, first[2], count[2];
    float boxes[64];
    int cls[16];
    vt_tensor *x;
    ck_assert(vt_det_batch(&d, idx, 2, &a, &r, &x, boxes, cls, first, count) == VT_OK);
    ck_assert_int_eq(count[0], d.count[0]);
    for (int64_t k = 0; k < count[0]; k++) {
        const float *src = d.boxes + 4 * (d.first[0] + k), *b = boxes + 4 * k;
        ck_assert_double_eq_tol(b[0], 64 - src[2], 1e-3);
        ck_assert_double_eq_tol(b[2], 64 - src[0], 1e-3);
        ck_assert_double_eq_tol(b[1], src[1], 1e-3);
        ck_assert_int_eq(cls[k], d.cls[d.first[0] + k]);
    }
    /* the image is mirrored too */
    ck_assert_double_eq_tol(x->data[5], d.images->data[63 - 5], 1e-5);
    vt_arena_reset(NULL);
    vt_det_data_free(&d);
}
END_TEST

START_TEST(checkpoint_and_predict_outputs) {
    vt_set_num_threads(2);
    vt_detector *m = tiny_detector();
    char dir[] = "/tmp/vt_detect_XXXXXX";
    ck_assert(mkdtemp(dir) != NULL);
    char ck[512], png[512], path[512];
    snprintf(ck, sizeof ck, "%s/best.vtck", dir);
    ck_assert_msg(vt_det_save(m, ck, "[data]\nsize = 64\n") == VT_OK, "%s", vt_last_error());
    vt_detector *m2 = vt_det_load(ck);
    ck_assert_msg(m2 != NULL, "%s", vt_last_error());
    ck_assert_int_eq(m2->cfg.size, 64);
    ck_assert_int_eq(m2->cfg.fpn_channels, 16);
    ck_assert(memcmp(vt_params_values(m->params), vt_params_values(m2->params), sizeof(float) * (size_t)vt_params_numel(m->params)) == 0);
    /* a 96 x 80 grey PNG (resized to 64 inside) */
    vt_det_data d;
    ck_assert(vt_det_data_phantom(1, 64, 1.0f, 5, &d) == VT_OK);
    uint8_t *img = malloc(96 * 80);
    for (int y = 0; y < 80; y++)
        for (int xx = 0; xx < 96; xx++) img[y * 96 + xx] = (uint8_t)(255 * d.images->data[(y * 64 / 80) * 64 + xx * 64 / 96]);
    snprintf(png, sizeof png, "%s/in.png", dir);
    ck_assert(vt_png_write_u8(png, img, 1, 80, 96) == VT_OK);
    vt_det_decode_config dc;
    vt_det_decode_config_default(&dc);
    dc.score_threshold = 0.0f, dc.max_detections = 5; /* an untrained model: take the top 5 */
    vt_det_box det[5];
    int64_t n = vt_det_predict_png(m2, png, dir, &dc, det);
    ck_assert_msg(n == 5, "%lld: %s", (long long)n, vt_last_error());
    for (int k = 0; k < 5; k++) ck_assert(det[k].x1 >= 0 && det[k].x2 <= 96 && det[k].y2 <= 80 && det[k].x1 <= det[k].x2);
    snprintf(path, sizeof path, "%s/overlay.png", dir);
    vt_png_info info;
    ck_assert(vt_png_read_info(path, &info) == VT_OK);
    ck_assert(info.width == 96 && info.height == 80 && info.color_type == 2);
    snprintf(path, sizeof path, "%s/detections.csv", dir);
    FILE *f = fopen(path, "r");
    ck_assert(f != NULL);
    char line[256];
    int lines = 0;
    while (fgets(line, sizeof line, f)) lines++;
    fclose(f);
    ck_assert_int_eq(lines, 6); /* header + 5 */
    snprintf(path, sizeof path, "%s/detections.json", dir);
    f = fopen(path, "r");
    ck_assert(f != NULL);
    char buf[4096];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = 0;
    fclose(f);
    ck_assert(strstr(buf, "\"width\": 96") && strstr(buf, "\"lesion_type\""));
    /* a missing input is an error naming the file */
    snprintf(path, sizeof path, "%s/missing.png", dir);
    ck_assert_int_eq(vt_det_predict_png(m2, path, dir, &dc, det), -1);
    ck_assert_msg(strstr(vt_last_error(), "missing.png") != NULL, "%s", vt_last_error());
    const char *files[] = {"best.vtck", "in.png", "overlay.png", "detections.csv", "detections.json"};
    for (int k = 0; k < 5; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        unlink(path);
    }
    rmdir(dir);
    free(img);
    vt_det_data_free(&d);
    vt_detector_free(m);
    vt_detector_free(m2);
}
END_TEST

/* one epoch into a run folder: TensorBoard events and plots/loss.png for a watching user */
START_TEST(run_folder_has_events_and_curves) {
    vt_set_num_threads(2);
    vt_detector *m = tiny_detector();
    vt_det_data d;
    ck_assert_msg(vt_det_data_phantom(2, 64, 1.0f, 3, &d) == VT_OK, "%s", vt_last_error());
    char dir[] = "/tmp/vt_detect_run_XXXXXX", cmd[256];
    ck_assert(mkdtemp(dir) != NULL);
    vt_det_train_config c;
    vt_det_train_config_default(&c);
    c.epochs = 1, c.batch = 2, c.eval_batch = 2, c.log_every = 1000000, c.out_dir = dir;
    vt_det_result r;
    ck_assert_msg(vt_det_train(m, &c, &d, &d, &r) == VT_OK, "%s", vt_last_error());
    assert_run_is_watchable(dir, "loss.png");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    vt_det_data_free(&d);
    vt_detector_free(m);
}
END_TEST

START_TEST(bad_options_give_messages) {
    vt_detector_config c;
    vt_detector_config_default(&c);
    c.size = 100;
    ck_assert(vt_detector_new(&c) == NULL);
    ck_assert_msg(strstr(vt_last_error(), "multiple of 32") != NULL, "%s", vt_last_error());
    vt_detector_config_default(&c);
    c.arch = "vgg11";
    ck_assert(vt_detector_new(&c) == NULL);
    ck_assert_msg(strstr(vt_last_error(), "unknown trunk 'vgg11'") != NULL, "%s", vt_last_error());
    vt_detector *m = tiny_detector();
    vt_tensor *x = vt_tensor_zeros(VT_DIMS(1, 1, 32, 32));
    vt_detector_output o;
    ck_assert(vt_detector_forward(m, x, 0, &o) == VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "(1, 1, 32, 32) must be (N, 1, 64, 64)") != NULL, "%s", vt_last_error());
    vt_arena_reset(NULL);
    ck_assert(vt_det_load("/nonexistent/x.vtck") == NULL);
    vt_detector_free(m);
}
END_TEST

/* resume: 2 epochs in one go and 1 epoch + resume from RUN/checkpoint.vtck + 1 epoch give the
 * same weights bit for bit (the cosine schedule, Adam state, shuffle and augmentation streams
 * and the best-so-far weights all come back); a missing checkpoint is an error naming it. */
static void run_det(const char *dir, const char *resume, int stop_after, const vt_det_data *tr, const vt_det_data *va,
                    float *weights, vt_det_result *r) {
    vt_detector *m = tiny_detector();
    vt_det_train_config tc;
    vt_det_train_config_default(&tc);
    tc.epochs = 2, tc.batch = 2, tc.eval_batch = 1, tc.seed = 9, tc.lr = 1e-3f, tc.log_every = 1000;
    tc.out_dir = dir, tc.resume = resume, tc.stop_after_epoch = stop_after;
    ck_assert_msg(vt_det_train(m, &tc, tr, va, r) == VT_OK, "%s", vt_last_error());
    memcpy(weights, vt_params_values(m->params), sizeof(float) * (size_t)vt_params_numel(m->params));
    vt_detector_free(m);
}

START_TEST(resume_continues_bit_identically) {
    vt_set_num_threads(2);
    vt_det_data tr, va;
    ck_assert(vt_det_data_phantom(4, 64, 1.0f, 21, &tr) == VT_OK);
    ck_assert(vt_det_data_phantom(1, 64, 1.0f, 22, &va) == VT_OK);
    char a[] = "/tmp/vt_detres_aXXXXXX", b[] = "/tmp/vt_detres_bXXXXXX", ck[512];
    ck_assert(mkdtemp(a) && mkdtemp(b));
    vt_detector *probe = tiny_detector();
    int64_t np = vt_params_numel(probe->params);
    vt_detector_free(probe);
    float *wa = malloc(sizeof(float) * (size_t)np), *wb = malloc(sizeof(float) * (size_t)np);
    vt_det_result ra, rb;
    run_det(a, NULL, 0, &tr, &va, wa, &ra);
    run_det(b, NULL, 1, &tr, &va, wb, &rb);
    ck_assert_int_eq(rb.epochs_done, 1);
    snprintf(ck, sizeof ck, "%s/checkpoint.vtck", b);
    run_det(b, ck, 0, &tr, &va, wb, &rb);
    ck_assert_int_eq(rb.epochs_done, 2);
    ck_assert_int_eq(rb.best_epoch, ra.best_epoch);
    ck_assert(memcmp(wa, wb, sizeof(float) * (size_t)np) == 0);
    ck_assert(rb.val.map == ra.val.map || (isnan(rb.val.map) && isnan(ra.val.map)));
    /* the last epoch's weights (not the best ones) agree too */
    vt_detector *la = tiny_detector(), *lb = tiny_detector();
    vt_optim *oa = vt_adam_new(la->params, 1e-3f, 0.9f, 0.999f, 1e-8f, 0), *ob = vt_adam_new(lb->params, 1e-3f, 0.9f, 0.999f, 1e-8f, 0);
    int64_t nall = np + vt_params_buffer_numel(la->params);
    float *ba = malloc(sizeof(float) * (size_t)nall), *bb = malloc(sizeof(float) * (size_t)nall);
    vt_det_run_state sa, sb;
    snprintf(ck, sizeof ck, "%s/checkpoint.vtck", a);
    ck_assert_msg(vt_det_checkpoint_load(ck, la, oa, &sa, ba) == VT_OK, "%s", vt_last_error());
    snprintf(ck, sizeof ck, "%s/checkpoint.vtck", b);
    ck_assert_msg(vt_det_checkpoint_load(ck, lb, ob, &sb, bb) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(sa.epoch, 2);
    ck_assert_int_eq(sb.step, sa.step);
    ck_assert(memcmp(vt_params_values(la->params), vt_params_values(lb->params), sizeof(float) * (size_t)np) == 0);
    ck_assert(memcmp(vt_optim_state(oa, 0), vt_optim_state(ob, 0), sizeof(float) * (size_t)vt_optim_state_numel(oa)) == 0);
    ck_assert_int_eq(vt_optim_get_step(oa), vt_optim_get_step(ob));
    /* metrics.jsonl of the resumed run holds both epochs */
    snprintf(ck, sizeof ck, "%s/metrics.jsonl", b);
    FILE *f = fopen(ck, "r");
    ck_assert_ptr_nonnull(f);
    int lines = 0, ch;
    while ((ch = fgetc(f)) != EOF) lines += ch == '\n';
    fclose(f);
    ck_assert_int_eq(lines, 2);
    /* a missing checkpoint names the file */
    vt_detector *m = tiny_detector();
    vt_det_train_config tc;
    vt_det_train_config_default(&tc);
    tc.epochs = 1, tc.batch = 3, tc.resume = "/nonexistent/checkpoint.vtck";
    vt_det_result r;
    ck_assert_int_eq(vt_det_train(m, &tc, &tr, &va, &r), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "/nonexistent/checkpoint.vtck") != NULL, "%s", vt_last_error());
    vt_detector_free(m);
    vt_optim_free(oa); vt_optim_free(ob);
    vt_detector_free(la); vt_detector_free(lb);
    free(wa); free(wb); free(ba); free(bb);
    vt_det_data_free(&tr); vt_det_data_free(&va);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", a, b);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *detect_suite(void) {
    Suite *s = suite_create("detect");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 240); /* wall clock on a shared 2-core machine; ~5 CPU-s alone */
    tcase_add_test(t, nms_hand_cases);
    tcase_add_test(t, fcos_targets_hand_case);
    tcase_add_test(t, augmented_batch_moves_boxes);
    tcase_add_test(t, training_steps_reduce_loss);
    tcase_add_test(t, checkpoint_and_predict_outputs);
    tcase_add_test(t, run_folder_has_events_and_curves);
    tcase_add_test(t, bad_options_give_messages);
    tcase_add_test(t, resume_continues_bit_identically);
    suite_add_tcase(s, t);
    return s;
}

VT_TEST_MAIN(detect_suite)
