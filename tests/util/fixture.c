/* fixture.c: loading PyTorch reference fixtures and comparing against them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "vt_test.h"

static void fixture_path(const char *name, char *buf, size_t n) {
    const char *dir = getenv("VT_FIXTURES");
    snprintf(buf, n, "%s/%s.npy", dir ? dir : "tests/fixtures", name);
}

int vt_fixture_exists(const char *name) {
    char p[512];
    fixture_path(name, p, sizeof p);
    return access(p, R_OK) == 0;
}

vt_tensor *vt_fixture(const char *name) {
    char p[512];
    fixture_path(name, p, sizeof p);
    vt_tensor *t = vt_npy_load(p);
    ck_assert_msg(t != NULL, "fixture %s: %s (regenerate with `make fixtures`)", name, vt_last_error());
    return t;
}

void vt_expect_close(const float *got, const float *want, int64_t n, double atol, double rtol,
                     const char *what) {
    int64_t worst = -1, bad = 0;
    double worst_excess = 0;
    for (int64_t i = 0; i < n; i++) {
        double g = got[i], w = want[i], tol = atol + rtol * fabs(w), err = fabs(g - w);
        if (!(err <= tol)) { /* also catches NaN */
            bad++;
            double excess = isnan(err) ? INFINITY : err - tol;
            if (worst < 0 || excess > worst_excess) { worst = i; worst_excess = excess; }
        }
    }
    ck_assert_msg(bad == 0, "%s: %lld of %lld elements differ; worst [%lld] got %.8g want %.8g (atol %g rtol %g)",
                  what, (long long)bad, (long long)n, (long long)worst, (double)got[worst],
                  (double)want[worst], atol, rtol);
}

void vt_expect_tensor_close(const vt_tensor *got, const vt_tensor *want, double atol,
                            double rtol, const char *what) {
    ck_assert_msg(got != NULL, "%s: result is NULL: %s", what, vt_last_error());
    ck_assert_msg(got->numel == want->numel, "%s: %lld elements, want %lld", what,
                  (long long)got->numel, (long long)want->numel);
    vt_expect_close(got->data, want->data, got->numel, atol, rtol, what);
}

void vt_check_fixture(const char *name, int n_in, vt_test_fn fn, void *ctx, double atol,
                      double rtol) {
    char key[256];
    vt_tensor *in[8];
    ck_assert(n_in <= 8);
    for (int i = 0; i < n_in; i++) {
        snprintf(key, sizeof key, "%s.x%d", name, i);
        in[i] = vt_fixture(key);
        snprintf(key, sizeof key, "%s.g%d", name, i);
        vt_tensor_set_requires_grad(in[i], vt_fixture_exists(key));
    }
    snprintf(key, sizeof key, "%s.y", name);
    vt_tensor *want = vt_fixture(key);
    vt_tensor *y = fn(in, ctx);
    snprintf(key, sizeof key, "%s forward", name);
    vt_expect_tensor_close(y, want, atol, rtol, key);
    snprintf(key, sizeof key, "%s.gy", name);
    if (vt_fixture_exists(key)) {
        vt_tensor *gy = vt_fixture(key);
        vt_tensor *gy_shaped = vt_reshape(gy, y->ndim, y->shape);
        ck_assert_msg(vt_backward_with(y, gy_shaped) == VT_OK, "%s backward: %s", name, vt_last_error());
        for (int i = 0; i < n_in; i++) {
            snprintf(key, sizeof key, "%s.g%d", name, i);
            if (!vt_fixture_exists(key)) continue;
            vt_tensor *gw = vt_fixture(key);
            ck_assert_msg(in[i]->grad, "%s: input %d got no gradient", name, i);
            snprintf(key, sizeof key, "%s grad of input %d", name, i);
            vt_expect_tensor_close(in[i]->grad, gw, atol, rtol, key);
            vt_tensor_free(gw);
        }
        vt_tensor_free(gy);
    }
    for (int i = 0; i < n_in; i++) vt_tensor_free(in[i]);
    vt_tensor_free(want);
    vt_arena_reset(NULL);
}
