/* softseg_train.c: the soft cord segmentation model (UNet2D, output in [0, 1]), its training
 * loop (Adam; Adaptive Wing / MSE / soft Dice against the soft or the binary GT), checkpoint
 * save / load, and prediction on prepared slices or in an input's exact geometry. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "checkpoint.h"
#include "classify.h" /* vt_gather_rows */
#include "losses.h"
#include "optim.h"
#include "progress.h"
#include "resample.h"
#include "softseg.h"

vt_model *vt_softseg_model_new(const vt_softseg_options *o) {
    vt_model_config c;
    vt_model_config_default(&c, "unet2d");
    c.in_channels = 1;
    c.num_classes = 1;
    c.depth = o->depth;
    c.base_width = o->base_width;
    c.norm = o->instance_norm ? VT_NORM_INSTANCE : VT_NORM_BATCH;
    c.head = o->clamp_head ? VT_HEAD_NONE : VT_HEAD_SIGMOID;
    return vt_model_new(&c);
}

vt_tensor *vt_softseg_forward(vt_model *m, int clamp_head, vt_tensor *x, int training) {
    vt_tensor *y = vt_model_forward(m, x, training);
    /* no head: a regression output clipped to the soft-mask range (ReLU-clipped in the paper) */
    return y && clamp_head ? vt_clamp(y, 0.f, 1.f) : y;
}

static vt_tensor *loss_of(const vt_softseg_options *o, vt_tensor *pred, vt_tensor *target) {
    switch (o->loss) {
    case VT_SOFTSEG_ADAPWING: {
        vt_adaptive_wing_options aw = vt_adaptive_wing_options_default();
        return vt_adaptive_wing_loss(pred, target, &aw);
    }
    case VT_SOFTSEG_MSE: return vt_mse_loss(pred, target, VT_REDUCE_MEAN);
    case VT_SOFTSEG_DICE: {
        vt_dice_options d = vt_dice_options_default();
        d.activation = VT_DICE_ACT_NONE; /* the model already outputs [0, 1] */
        return vt_dice_loss(pred, target, &d);
    }
    }
    vt_error("softseg: unknown loss %d", (int)o->loss);
    return NULL;
}

/* stacks the training slices of every volume: images and targets (N, 1, H, W) */
static vt_status gather_train(const vt_softseg_options *o, const vt_softseg_data *d, vt_tensor **x, vt_tensor **y) {
    int64_t n = 0, H = d->height, W = d->width, hw = H * W;
    for (int i = 0; i < d->n; i++) n += d->vol[i].train_hi - d->vol[i].train_lo;
    if (n < 1) return vt_error("softseg train: no training slices");
    *x = vt_tensor_new(VT_DIMS(n, 1, H, W));
    *y = vt_tensor_new(VT_DIMS(n, 1, H, W));
    if (!*x || !*y) return VT_ERR;
    int64_t k = 0;
    for (int i = 0; i < d->n; i++) {
        const vt_softseg_volume *v = &d->vol[i];
        const vt_tensor *t = o->soft_gt ? v->soft : v->mask;
        for (int64_t z = v->train_lo; z < v->train_hi; z++, k++) {
            memcpy((*x)->data + k * hw, v->image->data + z * hw, sizeof(float) * (size_t)hw);
            memcpy((*y)->data + k * hw, t->data + z * hw, sizeof(float) * (size_t)hw);
        }
    }
    return VT_OK;
}

vt_status vt_softseg_train(vt_model *m, const vt_softseg_options *o, const vt_softseg_data *d,
                           const char *out_dir, vt_softseg_result *res) {
    memset(res, 0, sizeof *res);
    if (o->epochs < 1 || o->batch < 1) return vt_error("softseg train: epochs %d and batch %d must be >= 1", o->epochs, o->batch);
    vt_tensor *X = NULL, *Y = NULL;
    vt_status st = gather_train(o, d, &X, &Y);
    vt_optim *opt = st == VT_OK ? vt_adam_new(m->params, o->lr, 0.9f, 0.999f, 1e-8f, 0.f) : NULL;
    int64_t n = X ? X->shape[0] : 0;
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)(n + 1)), *bidx = malloc(sizeof(int64_t) * (size_t)o->batch);
    if (st == VT_OK && (!opt || !perm || !bidx)) st = opt ? vt_error("softseg train: out of memory") : VT_ERR;
    FILE *metrics = NULL;
    char path[4096];
    if (st == VT_OK && out_dir) {
        snprintf(path, sizeof path, "%s/metrics.jsonl", out_dir);
        if (!(metrics = fopen(path, "w"))) st = vt_error("%s: cannot create: %s", path, strerror(errno));
    }
    vt_rng shuffle;
    vt_rng_init(&shuffle, o->seed * 7 + 3);
    int64_t steps = (n + o->batch - 1) / o->batch;
    vt_progress prog;
    vt_progress_begin(&prog, stdout, steps * o->epochs, o->log_every > 0 ? o->log_every : 20);
    double t_start = vt_now();
    for (int ep = 1; ep <= o->epochs && st == VT_OK; ep++) {
        vt_rng_permutation(&shuffle, perm, n);
        double t0 = vt_now(), loss_sum = 0;
        for (int64_t s = 0; s < steps; s++) {
            int64_t b0 = s * o->batch, b = n - b0 < o->batch ? n - b0 : o->batch;
            for (int64_t i = 0; i < b; i++) bidx[i] = perm[b0 + i];
            vt_tensor *pred = vt_softseg_forward(m, o->clamp_head, vt_gather_rows(X, bidx, b), 1);
            vt_tensor *loss = pred ? loss_of(o, pred, vt_gather_rows(Y, bidx, b)) : NULL;
            if (!loss) { st = VT_ERR; break; }
            double l = vt_tensor_item(loss);
            if (!isfinite(l)) { st = vt_error("softseg train: loss is %g at epoch %d step %lld (lower optim.lr?)", l, ep, (long long)s + 1); break; }
            vt_params_zero_grad(m->params);
            if ((st = vt_backward(loss)) != VT_OK || (st = vt_optim_step(opt)) != VT_OK) break;
            vt_arena_reset(NULL);
            if (ep == 1 && s == 0) res->first_loss = l;
            res->last_loss = l;
            loss_sum += l * (double)b;
            vt_progress_step(&prog, ep, o->epochs, s + 1, steps, b, l, NULL);
        }
        vt_progress_end(&prog);
        if (st != VT_OK) break;
        double dt = vt_now() - t0;
        res->epochs_done = ep;
        printf("epoch %d: %.1f s, train loss %.5f\n", ep, dt, loss_sum / (double)n);
        fflush(stdout);
        if (metrics) {
            fprintf(metrics, "{\"epoch\": %d, \"seconds\": %.3f, \"train_loss\": %.6f, \"train_slices\": %lld}\n", ep, dt,
                    loss_sum / (double)n, (long long)n);
            fflush(metrics);
        }
        if (out_dir) {
            snprintf(path, sizeof path, "%s/model.vtck", out_dir);
            st = vt_softseg_save(m, o, path);
        }
    }
    res->seconds = vt_now() - t_start;
    if (metrics) fclose(metrics);
    vt_optim_free(opt);
    free(perm);
    free(bidx);
    vt_tensor_free(X);
    vt_tensor_free(Y);
    return st;
}

vt_status vt_softseg_save(const vt_model *m, const vt_softseg_options *o, const char *path) {
    vt_checkpoint *ck = vt_checkpoint_new();
    if (!ck) return VT_ERR;
    char text[512];
    snprintf(text, sizeof text, "softseg depth=%d base_width=%d instance_norm=%d clamp_head=%d spacing=%.17g,%.17g,%.17g\n",
             o->depth, o->base_width, o->instance_norm, o->clamp_head, o->spacing[0], o->spacing[1], o->spacing[2]);
    vt_status st = vt_checkpoint_add_params(ck, m->params);
    if (st == VT_OK) st = vt_checkpoint_set_text(ck, text);
    if (st == VT_OK) st = vt_checkpoint_save(ck, path);
    vt_checkpoint_free(ck);
    return st;
}

vt_model *vt_softseg_load(const char *path, vt_softseg_options *o) {
    vt_checkpoint *ck = vt_checkpoint_load(path);
    if (!ck) return NULL;
    if (sscanf(vt_checkpoint_text(ck), "softseg depth=%d base_width=%d instance_norm=%d clamp_head=%d spacing=%lf,%lf,%lf",
               &o->depth, &o->base_width, &o->instance_norm, &o->clamp_head, &o->spacing[0], &o->spacing[1],
               &o->spacing[2]) != 7) {
        vt_checkpoint_free(ck);
        vt_error("%s: not a softseg checkpoint (its text record does not describe a softseg model)", path);
        return NULL;
    }
    vt_model *m = vt_softseg_model_new(o);
    if (m && vt_checkpoint_restore_params(ck, m->params) != VT_OK) { vt_model_free(m); m = NULL; }
    vt_checkpoint_free(ck);
    return m;
}

vt_tensor *vt_softseg_predict_prepared(vt_model *m, const vt_softseg_options *o, const vt_tensor *image) {
    if (!image || image->ndim != 3) { vt_error("softseg predict: need a (D, H, W) image"); return NULL; }
    int64_t D = image->shape[0], h = image->shape[1], w = image->shape[2], mult = (int64_t)1 << o->depth;
    int64_t H = (h + mult - 1) / mult * mult, W = (w + mult - 1) / mult * mult, oy = (H - h) / 2, ox = (W - w) / 2;
    vt_tensor *out = vt_tensor_new(VT_DIMS(D, h, w));
    if (!out) return NULL;
    const int64_t chunk = 16;
    int prev = vt_no_grad_begin();
    for (int64_t z0 = 0; z0 < D; z0 += chunk) {
        int64_t nz = D - z0 < chunk ? D - z0 : chunk;
        vt_tensor *x = vt_tensor_zeros(VT_DIMS(nz, 1, H, W));
        if (!x) { vt_tensor_free(out); out = NULL; break; }
        for (int64_t z = 0; z < nz; z++)
            for (int64_t y = 0; y < h; y++)
                memcpy(x->data + (z * H + y + oy) * W + ox, image->data + ((z0 + z) * h + y) * w, sizeof(float) * (size_t)w);
        vt_tensor *p = vt_softseg_forward(m, o->clamp_head, x, 0);
        if (!p) { vt_tensor_free(out); out = NULL; break; }
        for (int64_t z = 0; z < nz; z++)
            for (int64_t y = 0; y < h; y++)
                memcpy(out->data + ((z0 + z) * h + y) * w, p->data + (z * H + y + oy) * W + ox, sizeof(float) * (size_t)w);
        vt_arena_reset(NULL);
    }
    vt_no_grad_end(prev);
    return out;
}

vt_tensor *vt_softseg_predict_volume(vt_model *m, const vt_softseg_options *o, const vt_tensor *image,
                                     const double affine[4][4], float threshold) {
    double paff[4][4];
    vt_tensor *prep = vt_softseg_prepare(image, affine, o->spacing, 1, 0, paff);
    vt_tensor *pred = prep ? vt_softseg_predict_prepared(m, o, prep) : NULL;
    vt_tensor_free(prep);
    if (!pred) return NULL;
    /* back onto the input's own voxel grid: same (D, H, W) and affine */
    vt_tensor *back = vt_resample_to_grid(pred, paff, image->shape, affine, VT_INTERP_LINEAR);
    vt_tensor_free(pred);
    if (!back) return NULL;
    for (int64_t i = 0; i < back->numel; i++) {
        float v = back->data[i] < 0 ? 0 : back->data[i] > 1 ? 1 : back->data[i];
        back->data[i] = threshold > 0 ? (float)(v >= threshold) : v;
    }
    return back;
}
