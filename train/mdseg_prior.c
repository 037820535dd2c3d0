/* mdseg_prior.c: the anatomical shape prior of ACNN (Oktay et al., "Anatomically
 * Constrained Neural Networks", IEEE TMI 2018): a convolutional autoencoder of one-hot
 * ground-truth masks; once trained and frozen, its encoder maps a predicted soft mask and
 * the true mask to codes whose squared distance regularises the segmentation network
 * towards shapes the autoencoder can represent. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "classify.h" /* vt_gather_rows */
#include "init.h"
#include "losses.h"
#include "mdseg.h"
#include "optim.h"

vt_mdseg_prior *vt_mdseg_prior_new(int classes, int width, int latent) {
    if (classes < 1 || classes > 256 || width < 1 || width > 256 || latent < 1 || latent > 256) {
        vt_error("mdseg prior: classes %d, width %d, latent %d must be in 1..256", classes, width, latent);
        return NULL;
    }
    vt_mdseg_prior *p = calloc(1, sizeof *p);
    if (!p || !(p->params = vt_params_new())) { free(p); vt_error("mdseg prior: out of memory"); return NULL; }
    p->classes = classes;
    p->width = width;
    p->latent = latent;
    /* encoder K -> w -> 2w -> latent, decoder latent -> 2w -> w -> K */
    const int ch[7] = {classes, width, 2 * width, latent, 2 * width, width, classes};
    vt_status st = VT_OK;
    for (int i = 0; i < 6 && st == VT_OK; i++) {
        char name[64];
        snprintf(name, sizeof name, "prior.%s.%d.weight", i < 3 ? "enc" : "dec", i % 3);
        p->w[i] = vt_params_add(p->params, name, VT_DIMS(ch[i + 1], ch[i], 3, 3));
        snprintf(name, sizeof name, "prior.%s.%d.bias", i < 3 ? "enc" : "dec", i % 3);
        p->b[i] = vt_params_add(p->params, name, VT_DIMS(ch[i + 1]));
        if (!p->w[i] || !p->b[i]) { st = VT_ERR; break; }
        vt_init_default_uniform(p->w[i], vt_init_fan_in(p->w[i]));
        vt_init_default_uniform(p->b[i], vt_init_fan_in(p->w[i]));
    }
    if (st == VT_OK) st = vt_params_finalize(p->params);
    if (st != VT_OK) { vt_mdseg_prior_free(p); return NULL; }
    return p;
}

void vt_mdseg_prior_free(vt_mdseg_prior *p) {
    if (!p) return;
    vt_params_free(p->params);
    free(p);
}

vt_tensor *vt_mdseg_prior_encode(vt_mdseg_prior *p, vt_tensor *x) {
    if (!x) return NULL;
    if (x->ndim != 4 || x->shape[1] != p->classes || x->shape[2] % 8 || x->shape[3] % 8) {
        char b[64];
        vt_error("mdseg prior: input %s must be (N, %d, H, W) with H, W multiples of 8", vt_shape_str(x, b, sizeof b), p->classes);
        return NULL;
    }
    vt_conv2d_params cp = {{2, 2}, {1, 1}, {1, 1}, 1};
    for (int i = 0; i < 3; i++) {
        x = vt_conv2d(x, p->w[i], p->b[i], &cp); /* (N, ch, S / 2^(i+1), ...) */
        if (i < 2) x = vt_relu(x);
    }
    return x; /* (N, latent, S/8, S/8) */
}

vt_tensor *vt_mdseg_prior_decode(vt_mdseg_prior *p, vt_tensor *z) {
    vt_conv2d_params cp = {{1, 1}, {1, 1}, {1, 1}, 1};
    vt_upsample_params up = {VT_UPSAMPLE_NEAREST, 0, {0, 0, 0}, {2, 2, 2}};
    for (int i = 3; i < 6; i++) {
        z = vt_conv2d(vt_upsample(z, &up), p->w[i], p->b[i], &cp);
        if (i < 5) z = vt_relu(z);
    }
    return z; /* logits (N, K, S, S) */
}

vt_tensor *vt_mdseg_onehot(const vt_tensor *masks, int k) {
    if (!masks || masks->ndim != 4 || masks->shape[1] != 1) { vt_error("mdseg onehot: masks must be (N, 1, H, W)"); return NULL; }
    int64_t n = masks->shape[0], plane = masks->shape[2] * masks->shape[3];
    vt_tensor *o = vt_tensor_zeros(VT_DIMS(n, k, masks->shape[2], masks->shape[3]));
    if (!o) return NULL;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < plane; j++) {
            int c = (int)masks->data[i * plane + j];
            if (c < 0 || c >= k) { vt_error("mdseg onehot: label %d not in [0, %d)", c, k); return NULL; }
            o->data[(i * k + c) * plane + j] = 1.f;
        }
    return o;
}

vt_tensor *vt_mdseg_prior_distance(vt_mdseg_prior *p, vt_tensor *probs, vt_tensor *onehot) {
    if (!probs || !onehot) return NULL;
    if (!vt_shape_equal(probs, onehot)) { vt_error("mdseg prior distance: prediction and ground truth shapes differ"); return NULL; }
    int g = vt_no_grad_begin();
    vt_tensor *zg = vt_mdseg_prior_encode(p, onehot);
    vt_no_grad_end(g);
    vt_tensor *d = vt_sub(vt_mdseg_prior_encode(p, probs), zg ? vt_tensor_detach(zg) : NULL);
    int axes[4] = {0, 1, 2, 3};
    return vt_mean(vt_mul(d, d), 4, axes, 0);
}

vt_status vt_mdseg_prior_train(vt_mdseg_prior *p, const vt_tensor *masks, int epochs, int batch,
                               float lr, uint64_t seed, double *last_loss) {
    if (epochs < 0 || batch < 1) return vt_error("mdseg prior train: epochs %d (>= 0), batch %d (>= 1)", epochs, batch);
    int64_t n = masks->shape[0];
    vt_optim *opt = vt_adam_new(p->params, lr, 0.9f, 0.999f, 1e-8f, 0.f);
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)n);
    if (!opt || !perm) { vt_optim_free(opt); free(perm); return vt_error("mdseg prior train: out of memory"); }
    vt_rng r;
    vt_rng_init(&r, seed);
    vt_status st = VT_OK;
    double mean = NAN;
    for (int ep = 0; ep < epochs && st == VT_OK; ep++) {
        vt_rng_permutation(&r, perm, n);
        double sum = 0;
        for (int64_t b0 = 0; b0 < n; b0 += batch) {
            int64_t b = n - b0 < batch ? n - b0 : batch;
            vt_tensor *m = vt_gather_rows(masks, perm + b0, b);
            vt_tensor *logits = vt_mdseg_prior_decode(p, vt_mdseg_prior_encode(p, vt_mdseg_onehot(m, p->classes)));
            vt_tensor *loss = logits ? vt_cross_entropy(logits, vt_reshape(m, VT_DIMS(b, m->shape[2], m->shape[3])), NULL) : NULL;
            if (!loss) { st = VT_ERR; break; }
            sum += vt_tensor_item(loss) * (double)b;
            vt_params_zero_grad(p->params);
            if ((st = vt_backward(loss)) != VT_OK || (st = vt_optim_step(opt)) != VT_OK) break;
            vt_arena_reset(NULL);
        }
        mean = sum / (double)n;
    }
    vt_arena_reset(NULL);
    vt_optim_free(opt);
    free(perm);
    if (st != VT_OK) return st;
    for (int i = 0; i < vt_params_count(p->params); i++) /* frozen from now on */
        if (!vt_params_is_buffer(p->params, i)) vt_tensor_set_requires_grad(vt_params_tensor(p->params, i), 0);
    if (last_loss) *last_loss = mean;
    return VT_OK;
}
