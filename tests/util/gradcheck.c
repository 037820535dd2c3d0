/* gradcheck.c: finite-difference gradient checks.
 *
 * Ops compute in f32; the probe L = sum(y * r) is accumulated in double and the central
 * difference (L(x+eps) - L(x-eps)) / 2eps is compared with the analytic gradient. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "vt_test.h"

vt_tensor *vt_test_rand(int ndim, const int64_t *shape, float lo, float hi, uint64_t seed) {
    vt_tensor *t = vt_tensor_new(ndim, shape);
    vt_rng r;
    vt_rng_init(&r, seed);
    vt_rng_uniform(&r, t->data, t->numel, lo, hi);
    vt_tensor_set_requires_grad(t, 1);
    return t;
}

static double probe(vt_test_fn fn, void *ctx, vt_tensor **in, const float *r) {
    vt_tensor *y = fn(in, ctx);
    ck_assert_msg(y != NULL, "gradcheck forward failed: %s", vt_last_error());
    double s = 0;
    for (int64_t i = 0; i < y->numel; i++) s += (double)y->data[i] * r[i];
    vt_arena_reset(NULL);
    return s;
}

void vt_check_gradient(vt_test_fn fn, void *ctx, int n_in, vt_tensor **in, double eps,
                       double atol, double rtol, int64_t max_elems) {
    vt_arena_reset(NULL);
    for (int i = 0; i < n_in; i++) vt_tensor_zero_grad(in[i]);
    vt_tensor *y = fn(in, ctx);
    ck_assert_msg(y != NULL, "gradcheck forward failed: %s", vt_last_error());
    int64_t ny = y->numel;
    float *r = malloc((size_t)ny * sizeof(float));
    vt_rng rr;
    vt_rng_init(&rr, 1234);
    vt_rng_uniform(&rr, r, ny, -1.f, 1.f);
    vt_tensor *rt = vt_tensor_from_data(y->ndim, y->shape, r);
    ck_assert_msg(vt_backward_with(y, rt) == VT_OK, "gradcheck backward: %s", vt_last_error());
    vt_tensor_free(rt);
    vt_arena_reset(NULL);
    int was = vt_set_grad_enabled(0);
    for (int i = 0; i < n_in; i++) {
        vt_tensor *x = in[i];
        if (!x->requires_grad) continue;
        ck_assert_msg(x->grad != NULL, "gradcheck: input %d received no gradient", i);
        int64_t step = (max_elems > 0 && x->numel > max_elems) ? x->numel / max_elems : 1;
        for (int64_t k = 0; k < x->numel; k += step) {
            float orig = x->data[k];
            x->data[k] = (float)(orig + eps);
            double lp = probe(fn, ctx, in, r);
            x->data[k] = (float)(orig - eps);
            double lm = probe(fn, ctx, in, r);
            x->data[k] = orig;
            /* the step actually taken in f32 */
            double h = ((double)(float)(orig + eps) - (double)(float)(orig - eps));
            double num = (lp - lm) / h, ana = x->grad->data[k];
            ck_assert_msg(fabs(num - ana) <= atol + rtol * fabs(num),
                          "gradcheck: input %d element %lld: analytic %.7g, numeric %.7g", i,
                          (long long)k, ana, num);
        }
    }
    vt_set_grad_enabled(was);
    free(r);
}

void vt_check_gradient_at_fixture(const char *name, int n_in, unsigned probe_mask, vt_test_fn fn,
                                  void *ctx, double eps, double atol, double rtol,
                                  int64_t max_elems) {
    char key[256];
    vt_tensor *in[8];
    ck_assert(n_in <= 8);
    for (int i = 0; i < n_in; i++) {
        snprintf(key, sizeof key, "%s.x%d", name, i);
        in[i] = vt_fixture(key);
        vt_tensor_set_requires_grad(in[i], (probe_mask >> i) & 1);
    }
    vt_check_gradient(fn, ctx, n_in, in, eps, atol, rtol, max_elems);
    for (int i = 0; i < n_in; i++) vt_tensor_free(in[i]);
}
