/* classify.c: the classification training loop.
 *
 * One step: gather a shuffled batch into the arena, forward, cross-entropy, backward into
 * the flat gradient buffer, optional clipping, optimizer step, arena reset.
 * Data parallel under mpirun (distributed.h): a step takes batch_size samples per rank
 * from one global batch, the gradients are all-reduced after backward, only rank 0 writes. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "classify.h"
#include "curves.h"
#include "distributed.h"
#include "losses.h"
#include "optim.h"
#include "progress.h"
#include "run_state.h"
#include "run_watch.h"
#include "tensorboard.h"

/* Ctrl-C / SIGTERM: finish the current step, then stop cleanly (metrics flushed). */
static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) { stop_requested = sig; }

void vt_classify_config_default(vt_classify_config *c) {
    *c = (vt_classify_config){.epochs = 2, .batch_size = 64, .optimizer = VT_OPT_SGD,
                              .lr = 0.01f, .momentum = 0.9f, .seed = 0, .log_every = 100,
                              .eval_batch = 1000};
}

vt_tensor *vt_gather_rows(const vt_tensor *src, const int64_t *idx, int64_t n) {
    int64_t shape[VT_MAX_DIMS];
    memcpy(shape, src->shape, sizeof shape);
    shape[0] = n;
    vt_tensor *b = vt_tensor_empty(src->ndim, shape);
    if (!b) return NULL;
    int64_t row = src->numel / src->shape[0];
    for (int64_t i = 0; i < n; i++)
        memcpy(b->data + i * row, src->data + idx[i] * row, (size_t)row * sizeof(float));
    return b;
}

double vt_evaluate_accuracy(void *model, vt_forward_fn forward, const vt_tensor *x,
                            const vt_tensor *y, int batch) {
    int no_grad = vt_no_grad_begin();
    int64_t n = x->shape[0], correct = 0;
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)batch);
    for (int64_t s = 0; s < n; s += batch) {
        int64_t m = n - s < batch ? n - s : batch;
        for (int64_t i = 0; i < m; i++) idx[i] = s + i;
        vt_tensor *logits = forward(model, vt_gather_rows(x, idx, m), 0);
        if (!logits) { correct = -1; break; }
        int64_t k = logits->shape[1];
        for (int64_t i = 0; i < m; i++) {
            const float *row = logits->data + i * k;
            int64_t best = 0;
            for (int64_t c = 1; c < k; c++) if (row[c] > row[best]) best = c;
            correct += best == (int64_t)y->data[s + i];
        }
        vt_arena_reset(NULL);
    }
    free(idx);
    vt_no_grad_end(no_grad);
    return correct < 0 ? NAN : (double)correct / (double)n;
}

static vt_optim *make_optimizer(const vt_classify_config *c, vt_params *p) {
    switch (c->optimizer) {
    case VT_OPT_ADAM: return vt_adam_new(p, c->lr, 0.9f, 0.999f, 1e-8f, c->weight_decay);
    case VT_OPT_ADAMW: return vt_adamw_new(p, c->lr, 0.9f, 0.999f, 1e-8f, c->weight_decay);
    default: return vt_sgd_new(p, c->lr, c->momentum, 0.f, c->weight_decay, c->nesterov);
    }
}

static FILE *open_metrics(const char *run_dir, int append) {
    if (!run_dir) return NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
    FILE *f = fopen(path, append ? "a" : "w");
    if (!f) vt_error("%s: cannot create: %s", path, strerror(errno));
    return f;
}

vt_status vt_train_classifier(const vt_classify_config *cfg, void *model, vt_forward_fn forward,
                              vt_params *params, const vt_tensor *x_train,
                              const vt_tensor *y_train, const vt_tensor *x_test,
                              const vt_tensor *y_test, vt_classify_report *rep) {
    memset(rep, 0, sizeof *rep);
    if (cfg->epochs < 1 || cfg->epochs > VT_MAX_EPOCHS) return vt_error("train: epochs %d out of 1..%d", cfg->epochs, VT_MAX_EPOCHS);
    if (cfg->batch_size < 1) return vt_error("train: batch size %d must be positive", cfg->batch_size);
    int64_t n = x_train->shape[0];
    if (y_train->numel != n) return vt_error("train: %lld images but %lld labels", (long long)n, (long long)y_train->numel);
    if (!vt_params_finalized(params)) return vt_error("train: parameters are not finalized");
    int64_t global_batch = (int64_t)cfg->batch_size * vt_dist_size();
    const char *run_dir = vt_dist_is_root() ? cfg->run_dir : NULL; /* only rank 0 writes */
    int64_t steps_per_epoch = (n + global_batch - 1) / global_batch;
    vt_lr_schedule sched = vt_lr_schedule_default((vt_lr_kind)cfg->lr_schedule, cfg->lr);
    sched.total_steps = steps_per_epoch * cfg->epochs;
    sched.warmup_steps = cfg->warmup_steps;
    sched.step_size = steps_per_epoch * cfg->epochs / 3 > 0 ? steps_per_epoch * cfg->epochs / 3 : 1;
    if (vt_lr_schedule_check(&sched) != VT_OK) return VT_ERR;
    vt_optim *opt = make_optimizer(cfg, params);
    if (!opt) return VT_ERR;
    vt_rng shuffle;
    vt_rng_init(&shuffle, cfg->seed);
    int first_epoch = 1;
    int64_t cursor = 0; /* samples of first_epoch already done (resume; any rank count) */
    if (cfg->resume && vt_run_resume(cfg->resume, params, opt, &first_epoch, &cursor, &shuffle) != VT_OK) {
        vt_optim_free(opt);
        return VT_ERR;
    }
    if (cfg->resume && first_epoch > cfg->epochs) {
        vt_optim_free(opt);
        return vt_error("train: %s is at epoch %d, past --epochs %d: nothing to do", cfg->resume, first_epoch, cfg->epochs);
    }
    if (cfg->resume) printf("resumed from %s at epoch %d, sample %lld\n", cfg->resume, first_epoch, (long long)cursor);
    if (vt_dist_broadcast_params(params) != VT_OK) { vt_optim_free(opt); return VT_ERR; }
    char ckpt[4096];
    if (run_dir) snprintf(ckpt, sizeof ckpt, "%s/checkpoint.vtck", run_dir);
    FILE *metrics = NULL;
    if (run_dir && !(metrics = open_metrics(run_dir, cfg->resume != NULL))) { vt_optim_free(opt); return VT_ERR; }
    /* TensorBoard: a new event file per run (resumes add one; TensorBoard merges them) */
    vt_tb_writer *tb = run_dir ? vt_tb_open(run_dir) : NULL;
    if (run_dir && !tb) fprintf(stderr, "warning: no TensorBoard events: %s\n", vt_last_error());
    int64_t skipped = 0, skipped_in_a_row = 0;
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)n);
    vt_progress prog;
    vt_progress_begin(&prog, stdout, steps_per_epoch * cfg->epochs, cfg->log_every);
    vt_status st = VT_OK;
    double images_time = 0;
    stop_requested = 0;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    for (int ep = first_epoch; ep <= cfg->epochs && st == VT_OK; ep++) {
        vt_rng epoch_start = shuffle; /* saved in checkpoints: resume redraws this permutation */
        vt_rng_permutation(&shuffle, perm, n);
        double t0 = vt_now(), loss_sum = 0;
        int64_t correct = 0, seen = 0;
        int64_t b0 = ep == first_epoch ? cursor : 0;
        for (int64_t s = b0 / global_batch; b0 < n; b0 += global_batch, s++) {
            int64_t m = n - b0 < global_batch ? n - b0 : global_batch, off, mr;
            /* distributed sampler: this rank's contiguous shard of the global batch; an empty
             * shard (tiny last batch) computes one row with weight 0 to join the all-reduce */
            vt_dist_shard(m, vt_dist_rank(), vt_dist_size(), &off, &mr);
            vt_tensor *x = vt_gather_rows(x_train, perm + b0 + (mr ? off : 0), mr ? mr : 1);
            vt_tensor *y = vt_gather_rows(y_train, perm + b0 + (mr ? off : 0), mr ? mr : 1);
            vt_tensor *logits = forward(model, x, 1);
            vt_tensor *loss = vt_cross_entropy(logits, y, NULL);
            if (!loss) { st = VT_ERR; break; }
            /* running train accuracy from the logits already computed */
            int64_t k = logits->shape[1], hits = 0;
            for (int64_t i = 0; i < mr; i++) {
                const float *row = logits->data + i * k;
                int64_t best = 0;
                for (int64_t c = 1; c < k; c++) if (row[c] > row[best]) best = c;
                hits += best == (int64_t)y->data[i];
            }
            /* all ranks agree on the global batch's loss (NaN stop), accuracy and a stop signal */
            double agree[3] = {vt_tensor_item(loss) * (double)mr, (double)hits, stop_requested ? 1.0 : 0.0};
            if (vt_dist_allreduce_sum(agree, 3) != VT_OK) { st = VT_ERR; break; }
            double l = agree[0] / (double)m;
            int stop_now = agree[2] > 0;
            if (!isfinite(l)) {
                if (cfg->nan_policy == VT_NAN_SKIP && ++skipped_in_a_row <= VT_NAN_SKIP_MAX) {
                    /* skip: no update from this batch (all ranks agree: l is global) */
                    skipped++;
                    fprintf(stderr, "warning: loss is %g at epoch %d step %lld; step skipped (%lld so far)\n", l, ep,
                            (long long)s + 1, (long long)skipped);
                    vt_arena_reset(NULL);
                    continue;
                }
                st = vt_error("train: loss is %g at epoch %d step %lld%s; stopping (lower the learning rate?)", l, ep,
                              (long long)s + 1, cfg->nan_policy == VT_NAN_SKIP ? " after too many skipped steps in a row" : "");
                break;
            }
            skipped_in_a_row = 0;
            vt_params_zero_grad(params);
            if (vt_backward(loss) != VT_OK) { st = VT_ERR; break; }
            if (vt_dist_allreduce_grads(params, mr, m) != VT_OK) { st = VT_ERR; break; }
            if (cfg->clip_grad_norm > 0) vt_clip_grad_norm(params, cfg->clip_grad_norm);
            /* the schedule is a pure function of the optimizer's step, so resume needs nothing more */
            vt_optim_set_lr(opt, vt_lr_at(&sched, vt_optim_get_step(opt)));
            vt_optim_step(opt);
            correct += (int64_t)agree[1];
            seen += m;
            loss_sum += l * (double)m;
            vt_arena_reset(NULL);
            char extra[48];
            snprintf(extra, sizeof extra, "acc %.1f%%", 100.0 * (double)correct / (double)seen);
            vt_progress_step(&prog, ep, cfg->epochs, s + 1, steps_per_epoch, m, l, extra);
            rep->last_loss = l;
            if (tb && cfg->log_every > 0 && vt_optim_get_step(opt) % cfg->log_every == 0) {
                vt_tb_scalar(tb, "train/loss_step", vt_optim_get_step(opt), (float)l);
                vt_tb_scalar(tb, "train/lr", vt_optim_get_step(opt), vt_lr_at(&sched, vt_optim_get_step(opt) - 1));
            }
            if (stop_now) {
                vt_progress_end(&prog);
                if (run_dir && vt_run_save(ckpt, params, opt, ep, b0 + m, &epoch_start) == VT_OK)
                    printf("saved %s (resume with --resume %s)\n", ckpt, ckpt);
                st = vt_error("train: interrupted by %s at epoch %d step %lld",
                              stop_requested == SIGINT ? "SIGINT" : "SIGTERM", ep, (long long)s + 1);
                rep->interrupted = 1;
                break;
            }
        }
        if (st != VT_OK) break;
        double dt = vt_now() - t0;
        images_time += dt;
        /* the next epoch starts from the shuffle stream as it is now */
        if (vt_dist_broadcast_buffers(params) != VT_OK) { st = VT_ERR; break; } /* rank 0's BN running stats */
        if (run_dir && vt_run_save(ckpt, params, opt, ep + 1, 0, &shuffle) != VT_OK) { st = VT_ERR; break; }
        double acc = x_test ? vt_dist_evaluate_accuracy(model, forward, x_test, y_test, cfg->eval_batch) : NAN;
        rep->test_accuracy[ep - 1] = acc;
        rep->epoch_seconds[ep - 1] = dt;
        rep->epochs_done = ep;
        vt_progress_end(&prog);
        if (seen == 0) seen = 1; /* resumed at the very end of an epoch */
        printf("epoch %d: %.1f s, train loss %.4f, train accuracy %.2f%%, test accuracy %.2f%%\n", ep, dt,
               loss_sum / (double)seen, 100.0 * (double)correct / (double)seen, 100.0 * acc);
        fflush(stdout);
        if (metrics) {
            fprintf(metrics, "{\"epoch\": %d, \"seconds\": %.3f, \"train_loss\": %.6f, \"train_accuracy\": %.6f, \"test_accuracy\": %.6f}\n",
                    ep, dt, loss_sum / (double)seen, (double)correct / (double)seen, acc);
            fflush(metrics);
            vt_run_watch_plots(run_dir); /* run_dir/plots/curve_<metric>.png, x = epoch */
        }
        if (tb) {
            vt_tb_scalar(tb, "epoch/train_loss", ep, (float)(loss_sum / (double)seen));
            vt_tb_scalar(tb, "epoch/train_accuracy", ep, (float)((double)correct / (double)seen));
            if (x_test) vt_tb_scalar(tb, "epoch/test_accuracy", ep, (float)acc);
        }
    }
    if (tb && vt_tb_close(tb) != VT_OK) fprintf(stderr, "warning: TensorBoard events: %s\n", vt_last_error());
    rep->skipped_steps = skipped;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    int epochs_run = rep->epochs_done - first_epoch + 1;
    rep->images_per_second = images_time > 0 && epochs_run > 0 ? (double)n * epochs_run / images_time : 0;
    free(perm);
    vt_optim_free(opt);
    if (metrics && fclose(metrics) != 0 && st == VT_OK) st = vt_error("metrics.jsonl: write failed");
    return st;
}
