/* softseg_train.c: the soft cord segmentation model (UNet2D, output in [0, 1]), its training
 * loop (Adam; Adaptive Wing / MSE / soft Dice against the soft or the binary GT), checkpoint
 * save / load, and prediction on prepared slices or in an input's exact geometry. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "checkpoint.h"
#include "curves.h"
#include "loader.h" /* vt_loader_sample_rng */
#include "classify.h" /* vt_gather_rows */
#include "losses.h"
#include "optim.h"
#include "progress.h"
#include "resample.h"
#include "run_watch.h"
#include "softseg.h"
#include "tensorboard.h"

vt_model *vt_softseg_model_new(const vt_softseg_options *o) {
    vt_model_config c;
    vt_model_config_default(&c, o->dims3d ? "unet3d" : "unet2d");
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

/* the batch source of one training run: 2D stacked slices, or a 3D patch dataset */
typedef struct train_src {
    vt_tensor *X, *Y;  /* 2D: (n, 1, H, W) */
    vt_dataset *ds;    /* 3D */
    int64_t n;         /* samples per epoch */
    int64_t *perm, *bidx;
} train_src;

static void train_src_free(train_src *t) {
    vt_tensor_free(t->X);
    vt_tensor_free(t->Y);
    vt_dataset_free(t->ds);
    free(t->perm);
    free(t->bidx);
}

static vt_status train_src_init(const vt_softseg_options *o, const vt_softseg_data *d, train_src *t) {
    memset(t, 0, sizeof *t);
    vt_status st;
    if (o->dims3d) {
        st = (t->ds = vt_softseg_patch_dataset(o, d)) ? VT_OK : VT_ERR;
        t->n = o->patches_per_epoch;
    } else {
        st = gather_train(o, d, &t->X, &t->Y);
        t->n = t->X ? t->X->shape[0] : 0;
    }
    t->perm = malloc(sizeof(int64_t) * (size_t)(t->n + 1));
    t->bidx = malloc(sizeof(int64_t) * (size_t)o->batch);
    if (st == VT_OK && (!t->perm || !t->bidx)) st = vt_error("softseg train: out of memory");
    return st;
}

/* batch s of epoch ep (b samples from b0): arena tensors x, y of (b, 1, ...) */
static vt_status train_batch(const vt_softseg_options *o, train_src *t, int ep, int64_t b0, int64_t b, vt_tensor **x,
                             vt_tensor **y) {
    if (!o->dims3d) {
        for (int64_t i = 0; i < b; i++) t->bidx[i] = t->perm[b0 + i];
        *x = vt_gather_rows(t->X, t->bidx, b);
        *y = vt_gather_rows(t->Y, t->bidx, b);
        return *x && *y ? VT_OK : VT_ERR;
    }
    const int64_t *ps = o->patch, pvol = ps[0] * ps[1] * ps[2];
    *x = vt_tensor_zeros(VT_DIMS(b, 1, ps[0], ps[1], ps[2]));
    *y = vt_tensor_zeros(VT_DIMS(b, 1, ps[0], ps[1], ps[2]));
    if (!*x || !*y) return VT_ERR;
    for (int64_t i = 0; i < b; i++) {
        /* sample k of epoch ep: its own Philox stream, so a resumed run draws the same patches */
        vt_rng r;
        vt_loader_sample_rng(o->seed, ep, b0 + i, &r);
        vt_tensor xi = **x, yi = **y; /* views of row i (get writes ->data only) */
        xi.data = (*x)->data + i * pvol;
        yi.data = (*y)->data + i * pvol;
        if (t->ds->get(t->ds, b0 + i, &xi, &yi, &r) != VT_OK) return VT_ERR;
    }
    return VT_OK;
}

/* the overlay slice: the middle held-out slice of the first test volume (else of volume 0) */
static vt_status write_overlay(vt_model *m, const vt_softseg_options *o, const vt_softseg_data *d, const char *out_dir,
                               int ep) {
    const vt_softseg_volume *v = &d->vol[0];
    for (int i = 0; i < d->n; i++)
        if (d->vol[i].test_hi > d->vol[i].test_lo) { v = &d->vol[i]; break; }
    int64_t z = v->test_hi > v->test_lo ? (v->test_lo + v->test_hi) / 2 : v->image->shape[0] / 2;
    int64_t h = v->image->shape[1], w = v->image->shape[2], hw = h * w;
    char path[4200];
    snprintf(path, sizeof path, "%s/overlays", out_dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return vt_error("%s: cannot create: %s", path, strerror(errno));
    vt_tensor *pred = vt_softseg_predict_prepared(m, o, v->image);
    if (!pred) return VT_ERR;
    snprintf(path, sizeof path, "%s/overlays/epoch_%03d.png", out_dir, ep);
    vt_status st = vt_softseg_overlay_png(path, v->image->data + z * hw, pred->data + z * hw,
                                          (o->soft_gt ? v->soft : v->mask)->data + z * hw, (int)h, (int)w, 4);
    vt_tensor_free(pred);
    return st;
}

/* mean held-out Dice and CSA error over the test volumes (NAN without test volumes) */
static void held_out(vt_model *m, const vt_softseg_options *o, const vt_softseg_data *d, double *dice, double *csa_err) {
    vt_softseg_eval *e = malloc(sizeof *e);
    *dice = *csa_err = NAN;
    if (e && vt_softseg_evaluate(m, o, d, e) == VT_OK && e->n > 0) {
        double s = 0, se = 0;
        int ne = 0;
        for (int i = 0; i < e->n; i++) {
            s += e->dice[i];
            if (isfinite(e->csa_abs_err_bin[i])) { se += e->csa_abs_err_bin[i]; ne++; }
        }
        *dice = s / e->n;
        if (ne) *csa_err = se / ne;
    }
    free(e);
}

static void jfield(FILE *f, const char *key, double v) {
    if (isfinite(v)) fprintf(f, ", \"%s\": %.6f", key, v);
}

/* restores weights, Adam state, next epoch and the RNG streams of a vt_softseg_save_run file */
static vt_status resume_from(const char *path, vt_model *m, vt_optim *opt, int *epoch, vt_rng *shuffle) {
    vt_checkpoint *ck = vt_checkpoint_load(path);
    if (!ck) return VT_ERR;
    int64_t ep = 0, step = 0;
    vt_status st = vt_checkpoint_restore_params(ck, m->params);
    char name[64];
    for (int i = 0; st == VT_OK && i < vt_optim_state_count(opt); i++) {
        snprintf(name, sizeof name, "optim.state%d", i);
        st = vt_checkpoint_get_array(ck, name, vt_optim_state(opt, i), vt_optim_state_numel(opt));
    }
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "optim.step", &step);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "epoch", &ep);
    if (st == VT_OK) st = vt_checkpoint_get_rng(ck, "rng.global", vt_rng_global());
    if (st == VT_OK) st = vt_checkpoint_get_rng(ck, "rng.shuffle", shuffle);
    if (st != VT_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", vt_last_error());
        st = vt_error("softseg resume: %s: %s (a model.vtck of this model written by vertebra softseg?)", path, msg);
    } else if (ep < 1 || ep > 1000000) st = vt_error("softseg resume: %s: epoch %lld out of range", path, (long long)ep);
    else { vt_optim_set_step(opt, step); *epoch = (int)ep; }
    vt_checkpoint_free(ck);
    return st;
}

vt_status vt_softseg_train(vt_model *m, const vt_softseg_options *o, const vt_softseg_data *d,
                           const char *out_dir, vt_softseg_result *res) {
    memset(res, 0, sizeof *res);
    if (o->epochs < 1 || o->batch < 1) return vt_error("softseg train: epochs %d and batch %d must be >= 1", o->epochs, o->batch);
    train_src t;
    vt_status st = train_src_init(o, d, &t);
    vt_optim *opt = st == VT_OK ? vt_adam_new(m->params, o->lr, 0.9f, 0.999f, 1e-8f, 0.f) : NULL;
    if (st == VT_OK && !opt) st = VT_ERR;
    vt_rng shuffle;
    vt_rng_init(&shuffle, o->seed * 7 + 3);
    int first_epoch = 1;
    if (st == VT_OK && o->resume[0]) {
        st = resume_from(o->resume, m, opt, &first_epoch, &shuffle);
        if (st == VT_OK && first_epoch > o->epochs)
            st = vt_error("softseg resume: %s continues at epoch %d, past optim.epochs = %d: nothing to do", o->resume,
                          first_epoch, o->epochs);
        if (st == VT_OK) printf("resumed from %s at epoch %d\n", o->resume, first_epoch);
    }
    FILE *metrics = NULL;
    vt_tb_writer *tb = NULL;
    char path[4200];
    if (st == VT_OK && out_dir) {
        snprintf(path, sizeof path, "%s/metrics.jsonl", out_dir);
        /* a resumed run appends; TensorBoard gets a new event file and merges by step */
        if (!(metrics = fopen(path, o->resume[0] ? "a" : "w"))) st = vt_error("%s: cannot create: %s", path, strerror(errno));
        else if (!(tb = vt_tb_open(out_dir))) fprintf(stderr, "warning: TensorBoard events: %s\n", vt_last_error());
    }
    int64_t n = t.n, steps = (n + o->batch - 1) / o->batch;
    vt_progress prog;
    vt_progress_begin(&prog, stdout, steps * (o->epochs - first_epoch + 1), o->log_every > 0 ? o->log_every : 20);
    double t_start = vt_now();
    for (int ep = first_epoch; ep <= o->epochs && st == VT_OK; ep++) {
        if (!o->dims3d) vt_rng_permutation(&shuffle, t.perm, n);
        double t0 = vt_now(), loss_sum = 0;
        for (int64_t s = 0; s < steps; s++) {
            int64_t b0 = s * o->batch, b = n - b0 < o->batch ? n - b0 : o->batch;
            vt_tensor *x = NULL, *y = NULL;
            if ((st = train_batch(o, &t, ep, b0, b, &x, &y)) != VT_OK) break;
            vt_tensor *pred = vt_softseg_forward(m, o->clamp_head, x, 1);
            vt_tensor *loss = pred ? loss_of(o, pred, y) : NULL;
            if (!loss) { st = VT_ERR; break; }
            double l = vt_tensor_item(loss);
            if (!isfinite(l)) { st = vt_error("softseg train: loss is %g at epoch %d step %lld (lower optim.lr?)", l, ep, (long long)s + 1); break; }
            vt_params_zero_grad(m->params);
            if ((st = vt_backward(loss)) != VT_OK || (st = vt_optim_step(opt)) != VT_OK) break;
            vt_arena_reset(NULL);
            if (ep == first_epoch && s == 0) res->first_loss = l;
            res->last_loss = l;
            loss_sum += l * (double)b;
            if (tb) vt_tb_scalar(tb, "train/loss_step", vt_optim_get_step(opt), (float)l);
            vt_progress_step(&prog, ep, o->epochs, s + 1, steps, b, l, NULL);
        }
        vt_progress_end(&prog);
        if (st != VT_OK) break;
        double dt = vt_now() - t0, dice = NAN, csa_err = NAN;
        res->epochs_done = ep;
        if (out_dir) held_out(m, o, d, &dice, &csa_err);
        printf("epoch %d: %.1f s, train loss %.5f", ep, dt, loss_sum / (double)n);
        if (isfinite(dice)) printf(", held-out Dice %.4f", dice);
        printf("\n");
        fflush(stdout);
        if (metrics) {
            fprintf(metrics, "{\"epoch\": %d, \"seconds\": %.3f, \"train_loss\": %.6f, \"train_samples\": %lld", ep, dt,
                    loss_sum / (double)n, (long long)n);
            jfield(metrics, "test_dice", dice);
            jfield(metrics, "test_csa_abs_err_bin", csa_err);
            fprintf(metrics, "}\n");
            fflush(metrics);
        }
        if (tb) {
            vt_tb_scalar(tb, "epoch/train_loss", ep, (float)(loss_sum / (double)n));
            if (isfinite(dice)) vt_tb_scalar(tb, "epoch/test_dice", ep, (float)dice);
            if (isfinite(csa_err)) vt_tb_scalar(tb, "epoch/test_csa_abs_err_bin", ep, (float)csa_err);
        }
        if (out_dir) {
            vt_run_watch_plots(out_dir); /* out_dir/plots/curve_<metric>.png, x = epoch */
            if (o->overlays && write_overlay(m, o, d, out_dir, ep) != VT_OK)
                fprintf(stderr, "warning: overlay: %s\n", vt_last_error());
            snprintf(path, sizeof path, "%s/model.vtck", out_dir);
            /* the shuffle stream is now where epoch ep + 1 starts */
            st = vt_softseg_save_run(m, o, opt, ep + 1, &shuffle, path);
        }
    }
    res->seconds = vt_now() - t_start;
    if (metrics) fclose(metrics);
    if (tb && vt_tb_close(tb) != VT_OK) fprintf(stderr, "warning: TensorBoard events: %s\n", vt_last_error());
    vt_optim_free(opt);
    train_src_free(&t);
    return st;
}

vt_status vt_softseg_save_run(const vt_model *m, const vt_softseg_options *o, vt_optim *opt, int next_epoch,
                              const vt_rng *shuffle, const char *path) {
    vt_checkpoint *ck = vt_checkpoint_new();
    if (!ck) return VT_ERR;
    char text[512];
    snprintf(text, sizeof text,
             "softseg depth=%d base_width=%d instance_norm=%d clamp_head=%d spacing=%.17g,%.17g,%.17g dims=%d "
             "patch=%lld,%lld,%lld gaussian_window=%d\n",
             o->depth, o->base_width, o->instance_norm, o->clamp_head, o->spacing[0], o->spacing[1], o->spacing[2],
             o->dims3d ? 3 : 2, (long long)o->patch[0], (long long)o->patch[1], (long long)o->patch[2], o->gaussian_window);
    vt_status st = vt_checkpoint_add_params(ck, m->params);
    if (st == VT_OK) st = vt_checkpoint_set_text(ck, text);
    if (opt) {
        char name[64];
        for (int i = 0; st == VT_OK && i < vt_optim_state_count(opt); i++) {
            snprintf(name, sizeof name, "optim.state%d", i);
            st = vt_checkpoint_add_array(ck, name, vt_optim_state(opt, i), vt_optim_state_numel(opt));
        }
        if (st == VT_OK) st = vt_checkpoint_set_int(ck, "optim.step", vt_optim_get_step(opt));
        if (st == VT_OK) st = vt_checkpoint_set_int(ck, "epoch", next_epoch);
        if (st == VT_OK) st = vt_checkpoint_set_rng(ck, "rng.global", vt_rng_global());
        if (st == VT_OK && shuffle) st = vt_checkpoint_set_rng(ck, "rng.shuffle", shuffle);
    }
    if (st == VT_OK) st = vt_checkpoint_save(ck, path);
    vt_checkpoint_free(ck);
    return st;
}

vt_status vt_softseg_save(const vt_model *m, const vt_softseg_options *o, const char *path) {
    return vt_softseg_save_run(m, o, NULL, 0, NULL, path);
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
    /* 3D fields (absent in checkpoints of the first, 2D-only version: those are 2D) */
    const char *t3 = strstr(vt_checkpoint_text(ck), " dims=");
    long long pz = 0, py = 0, px = 0;
    int dims = 2, gw = 1;
    if (t3 && sscanf(t3, " dims=%d patch=%lld,%lld,%lld gaussian_window=%d", &dims, &pz, &py, &px, &gw) != 5) {
        vt_checkpoint_free(ck);
        vt_error("%s: unreadable dims / patch in the softseg text record", path);
        return NULL;
    }
    o->dims3d = dims == 3;
    o->patch[0] = pz; o->patch[1] = py; o->patch[2] = px;
    o->gaussian_window = gw;
    vt_model *m = vt_softseg_model_new(o);
    if (m && vt_checkpoint_restore_params(ck, m->params) != VT_OK) { vt_model_free(m); m = NULL; }
    vt_checkpoint_free(ck);
    return m;
}

vt_tensor *vt_softseg_predict_prepared(vt_model *m, const vt_softseg_options *o, const vt_tensor *image) {
    if (!image || image->ndim != 3) { vt_error("softseg predict: need a (D, H, W) image"); return NULL; }
    if (o->dims3d) return vt_softseg_sliding_window(m, o->clamp_head, image, o->patch, o->gaussian_window);
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
