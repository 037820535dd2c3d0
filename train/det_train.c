/* det_train.c: evaluation (per-class AP@0.5, mAP), the training loop of the FCOS detector
 * and its checkpoint. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "checkpoint.h"
#include "det.h"
#include "optim.h"
#include "progress.h"
#include "run_watch.h"

void vt_det_train_config_default(vt_det_train_config *c) {
    memset(c, 0, sizeof *c);
    c->epochs = 12, c->batch = 8, c->eval_batch = 16, c->eval_every = 1;
    c->lr = 1e-3f, c->clip_norm = 10.f, c->log_every = 20;
    vt_augment_config_default(&c->aug);
    c->aug.p_flip_x = 0.5f;
    c->aug.p_scale = 0.5f, c->aug.scale_min = 0.9f, c->aug.scale_max = 1.1f;
    c->aug.p_contrast = 0.3f;
    vt_det_loss_config_default(&c->loss);
    vt_det_decode_config_default(&c->decode);
}

vt_status vt_det_evaluate(vt_detector *m, const vt_det_data *d, int batch, const vt_det_decode_config *dc,
                          double iou_thr, vt_det_eval *out) {
    memset(out, 0, sizeof *out);
    int K = m->cfg.n_classes;
    if (K > VT_DET_MAX_CLASSES) return vt_error("det evaluate: %d classes (at most %d)", K, VT_DET_MAX_CLASSES);
    if (d->n < 1 || batch < 1) return vt_error("det evaluate: %lld images, batch %d", (long long)d->n, batch);
    int64_t S = d->size, cap = d->n * dc->max_detections;
    vt_det_box *gt = malloc(sizeof *gt * (size_t)(d->n_boxes ? d->n_boxes : 1)), *det = malloc(sizeof *det * (size_t)cap);
    if (!gt || !det) { free(gt); free(det); return vt_error("det evaluate: out of memory"); }
    for (int64_t i = 0; i < d->n; i++)
        for (int64_t k = d->first[i]; k < d->first[i] + d->count[i]; k++) {
            const float *b = d->boxes + 4 * k;
            gt[k] = (vt_det_box){.image = (int)i, .cls = d->cls[k], .x1 = b[0], .y1 = b[1], .x2 = b[2], .y2 = b[3]};
        }
    int64_t nd = 0;
    vt_status st = VT_OK;
    int g = vt_no_grad_begin();
    for (int64_t b0 = 0; b0 < d->n && st == VT_OK; b0 += batch) {
        int64_t b = d->n - b0 < batch ? d->n - b0 : batch;
        vt_tensor *x = vt_tensor_empty(VT_DIMS(b, 1, S, S));
        if (!x) { st = VT_ERR; break; }
        memcpy(x->data, d->images->data + b0 * S * S, sizeof(float) * (size_t)(b * S * S));
        vt_detector_output o;
        if ((st = vt_detector_forward(m, x, 0, &o)) != VT_OK) break;
        for (int64_t j = 0; j < b; j++) {
            int64_t k = vt_det_decode(m, &o, j, (int)(b0 + j), dc, det + nd);
            if (k < 0) { st = VT_ERR; break; }
            nd += k;
        }
        vt_arena_reset(NULL);
    }
    vt_no_grad_end(g);
    out->n_images = d->n, out->n_gt = d->n_boxes, out->n_det = nd;
    if (st == VT_OK) st = vt_detection_map(gt, d->n_boxes, det, nd, K, iou_thr, out->ap, &out->map, &out->n_classes_used);
    free(gt); free(det);
    return st;
}

vt_status vt_det_save(const vt_detector *m, const char *path, const char *config_text) {
    vt_checkpoint *ck = vt_checkpoint_new();
    if (!ck) return VT_ERR;
    char head[128];
    snprintf(head, sizeof head, "arch=%s\n", m->arch);
    size_t n = strlen(head) + (config_text ? strlen(config_text) : 0) + 1;
    char *text = malloc(n);
    vt_status st = text ? VT_OK : vt_error("det save: out of memory");
    if (st == VT_OK) snprintf(text, n, "%s%s", head, config_text ? config_text : "");
    const vt_detector_config *c = &m->cfg;
    if (st == VT_OK) st = vt_checkpoint_add_params(ck, m->params);
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "det.in_channels", c->in_channels);
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "det.n_classes", c->n_classes);
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "det.size", c->size);
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "det.fpn_channels", c->fpn_channels);
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "det.head_convs", c->head_convs);
    if (st == VT_OK) st = vt_checkpoint_set_text(ck, text);
    if (st == VT_OK) st = vt_checkpoint_save(ck, path);
    free(text);
    vt_checkpoint_free(ck);
    return st;
}

vt_detector *vt_det_load(const char *path) {
    vt_checkpoint *ck = vt_checkpoint_load(path);
    if (!ck) return NULL;
    vt_detector_config c;
    vt_detector_config_default(&c);
    int64_t v[5];
    const char *keys[5] = {"det.in_channels", "det.n_classes", "det.size", "det.fpn_channels", "det.head_convs"};
    for (int i = 0; i < 5; i++)
        if (vt_checkpoint_get_int(ck, keys[i], &v[i]) != VT_OK) {
            vt_error("%s: not a detector checkpoint (no %s)", path, keys[i]);
            vt_checkpoint_free(ck);
            return NULL;
        }
    char arch[32] = "";
    const char *t = vt_checkpoint_text(ck);
    if (!strncmp(t, "arch=", 5)) sscanf(t + 5, "%31[^\n]", arch);
    c.arch = arch, c.in_channels = (int)v[0], c.n_classes = (int)v[1], c.size = (int)v[2];
    c.fpn_channels = (int)v[3], c.head_convs = (int)v[4];
    vt_detector *m = vt_detector_new(&c);
    if (m && vt_checkpoint_restore_params(ck, m->params) != VT_OK) { vt_detector_free(m); m = NULL; }
    vt_checkpoint_free(ck);
    return m;
}

static void write_aps(FILE *f, const vt_det_eval *e, int K) {
    fprintf(f, "\"map50\": ");
    fprintf(f, isfinite(e->map) ? "%.6f" : "null", e->map);
    fprintf(f, ", \"ap50\": [");
    for (int k = 0; k < K; k++) {
        fprintf(f, "%s", k ? ", " : "");
        if (isfinite(e->ap[k])) fprintf(f, "%.6f", e->ap[k]);
        else fprintf(f, "null");
    }
    fprintf(f, "], \"n_det\": %lld", (long long)e->n_det);
}

/* out_dir/checkpoint.vtck after epoch ep (det_resume.c) */
static vt_status save_resume(const vt_det_train_config *c, vt_detector *m, vt_optim *opt, int ep, int64_t step, double best_map,
                             int best_epoch, const vt_rng *shuffle, const vt_rng *augr, const float *best) {
    char path[4096];
    snprintf(path, sizeof path, "%s/checkpoint.vtck", c->out_dir);
    vt_det_run_state s = {.epoch = ep, .best_epoch = best_epoch, .step = step, .best_map = best_map,
                          .shuffle = *shuffle, .augment = *augr};
    return vt_det_checkpoint_save(path, m, opt, &s, best, c->config_text);
}

vt_status vt_det_train(vt_detector *m, const vt_det_train_config *c, const vt_det_data *tr,
                       const vt_det_data *val, vt_det_result *res) {
    memset(res, 0, sizeof *res);
    if (c->epochs < 1 || c->epochs > 1000 || c->batch < 1 || c->eval_every < 1)
        return vt_error("det train: epochs %d (1..1000), batch %d and eval_every %d (>= 1)", c->epochs, c->batch, c->eval_every);
    if (tr->n < 1 || val->n < 1) return vt_error("det train: empty train (%lld) or val (%lld) set", (long long)tr->n, (long long)val->n);
    if (tr->size != m->cfg.size || val->size != m->cfg.size)
        return vt_error("det train: image size %d / %d does not match the model's %d", tr->size, val->size, m->cfg.size);
    int K = m->cfg.n_classes;
    vt_optim *opt = vt_adam_new(m->params, c->lr, 0.9f, 0.999f, 1e-8f, c->weight_decay);
    if (!opt) return VT_ERR;
    int64_t np = vt_params_numel(m->params), nbuf = vt_params_buffer_numel(m->params);
    int64_t max_boxes = 0;
    for (int64_t i = 0; i < tr->n; i++) max_boxes = tr->count[i] > max_boxes ? tr->count[i] : max_boxes;
    float *best = malloc(sizeof(float) * (size_t)(np + nbuf + 1));
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)tr->n), *first = malloc(sizeof(int64_t) * (size_t)c->batch),
            *count = malloc(sizeof(int64_t) * (size_t)c->batch);
    float *boxes = malloc(sizeof(float) * 4 * (size_t)(c->batch * max_boxes + 1));
    int *cls = malloc(sizeof(int) * (size_t)(c->batch * max_boxes + 1));
    FILE *metrics = NULL;
    char path[4096];
    vt_status st = best && perm && first && count && boxes && cls ? VT_OK : vt_error("det train: out of memory");
    if (st == VT_OK && c->out_dir) {
        snprintf(path, sizeof path, "%s/metrics.jsonl", c->out_dir);
        if (!(metrics = fopen(path, c->resume ? "a" : "w"))) st = vt_error("%s: cannot create: %s", path, strerror(errno));
    }
    vt_tb_writer *tb = st == VT_OK ? vt_run_watch_open(c->out_dir) : NULL; /* NULL out_dir: none */
    vt_rng shuffle, augr;
    vt_rng_init(&shuffle, c->seed);
    vt_rng_init(&augr, c->seed ^ 0xa96e11ull);
    int64_t steps = (tr->n + c->batch - 1) / c->batch, total = steps * c->epochs, step = 0;
    double best_map = -1, t_start = vt_now();
    /* resume: everything the loop carries across epochs comes back from the checkpoint */
    vt_det_run_state rs = {0};
    int ep0 = 1;
    if (st == VT_OK && c->resume && (st = vt_det_checkpoint_load(c->resume, m, opt, &rs, best)) == VT_OK) {
        ep0 = rs.epoch + 1, step = rs.step, shuffle = rs.shuffle, augr = rs.augment;
        best_map = rs.best_map, res->best_epoch = rs.best_epoch, res->epochs_done = rs.epoch;
        printf("resuming %s after epoch %d (step %lld, best mAP %.4f at epoch %d)\n", c->resume, rs.epoch, (long long)step,
               rs.best_epoch ? best_map : 0.0, rs.best_epoch);
    }
    vt_progress prog;
    vt_progress_begin(&prog, stdout, total, c->log_every);
    for (int ep = ep0; ep <= c->epochs && (c->stop_after_epoch < 1 || ep <= c->stop_after_epoch) && st == VT_OK; ep++) {
        vt_rng_permutation(&shuffle, perm, tr->n);
        double t0 = vt_now(), sums[4] = {0};
        for (int64_t s = 0; s < steps; s++, step++) {
            int64_t b0 = s * c->batch, b = tr->n - b0 < c->batch ? tr->n - b0 : c->batch;
            /* linear warm-up over min(100, 10% of the run) steps, then cosine to 0 */
            int64_t nw = total / 10 < 100 ? (total / 10 > 1 ? total / 10 : 1) : 100;
            double warm = step < nw ? (double)(step + 1) / (double)nw : 1.0;
            vt_optim_set_lr(opt, (float)(c->lr * warm * 0.5 * (1 + cos(M_PI * (double)step / (double)total))));
            vt_tensor *x;
            if ((st = vt_det_batch(tr, perm + b0, b, &c->aug, &augr, &x, boxes, cls, first, count)) != VT_OK) break;
            vt_detector_output o;
            if ((st = vt_detector_forward(m, x, 1, &o)) != VT_OK) break;
            double parts[3];
            vt_tensor *loss = vt_det_loss(m, &o, boxes, cls, first, count, &c->loss, parts, NULL);
            if (!loss) { st = VT_ERR; break; }
            double l = vt_tensor_item(loss);
            if (!isfinite(l)) { st = vt_error("det train: loss is %g at epoch %d step %lld; stopping (lower lr?)", l, ep, (long long)s + 1); break; }
            vt_params_zero_grad(m->params);
            if ((st = vt_backward(loss)) != VT_OK) break;
            if (c->clip_norm > 0) vt_clip_grad_norm(m->params, c->clip_norm);
            if ((st = vt_optim_step(opt)) != VT_OK) break;
            vt_arena_reset(NULL);
            if (step == 0) res->first_loss = l;
            res->last_loss = l;
            sums[0] += l * (double)b;
            for (int k = 0; k < 3; k++) sums[k + 1] += parts[k] * (double)b;
            vt_progress_step(&prog, ep, c->epochs, s + 1, steps, b, l, NULL);
        }
        if (st != VT_OK) break;
        vt_progress_end(&prog);
        double dt = vt_now() - t0;
        res->epochs_done = ep;
        int do_eval = ep % c->eval_every == 0 || ep == c->epochs;
        vt_det_eval ev = {0};
        if (do_eval && (st = vt_det_evaluate(m, val, c->eval_batch, &c->decode, 0.5, &ev)) != VT_OK) break;
        int improved = do_eval && ev.map > best_map;
        if (improved) {
            best_map = ev.map, res->best_epoch = ep, res->val = ev;
            memcpy(best, vt_params_values(m->params), sizeof(float) * (size_t)np);
            if (nbuf) memcpy(best + np, vt_params_buffer_values(m->params), sizeof(float) * (size_t)nbuf);
        }
        if (c->out_dir && (st = save_resume(c, m, opt, ep, step, best_map, res->best_epoch, &shuffle, &augr, best)) != VT_OK) break;
        double n = (double)tr->n;
        printf("epoch %d: %.1f s, loss %.4f (focal %.4f, giou %.4f, ctr %.4f)", ep, dt, sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n);
        if (do_eval) printf(", val mAP@0.5 %.4f (%lld detections)%s", ev.map, (long long)ev.n_det, improved ? " *" : "");
        printf("\n");
        fflush(stdout);
        if (metrics) {
            fprintf(metrics, "{\"epoch\": %d, \"seconds\": %.3f, \"lr\": %.6g, \"train_loss\": %.6f, \"train_focal\": %.6f, "
                             "\"train_giou\": %.6f, \"train_centerness\": %.6f",
                    ep, dt, (double)vt_optim_get_lr(opt), sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n);
            if (do_eval) { fprintf(metrics, ", \"val\": {"); write_aps(metrics, &ev, K); fprintf(metrics, "}"); }
            fprintf(metrics, "}\n");
            fflush(metrics);
            vt_run_watch_plots(c->out_dir);
        }
        vt_run_watch_scalar(tb, "epoch/train_loss", ep, sums[0] / n);
        vt_run_watch_scalar(tb, "epoch/train_focal", ep, sums[1] / n);
        vt_run_watch_scalar(tb, "epoch/train_giou", ep, sums[2] / n);
        vt_run_watch_scalar(tb, "epoch/train_centerness", ep, sums[3] / n);
        vt_run_watch_scalar(tb, "epoch/lr", ep, vt_optim_get_lr(opt));
        if (do_eval) vt_run_watch_scalar(tb, "val/map50", ep, ev.map);
    }
    vt_progress_end(&prog);
    vt_run_watch_close(tb);
    res->seconds = vt_now() - t_start;
    if (st == VT_OK && res->best_epoch > 0) {
        memcpy(vt_params_values(m->params), best, sizeof(float) * (size_t)np);
        if (nbuf) memcpy(vt_params_buffer_values(m->params), best + np, sizeof(float) * (size_t)nbuf);
        /* resumed, and the best epoch came before it: score its weights again (same numbers) */
        if (res->val.n_images == 0) st = vt_det_evaluate(m, val, c->eval_batch, &c->decode, 0.5, &res->val);
    }
    if (st == VT_OK && c->out_dir) {
        snprintf(path, sizeof path, "%s/best.vtck", c->out_dir);
        st = vt_det_save(m, path, c->config_text);
    }
    if (metrics && fclose(metrics) != 0 && st == VT_OK) st = vt_error("metrics.jsonl: write failed");
    free(best); free(perm); free(first); free(count); free(boxes); free(cls);
    vt_optim_free(opt);
    return st;
}
