/* test_imgcls.c: the image-classification trainer (train/imgcls.h) on a tiny X-ray phantom
 * (resnet18 at 16x16 for the steps, the MLP for whole runs): training steps reduce the loss, best-epoch selection and early
 * stopping, resume continues bit-identically, summary.json fields, predict probabilities,
 * config errors with FILE:LINE, resize and per-image normalisation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "imgcls.h"
#include "loader.h"
#include "losses.h"
#include "optim.h"
#include "run_watch_check.h"
#include "vt_test.h"

static char tmpdir[256];

static void make_tmpdir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vt_imgcls_XXXXXX");
    ck_assert(mkdtemp(tmpdir) != NULL);
}

/* a tiny run: 32 phantom radiographs 64 -> 20 -> crop 16, the MLP (checkpoints stay small), batch 4 */
static vt_config *tiny(const char *out, int n_extra, const char *const *extra) {
    char out_set[512];
    snprintf(out_set, sizeof out_set, "run.out=%s/%s", tmpdir, out);
    const char *base[] = {out_set, "run.quiet=true", "run.threads=1", "data.source=phantom_xray", "data.n=32",
                          "data.phantom_size=64", "data.load_size=20", "model.input_size=16", "model.arch=mlp",
                          "optim.batch_size=4", "optim.eval_batch=8", "optim.epochs=2", "optim.max_steps=2",
                          "eval.bootstrap=50", "data.val_frac=0.25", "data.test_frac=0.25"};
    int nb = (int)(sizeof base / sizeof base[0]);
    const char *sets[32];
    memcpy(sets, base, sizeof base);
    for (int i = 0; i < n_extra; i++) sets[nb + i] = extra[i];
    vt_config *c = vt_imgcls_config_load(NULL, nb + n_extra, sets);
    ck_assert_msg(c != NULL, "%s", vt_last_error());
    return c;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

START_TEST(steps_reduce_the_loss) {
    make_tmpdir();
    vt_config *c = tiny("steps", 0, NULL);
    vt_imgcls_data d;
    ck_assert_msg(vt_imgcls_data_load(c, &d) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(d.n_split[0] + d.n_split[1] + d.n_split[2], 32);
    vt_seed(1);
    const char *arch[] = {"model.arch=resnet18"}; /* a conv net here: no checkpoints written */
    vt_config_free(c);
    c = tiny("steps", 1, arch);
    vt_model *m = vt_imgcls_model_new(c, 1);
    ck_assert_msg(m != NULL, "%s", vt_last_error());
    vt_dataset *ds = vt_imgcls_dataset(c, &d, d.idx[0], 8, 0);
    vt_loader_config lc;
    vt_loader_config_default(&lc);
    lc.batch_size = 8, lc.num_workers = 0, lc.shuffle = 0;
    vt_loader *l = vt_loader_new(ds, &lc);
    vt_batch b;
    ck_assert_int_eq(vt_loader_start_epoch(l, 0), VT_OK);
    ck_assert_int_eq(vt_loader_next(l, &b), 1);
    ck_assert_int_eq(b.image->shape[2], 16);
    vt_optim *o = vt_adam_new(m->params, 1e-3f, 0.9f, 0.999f, 1e-8f, 0);
    double first = 0, last = 0;
    for (int s = 0; s < 6; s++) {
        vt_tensor *y = vt_tensor_empty(1, &b.size);
        memcpy(y->data, b.target->data, sizeof(float) * (size_t)b.size);
        vt_tensor *loss = vt_cross_entropy(vt_model_forward(m, b.image, 1), y, NULL);
        ck_assert(loss != NULL);
        if (s == 0) first = vt_tensor_item(loss);
        last = vt_tensor_item(loss);
        vt_params_zero_grad(m->params);
        ck_assert_int_eq(vt_backward(loss), VT_OK);
        vt_optim_step(o);
        vt_arena_reset(NULL);
    }
    ck_assert_msg(last < first, "loss %g -> %g", first, last);
    vt_optim_free(o);
    vt_loader_free(l);
    vt_dataset_free(ds);
    vt_model_free(m);
    vt_imgcls_data_free(&d);
    vt_config_free(c);
}
END_TEST

START_TEST(best_epoch_is_the_max_and_patience_stops) {
    const double seq[] = {0.5, 0.7, 0.6, 0.9, 0.8, NAN, 0.85};
    vt_imgcls_tracker t;
    vt_imgcls_tracker_init(&t, 0, 0);
    for (int e = 0; e < 7; e++) vt_imgcls_tracker_update(&t, e + 1, seq[e]);
    ck_assert_int_eq(t.best_epoch, 4);
    ck_assert(t.best == 0.9);
    ck_assert(!vt_imgcls_tracker_should_stop(&t)); /* patience 0: never */
    vt_imgcls_tracker_init(&t, 2, 0);
    int stopped_after = 0;
    for (int e = 0; e < 7 && !stopped_after; e++) {
        vt_imgcls_tracker_update(&t, e + 1, seq[e]);
        if (vt_imgcls_tracker_should_stop(&t)) stopped_after = e + 1;
    }
    ck_assert_int_eq(stopped_after, 6); /* 0.8 and NaN after the best 0.9 */
    ck_assert_int_eq(t.best_epoch, 4);
    /* min_delta: 0.7 -> 0.705 is no improvement at 0.01 */
    vt_imgcls_tracker_init(&t, 0, 0.01);
    vt_imgcls_tracker_update(&t, 1, 0.7);
    ck_assert(!vt_imgcls_tracker_update(&t, 2, 0.705));
    ck_assert(vt_imgcls_tracker_update(&t, 3, 0.72));
    /* all NaN so far: the first epoch stands as the best */
    vt_imgcls_tracker_init(&t, 0, 0);
    ck_assert(vt_imgcls_tracker_update(&t, 1, NAN));
    ck_assert(!vt_imgcls_tracker_update(&t, 2, NAN));
    ck_assert(vt_imgcls_tracker_update(&t, 3, 0.1));
    ck_assert_int_eq(t.best_epoch, 3);
}
END_TEST

START_TEST(run_writes_summary_and_stops_early) {
    make_tmpdir();
    const char *extra[] = {"optim.epochs=5", "select.patience=1", "select.min_delta=1"}; /* AUROC never gains > 1 */
    vt_config *c = tiny("run", 3, extra);
    vt_imgcls_result r;
    ck_assert_msg(vt_imgcls_run(c, &r) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(r.epochs_done, 2);
    ck_assert(r.stopped_early);
    ck_assert_int_eq(r.best_epoch, 1);
    ck_assert(isfinite(r.first_loss) && isfinite(r.last_loss));
    ck_assert(r.test.n >= 6 && r.test.n <= 10);
    char path[512];
    snprintf(path, sizeof path, "%s/run/summary.json", tmpdir);
    const char *s = slurp(path);
    const char *fields[] = {"\"test\"", "\"accuracy\"", "\"auroc\"", "\"precision\"", "\"recall\"", "\"specificity\"", "\"f1\"",
                            "\"test_auroc_ci\"", "\"lo\"", "\"hi\"", "\"best_epoch\": 1", "\"stopped_early\": true",
                            "\"select_metric\": \"auroc\"", "\"epochs_done\": 2"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) ck_assert_msg(strstr(s, fields[i]) != NULL, "summary lacks %s:\n%s", fields[i], s);
    ck_assert(strstr(s, "nan") == NULL);
    snprintf(path, sizeof path, "%s/run/metrics.jsonl", tmpdir);
    s = slurp(path);
    int lines = 0;
    for (const char *p = s; *p; p++) lines += *p == '\n';
    ck_assert_int_eq(lines, 2);
    ck_assert(strstr(s, "\"val_auroc\"") != NULL && strstr(s, "\"train_loss\"") != NULL);
    const char *files[] = {"config.resolved", "best.vtck", "checkpoint.vtck", "predictions_test.csv"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/run/%s", tmpdir, files[i]);
        ck_assert_msg(access(path, R_OK) == 0, "%s missing", path);
    }
    snprintf(path, sizeof path, "%s/run", tmpdir);
    assert_run_is_watchable(path, "loss.png");
    /* predict from best.vtck: probabilities of an image of another size sum to 1 */
    snprintf(path, sizeof path, "%s/run/best.vtck", tmpdir);
    vt_config *pc;
    vt_model *m;
    ck_assert_msg(vt_imgcls_load_checkpoint(path, &pc, &m) == VT_OK, "%s", vt_last_error());
    vt_tensor *img = vt_test_rand(3, (int64_t[]){1, 40, 30}, 0, 1, 5);
    float p[VT_IMGCLS_MAX_CLASSES];
    ck_assert_msg(vt_imgcls_predict(pc, m, img, p) == VT_OK, "%s", vt_last_error());
    ck_assert(p[0] >= 0 && p[1] >= 0);
    ck_assert_msg(fabs(p[0] + p[1] - 1.0) < 1e-5, "sum %g", (double)(p[0] + p[1]));
    char name[64];
    ck_assert_str_eq(vt_imgcls_class_name(pc, 1, name, sizeof name), "1");
    vt_tensor_free(img);
    vt_model_free(m);
    vt_config_free(pc);
    vt_imgcls_result_free(&r);
    vt_config_free(c);
}
END_TEST

static void load_values(const char *path, float **v, int64_t *n) {
    vt_config *c;
    vt_model *m;
    ck_assert_msg(vt_imgcls_load_checkpoint(path, &c, &m) == VT_OK, "%s", vt_last_error());
    *n = vt_params_numel(m->params) + vt_params_buffer_numel(m->params);
    *v = malloc(sizeof(float) * (size_t)*n);
    memcpy(*v, vt_params_values(m->params), sizeof(float) * (size_t)vt_params_numel(m->params));
    memcpy(*v + vt_params_numel(m->params), vt_params_buffer_values(m->params), sizeof(float) * (size_t)vt_params_buffer_numel(m->params));
    vt_model_free(m);
    vt_config_free(c);
}

START_TEST(resume_continues_identically) {
    make_tmpdir();
    vt_imgcls_result r;
    vt_config *a = tiny("a", 0, NULL); /* 2 epochs straight */
    ck_assert_msg(vt_imgcls_run(a, &r) == VT_OK, "%s", vt_last_error());
    vt_imgcls_result_free(&r);
    const char *one[] = {"optim.epochs=1"};
    vt_config *b1 = tiny("b", 1, one); /* 1 epoch, then resume to 2 */
    ck_assert_msg(vt_imgcls_run(b1, &r) == VT_OK, "%s", vt_last_error());
    vt_imgcls_result_free(&r);
    char set[600];
    snprintf(set, sizeof set, "run.resume=%s/b/checkpoint.vtck", tmpdir);
    const char *res[] = {set};
    vt_config *b2 = tiny("b", 1, res);
    ck_assert_msg(vt_imgcls_run(b2, &r) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(r.resumed_from, 2);
    ck_assert_int_eq(r.epochs_done, 2);
    vt_imgcls_result_free(&r);
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/a/checkpoint.vtck", tmpdir);
    snprintf(pb, sizeof pb, "%s/b/checkpoint.vtck", tmpdir);
    float *va, *vb;
    int64_t na, nb;
    load_values(pa, &va, &na);
    load_values(pb, &vb, &nb);
    ck_assert_int_eq(na, nb);
    ck_assert_msg(memcmp(va, vb, sizeof(float) * (size_t)na) == 0, "resumed weights differ from the straight run");
    free(va), free(vb);
    /* metrics.jsonl of the resumed run holds both epochs */
    snprintf(pb, sizeof pb, "%s/b/metrics.jsonl", tmpdir);
    const char *s = slurp(pb);
    ck_assert(strstr(s, "\"epoch\": 1") && strstr(s, "\"epoch\": 2"));
    vt_config_free(a), vt_config_free(b1), vt_config_free(b2);
}
END_TEST

START_TEST(config_errors_name_file_and_line) {
    make_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/config", tmpdir);
    FILE *f = fopen(path, "w");
    fputs("[model]\narch = resnet18\n[optim]\nlr = fast\n", f);
    fclose(f);
    ck_assert(vt_imgcls_config_load(path, 0, NULL) == NULL);
    char want[600];
    snprintf(want, sizeof want, "%s:4", path);
    ck_assert_msg(strstr(vt_last_error(), want) != NULL, "%s", vt_last_error());
    f = fopen(path, "w");
    fputs("[select]\nmetric = auc\n", f);
    fclose(f);
    ck_assert(vt_imgcls_config_load(path, 0, NULL) == NULL);
    snprintf(want, sizeof want, "%s:2", path);
    ck_assert_msg(strstr(vt_last_error(), want) != NULL, "%s", vt_last_error());
    const char *bad[] = {"optim.epochz=3"};
    ck_assert(vt_imgcls_config_load(NULL, 1, bad) == NULL);
    ck_assert_msg(strstr(vt_last_error(), "epochz") != NULL, "%s", vt_last_error());
}
END_TEST

START_TEST(resize_and_normalisation) {
    vt_tensor *x = vt_tensor_new(4, (int64_t[]){2, 1, 9, 7});
    for (int64_t i = 0; i < x->numel; i++) x->data[i] = i < 63 ? 3.f : 5.f;
    vt_tensor *r = vt_imgcls_resize(x, 4), *u = vt_imgcls_resize(x, 12);
    ck_assert(r && u);
    ck_assert_int_eq(r->shape[2], 4);
    ck_assert_int_eq(u->shape[3], 12);
    for (int i = 0; i < 16; i++) {
        ck_assert_float_eq_tol(r->data[i], 3.f, 1e-6);
        ck_assert_float_eq_tol(r->data[16 + i], 5.f, 1e-6);
    }
    for (int i = 0; i < 144; i++) ck_assert_float_eq_tol(u->data[144 + i], 5.f, 1e-6);
    ck_assert(vt_imgcls_resize(vt_tensor_new(2, (int64_t[]){3, 3}), 2) == NULL);
    ck_assert(strstr(vt_last_error(), "(N, C, H, W)") != NULL);
    /* prepare: centre crop + z-score -> mean 0, std 1 */
    vt_config *c = vt_imgcls_config_load(NULL, 2, (const char *const[]){"data.load_size=12", "model.input_size=8"});
    vt_tensor *img = vt_test_rand(3, (int64_t[]){1, 12, 12}, 0, 10, 3), *out = vt_tensor_new(3, (int64_t[]){1, 8, 8});
    ck_assert_int_eq(vt_imgcls_prepare(c, img, out), VT_OK);
    double s = 0, s2 = 0;
    for (int i = 0; i < 64; i++) s += out->data[i], s2 += (double)out->data[i] * out->data[i];
    ck_assert(fabs(s / 64) < 1e-5 && fabs(s2 / 64 - 1) < 1e-4);
    vt_tensor_free(x), vt_tensor_free(r), vt_tensor_free(u), vt_tensor_free(img), vt_tensor_free(out);
    vt_config_free(c);
}
END_TEST

static Suite *imgcls_suite(void) {
    Suite *s = suite_create("imgcls");
    TCase *tc = tcase_create("imgcls");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, steps_reduce_the_loss);
    tcase_add_test(tc, best_epoch_is_the_max_and_patience_stops);
    tcase_add_test(tc, run_writes_summary_and_stops_early);
    tcase_add_test(tc, resume_continues_identically);
    tcase_add_test(tc, config_errors_name_file_and_line);
    tcase_add_test(tc, resize_and_normalisation);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(imgcls_suite)
