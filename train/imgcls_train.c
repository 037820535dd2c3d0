/* imgcls_train.c: the image-classification run (imgcls.h): data, model, Adam/SGD steps over
 * an augmenting loader, validation every epoch, best epoch on a named metric with early
 * stopping, checkpoints for resume, then the test evaluation with the best weights,
 * summary.json, test predictions and the ROC curve. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "checkpoint.h"
#include "imgcls.h"
#include "loader.h"
#include "losses.h"
#include "metrics.h"
#include "optim.h"
#include "plot.h"
#include "progress.h"
#include "run_watch.h"

void vt_imgcls_tracker_init(vt_imgcls_tracker *t, int patience, double min_delta) {
    *t = (vt_imgcls_tracker){.best = -INFINITY, .patience = patience, .min_delta = min_delta};
}

int vt_imgcls_tracker_update(vt_imgcls_tracker *t, int epoch, double score) {
    int better = isfinite(score) ? score > t->best + t->min_delta || t->best_epoch == 0 || !isfinite(t->best)
                                 : t->best_epoch == 0;
    if (better) {
        if (isfinite(score)) t->best = score;
        t->best_epoch = epoch;
        t->bad_epochs = 0;
    } else t->bad_epochs++;
    return better;
}

int vt_imgcls_tracker_should_stop(const vt_imgcls_tracker *t) {
    return t->patience > 0 && t->bad_epochs >= t->patience;
}

void vt_imgcls_result_free(vt_imgcls_result *r) { vt_imgcls_eval_free(&r->test); }

static int mkdir_p(const char *dir) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') { *p = 0; if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1; *p = '/'; }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* a JSON number, null for NaN / Inf (JSON has neither) */
static void jnum(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fputs("null", f);
}

static int64_t double_bits(double v) { int64_t b; memcpy(&b, &v, sizeof b); return b; }
static double bits_double(int64_t b) { double v; memcpy(&v, &b, sizeof v); return v; }

/* checkpoint.vtck: everything to continue at epoch next_epoch; best.vtck: weights only */
static vt_status save_run(const char *path, const char *config_text, vt_model *m, vt_optim *o, int next_epoch,
                          const vt_imgcls_tracker *t) {
    vt_checkpoint *ck = vt_checkpoint_new();
    if (!ck) return VT_ERR;
    vt_status st = vt_checkpoint_add_params(ck, m->params);
    for (int i = 0; o && st == VT_OK && i < vt_optim_state_count(o); i++)
        st = vt_checkpoint_add_array(ck, vt_optim_state_name(o, i), vt_optim_state(o, i), vt_optim_state_numel(o));
    if (st == VT_OK && o) st = vt_checkpoint_set_int(ck, "optim.step", vt_optim_get_step(o));
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "epoch", next_epoch);
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "best_epoch", t->best_epoch);
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "bad_epochs", t->bad_epochs);
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "best_bits", double_bits(t->best));
    if (st == VT_OK) st = vt_checkpoint_set_rng(ck, "rng.global", vt_rng_global());
    if (st == VT_OK) st = vt_checkpoint_set_text(ck, config_text);
    if (st == VT_OK) st = vt_checkpoint_save(ck, path);
    vt_checkpoint_free(ck);
    return st;
}

static vt_status resume_run(const char *path, vt_model *m, vt_optim *o, int *next_epoch, vt_imgcls_tracker *t) {
    vt_checkpoint *ck = vt_checkpoint_load(path);
    if (!ck) return VT_ERR;
    int64_t ep = 0, be = 0, bad = 0, bits = 0, step = 0;
    vt_status st = vt_checkpoint_restore_params(ck, m->params);
    for (int i = 0; st == VT_OK && i < vt_optim_state_count(o); i++)
        st = vt_checkpoint_get_array(ck, vt_optim_state_name(o, i), vt_optim_state(o, i), vt_optim_state_numel(o));
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "optim.step", &step);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "epoch", &ep);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "best_epoch", &be);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "bad_epochs", &bad);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "best_bits", &bits);
    if (st == VT_OK) st = vt_checkpoint_get_rng(ck, "rng.global", vt_rng_global());
    vt_checkpoint_free(ck);
    if (st != VT_OK) return vt_error("imgcls resume %s: %s", path, vt_last_error());
    vt_optim_set_step(o, step);
    *next_epoch = (int)ep;
    t->best_epoch = (int)be, t->bad_epochs = (int)bad, t->best = bits_double(bits);
    return VT_OK;
}

static vt_optim *make_optimizer(const vt_config *c, vt_params *p) {
    float lr = (float)vt_config_float(c, "optim.lr"), wd = (float)vt_config_float(c, "optim.weight_decay");
    const char *name = vt_config_string(c, "optim.name");
    if (!strcmp(name, "sgd")) return vt_sgd_new(p, lr, (float)vt_config_float(c, "optim.momentum"), 0.f, wd, 0);
    if (!strcmp(name, "adamw")) return vt_adamw_new(p, lr, 0.9f, 0.999f, 1e-8f, wd);
    return vt_adam_new(p, lr, 0.9f, 0.999f, 1e-8f, wd);
}

static void write_eval_json(FILE *f, const vt_imgcls_eval *e) {
    fprintf(f, "{\"n\": %lld, \"loss\": ", (long long)e->n);
    jnum(f, e->loss);
    const char *names[] = {"accuracy", "auroc", "sensitivity", "specificity", "precision", "f1", "balanced_accuracy"};
    const double vals[] = {e->accuracy, e->auroc, e->sensitivity, e->specificity, e->precision, e->f1, e->balanced_accuracy};
    for (int i = 0; i < 7; i++) { fprintf(f, ", \"%s\": ", names[i]); jnum(f, vals[i]); }
    fprintf(f, ", \"recall\": ");
    jnum(f, e->sensitivity);
    fputc('}', f);
}

/* ROC of the test set: the curve in blue, the chance diagonal in grey, on [0, 1]^2 */
static vt_status write_roc_png(const char *path, const vt_imgcls_eval *e) {
    int64_t n = e->n;
    float *score = malloc(sizeof(float) * (size_t)n), *thr = malloc(sizeof(float) * (size_t)(n + 1));
    double *fpr = malloc(sizeof(double) * (size_t)(n + 1)), *tpr = malloc(sizeof(double) * (size_t)(n + 1));
    float *fx = malloc(sizeof(float) * (size_t)(n + 1)), *fy = malloc(sizeof(float) * (size_t)(n + 1));
    vt_status st = score && thr && fpr && tpr && fx && fy ? VT_OK : vt_error("roc png: out of memory");
    int64_t np = 0;
    for (int64_t i = 0; st == VT_OK && i < n; i++) score[i] = e->probs[i * 2 + 1];
    if (st == VT_OK) st = vt_roc_curve(e->labels, score, n, fpr, tpr, thr, &np);
    if (st == VT_OK) {
        for (int64_t i = 0; i < np; i++) fx[i] = (float)fpr[i], fy[i] = (float)tpr[i];
        static const float diag[2] = {0, 1};
        vt_plot_series s[2] = {{diag, diag, 2, {170, 170, 170}}, {fx, fy, (int)np, {20, 60, 200}}};
        vt_plot_range r = {0, 1, 0, 1};
        st = vt_plot_lines(path, 400, 400, s, 2, &r);
    }
    free(score), free(thr), free(fpr), free(tpr), free(fx), free(fy);
    return st;
}

static vt_status write_predictions(const char *path, const vt_imgcls_data *d, const vt_imgcls_eval *e) {
    FILE *f = fopen(path, "w");
    if (!f) return vt_error("%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "index,label");
    for (int c = 0; c < e->k; c++) fprintf(f, ",p%d", c);
    fputc('\n', f);
    for (int64_t i = 0; i < e->n; i++) {
        fprintf(f, "%lld,%d", (long long)d->idx[2][i], e->labels[i]);
        for (int c = 0; c < e->k; c++) fprintf(f, ",%.6f", e->probs[i * e->k + c]);
        fputc('\n', f);
    }
    return fclose(f) == 0 ? VT_OK : vt_error("%s: write failed", path);
}

static vt_status write_summary(const char *path, const vt_config *c, const vt_imgcls_data *d, const vt_imgcls_result *r) {
    FILE *f = fopen(path, "w");
    if (!f) return vt_error("%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "{\"source\": \"%s\", \"arch\": \"%s\", \"input_size\": %lld, \"n_train\": %lld, \"n_val\": %lld, \"n_test\": %lld,\n",
            vt_config_string(c, "data.source"), vt_config_string(c, "model.arch"), (long long)vt_config_int(c, "model.input_size"),
            (long long)d->n_split[0], (long long)d->n_split[1], (long long)d->n_split[2]);
    fprintf(f, " \"epochs_done\": %d, \"best_epoch\": %d, \"stopped_early\": %s, \"select_metric\": \"%s\", \"best_val\": ",
            r->epochs_done, r->best_epoch, r->stopped_early ? "true" : "false", vt_config_string(c, "select.metric"));
    jnum(f, r->best_val);
    fprintf(f, ", \"seconds\": %.3f,\n \"test\": ", r->seconds);
    write_eval_json(f, &r->test);
    fprintf(f, ",\n \"test_auroc_ci\": {\"level\": %.4g, \"lo\": ", vt_config_float(c, "eval.ci_level"));
    jnum(f, r->auroc_lo);
    fprintf(f, ", \"hi\": ");
    jnum(f, r->auroc_hi);
    fprintf(f, ", \"n_boot\": %lld, \"method\": \"percentile bootstrap\"}}\n", (long long)vt_config_int(c, "eval.bootstrap"));
    return fclose(f) == 0 ? VT_OK : vt_error("%s: write failed", path);
}

/* the epochs of a run; fills r (epochs_done, best_epoch, ...) */
static vt_status train_epochs(const vt_config *c, vt_model *m, const vt_imgcls_data *d, const char *dir,
                              const char *config_text, vt_imgcls_result *r, FILE *log) {
    int k = d->num_classes, epochs = (int)vt_config_int(c, "optim.epochs");
    int64_t batch = vt_config_int(c, "optim.batch_size"), max_steps = vt_config_int(c, "optim.max_steps");
    int eval_batch = (int)vt_config_int(c, "optim.eval_batch");
    const char *metric = vt_config_string(c, "select.metric"), *resume = vt_config_string(c, "run.resume");
    float clip = (float)vt_config_float(c, "optim.clip_grad_norm");
    vt_dataset *train = vt_imgcls_dataset(c, d, d->idx[0], d->n_split[0], 1);
    vt_dataset *val = vt_imgcls_dataset(c, d, d->idx[1], d->n_split[1], 0);
    vt_loader_config lc;
    vt_loader_config_default(&lc);
    lc.batch_size = batch;
    lc.num_workers = (int)vt_config_int(c, "data.workers");
    lc.queue_depth = lc.num_workers ? 2 * lc.num_workers : 1;
    lc.drop_last = d->n_split[0] > batch; /* no batch of 1 for batch norm */
    lc.seed = (uint64_t)vt_config_int(c, "run.seed") * 7 + 1;
    vt_loader *loader = train && val ? vt_loader_new(train, &lc) : NULL;
    vt_optim *opt = loader ? make_optimizer(c, m->params) : NULL;
    vt_status st = opt ? VT_OK : VT_ERR;
    int64_t steps = loader ? vt_loader_num_batches(loader) : 0;
    if (max_steps > 0 && steps > max_steps) steps = max_steps;
    vt_lr_schedule sched = vt_lr_schedule_default(strcmp(vt_config_string(c, "optim.schedule"), "cosine") ? VT_LR_CONSTANT : VT_LR_COSINE,
                                                  (float)vt_config_float(c, "optim.lr"));
    sched.total_steps = steps * epochs > 0 ? steps * epochs : 1;
    if (st == VT_OK) st = vt_lr_schedule_check(&sched);
    vt_imgcls_tracker t;
    vt_imgcls_tracker_init(&t, (int)vt_config_int(c, "select.patience"), vt_config_float(c, "select.min_delta"));
    int first = 1;
    if (st == VT_OK && *resume) {
        st = resume_run(resume, m, opt, &first, &t);
        if (st == VT_OK) {
            r->resumed_from = first;
            fprintf(log, "resumed from %s at epoch %d (best so far: epoch %d)\n", resume, first, t.best_epoch);
        }
    }
    char path[4096], best_path[4096];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    snprintf(best_path, sizeof best_path, "%s/best.vtck", dir);
    FILE *metrics = st == VT_OK ? fopen(path, *resume ? "a" : "w") : NULL;
    if (st == VT_OK && !metrics) st = vt_error("%s: cannot create: %s", path, strerror(errno));
    vt_tb_writer *tb = st == VT_OK ? vt_run_watch_open(dir) : NULL; /* a resume adds a file; TensorBoard merges */
    vt_progress prog;
    vt_progress_begin(&prog, log, steps * (epochs - first + 1), vt_config_int(c, "run.log_every"));
    r->best_epoch = t.best_epoch, r->best_val = t.best, r->epochs_done = first - 1;
    for (int ep = first; ep <= epochs && st == VT_OK && !vt_imgcls_tracker_should_stop(&t); ep++) {
        double t0 = vt_now(), loss_sum = 0;
        int64_t seen = 0, correct = 0;
        if ((st = vt_loader_start_epoch(loader, ep)) != VT_OK) break;
        vt_batch b;
        int more = 1;
        for (int64_t s = 0; s < steps && (more = vt_loader_next(loader, &b)) == 1; s++) {
            vt_tensor *logits = vt_model_forward(m, b.image, 1);
            vt_tensor *y = vt_tensor_empty(1, &b.size);
            if (y) memcpy(y->data, b.target->data, sizeof(float) * (size_t)b.size);
            vt_tensor *loss = vt_cross_entropy(logits, y, NULL);
            if (!loss) { st = VT_ERR; break; }
            double l = vt_tensor_item(loss);
            if (!isfinite(l)) { st = vt_error("imgcls: loss is %g at epoch %d step %lld; stopping (lower optim.lr?)", l, ep, (long long)s + 1); break; }
            for (int64_t i = 0; i < b.size; i++) {
                const float *row = logits->data + i * k;
                int best = 0;
                for (int j = 1; j < k; j++) if (row[j] > row[best]) best = j;
                correct += best == (int)y->data[i];
            }
            vt_params_zero_grad(m->params);
            if ((st = vt_backward(loss)) != VT_OK) break;
            if (clip > 0) vt_clip_grad_norm(m->params, clip);
            vt_optim_set_lr(opt, vt_lr_at(&sched, vt_optim_get_step(opt)));
            if ((st = vt_optim_step(opt)) != VT_OK) break;
            vt_arena_reset(NULL);
            if (ep == first && s == 0) r->first_loss = l;
            r->last_loss = l;
            loss_sum += l * (double)b.size;
            seen += b.size;
            char extra[48];
            snprintf(extra, sizeof extra, "acc %.1f%%", 100.0 * (double)correct / (double)seen);
            vt_progress_step(&prog, ep, epochs, s + 1, steps, b.size, l, extra);
        }
        vt_arena_reset(NULL);
        if (more < 0) st = VT_ERR;
        if (st != VT_OK) break;
        double dt = vt_now() - t0;
        vt_imgcls_eval ev;
        if ((st = vt_imgcls_evaluate(m, val, eval_batch, k, &ev)) != VT_OK) break;
        vt_progress_end(&prog);
        double score = vt_imgcls_metric(&ev, metric);
        int improved = vt_imgcls_tracker_update(&t, ep, score);
        if (improved) st = save_run(best_path, config_text, m, NULL, ep + 1, &t);
        if (st == VT_OK && vt_config_bool(c, "run.resume_checkpoint")) {
            snprintf(path, sizeof path, "%s/checkpoint.vtck", dir);
            st = save_run(path, config_text, m, opt, ep + 1, &t);
        }
        r->epochs_done = ep;
        fprintf(log, "epoch %d: %.1f s, train loss %.4f, train acc %.3f, val loss %.4f, val acc %.3f, val auroc %.4f, val %s %.4f%s\n",
                ep, dt, seen ? loss_sum / (double)seen : NAN, seen ? (double)correct / (double)seen : NAN, ev.loss, ev.accuracy,
                ev.auroc, metric, score, improved ? " *" : "");
        fflush(log);
        fprintf(metrics, "{\"epoch\": %d, \"seconds\": %.3f, \"lr\": %.6g, \"train_loss\": ", ep, dt, (double)vt_optim_get_lr(opt));
        jnum(metrics, seen ? loss_sum / (double)seen : NAN);
        fprintf(metrics, ", \"train_accuracy\": ");
        jnum(metrics, seen ? (double)correct / (double)seen : NAN);
        fprintf(metrics, ", \"val\": ");
        write_eval_json(metrics, &ev);
        fprintf(metrics, ", \"val_%s\": ", metric);
        jnum(metrics, score);
        fprintf(metrics, ", \"best\": %s}\n", improved ? "true" : "false");
        fflush(metrics);
        vt_run_watch_plots(dir);
        vt_run_watch_scalar(tb, "epoch/train_loss", ep, seen ? loss_sum / (double)seen : NAN);
        vt_run_watch_scalar(tb, "epoch/train_accuracy", ep, seen ? (double)correct / (double)seen : NAN);
        vt_run_watch_scalar(tb, "epoch/lr", ep, vt_optim_get_lr(opt));
        vt_run_watch_scalar(tb, "val/loss", ep, ev.loss);
        vt_run_watch_scalar(tb, "val/accuracy", ep, ev.accuracy);
        vt_run_watch_scalar(tb, "val/auroc", ep, ev.auroc);
        snprintf(path, sizeof path, "val/%s", metric);
        vt_run_watch_scalar(tb, path, ep, score);
        vt_imgcls_eval_free(&ev);
    }
    vt_progress_end(&prog);
    r->best_epoch = t.best_epoch, r->best_val = t.best;
    r->stopped_early = st == VT_OK && vt_imgcls_tracker_should_stop(&t) && r->epochs_done < epochs;
    if (r->stopped_early) fprintf(log, "early stop: %d epochs without improvement of val %s\n", t.bad_epochs, metric);
    vt_run_watch_close(tb);
    if (metrics && fclose(metrics) != 0 && st == VT_OK) st = vt_error("metrics.jsonl: write failed");
    vt_optim_free(opt);
    vt_loader_free(loader);
    vt_dataset_free(train), vt_dataset_free(val);
    return st;
}

vt_status vt_imgcls_run(const vt_config *c, vt_imgcls_result *r) {
    memset(r, 0, sizeof *r);
    r->auroc_lo = r->auroc_hi = NAN;
    double t_start = vt_now();
    const char *dir = vt_config_string(c, "run.out");
    if (mkdir_p(dir) != 0) return vt_error("%s: cannot create: %s", dir, strerror(errno));
    char path[4096];
    snprintf(path, sizeof path, "%s/config.resolved", dir);
    if (vt_config_write(c, path) != VT_OK) return VT_ERR;
    vt_set_num_threads((int)vt_config_int(c, "run.threads"));
    FILE *log = vt_config_bool(c, "run.quiet") ? fopen("/dev/null", "w") : stdout;
    if (!log) return vt_error("imgcls: cannot open /dev/null");
    vt_imgcls_data d;
    vt_model *m = NULL;
    char *text = vt_config_to_string(c);
    vt_status st = text ? vt_imgcls_data_load(c, &d) : VT_ERR;
    if (st != VT_OK) { free(text); if (log != stdout) fclose(log); return VT_ERR; }
    vt_seed((uint64_t)vt_config_int(c, "run.seed"));
    if (!(m = vt_imgcls_model_new(c, (int)d.images->shape[1]))) st = VT_ERR;
    if (st == VT_OK)
        fprintf(log, "imgcls: %s, %s at %lldx%lld (loaded %lldx%lld), %d threads; train %lld / val %lld / test %lld images; %s lr %g, batch %lld, %lld epochs\n",
                vt_config_string(c, "data.source"), m->arch, (long long)vt_config_int(c, "model.input_size"),
                (long long)vt_config_int(c, "model.input_size"), (long long)d.images->shape[2], (long long)d.images->shape[3],
                vt_get_num_threads(), (long long)d.n_split[0], (long long)d.n_split[1], (long long)d.n_split[2],
                vt_config_string(c, "optim.name"), vt_config_float(c, "optim.lr"), (long long)vt_config_int(c, "optim.batch_size"),
                (long long)vt_config_int(c, "optim.epochs"));
    if (st == VT_OK) st = train_epochs(c, m, &d, dir, text, r, log);
    /* the best epoch's weights for the test set */
    snprintf(path, sizeof path, "%s/best.vtck", dir);
    vt_checkpoint *ck = st == VT_OK ? vt_checkpoint_load(path) : NULL;
    if (st == VT_OK && (!ck || vt_checkpoint_restore_params(ck, m->params) != VT_OK)) st = VT_ERR;
    vt_checkpoint_free(ck);
    vt_dataset *test = st == VT_OK ? vt_imgcls_dataset(c, &d, d.idx[2], d.n_split[2], 0) : NULL;
    if (st == VT_OK && !test) st = VT_ERR;
    if (st == VT_OK) st = vt_imgcls_evaluate(m, test, (int)vt_config_int(c, "optim.eval_batch"), d.num_classes, &r->test);
    vt_dataset_free(test);
    if (st == VT_OK && d.num_classes == 2 && vt_config_int(c, "eval.bootstrap") > 0) {
        float *score = malloc(sizeof(float) * (size_t)r->test.n);
        vt_auroc_ci ci;
        for (int64_t i = 0; score && i < r->test.n; i++) score[i] = r->test.probs[2 * i + 1];
        if (score && vt_auroc_bootstrap_ci(r->test.labels, score, r->test.n, (int)vt_config_int(c, "eval.bootstrap"),
                                           vt_config_float(c, "eval.ci_level"), (uint64_t)vt_config_int(c, "run.seed"), &ci) == VT_OK)
            r->auroc_lo = ci.lo, r->auroc_hi = ci.hi;
        else vt_clear_error(); /* a single-class test set: no interval */
        free(score);
    }
    if (st == VT_OK && d.num_classes == 2 && vt_config_bool(c, "eval.roc_png") && isfinite(r->test.auroc)) {
        snprintf(path, sizeof path, "%s/roc_test.png", dir);
        st = write_roc_png(path, &r->test);
    }
    if (st == VT_OK) {
        snprintf(path, sizeof path, "%s/predictions_test.csv", dir);
        st = write_predictions(path, &d, &r->test);
    }
    r->seconds = vt_now() - t_start;
    if (st == VT_OK) {
        snprintf(path, sizeof path, "%s/summary.json", dir);
        st = write_summary(path, c, &d, r);
    }
    if (st == VT_OK)
        fprintf(log, "test (best epoch %d): accuracy %.4f, precision %.4f, recall %.4f, specificity %.4f, F1 %.4f, AUROC %.4f [%.4f, %.4f]; %.1f s\n",
                r->best_epoch, r->test.accuracy, r->test.precision, r->test.sensitivity, r->test.specificity, r->test.f1,
                r->test.auroc, r->auroc_lo, r->auroc_hi, r->seconds);
    if (log != stdout) fclose(log);
    vt_model_free(m);
    vt_imgcls_data_free(&d);
    free(text);
    return st;
}
