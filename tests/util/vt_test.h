/* vt_test.h: helpers shared by the Check suites.
 *
 * An op test usually needs two lines:
 *   vt_check_fixture("relu", 1, fn, NULL, 1e-5, 1e-5);     // PyTorch parity, forward+backward
 *   vt_check_gradient(fn, NULL, 1, (vt_tensor*[]){x}, ...); // finite differences
 * where fn maps the inputs to the op's output. */
#ifndef VT_TEST_H
#define VT_TEST_H

#include <check.h>
#include <stdio.h>
#include <string.h>
#include "vertebra.h"

typedef vt_tensor *(*vt_test_fn)(vt_tensor **inputs, void *ctx);

/* Loads tests/fixtures/<name>.npy (dir from $VT_FIXTURES); fails the test if missing. */
vt_tensor *vt_fixture(const char *name);
/* 1 if fixture <name>.npy exists */
int vt_fixture_exists(const char *name);

/* Fails the test (naming `what` and the worst element) unless
 * |got - want| <= atol + rtol |want| everywhere. */
void vt_expect_close(const float *got, const float *want, int64_t n, double atol, double rtol,
                     const char *what);
void vt_expect_tensor_close(const vt_tensor *got, const vt_tensor *want, double atol,
                            double rtol, const char *what);

/* PyTorch parity for fixture case `name` made by tests/ref: loads <name>.x0..x{n-1},
 * <name>.y, <name>.gy and <name>.g0.. (gradients; missing g files are not checked),
 * runs fn forward, compares y, backpropagates gy, compares every input gradient. */
void vt_check_fixture(const char *name, int n_in, vt_test_fn fn, void *ctx, double atol,
                      double rtol);

/* Finite-difference gradient check of fn at the given heap inputs (left unchanged).
 * The scalar probed is L = sum(fn(x) * r), r a fixed random tensor, accumulated in double;
 * central differences with step eps. Inputs with requires_grad == 0 are not checked.
 * At most max_elems elements per input are probed (spread evenly; 0 = all). */
void vt_check_gradient(vt_test_fn fn, void *ctx, int n_in, vt_tensor **inputs, double eps,
                       double atol, double rtol, int64_t max_elems);

/* vt_check_gradient at the inputs of fixture case `name` (<name>.x0 ...); input i is
 * probed when bit i of probe_mask is set (VT_PROBE_ALL: every input). */
#define VT_PROBE_ALL 0xffffffffu
void vt_check_gradient_at_fixture(const char *name, int n_in, unsigned probe_mask, vt_test_fn fn,
                                  void *ctx, double eps, double atol, double rtol,
                                  int64_t max_elems);

/* Heap tensor with uniform [lo, hi) values from a seed, requires_grad set. */
vt_tensor *vt_test_rand(int ndim, const int64_t *shape, float lo, float hi, uint64_t seed);

/* The vertebra program under test: $VT_BIN (set by make test), else build/vertebra. */
const char *vt_test_bin(void);
/* Runs `( cmd ) 2>&1` through sh; output (at most n-1 bytes, NUL-terminated) into out;
 * returns the exit status (-1 when killed by a signal). */
int vt_test_shell(const char *cmd, char *out, size_t n);
/* vt_test_shell of `vertebra ARGS` */
int vt_test_cli(const char *args, char *out, size_t n);

/* main() running one suite; exit status is the number of failures. */
#define VT_TEST_MAIN(suite_fn)                                                     \
    int main(void) {                                                               \
        SRunner *sr = srunner_create(suite_fn());                                  \
        srunner_run_all(sr, CK_NORMAL);                                            \
        int failed = srunner_ntests_failed(sr);                                    \
        srunner_free(sr);                                                          \
        return failed ? 1 : 0;                                                     \
    }

#endif
