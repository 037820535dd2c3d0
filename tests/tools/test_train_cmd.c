/* test_train_cmd.c: `vertebra train CONFIG`: dispatch on the `method` line, clear errors for
 * a missing/unknown method or a bad key (FILE:LINE), and a tiny CT bone-quality run through
 * the example config with --set overrides writing config.resolved. */
#include <stdlib.h>
#include <sys/wait.h>
#include "vt_test.h"

/* script runs with $B = the vertebra binary and $D = a temp dir removed afterwards */
static int sh(const char *script, char *out, size_t n) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "sh -c 'B=%s; D=$(mktemp -d); %s; rc=$?; rm -rf $D; exit $rc'", vt_test_bin(), script);
    return vt_test_shell(cmd, out, n);
}

START_TEST(errors_name_the_file) {
    static char out[1 << 14];
    ck_assert_int_eq(sh("$B train", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "usage: vertebra train CONFIG") != NULL, "%s", out);
    ck_assert_int_eq(sh("$B train $D/none", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "/none: cannot open") != NULL, "%s", out);
    ck_assert_int_eq(sh("printf \"[run]\\nmethod = ctbq\\n\" > $D/c; $B train $D/c", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "no `method = NAME` line before the first [section]") != NULL, "%s", out);
    ck_assert_int_eq(sh("printf \"# x\\nmethod = gan\\n\" > $D/c; $B train $D/c", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "unknown method 'gan'") != NULL, "%s", out);
    ck_assert_int_eq(sh("printf \"method = ctbq\\n[optim]\\nlr_sheduler = 3\\n\" > $D/c; $B train $D/c", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "/c:3: unknown key 'lr_sheduler' in [optim]") != NULL, "%s", out);
}
END_TEST

START_TEST(example_config_runs) {
    static char out[1 << 16];
    int rc = sh("$B train examples/ct_bone_quality/config --set out=$D/r --set optim.epochs=1 --set data.patients=6 "
                "--set data.slices_per_vertebra=2 --set model.arch=smallcnn --set threads=1 && ls $D/r && "
                "grep -c \"^arch = smallcnn\" $D/r/config.resolved", out, sizeof out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(strstr(out, "summary.json") && strstr(out, "metrics.jsonl") && strstr(out, "config.resolved"), "%s", out);
    ck_assert_msg(strstr(out, "test results (mtl_spl)") != NULL, "%s", out);
}
END_TEST

/* --resume RUN_DIR: reruns RUN_DIR/config.resolved from the last checkpoint (here: one more
 * epoch of a finished one-epoch run); trainers without resume say so. */
START_TEST(resume_a_run_folder) {
    static char out[1 << 16];
    int rc = sh("$B train examples/ct_bone_quality/config --set out=$D/r --set optim.epochs=1 --set data.patients=6 "
                "--set data.slices_per_vertebra=2 --set model.arch=smallcnn --set threads=1 > $D/a.log 2>&1 && "
                "$B train --resume $D/r --set optim.epochs=2; echo rc=$?; wc -l < $D/r/metrics.jsonl; "
                "$B train --resume $D/none; echo rc_none=$?; "
                "printf \"method = detect\\n\" > $D/d.cfg; mkdir $D/det; cp $D/d.cfg $D/det/config.resolved; "
                "$B train --resume $D/det; echo rc_det=$?", out, sizeof out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(strstr(out, "rc=0") && strstr(out, "test results (mtl_spl)"), "%s", out);
    ck_assert_msg(strstr(out, "\n2\n") != NULL, "metrics.jsonl should have 2 epochs: %s", out);
    ck_assert_msg(strstr(out, "/none/config.resolved: cannot open") && strstr(out, "rc_none=2"), "%s", out);
    ck_assert_msg(strstr(out, "/det/checkpoint.vtck: No such file") && strstr(out, "rc_det=1"), "%s", out);
}
END_TEST

/* detect and mdseg: a one-epoch run, then --resume with one epoch more appends the second
 * epoch (the bit-identity itself is tested in tests/train/test_detect.c and test_mdseg.c) */
START_TEST(resume_detect_and_mdseg) {
    static char out[1 << 16];
    int rc = sh("$B train examples/xray_detect/config --set run.dir=$D/d --set train.epochs=1 --set data.size=64 "
                "--set data.n_train=2 --set data.n_val=1 --set train.batch=2 --set model.fpn_channels=16 "
                "--set model.head_convs=1 --set train.threads=1 > $D/a.log 2>&1 || cat $D/a.log; "
                "$B train --resume $D/d --set train.epochs=2; echo rc_d=$?; wc -l < $D/d/metrics.jsonl; "
                "$B train examples/multidomain_seg/config --set run.out=$D/m --set train.epochs=1 --set data.size=32 "
                "--set data.train_per_domain=2 --set data.test_per_domain=1 --set model.depth=2 --set model.base_width=4 "
                "--set contrastive.weight_scale3=0 --set train.batch=6 --set run.threads=1 > $D/b.log 2>&1 || cat $D/b.log; "
                "$B train --resume $D/m --set train.epochs=2; echo rc_m=$?; wc -l < $D/m/metrics.jsonl", out, sizeof out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(strstr(out, "rc_d=0\n2\n") && strstr(out, "resuming ") , "%s", out);
    ck_assert_msg(strstr(out, "rc_m=0\n2\n") && strstr(out, "after epoch 1\n"), "%s", out);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("tools/train");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, errors_name_the_file);
    tcase_add_test(tc, example_config_runs);
    tcase_add_test(tc, resume_a_run_folder);
    tcase_add_test(tc, resume_detect_and_mdseg);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
