/* test_bench.c: `vertebra bench` smoke runs on tiny shapes (timings are not asserted): the
 * JSON has every field, the conv FLOP counter agrees with the networks' conv geometry counted
 * by hand, several models run in one invocation, a missing peer is a note, not a failure. */
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include "vt_test.h"

static void slurp(const char *path, char *buf, size_t n) {
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s not written", path);
    size_t k = fread(buf, 1, n - 1, f);
    buf[k] = 0;
    fclose(f);
}

/* the object of `model` in the JSON's models array */
static const char *model_obj(const char *json, const char *model) {
    char key[64];
    snprintf(key, sizeof key, "{\"model\": \"%s\"", model);
    const char *p = strstr(json, key);
    ck_assert_msg(p != NULL, "no %s in %s", model, json);
    return p;
}

/* the number after "key": within the object starting at obj (up to its closing brace) */
static double field(const char *obj, const char *key) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\": ", key);
    const char *p = strstr(obj, k), *end = strstr(obj, "\"note\"");
    ck_assert_msg(p != NULL && (!end || p < end), "no field %s in %.300s", key, obj);
    return atof(p + strlen(k));
}

/* MACs of a k x k conv (stride 1, same padding) on s x s maps */
static double conv_macs(int s, int k, int cin, int cout) { return (double)s * s * k * k * cin * cout; }

START_TEST(tiny_runs_write_every_field) {
    static char out[1 << 16], json[1 << 16];
    char path[] = "/tmp/vt_bench_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char args[512];
    snprintf(args, sizeof args, "bench --model unet2d --model smallcnn --size 32 --batch 1 --steps 2 --warmup 1 "
                                "--no-peer --gemm-size 256 --json %s", path);
    int rc = vt_test_cli(args, out, sizeof out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(strstr(out, "sgemm peak") && strstr(out, "conv eff") && strstr(out, "unet2d") &&
                  strstr(out, "smallcnn"), "%s", out);
    slurp(path, json, sizeof json);
    unlink(path);
    ck_assert_msg(strstr(json, "\"sgemm_peak_gflops\": ") && strstr(json, "\"nproc\": ") &&
                  strstr(json, "\"cpu\": ") && strstr(json, "\"threads\": 2"), "%s", json);

    const char *u = model_obj(json, "unet2d");
    ck_assert_int_eq((int)field(u, "batch"), 1);
    ck_assert_int_eq((int)field(u, "steps"), 2);
    ck_assert_int_eq((int)field(u, "warmup"), 1);
    const char *keys[] = {"train_step_ms", "infer_ms", "train_images_per_s", "max_rss_mb", "conv_train_ms",
                          "conv_infer_ms", "conv_efficiency", "step_efficiency_bound"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        ck_assert_msg(field(u, keys[i]) > 0, "%s: %.600s", keys[i], u);
    ck_assert_msg(field(u, "conv_train_ms") <= field(u, "train_step_ms"), "%.600s", u);
    ck_assert_msg(strstr(u, "\"torch\": null") && strstr(u, "--no-peer"), "%.600s", u);

    /* UNet of torch_bench.py on 1x32x32: encoder blocks, bottom, transposed convs (2x2 taps on
     * the coarse maps), decoder blocks on [up, skip], 1x1 head */
    const int w[4] = {32, 64, 128, 256};
    double f = 0;
    int cin = 1;
    for (int i = 0; i < 4; i++) { f += conv_macs(32 >> i, 3, cin, w[i]) + conv_macs(32 >> i, 3, w[i], w[i]); cin = w[i]; }
    f += conv_macs(2, 3, 256, 512) + conv_macs(2, 3, 512, 512);
    cin = 512;
    for (int i = 3; i >= 0; i--) {
        int s = 32 >> i;
        f += conv_macs(s / 2, 2, cin, w[i]) + conv_macs(s, 3, 2 * w[i], w[i]) + conv_macs(s, 3, w[i], w[i]);
        cin = w[i];
    }
    f += conv_macs(32, 1, 32, 1);
    /* inference: forward only; a training step: forward, backward data and backward filter of
     * every conv except the first conv's backward data (the input needs no gradient) */
    ck_assert_double_eq_tol(field(u, "conv_infer_gflop"), 2 * f * 1e-9, 1e-5);
    ck_assert_double_eq_tol(field(u, "conv_train_gflop"), 2 * (3 * f - conv_macs(32, 3, 1, 32)) * 1e-9, 1e-5);

    /* smallcnn on 1x32x32: conv 1->32 valid (30x30), pool, conv 32->64 valid (13x13) */
    const char *c = model_obj(json, "smallcnn");
    double c1 = conv_macs(30, 3, 1, 32), c2 = conv_macs(13, 3, 32, 64);
    ck_assert_double_eq_tol(field(c, "conv_infer_gflop"), 2 * (c1 + c2) * 1e-9, 1e-6);
    ck_assert_double_eq_tol(field(c, "conv_train_gflop"), 2 * (2 * c1 + 3 * c2) * 1e-9, 1e-6);
    ck_assert_msg(field(c, "train_step_ms") > 0 && field(c, "max_rss_mb") > 0, "%.600s", c);
}
END_TEST

START_TEST(bad_options_and_a_missing_peer) {
    static char out[1 << 16];
    ck_assert_int_eq(vt_test_cli("bench --model resnet9000", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "unknown model 'resnet9000'"), "%s", out);
    ck_assert_int_eq(vt_test_cli("bench --model smallcnn,vgg7", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "unknown model 'vgg7'"), "%s", out);
    ck_assert_int_eq(vt_test_cli("bench --steps 0", out, sizeof out), 2);
    /* a UNet input not divisible by 16 fails that model with the model's message */
    ck_assert_int_eq(vt_test_cli("bench --model unet2d --size 20 --batch 1 --steps 1 --warmup 0 --no-peer --gemm-size 64",
                         out, sizeof out), 1);
    ck_assert_msg(strstr(out, "FAILED") && strstr(out, "divisible"), "%s", out);
    /* the peer script is missing: the vertebra side still runs, the note says why */
    int rc = vt_test_cli("bench --model smallcnn --steps 1 --warmup 0 --gemm-size 64 --peer /nonexistent/torch_bench.py",
                 out, sizeof out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(strstr(out, "PyTorch peer /nonexistent/torch_bench.py not found"), "%s", out);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("tools/bench");
    TCase *tc = tcase_create("bench");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, tiny_runs_write_every_field);
    tcase_add_test(tc, bad_options_and_a_missing_peer);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
