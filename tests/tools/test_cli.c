/* test_cli.c: the vertebra command line: clear errors for bad arguments, and a short
 * Fashion-MNIST run that must learn (skipped when the Debian dataset is absent). */
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include "vt_test.h"

#define FMNIST "/usr/share/datasets/fashion-mnist"

START_TEST(bad_arguments_give_clear_errors) {
    static char out[1 << 16];
    ck_assert_int_eq(vt_test_cli("", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "usage"));
    ck_assert_int_eq(vt_test_cli("frobnicate", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "unknown command 'frobnicate'"));
    ck_assert_int_eq(vt_test_cli("fmnist --epochs abc", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--epochs: 'abc' is not an integer") != NULL, "%s", out);
    ck_assert_int_eq(vt_test_cli("fmnist --epochs 0", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "out of range") != NULL, "%s", out);
    ck_assert_int_eq(vt_test_cli("fmnist --lr", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "--lr needs a value"));
    ck_assert_int_eq(vt_test_cli("fmnist --bogus 1", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "unknown option '--bogus'"));
    ck_assert_int_eq(vt_test_cli("fmnist --optimizer rmsprop", out, sizeof out), 2);
    ck_assert_int_eq(vt_test_cli("fmnist --data /nonexistent", out, sizeof out), 1);
    ck_assert_msg(strstr(out, "/nonexistent/train-images-idx3-ubyte.gz: cannot open") != NULL, "%s", out);
    ck_assert_int_eq(vt_test_cli("fmnist --help", out, sizeof out), 0);
    ck_assert_int_eq(vt_test_cli("bench --model resnet9000", out, sizeof out), 2);
    ck_assert_int_eq(vt_test_cli("phantom --schedule foo", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--schedule: 'foo' is not constant, step, cosine or poly") != NULL, "%s", out);
    ck_assert_int_eq(vt_test_cli("phantom --train-size 640 --size 16 --epochs 1 --schedule cosine --warmup 20", out, sizeof out), 1);
    ck_assert_msg(strstr(out, "total_steps 10 must exceed warmup_steps 20") != NULL, "%s", out);
    ck_assert_int_eq(vt_test_cli("phantom --on-nan maybe", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--on-nan: 'maybe' is not stop or skip") != NULL, "%s", out);
}
END_TEST

/* the benchmark command keeps working (a smoke run; timings are not asserted) */
START_TEST(bench_runs) {
    static char out[1 << 16];
    ck_assert_int_eq(vt_test_cli("bench --iters 2 --warmup 1 --no-peer", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "smallcnn") != NULL, "%s", out);
}
END_TEST

START_TEST(short_fashion_mnist_run_learns) {
    if (access(FMNIST "/train-images-idx3-ubyte.gz", R_OK) != 0) {
        fprintf(stderr, "SKIP: %s absent (apt-get install dataset-fashion-mnist)\n", FMNIST);
        return;
    }
    static char out[1 << 16];
    int rc = vt_test_cli("fmnist --epochs 1 --limit-train 3000 --limit-test 1000 --log-every 10", out, sizeof out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(strstr(out, "img/s ETA") != NULL, "no progress line: %s", out);
    const char *f = strstr(out, "final: test accuracy ");
    ck_assert_msg(f != NULL, "%s", out);
    double acc = atof(f + strlen("final: test accuracy "));
    /* 47 SGD steps on 3000 images: PyTorch reaches ~70%; chance is 10% */
    ck_assert_msg(acc > 60.0, "test accuracy %.2f%% after a short run: %s", acc, out);
}
END_TEST

/* The main job on the built-in phantoms, shortened: it must beat chance (25%) clearly. */
START_TEST(short_phantom_run_learns) {
    static char out[1 << 16];
    int rc = vt_test_cli("phantom --epochs 2 --train-size 1500 --test-size 500 --size 32", out, sizeof out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    const char *f = strstr(out, "final: test accuracy ");
    ck_assert_msg(f != NULL, "%s", out);
    double acc = atof(f + strlen("final: test accuracy "));
    ck_assert_msg(acc > 40.0, "phantom test accuracy %.2f%% (chance 25%%): %s", acc, out);
    ck_assert_int_eq(vt_test_cli("phantom --size 8", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--size: 8 is out of range 16..256") != NULL, "%s", out);
}
END_TEST

/* Ctrl-C finishes the current step, saves a checkpoint and exits 130; --resume then ends
 * exactly where an uninterrupted run ends (same test accuracy, bit-identical weights). */
START_TEST(sigint_saves_a_checkpoint_that_resumes_exactly) {
    static char out[1 << 16];
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "sh -c 'B=%s; D=$(mktemp -d); A=\"phantom --train-size 4000 --test-size 200 --size 32 --epochs 2 --log-every 5\"; "
             "$B $A --out $D/a > $D/a.log 2>&1; "
             "$B $A --out $D/b > $D/b.log 2>&1 & p=$!; "
             "while ! grep -q step $D/b.log; do sleep 0.05; done; kill -INT $p; wait $p; echo rc=$?; "
             "$B $A --out $D/b --resume $D/b/checkpoint.vtck > $D/c.log 2>&1; echo rc2=$?; "
             "grep -E \"interrupted|saved\" $D/b.log; grep resumed $D/c.log; "
             "echo A:$(grep -o \"final: test accuracy [0-9.]*\" $D/a.log); "
             "echo C:$(grep -o \"final: test accuracy [0-9.]*\" $D/c.log); rm -rf $D'", vt_test_bin());
    vt_test_shell(cmd, out, sizeof out);
    ck_assert_msg(strstr(out, "train: interrupted by SIGINT at epoch 1") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "rc=130") && strstr(out, "rc2=0"), "%s", out);
    ck_assert_msg(strstr(out, "saved ") && strstr(out, "resumed from "), "%s", out);
    const char *a = strstr(out, "A:final: test accuracy "), *c = strstr(out, "C:final: test accuracy ");
    ck_assert_msg(a && c, "%s", out);
    ck_assert_msg(atof(a + 23) == atof(c + 23), "uninterrupted %.2f vs resumed %.2f: %s", atof(a + 23), atof(c + 23), out);
}
END_TEST

/* kill -9 at arbitrary moments of a run that writes a checkpoint every ~50 ms (tiny epochs):
 * whatever was being written, checkpoint.vtck is a whole one (temp file + rename) and the run
 * resumes to the end. Also checks the run folder: TensorBoard events and curve plots. */
START_TEST(kill_9_leaves_a_resumable_run) {
    static char out[1 << 16];
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "sh -c 'B=%s; D=$(mktemp -d); A=\"phantom --train-size 256 --test-size 64 --size 16 --epochs 30 --threads 1\"; "
             "for t in 0.05 0.13 0.21 0.34 0.5; do "
             "  rm -rf $D/r; $B $A --out $D/r > $D/k.log 2>&1 & p=$!; "
             "  while [ ! -f $D/r/checkpoint.vtck ]; do sleep 0.01; done; sleep $t; kill -9 $p; wait $p 2>/dev/null; "
             "  $B $A --out $D/r --resume $D/r/checkpoint.vtck > $D/r.log 2>&1; echo resume_rc=$?; "
             "  grep -E \"error|nothing to do\" $D/r.log; "
             "done; "
             "ls $D/r | grep -c events.out.tfevents; ls $D/r/plots; rm -rf $D'", vt_test_bin());
    vt_test_shell(cmd, out, sizeof out);
    int resumed = 0;
    for (const char *q = out; (q = strstr(q, "resume_rc=0")); q++) resumed++;
    ck_assert_msg(resumed == 5, "%d of 5 runs resumed after kill -9:\n%s", resumed, out);
    ck_assert_msg(strstr(out, "curve_test_accuracy.png") && strstr(out, "loss.png"), "%s", out);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("tools/cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, bad_arguments_give_clear_errors);
    tcase_add_test(tc, bench_runs);
    tcase_add_test(tc, short_fashion_mnist_run_learns);
    tcase_add_test(tc, short_phantom_run_learns);
    tcase_add_test(tc, sigint_saves_a_checkpoint_that_resumes_exactly);
    tcase_add_test(tc, kill_9_leaves_a_resumable_run);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
