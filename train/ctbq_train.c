/* ctbq_train.c: training loop of the CT bone-quality method: patient split, Adam steps on
 * the multi-task (or baseline) loss, validation every epoch, best epoch and early stopping
 * (vt_imgcls_tracker), checkpoint.vtck every epoch and on Ctrl-C / SIGTERM for a
 * bit-identical resume, best.vtck, test evaluation, metrics.jsonl and summary.json. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "checkpoint.h"
#include "classify.h" /* vt_gather_rows */
#include "ctbq.h"
#include "imgcls.h"   /* vt_imgcls_tracker: best epoch + patience */
#include "optim.h"
#include "progress.h"
#include "run_watch.h"

void vt_ctbq_train_config_default(vt_ctbq_train_config *c) {
    *c = (vt_ctbq_train_config){.epochs = 10, .batch = 32, .eval_batch = 128, .lr = 1e-3f,
                                .seed = 0, .log_every = 20, .select = "vertebra_macro_f1"};
    vt_ctbq_loss_config_default(&c->loss);
}

vt_status vt_ctbq_split_by_patient(const vt_phantom_slices *d, double val_frac, double test_frac,
                                   uint64_t seed, int64_t *idx[3], int64_t n[3]) {
    idx[0] = idx[1] = idx[2] = NULL;
    n[0] = n[1] = n[2] = 0;
    int64_t ns = d->patient->numel;
    int np = 0;
    for (int64_t i = 0; i < ns; i++) if ((int)d->patient->data[i] + 1 > np) np = (int)d->patient->data[i] + 1;
    if (!(val_frac >= 0 && test_frac >= 0 && val_frac + test_frac < 1))
        return vt_error("ctbq split: val %g + test %g must be in [0, 1)", val_frac, test_frac);
    int nval = (int)lround(val_frac * np), ntest = (int)lround(test_frac * np);
    nval = nval < 1 ? 1 : nval;
    ntest = ntest < 1 ? 1 : ntest;
    if (np - nval - ntest < 1)
        return vt_error("ctbq split: %d patients cannot fill train, val (%d) and test (%d) by patient", np, nval, ntest);
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)np);
    int *which = malloc(sizeof(int) * (size_t)np);
    for (int k = 0; k < 3; k++) idx[k] = malloc(sizeof(int64_t) * (size_t)ns);
    if (!perm || !which || !idx[0] || !idx[1] || !idx[2]) {
        free(perm); free(which);
        for (int k = 0; k < 3; k++) { free(idx[k]); idx[k] = NULL; }
        return vt_error("ctbq split: out of memory");
    }
    vt_rng r;
    vt_rng_init(&r, seed ^ 0x5eed5011ull);
    vt_rng_permutation(&r, perm, np);
    for (int k = 0; k < np; k++) which[perm[k]] = k < ntest ? 2 : k < ntest + nval ? 1 : 0;
    for (int64_t i = 0; i < ns; i++) {
        int s = which[(int)d->patient->data[i]];
        idx[s][n[s]++] = i;
    }
    free(perm); free(which);
    return VT_OK;
}

static void write_level(FILE *f, const char *name, const vt_ctbq_level *l) {
    static const char *const cls[4] = {"normal", "blastic", "lytic", "mixed"};
    fprintf(f, "\"%s\": {\"n\": %lld, \"accuracy\": %.6f, \"macro_f1\": %.6f, \"macro_sensitivity\": %.6f, \"sensitivity\": {",
            name, (long long)l->n, l->sum.accuracy, l->sum.macro.f1, l->sum.macro.sensitivity);
    for (int c = 0; c < 4; c++) fprintf(f, "%s\"%s\": %.6f", c ? ", " : "", cls[c], l->cls[c].sensitivity);
    fprintf(f, "}}");
}

/* one JSON object (no newline) of an evaluation; NaN written as null */
static void write_eval(FILE *f, const vt_ctbq_eval *e, int mtl) {
    fprintf(f, "{\"loss\": %.6f, ", e->loss);
    write_level(f, "slice", &e->slice);
    fprintf(f, ", ");
    write_level(f, "vertebra_mean", &e->vertebra_mean);
    fprintf(f, ", ");
    write_level(f, "vertebra_max", &e->vertebra_max);
    if (mtl)
        fprintf(f, ", \"posterolateral_slice\": {\"sensitivity\": %.6f, \"specificity\": %.6f}",
                e->postero_slice.sensitivity, e->postero_slice.specificity);
    fprintf(f, "}");
}

/* JSON has no NaN: printf's "nan" / "-nan" go out as null */
static void put_json(FILE *f, const char *text) {
    for (const char *p = text; *p; p++) {
        int neg = p[0] == '-';
        if (!strncmp(p + neg, "nan", 3)) {
            fputs("null", f);
            p += 2 + neg;
        } else fputc(*p, f);
    }
}

static vt_status write_json_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return vt_error("%s: cannot create: %s", path, strerror(errno));
    put_json(f, text);
    return fclose(f) == 0 ? VT_OK : vt_error("%s: write failed", path);
}

/* renders the writer's output to a malloc'd string */
static char *eval_json(const vt_ctbq_eval *e, int mtl, const char *prefix, const char *suffix) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fputs(prefix, f);
    write_eval(f, e, mtl);
    fputs(suffix, f);
    fclose(f);
    return buf;
}


char *vt_ctbq_eval_json(const vt_ctbq_eval *e, int mtl) {
    char *raw = eval_json(e, mtl, "", ""), *out = NULL;
    size_t len = 0;
    FILE *f = raw ? open_memstream(&out, &len) : NULL;
    if (f) {
        put_json(f, raw);
        fclose(f);
    }
    free(raw);
    if (!out) vt_error("ctbq eval json: out of memory");
    return out;
}

/* Ctrl-C / SIGTERM: finish the current step, save checkpoint.vtck, stop (as classify.c) */
static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) { stop_requested = sig; }

static int64_t double_bits(double v) { int64_t b; memcpy(&b, &v, sizeof b); return b; }
static double bits_double(int64_t b) { double v; memcpy(&v, &b, sizeof v); return v; }

/* where the loop stands: with the weights, Adam state, tracker and best weights this is
 * all a resume needs to continue bit-identically */
typedef struct run_pos {
    int epoch;          /* the epoch to continue (1-based) */
    int64_t cursor;     /* steps of it already done */
    vt_rng shuffle;     /* the shuffle stream before this epoch's permutation */
    double loss_sum, part_sum[4], first_loss, last_loss; /* this epoch's sums so far */
} run_pos;

typedef struct best_weights {
    float *v;           /* np parameters then nb buffer values */
    int64_t np, nb;
} best_weights;

static vt_status add_double(vt_checkpoint *ck, const char *name, double v) { return vt_checkpoint_set_int(ck, name, double_bits(v)); }
static vt_status get_double(const vt_checkpoint *ck, const char *name, double *v) {
    int64_t b = 0;
    vt_status st = vt_checkpoint_get_int(ck, name, &b);
    *v = bits_double(b);
    return st;
}

static const char *const PART_KEYS[4] = {"pos.part_sum.blastic", "pos.part_sum.lytic", "pos.part_sum.quality", "pos.part_sum.postero"};

/* o NULL: best.vtck (the live weights, which are the best epoch's, and the config text);
 * else checkpoint.vtck (everything) */
static vt_status save_ckpt(const char *path, const vt_ctbq_train_config *cfg, const vt_ctbq_model *m, vt_optim *o,
                           const run_pos *p, const vt_imgcls_tracker *t, const best_weights *bw) {
    vt_checkpoint *ck = vt_checkpoint_new();
    if (!ck) return VT_ERR;
    vt_status st = vt_checkpoint_add_params(ck, m->params);
    if (st == VT_OK) st = vt_checkpoint_set_text(ck, cfg->config_text ? cfg->config_text : "");
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "best_epoch", t->best_epoch);
    if (st == VT_OK) st = add_double(ck, "best_score", t->best);
    if (o) {
        for (int i = 0; st == VT_OK && i < vt_optim_state_count(o); i++)
            st = vt_checkpoint_add_array(ck, vt_optim_state_name(o, i), vt_optim_state(o, i), vt_optim_state_numel(o));
        if (st == VT_OK) st = vt_checkpoint_set_int(ck, "optim.step", vt_optim_get_step(o));
        if (st == VT_OK) st = vt_checkpoint_set_int(ck, "bad_epochs", t->bad_epochs);
        if (st == VT_OK) st = vt_checkpoint_set_int(ck, "epoch", p->epoch);
        if (st == VT_OK) st = vt_checkpoint_set_int(ck, "cursor", p->cursor);
        if (st == VT_OK) st = vt_checkpoint_set_rng(ck, "rng.shuffle", &p->shuffle);
        if (st == VT_OK) st = vt_checkpoint_set_rng(ck, "rng.global", vt_rng_global());
        if (st == VT_OK) st = add_double(ck, "pos.loss_sum", p->loss_sum);
        for (int k = 0; st == VT_OK && k < 4; k++) st = add_double(ck, PART_KEYS[k], p->part_sum[k]);
        if (st == VT_OK) st = add_double(ck, "pos.first_loss", p->first_loss);
        if (st == VT_OK) st = add_double(ck, "pos.last_loss", p->last_loss);
        if (st == VT_OK) st = vt_checkpoint_add_array(ck, "best.params", bw->v, bw->np);
        if (st == VT_OK && bw->nb) st = vt_checkpoint_add_array(ck, "best.buffers", bw->v + bw->np, bw->nb);
    }
    if (st == VT_OK) st = vt_checkpoint_save(ck, path);
    vt_checkpoint_free(ck);
    return st;
}

static vt_status load_ckpt(const char *path, vt_ctbq_model *m, vt_optim *o, run_pos *p, vt_imgcls_tracker *t,
                           best_weights *bw) {
    vt_checkpoint *ck = vt_checkpoint_load(path);
    if (!ck) return VT_ERR;
    int64_t ep = 0, cur = 0, bad = 0, be = 0, step = 0;
    vt_status st = vt_checkpoint_get_int(ck, "epoch", &ep) == VT_OK ? VT_OK
                 : vt_error("not a training checkpoint (no epoch record; best.vtck holds weights only)");
    if (st == VT_OK) st = vt_checkpoint_restore_params(ck, m->params);
    for (int i = 0; st == VT_OK && i < vt_optim_state_count(o); i++)
        st = vt_checkpoint_get_array(ck, vt_optim_state_name(o, i), vt_optim_state(o, i), vt_optim_state_numel(o));
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "optim.step", &step);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "cursor", &cur);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "bad_epochs", &bad);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "best_epoch", &be);
    if (st == VT_OK) st = get_double(ck, "best_score", &t->best);
    if (st == VT_OK) st = vt_checkpoint_get_rng(ck, "rng.shuffle", &p->shuffle);
    if (st == VT_OK) st = vt_checkpoint_get_rng(ck, "rng.global", vt_rng_global());
    if (st == VT_OK) st = get_double(ck, "pos.loss_sum", &p->loss_sum);
    for (int k = 0; st == VT_OK && k < 4; k++) st = get_double(ck, PART_KEYS[k], &p->part_sum[k]);
    if (st == VT_OK) st = get_double(ck, "pos.first_loss", &p->first_loss);
    if (st == VT_OK) st = get_double(ck, "pos.last_loss", &p->last_loss);
    if (st == VT_OK) st = vt_checkpoint_get_array(ck, "best.params", bw->v, bw->np);
    if (st == VT_OK && bw->nb) st = vt_checkpoint_get_array(ck, "best.buffers", bw->v + bw->np, bw->nb);
    vt_checkpoint_free(ck);
    if (st != VT_OK) return vt_error("ctbq resume %s: %s", path, vt_last_error());
    if (ep < 1 || cur < 0) return vt_error("ctbq resume %s: bad position epoch %lld cursor %lld", path, (long long)ep, (long long)cur);
    vt_optim_set_step(o, step);
    p->epoch = (int)ep, p->cursor = cur;
    t->bad_epochs = (int)bad, t->best_epoch = (int)be;
    return VT_OK;
}

static void snapshot_best(const vt_ctbq_model *m, best_weights *bw) {
    memcpy(bw->v, vt_params_values(m->params), sizeof(float) * (size_t)bw->np);
    if (bw->nb) memcpy(bw->v + bw->np, vt_params_buffer_values(m->params), sizeof(float) * (size_t)bw->nb);
}

static void restore_best(vt_ctbq_model *m, const best_weights *bw) {
    memcpy(vt_params_values(m->params), bw->v, sizeof(float) * (size_t)bw->np);
    if (bw->nb) memcpy(vt_params_buffer_values(m->params), bw->v + bw->np, sizeof(float) * (size_t)bw->nb);
}

vt_status vt_ctbq_train(vt_ctbq_model *m, const vt_ctbq_train_config *cfg,
                        const vt_phantom_slices *d, int64_t *const idx[3], const int64_t n[3],
                        vt_ctbq_result *res) {
    memset(res, 0, sizeof *res);
    if (cfg->epochs < 1 || cfg->epochs > VT_MAX_EPOCHS) return vt_error("ctbq train: epochs %d out of 1..%d", cfg->epochs, VT_MAX_EPOCHS);
    if (cfg->batch < 1 || cfg->eval_batch < 1) return vt_error("ctbq train: batch %d and eval batch %d must be >= 1", cfg->batch, cfg->eval_batch);
    if (!vt_ctbq_metric_known(cfg->select)) return vt_error("ctbq train: unknown selection metric '%s'", cfg->select ? cfg->select : "(null)");
    if (n[0] < 1 || n[1] < 1 || n[2] < 1) return vt_error("ctbq train: empty split (train %lld, val %lld, test %lld)", (long long)n[0], (long long)n[1], (long long)n[2]);
    if (cfg->loss.kendall && !m->log_vars) return vt_error("ctbq train: Kendall weighting needs a model built with kendall = 1");
    if (cfg->patience < 0 || !(cfg->min_delta >= 0)) return vt_error("ctbq train: patience %d and min_delta %g must be >= 0", cfg->patience, cfg->min_delta);
    int mtl = m->cfg.kind == VT_CTBQ_MTL, resuming = cfg->resume && *cfg->resume;
    vt_optim *opt = vt_adam_new(m->params, cfg->lr, 0.9f, 0.999f, 1e-8f, cfg->weight_decay);
    if (!opt) return VT_ERR;
    best_weights bw = {.np = vt_params_numel(m->params), .nb = vt_params_buffer_numel(m->params)};
    bw.v = malloc(sizeof(float) * (size_t)(bw.np + bw.nb + 1));
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)n[0]), *bidx = malloc(sizeof(int64_t) * (size_t)cfg->batch);
    FILE *metrics = NULL;
    char path[4096], ck_path[4096], best_path[4096];
    vt_status st = bw.v && perm && bidx ? VT_OK : vt_error("ctbq train: out of memory");
    vt_imgcls_tracker t;
    vt_imgcls_tracker_init(&t, cfg->patience, cfg->min_delta);
    run_pos pos = {.epoch = 1};
    vt_rng_init(&pos.shuffle, cfg->seed);
    if (st == VT_OK) snapshot_best(m, &bw);
    if (st == VT_OK && resuming && (st = load_ckpt(cfg->resume, m, opt, &pos, &t, &bw)) == VT_OK) {
        res->resumed_from = pos.epoch;
        printf("resumed from %s at epoch %d step %lld (best so far: epoch %d)\n", cfg->resume, pos.epoch,
               (long long)pos.cursor + 1, t.best_epoch);
    }
    if (st == VT_OK && cfg->out_dir) {
        snprintf(path, sizeof path, "%s/metrics.jsonl", cfg->out_dir);
        if (!(metrics = fopen(path, resuming ? "a" : "w"))) st = vt_error("%s: cannot create: %s", path, strerror(errno));
        snprintf(ck_path, sizeof ck_path, "%s/checkpoint.vtck", cfg->out_dir);
        snprintf(best_path, sizeof best_path, "%s/best.vtck", cfg->out_dir);
    }
    vt_tb_writer *tb = st == VT_OK ? vt_run_watch_open(cfg->out_dir) : NULL; /* NULL out_dir: none */
    int64_t steps = (n[0] + cfg->batch - 1) / cfg->batch, steps_run = 0;
    vt_progress prog;
    vt_progress_begin(&prog, stdout, steps * (cfg->epochs >= pos.epoch ? cfg->epochs - pos.epoch + 1 : 0), cfg->log_every);
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    stop_requested = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    res->epochs_done = pos.epoch - 1;
    double t_start = vt_now();
    for (int ep = pos.epoch; ep <= cfg->epochs && st == VT_OK && !vt_imgcls_tracker_should_stop(&t); ep++) {
        vt_rng epoch_start = pos.shuffle; /* a resume redraws this epoch's permutation from here */
        vt_rng_permutation(&pos.shuffle, perm, n[0]);
        double t0 = vt_now();
        for (int64_t s = pos.cursor; s < steps; s++) {
            int64_t b0 = s * cfg->batch, b = n[0] - b0 < cfg->batch ? n[0] - b0 : cfg->batch;
            for (int64_t i = 0; i < b; i++) bidx[i] = idx[0][perm[b0 + i]];
            vt_ctbq_output o;
            double parts[4];
            if ((st = vt_ctbq_forward(m, vt_gather_rows(d->images, bidx, b), 1, &o)) != VT_OK) break;
            vt_tensor *loss = vt_ctbq_loss(m, &o, vt_gather_rows(d->quality, bidx, b), vt_gather_rows(d->blastic, bidx, b),
                                           vt_gather_rows(d->lytic, bidx, b), vt_gather_rows(d->posterolateral, bidx, b),
                                           &cfg->loss, ep, parts);
            if (!loss) { st = VT_ERR; break; }
            double l = vt_tensor_item(loss);
            if (!isfinite(l)) { st = vt_error("ctbq train: loss is %g at epoch %d step %lld; stopping (lower --lr?)", l, ep, (long long)s + 1); break; }
            vt_params_zero_grad(m->params);
            if ((st = vt_backward(loss)) != VT_OK || (st = vt_optim_step(opt)) != VT_OK) break;
            vt_arena_reset(NULL);
            if (ep == 1 && s == 0) pos.first_loss = l;
            pos.last_loss = l;
            pos.loss_sum += l * (double)b;
            for (int k = 0; k < 4; k++) pos.part_sum[k] += parts[k] * (double)b;
            vt_progress_step(&prog, ep, cfg->epochs, s + 1, steps, b, l, NULL);
            if (cfg->interrupt_after_steps > 0 && ++steps_run == cfg->interrupt_after_steps) raise(SIGINT);
            if (stop_requested) {
                run_pos here = pos;
                here.epoch = ep, here.cursor = s + 1, here.shuffle = epoch_start;
                vt_progress_end(&prog);
                if (cfg->out_dir && (st = save_ckpt(ck_path, cfg, m, opt, &here, &t, &bw)) != VT_OK) break;
                res->interrupted = 1;
                st = vt_error("ctbq train: interrupted by %s after epoch %d step %lld%s%s", stop_requested == SIGTERM ? "SIGTERM" : "SIGINT",
                              ep, (long long)s + 1, cfg->out_dir ? "; continue with --resume " : " (no run folder: nothing saved)",
                              cfg->out_dir ? ck_path : "");
                break;
            }
        }
        if (st != VT_OK) break;
        pos.cursor = 0;
        double dt = vt_now() - t0;
        vt_ctbq_eval ev;
        if ((st = vt_ctbq_evaluate(m, d, idx[1], n[1], cfg->eval_batch, &ev)) != VT_OK) break;
        vt_progress_end(&prog);
        double score = vt_ctbq_metric(&ev, cfg->select);
        int improved = vt_imgcls_tracker_update(&t, ep, score);
        if (improved) {
            snapshot_best(m, &bw);
            if (cfg->out_dir && (st = save_ckpt(best_path, cfg, m, NULL, NULL, &t, NULL)) != VT_OK) break;
        }
        res->epochs_done = ep;
        double frac = cfg->loss.spl == VT_CTBQ_SPL_OFF ? 1.0 : vt_ctbq_spl_fraction(cfg->loss.spl_start, cfg->loss.spl_growth, ep);
        printf("epoch %d: %.1f s, train loss %.4f, spl fraction %.2f, val %s %.4f, slice acc %.3f, vertebra acc %.3f%s\n",
               ep, dt, pos.loss_sum / (double)n[0], frac, cfg->select, score, ev.slice.sum.accuracy,
               ev.vertebra_mean.sum.accuracy, improved ? " *" : "");
        fflush(stdout);
        if (metrics) {
            char head[512];
            snprintf(head, sizeof head,
                     "{\"epoch\": %d, \"seconds\": %.3f, \"train_loss\": %.6f, \"train_blastic\": %.6f, \"train_lytic\": %.6f, "
                     "\"train_quality\": %.6f, \"train_posterolateral\": %.6f, \"spl_fraction\": %.4f, \"best\": %s, \"val_%s\": %.6f, \"val\": ",
                     ep, dt, pos.loss_sum / (double)n[0], pos.part_sum[0] / (double)n[0], pos.part_sum[1] / (double)n[0],
                     pos.part_sum[2] / (double)n[0], pos.part_sum[3] / (double)n[0], frac, improved ? "true" : "false",
                     cfg->select, score);
            char *js = eval_json(&ev, mtl, head, "}\n");
            if (js) put_json(metrics, js);
            free(js);
            fflush(metrics);
            vt_run_watch_plots(cfg->out_dir);
        }
        static const char *const part_tags[4] = {"epoch/train_blastic", "epoch/train_lytic", "epoch/train_quality", "epoch/train_posterolateral"};
        vt_run_watch_scalar(tb, "epoch/train_loss", ep, pos.loss_sum / (double)n[0]);
        for (int k = 0; k < 4; k++) vt_run_watch_scalar(tb, part_tags[k], ep, pos.part_sum[k] / (double)n[0]);
        vt_run_watch_scalar(tb, "epoch/spl_fraction", ep, frac);
        vt_run_watch_scalar(tb, "val/loss", ep, ev.loss);
        vt_run_watch_scalar(tb, "val/slice_accuracy", ep, ev.slice.sum.accuracy);
        vt_run_watch_scalar(tb, "val/vertebra_mean_accuracy", ep, ev.vertebra_mean.sum.accuracy);
        vt_run_watch_scalar(tb, "val/vertebra_mean_macro_f1", ep, ev.vertebra_mean.sum.macro.f1);
        char tag[128];
        snprintf(tag, sizeof tag, "val/%s", cfg->select);
        vt_run_watch_scalar(tb, tag, ep, score);
        pos.epoch = ep + 1, pos.loss_sum = 0;
        memset(pos.part_sum, 0, sizeof pos.part_sum);
        if (cfg->out_dir && (st = save_ckpt(ck_path, cfg, m, opt, &pos, &t, &bw)) != VT_OK) break;
        if (stop_requested && ep < cfg->epochs) { /* the signal came during the validation */
            res->interrupted = 1;
            st = vt_error("ctbq train: interrupted by %s after epoch %d%s%s", stop_requested == SIGTERM ? "SIGTERM" : "SIGINT", ep,
                          cfg->out_dir ? "; continue with --resume " : " (no run folder: nothing saved)", cfg->out_dir ? ck_path : "");
        }
    }
    vt_progress_end(&prog);
    vt_run_watch_close(tb);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    res->seconds = vt_now() - t_start;
    res->best_epoch = t.best_epoch, res->best_val = t.best;
    res->first_loss = pos.first_loss, res->last_loss = pos.last_loss;
    res->stopped_early = st == VT_OK && vt_imgcls_tracker_should_stop(&t) && res->epochs_done < cfg->epochs;
    if (res->stopped_early)
        printf("early stop: %d epochs without improvement of val %s (patience %d)\n", t.bad_epochs, cfg->select, cfg->patience);
    if (st == VT_OK) {
        restore_best(m, &bw);
        st = vt_ctbq_evaluate(m, d, idx[1], n[1], cfg->eval_batch, &res->val);
    }
    if (st == VT_OK) st = vt_ctbq_evaluate(m, d, idx[2], n[2], cfg->eval_batch, &res->test);
    if (st == VT_OK && cfg->out_dir) {
        char head[1024];
        snprintf(head, sizeof head,
                 "{\"model\": \"%s\", \"arch\": \"%s\", \"spl\": %d, \"kendall\": %d, \"epochs\": %d, \"epochs_done\": %d, "
                 "\"stopped_early\": %s, \"patience\": %d, \"best_epoch\": %d, "
                 "\"select\": \"%s\", \"best_val\": %.6f, \"seconds\": %.2f, \"n_train\": %lld, \"n_val\": %lld, \"n_test\": %lld, "
                 "\"vertebra_rules\": \"mean: argmax of the mean slice probabilities; max: blastic/lytic if max over slices of P(b)+P(m) / P(l)+P(m) >= 0.5\", "
                 "\"test\": ",
                 mtl ? "mtl" : "baseline", m->arch, (int)cfg->loss.spl, cfg->loss.kendall, cfg->epochs, res->epochs_done,
                 res->stopped_early ? "true" : "false", cfg->patience, res->best_epoch,
                 cfg->select, res->best_val, res->seconds, (long long)n[0], (long long)n[1], (long long)n[2]);
        char *js = eval_json(&res->test, mtl, head, "}\n");
        snprintf(path, sizeof path, "%s/summary.json", cfg->out_dir);
        st = js ? write_json_file(path, js) : vt_error("summary.json: out of memory");
        free(js);
    }
    if (metrics && fclose(metrics) != 0 && st == VT_OK) st = vt_error("metrics.jsonl: write failed");
    free(bw.v); free(perm); free(bidx);
    vt_optim_free(opt);
    return st;
}
