/* ctbq_train.c: training loop of the CT bone-quality method: patient split, Adam steps on
 * the multi-task (or baseline) loss, validation every epoch, best-epoch weights kept in
 * memory, test evaluation, metrics.jsonl and summary.json. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "classify.h" /* vt_gather_rows */
#include "ctbq.h"
#include "optim.h"
#include "progress.h"

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

vt_status vt_ctbq_train(vt_ctbq_model *m, const vt_ctbq_train_config *cfg,
                        const vt_phantom_slices *d, int64_t *const idx[3], const int64_t n[3],
                        vt_ctbq_result *res) {
    memset(res, 0, sizeof *res);
    if (cfg->epochs < 1 || cfg->epochs > VT_MAX_EPOCHS) return vt_error("ctbq train: epochs %d out of 1..%d", cfg->epochs, VT_MAX_EPOCHS);
    if (cfg->batch < 1 || cfg->eval_batch < 1) return vt_error("ctbq train: batch %d and eval batch %d must be >= 1", cfg->batch, cfg->eval_batch);
    if (!vt_ctbq_metric_known(cfg->select)) return vt_error("ctbq train: unknown selection metric '%s'", cfg->select ? cfg->select : "(null)");
    if (n[0] < 1 || n[1] < 1 || n[2] < 1) return vt_error("ctbq train: empty split (train %lld, val %lld, test %lld)", (long long)n[0], (long long)n[1], (long long)n[2]);
    if (cfg->loss.kendall && !m->log_vars) return vt_error("ctbq train: Kendall weighting needs a model built with kendall = 1");
    int mtl = m->cfg.kind == VT_CTBQ_MTL;
    vt_optim *opt = vt_adam_new(m->params, cfg->lr, 0.9f, 0.999f, 1e-8f, cfg->weight_decay);
    if (!opt) return VT_ERR;
    int64_t np = vt_params_numel(m->params), nb = vt_params_buffer_numel(m->params);
    float *best = malloc(sizeof(float) * (size_t)(np + nb + 1));
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)n[0]), *bidx = malloc(sizeof(int64_t) * (size_t)cfg->batch);
    FILE *metrics = NULL;
    char path[4096];
    vt_status st = best && perm && bidx ? VT_OK : vt_error("ctbq train: out of memory");
    if (st == VT_OK && cfg->out_dir) {
        snprintf(path, sizeof path, "%s/metrics.jsonl", cfg->out_dir);
        if (!(metrics = fopen(path, "w"))) st = vt_error("%s: cannot create: %s", path, strerror(errno));
    }
    vt_rng shuffle;
    vt_rng_init(&shuffle, cfg->seed);
    int64_t steps = (n[0] + cfg->batch - 1) / cfg->batch;
    vt_progress prog;
    vt_progress_begin(&prog, stdout, steps * cfg->epochs, cfg->log_every);
    res->best_val = -INFINITY;
    double t_start = vt_now();
    for (int ep = 1; ep <= cfg->epochs && st == VT_OK; ep++) {
        vt_rng_permutation(&shuffle, perm, n[0]);
        double t0 = vt_now(), loss_sum = 0, part_sum[4] = {0};
        for (int64_t s = 0; s < steps; s++) {
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
            if (ep == 1 && s == 0) res->first_loss = l;
            res->last_loss = l;
            loss_sum += l * (double)b;
            for (int t = 0; t < 4; t++) part_sum[t] += parts[t] * (double)b;
            vt_progress_step(&prog, ep, cfg->epochs, s + 1, steps, b, l, NULL);
        }
        if (st != VT_OK) break;
        double dt = vt_now() - t0;
        vt_ctbq_eval ev;
        if ((st = vt_ctbq_evaluate(m, d, idx[1], n[1], cfg->eval_batch, &ev)) != VT_OK) break;
        vt_progress_end(&prog);
        double score = vt_ctbq_metric(&ev, cfg->select);
        int improved = isfinite(score) && score > res->best_val;
        if (improved || res->best_epoch == 0) {
            res->best_val = isfinite(score) ? score : res->best_val;
            res->best_epoch = ep;
            res->val = ev;
            memcpy(best, vt_params_values(m->params), sizeof(float) * (size_t)np);
            if (nb) memcpy(best + np, vt_params_buffer_values(m->params), sizeof(float) * (size_t)nb);
        }
        res->epochs_done = ep;
        double frac = cfg->loss.spl == VT_CTBQ_SPL_OFF ? 1.0 : vt_ctbq_spl_fraction(cfg->loss.spl_start, cfg->loss.spl_growth, ep);
        printf("epoch %d: %.1f s, train loss %.4f, spl fraction %.2f, val %s %.4f, slice acc %.3f, vertebra acc %.3f%s\n",
               ep, dt, loss_sum / (double)n[0], frac, cfg->select, score, ev.slice.sum.accuracy,
               ev.vertebra_mean.sum.accuracy, improved ? " *" : "");
        fflush(stdout);
        if (metrics) {
            char head[512];
            snprintf(head, sizeof head,
                     "{\"epoch\": %d, \"seconds\": %.3f, \"train_loss\": %.6f, \"train_blastic\": %.6f, \"train_lytic\": %.6f, "
                     "\"train_quality\": %.6f, \"train_posterolateral\": %.6f, \"spl_fraction\": %.4f, \"val_%s\": %.6f, \"val\": ",
                     ep, dt, loss_sum / (double)n[0], part_sum[0] / (double)n[0], part_sum[1] / (double)n[0],
                     part_sum[2] / (double)n[0], part_sum[3] / (double)n[0], frac, cfg->select, score);
            char *js = eval_json(&ev, mtl, head, "}\n");
            if (js) put_json(metrics, js);
            free(js);
            fflush(metrics);
        }
    }
    vt_progress_end(&prog);
    res->seconds = vt_now() - t_start;
    if (st == VT_OK) {
        memcpy(vt_params_values(m->params), best, sizeof(float) * (size_t)np);
        if (nb) memcpy(vt_params_buffer_values(m->params), best + np, sizeof(float) * (size_t)nb);
        st = vt_ctbq_evaluate(m, d, idx[2], n[2], cfg->eval_batch, &res->test);
    }
    if (st == VT_OK && cfg->out_dir) {
        char head[1024];
        snprintf(head, sizeof head,
                 "{\"model\": \"%s\", \"arch\": \"%s\", \"spl\": %d, \"kendall\": %d, \"epochs\": %d, \"best_epoch\": %d, "
                 "\"select\": \"%s\", \"best_val\": %.6f, \"seconds\": %.2f, \"n_train\": %lld, \"n_val\": %lld, \"n_test\": %lld, "
                 "\"vertebra_rules\": \"mean: argmax of the mean slice probabilities; max: blastic/lytic if max over slices of P(b)+P(m) / P(l)+P(m) >= 0.5\", "
                 "\"test\": ",
                 mtl ? "mtl" : "baseline", m->arch, (int)cfg->loss.spl, cfg->loss.kendall, cfg->epochs, res->best_epoch,
                 cfg->select, res->best_val, res->seconds, (long long)n[0], (long long)n[1], (long long)n[2]);
        char *js = eval_json(&res->test, mtl, head, "}\n");
        snprintf(path, sizeof path, "%s/summary.json", cfg->out_dir);
        st = js ? write_json_file(path, js) : vt_error("summary.json: out of memory");
        free(js);
    }
    if (metrics && fclose(metrics) != 0 && st == VT_OK) st = vt_error("metrics.jsonl: write failed");
    free(best); free(perm); free(bidx);
    vt_optim_free(opt);
    return st;
}
