/* mdseg_run.c: the multi-domain segmentation run (mdseg.h): config -> data -> optional
 * transfer init and shape prior -> balanced-batch training with CE + contrastive + prior
 * -> held-out Dice per domain; and the encoder-classifier pretraining mode. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "checkpoint.h"
#include "classify.h" /* vt_gather_rows */
#include "losses.h"
#include "mdseg.h"
#include "optim.h"
#include "phantom_ct.h"
#include "progress.h"
#include "run_watch.h"
#include "safetensors.h"

#define TEST_SEED_SALT 0x9e3779b97f4a7c15ull /* held-out images come from another phantom seed */

static void put_num(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6f", v);
    else fputs("null", f);
}

static void put_dice(FILE *f, const vt_mdseg_result *r) {
    static const char *const cls[VT_MDSEG_CLASSES] = {"background", "body", "posterior"};
    fputc('{', f);
    for (int d = 0; d < r->n_domains; d++) {
        fprintf(f, "%s\"%s\": {", d ? ", " : "", r->name[d]);
        for (int c = 0; c < VT_MDSEG_CLASSES; c++) {
            fprintf(f, "%s\"%s\": ", c ? ", " : "", cls[c]);
            put_num(f, r->dice[d][c]);
        }
        fputs(", \"foreground_mean\": ", f);
        put_num(f, 0.5 * (r->dice[d][1] + r->dice[d][2]));
        fputc('}', f);
    }
    fputc('}', f);
}

/* mode "w" (a new run) or "a" (a resumed run appends) */
static vt_status open_mode(const char *dir, const char *name, const char *mode, FILE **f) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(*f = fopen(path, mode))) return vt_error("%s: cannot create: %s", path, strerror(errno));
    return VT_OK;
}

static vt_status open_in(const char *dir, const char *name, FILE **f) { return open_mode(dir, name, "w", f); }

/* ---- pretraining: the classifier whose trunk is the UNet encoder --------------------- */
static vt_status run_pretrain(const vt_config *c, const char *out, vt_mdseg_result *res) {
    if (!out) return vt_error("mdseg pretrain: needs a run folder to write encoder.safetensors");
    uint64_t seed = (uint64_t)vt_config_int(c, "run.seed");
    int size = (int)vt_config_int(c, "data.size"), task = vt_config_enum(c, "pretrain.task");
    vt_tensor *images = NULL, *labels = NULL;
    int64_t n_train = 0, k = 0;
    vt_status st = VT_OK;
    if (task == 0) { /* bone quality: patients in order, the last 20% held out */
        vt_phantom_vertebra_config pc;
        vt_phantom_vertebra_config_default(&pc);
        pc.n_patients = (int)vt_config_int(c, "pretrain.patients");
        pc.size = size;
        pc.seed = seed;
        vt_phantom_slices s;
        if ((st = vt_phantom_vertebrae_make(&pc, &s)) != VT_OK) return st;
        images = vt_tensor_retain(s.images);
        labels = vt_tensor_retain(s.quality);
        int64_t per = (int64_t)pc.vertebrae_per_patient * pc.slices_per_vertebra;
        n_train = per * (pc.n_patients - (pc.n_patients + 4) / 5);
        k = 4;
        vt_phantom_slices_free(&s);
    } else { /* domain id of the listed domains; train/held-out interleaved 4:1 */
        int ph[VT_MDSEG_MAX_DOMAINS];
        if (!strcmp(vt_config_string(c, "data.source"), "files"))
            return vt_error("mdseg pretrain: task domain uses the phantom domains (data.source = phantom), not data.files");
        int nd = vt_mdseg_parse_domains(vt_config_string(c, "data.domains"), ph);
        if (nd < 2) return nd < 0 ? VT_ERR : vt_error("mdseg pretrain: task domain needs at least 2 domains");
        vt_mdseg_data d;
        if ((st = vt_mdseg_data_make(ph, nd, vt_config_int(c, "data.train_per_domain"), size, seed, &d)) != VT_OK) return st;
        images = vt_tensor_retain(d.images);
        labels = vt_tensor_new(VT_DIMS(d.n));
        for (int64_t i = 0; i < d.n; i++) labels->data[i] = (float)d.domain[i];
        n_train = d.n;
        k = nd;
        vt_mdseg_data_free(&d);
    }
    int64_t n = images->shape[0];
    int64_t *order = malloc(sizeof(int64_t) * (size_t)n);
    for (int64_t i = 0; order && i < n; i++) order[i] = i;
    if (task == 1 && order) { /* every 5th sample held out */
        int64_t a = 0, b = 0, *tmp = malloc(sizeof(int64_t) * (size_t)n);
        if (tmp) {
            for (int64_t i = 0; i < n; i++) if (i % 5) tmp[a++] = i;
            n_train = a;
            for (int64_t i = 0; i < n; i++) if (!(i % 5)) tmp[n_train + b++] = i;
            memcpy(order, tmp, sizeof(int64_t) * (size_t)n);
            free(tmp);
        }
    }
    vt_seed(seed);
    vt_mdseg_encoder *e = order ? vt_mdseg_encoder_new((int)vt_config_int(c, "model.depth"), (int)vt_config_int(c, "model.base_width"), (int)k) : NULL;
    int epochs = (int)vt_config_int(c, "pretrain.epochs"), batch = (int)vt_config_int(c, "pretrain.batch");
    vt_optim *opt = e ? vt_adam_new(e->params, (float)vt_config_float(c, "pretrain.lr"), 0.9f, 0.999f, 1e-8f, 0.f) : NULL;
    int64_t *perm = malloc(sizeof(int64_t) * (size_t)n), *bidx = malloc(sizeof(int64_t) * (size_t)batch);
    FILE *metrics = NULL;
    if (!opt || !perm || !bidx) st = VT_ERR;
    if (st == VT_OK) st = open_in(out, "metrics.jsonl", &metrics);
    vt_tb_writer *tb = st == VT_OK ? vt_run_watch_open(out) : NULL;
    vt_rng rng;
    vt_rng_init(&rng, seed * 7 + 3);
    double t0 = vt_now();
    printf("mdseg pretrain: %s classifier (%lld classes), encoder depth %lld width %lld, %lld train / %lld held-out images\n",
           task ? "domain" : "bone_quality", (long long)k, (long long)vt_config_int(c, "model.depth"),
           (long long)vt_config_int(c, "model.base_width"), (long long)n_train, (long long)(n - n_train));
    for (int ep = 1; ep <= epochs && st == VT_OK; ep++) {
        vt_rng_permutation(&rng, perm, n_train);
        double sum = 0;
        for (int64_t b0 = 0; b0 < n_train && st == VT_OK; b0 += batch) {
            int64_t b = n_train - b0 < batch ? n_train - b0 : batch;
            for (int64_t i = 0; i < b; i++) bidx[i] = order[perm[b0 + i]];
            vt_tensor *loss = vt_cross_entropy(vt_mdseg_encoder_forward(e, vt_gather_rows(images, bidx, b), 1),
                                               vt_gather_rows(labels, bidx, b), NULL);
            if (!loss) { st = VT_ERR; break; }
            double l = vt_tensor_item(loss);
            if (ep == 1 && b0 == 0) res->first_loss = l;
            res->last_loss = l;
            sum += l * (double)b;
            vt_params_zero_grad(e->params);
            if ((st = vt_backward(loss)) == VT_OK) st = vt_optim_step(opt);
            vt_arena_reset(NULL);
        }
        /* held-out accuracy */
        int64_t correct = 0;
        int g = vt_no_grad_begin();
        for (int64_t b0 = n_train; b0 < n && st == VT_OK; b0 += batch) {
            int64_t b = n - b0 < batch ? n - b0 : batch;
            vt_tensor *lg = vt_mdseg_encoder_forward(e, vt_gather_rows(images, order + b0, b), 0);
            if (!lg) { st = VT_ERR; break; }
            for (int64_t i = 0; i < b; i++) {
                int best = 0;
                for (int j = 1; j < k; j++) if (lg->data[i * k + j] > lg->data[i * k + best]) best = j;
                correct += best == (int)labels->data[order[b0 + i]];
            }
            vt_arena_reset(NULL);
        }
        vt_no_grad_end(g);
        if (st != VT_OK) break;
        res->pretrain_accuracy = n > n_train ? (double)correct / (double)(n - n_train) : NAN;
        res->epochs_done = ep;
        printf("pretrain epoch %d: train loss %.4f, held-out accuracy %.3f, %.1f s\n", ep, sum / (double)n_train,
               res->pretrain_accuracy, vt_now() - t0);
        fprintf(metrics, "{\"epoch\": %d, \"train_loss\": ", ep);
        put_num(metrics, sum / (double)n_train);
        fputs(", \"heldout_accuracy\": ", metrics);
        put_num(metrics, res->pretrain_accuracy);
        fprintf(metrics, ", \"seconds\": %.3f}\n", vt_now() - t0);
        fflush(metrics);
        vt_run_watch_plots(out);
        vt_run_watch_scalar(tb, "epoch/train_loss", ep, sum / (double)n_train);
        vt_run_watch_scalar(tb, "val/heldout_accuracy", ep, res->pretrain_accuracy);
    }
    vt_run_watch_close(tb);
    res->seconds = vt_now() - t0;
    if (st == VT_OK) {
        char path[4096], meta[256];
        snprintf(path, sizeof path, "%s/encoder.safetensors", out);
        snprintf(meta, sizeof meta, "{\"arch\":\"mdseg_encoder\",\"task\":\"%s\",\"depth\":\"%d\",\"base_width\":\"%d\"}",
                 task ? "domain" : "bone_quality", e->depth, e->base_width);
        st = vt_params_save_safetensors(e->params, path, meta);
        if (st == VT_OK) printf("wrote %s\n", path);
    }
    if (metrics && fclose(metrics) != 0 && st == VT_OK) st = vt_error("metrics.jsonl: write failed");
    vt_optim_free(opt);
    vt_mdseg_encoder_free(e);
    free(order); free(perm); free(bidx);
    vt_tensor_free(images);
    vt_tensor_free(labels);
    return st;
}

/* ---- segmentation ------------------------------------------------------------------- */
static vt_status save_checkpoint(const char *out, vt_mdseg_model *m, vt_optim *opt, int epoch, const vt_config *c) {
    char path[4096];
    snprintf(path, sizeof path, "%s/checkpoint.vtck", out);
    vt_checkpoint *ck = vt_checkpoint_new();
    if (!ck) return VT_ERR;
    vt_status st = vt_checkpoint_add_params(ck, m->params);
    for (int i = 0; i < vt_optim_state_count(opt) && st == VT_OK; i++)
        st = vt_checkpoint_add_array(ck, vt_optim_state_name(opt, i), vt_optim_state(opt, i), vt_optim_state_numel(opt));
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "epoch", epoch);
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "optim.step", vt_optim_get_step(opt));
    if (st == VT_OK) st = vt_checkpoint_set_rng(ck, "rng.global", vt_rng_global());
    char *text = vt_config_to_string(c);
    if (st == VT_OK && text) st = vt_checkpoint_set_text(ck, text);
    free(text);
    if (st == VT_OK) st = vt_checkpoint_save(ck, path);
    vt_checkpoint_free(ck);
    return st;
}

/* run.resume: weights, Adam state and step, the global RNG and the epoch from path; the
 * sampler is replayed (index shuffles only) to where that epoch left it. 0 on error. */
static int load_checkpoint(const char *path, vt_mdseg_model *m, vt_optim *opt, vt_mdseg_sampler *smp, int64_t steps,
                           int64_t *idx) {
    vt_checkpoint *ck = vt_checkpoint_load(path);
    if (!ck) return 0;
    int64_t epoch = 0, ostep = 0;
    vt_status st = vt_checkpoint_restore_params(ck, m->params);
    for (int i = 0; i < vt_optim_state_count(opt) && st == VT_OK; i++)
        st = vt_checkpoint_get_array(ck, vt_optim_state_name(opt, i), vt_optim_state(opt, i), vt_optim_state_numel(opt));
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "epoch", &epoch);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "optim.step", &ostep);
    if (st == VT_OK) st = vt_checkpoint_get_rng(ck, "rng.global", vt_rng_global());
    if (st == VT_OK && (epoch < 1 || ostep != epoch * steps))
        st = vt_error("epoch %lld, %lld optimizer steps: not %lld steps per epoch of this config", (long long)epoch, (long long)ostep, (long long)steps);
    vt_checkpoint_free(ck);
    if (st != VT_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", vt_last_error());
        vt_error("mdseg resume: %s: %s", path, why);
        return 0;
    }
    vt_optim_set_step(opt, ostep);
    for (int64_t s = 0; s < ostep; s++) vt_mdseg_sampler_next(smp, idx);
    return (int)epoch;
}

static vt_status run_seg(const vt_config *c, const char *out, vt_mdseg_result *res) {
    int ph[VT_MDSEG_MAX_DOMAINS];
    int files = !strcmp(vt_config_string(c, "data.source"), "files"), nd = 0;
    vt_mdseg_data train = {0}, test = {0};
    int size = (int)vt_config_int(c, "data.size"), depth = (int)vt_config_int(c, "model.depth");
    if (size % 8 || size % (1 << depth)) return vt_error("mdseg: data.size %d must be a multiple of 8 and of 2^depth = %d", size, 1 << depth);
    if (files) { /* loaded first: nd is the number of CSVs */
        if (vt_mdseg_data_load_files(vt_config_string(c, "data.files"), size, vt_config_float(c, "data.test_fraction"), &train, &test) != VT_OK)
            return VT_ERR;
        nd = train.n_domains;
        for (int d = 0; d < nd; d++) ph[d] = -1;
    } else if ((nd = vt_mdseg_parse_domains(vt_config_string(c, "data.domains"), ph)) < 0) return VT_ERR;
    int batch0 = (int)vt_config_int(c, "train.batch");
    if (batch0 % nd) {
        vt_mdseg_data_free(&train);
        vt_mdseg_data_free(&test);
        return vt_error("mdseg: train.batch %d must be a multiple of the %d domains (equal samples per domain per batch)", batch0, nd);
    }
    int batch = (int)vt_config_int(c, "train.batch"), epochs = (int)vt_config_int(c, "train.epochs");
    uint64_t seed = (uint64_t)vt_config_int(c, "run.seed");
    float temperature = (float)vt_config_float(c, "contrastive.temperature"), w_prior = (float)vt_config_float(c, "prior.weight");
    vt_mdseg_model_config mc;
    vt_mdseg_model_config_default(&mc);
    mc.depth = depth;
    mc.base_width = (int)vt_config_int(c, "model.base_width");
    mc.proj_hidden = (int)vt_config_int(c, "contrastive.proj_hidden");
    mc.proj_dim = (int)vt_config_int(c, "contrastive.proj_dim");
    int any_contrast = 0;
    for (int s = 0; s < VT_MDSEG_MAX_SCALES; s++) {
        char key[64];
        snprintf(key, sizeof key, "contrastive.weight_scale%d", s);
        mc.scale_weight[s] = (float)vt_config_float(c, key);
        any_contrast |= mc.scale_weight[s] > 0;
    }
    vt_mdseg_model *m = NULL;
    vt_mdseg_prior *prior = NULL;
    vt_optim *opt = NULL;
    vt_mdseg_sampler smp = {0};
    FILE *metrics = NULL;
    int64_t *bidx = malloc(sizeof(int64_t) * (size_t)batch);
    vt_tensor *labels = vt_tensor_new(VT_DIMS(batch));
    vt_status st = bidx && labels ? VT_OK : vt_error("mdseg: out of memory");
    if (st == VT_OK && !files) st = vt_mdseg_data_make(ph, nd, vt_config_int(c, "data.train_per_domain"), size, seed, &train);
    if (st == VT_OK && !files) st = vt_mdseg_data_make(ph, nd, vt_config_int(c, "data.test_per_domain"), size, seed + TEST_SEED_SALT, &test);
    if (st == VT_OK) {
        vt_seed(seed);
        if (!(m = vt_mdseg_model_new(&mc))) st = VT_ERR;
    }
    const char *init = vt_config_string(c, "transfer.init");
    if (st == VT_OK && *init) {
        st = vt_mdseg_load_encoder(m, init, &res->encoder_loaded);
        if (st == VT_OK) printf("transfer: %d encoder tensors (down.*) loaded from %s\n", res->encoder_loaded, init);
    }
    double t0 = vt_now();
    if (st == VT_OK && w_prior > 0) {
        double ae_loss = NAN;
        if (!(prior = vt_mdseg_prior_new(VT_MDSEG_CLASSES, (int)vt_config_int(c, "prior.width"), (int)vt_config_int(c, "prior.latent")))) st = VT_ERR;
        else st = vt_mdseg_prior_train(prior, train.masks, (int)vt_config_int(c, "prior.epochs"), 32,
                                       (float)vt_config_float(c, "prior.lr"), seed + 11, &ae_loss);
        if (st == VT_OK) printf("shape prior: autoencoder trained on %lld masks, reconstruction CE %.4f, %.1f s (frozen)\n",
                                (long long)train.n, ae_loss, vt_now() - t0);
    }
    if (st == VT_OK && !(opt = vt_adam_new(m->params, (float)vt_config_float(c, "train.lr"), 0.9f, 0.999f, 1e-8f, 0.f))) st = VT_ERR;
    if (st == VT_OK) st = vt_mdseg_sampler_init(&smp, train.domain, train.n, nd, batch, seed * 5 + 1);
    const char *resume = vt_config_string(c, "run.resume");
    int ep0 = 1;
    if (st == VT_OK && *resume) {
        int done = load_checkpoint(resume, m, opt, &smp, vt_mdseg_sampler_steps(&smp), bidx);
        if (!done) st = VT_ERR;
        else printf("resuming %s after epoch %d\n", resume, done);
        ep0 = done + 1, res->epochs_done = done;
    }
    if (st == VT_OK && out) st = open_mode(out, "metrics.jsonl", *resume ? "a" : "w", &metrics);
    vt_tb_writer *tb = st == VT_OK ? vt_run_watch_open(out) : NULL; /* NULL out: none */
    res->n_domains = nd;
    memcpy(res->phantom, ph, sizeof ph);
    memcpy(res->name, train.name, sizeof res->name);
    int64_t steps = st == VT_OK ? vt_mdseg_sampler_steps(&smp) : 0;
    if (st == VT_OK)
        printf("mdseg: %d domain(s) x %lld train / %lld held-out images of %dx%d; UNet depth %d width %d; batch %d (%d per domain), "
               "%lld steps/epoch; contrastive %s (T %g); prior weight %g%s\n",
               nd, (long long)(train.n / nd), (long long)(test.n / nd), size, size,
               depth, mc.base_width, batch, batch / nd, (long long)steps, any_contrast ? "on" : "off", (double)temperature,
               (double)w_prior, *init ? ", transfer init" : "");
    for (int i = 0; i < batch; i++) labels->data[i] = (float)(i / (batch / nd)); /* sampler layout: domain-major */
    vt_progress prog;
    vt_progress_begin(&prog, stdout, steps * epochs, vt_config_int(c, "run.log_every"));
    for (int ep = ep0; ep <= epochs && st == VT_OK; ep++) {
        double sum[4] = {0}, te = vt_now();
        for (int64_t s = 0; s < steps; s++) {
            vt_mdseg_sampler_next(&smp, bidx);
            vt_tensor *masks = vt_gather_rows(train.masks, bidx, batch);
            vt_tensor *logits = vt_mdseg_forward(m, vt_gather_rows(train.images, bidx, batch), 1);
            vt_tensor *ce = vt_cross_entropy(logits, vt_reshape(masks, VT_DIMS(batch, size, size)), NULL);
            vt_tensor *loss = ce;
            double lc = 0, lp = 0;
            if (any_contrast && loss) {
                vt_tensor *con = vt_mdseg_contrastive_loss(m, labels, temperature, NULL);
                lc = con ? vt_tensor_item(con) : NAN;
                loss = vt_add(loss, con);
            }
            if (prior && loss) {
                vt_tensor *pd = vt_mdseg_prior_distance(prior, vt_softmax(logits, 1), vt_mdseg_onehot(masks, VT_MDSEG_CLASSES));
                lp = pd ? vt_tensor_item(pd) : NAN;
                loss = vt_add(loss, vt_mul_scalar(pd, w_prior));
            }
            if (!loss) { st = VT_ERR; break; }
            double l = vt_tensor_item(loss);
            if (!isfinite(l)) { st = vt_error("mdseg: loss is %g at epoch %d step %lld; stopping (lower train.lr?)", l, ep, (long long)s + 1); break; }
            vt_params_zero_grad(m->params);
            if ((st = vt_backward(loss)) != VT_OK || (st = vt_optim_step(opt)) != VT_OK) break;
            sum[0] += l; sum[1] += vt_tensor_item(ce); sum[2] += lc; sum[3] += lp;
            vt_arena_reset(NULL);
            if (ep == 1 && s == 0) res->first_loss = l;
            res->last_loss = l;
            vt_progress_step(&prog, ep, epochs, s + 1, steps, batch, l, NULL);
        }
        vt_arena_reset(NULL);
        if (st != VT_OK) break;
        double dt = vt_now() - te;
        if ((st = vt_mdseg_evaluate(m, &test, (int)vt_config_int(c, "train.eval_batch"), res->dice)) != VT_OK) break;
        vt_progress_end(&prog);
        res->epochs_done = ep;
        printf("epoch %d: %.1f s, loss %.4f (ce %.4f, contrastive %.4f, prior %.5f); held-out Dice body/posterior:", ep, dt,
               sum[0] / steps, sum[1] / steps, sum[2] / steps, sum[3] / steps);
        for (int d = 0; d < nd; d++) printf(" %s %.3f/%.3f", train.name[d], res->dice[d][1], res->dice[d][2]);
        printf("\n");
        fflush(stdout);
        if (metrics) {
            fprintf(metrics, "{\"epoch\": %d, \"seconds\": %.3f, \"loss\": ", ep, dt);
            put_num(metrics, sum[0] / steps);
            fputs(", \"ce\": ", metrics); put_num(metrics, sum[1] / steps);
            fputs(", \"contrastive\": ", metrics); put_num(metrics, sum[2] / steps);
            fputs(", \"prior\": ", metrics); put_num(metrics, sum[3] / steps);
            fputs(", \"heldout_dice\": ", metrics);
            put_dice(metrics, res);
            fputs("}\n", metrics);
            fflush(metrics);
            vt_run_watch_plots(out);
        }
        vt_run_watch_scalar(tb, "epoch/loss", ep, sum[0] / steps);
        vt_run_watch_scalar(tb, "epoch/ce", ep, sum[1] / steps);
        vt_run_watch_scalar(tb, "epoch/contrastive", ep, sum[2] / steps);
        vt_run_watch_scalar(tb, "epoch/prior", ep, sum[3] / steps);
        for (int d = 0; d < nd; d++)
            for (int k = 1; k < VT_MDSEG_CLASSES; k++) {
                char tag[128];
                snprintf(tag, sizeof tag, "heldout_dice/%s_%s", train.name[d], k == 1 ? "body" : "posterior");
                vt_run_watch_scalar(tb, tag, ep, res->dice[d][k]);
            }
        if (out && (st = save_checkpoint(out, m, opt, ep, c)) != VT_OK) break;
    }
    vt_progress_end(&prog);
    vt_run_watch_close(tb);
    res->seconds = vt_now() - t0;
    if (st == VT_OK && out) {
        char path[4096];
        snprintf(path, sizeof path, "%s/model.safetensors", out);
        st = vt_params_save_safetensors(m->params, path, "{\"arch\":\"mdseg_unet2d\"}");
        FILE *f = NULL;
        if (st == VT_OK && (st = open_in(out, "summary.json", &f)) == VT_OK) {
            fprintf(f, "{\"domains\": \"%s\", \"epochs\": %d, \"seconds\": %.2f, \"contrastive\": %d, \"prior_weight\": %g, "
                       "\"transfer_tensors\": %d, \"first_loss\": ", vt_config_string(c, "data.domains"), res->epochs_done,
                    res->seconds, any_contrast, (double)w_prior, res->encoder_loaded);
            put_num(f, res->first_loss);
            fputs(", \"last_loss\": ", f);
            put_num(f, res->last_loss);
            fputs(", \"heldout_dice\": ", f);
            put_dice(f, res);
            fputs("}\n", f);
            if (fclose(f) != 0) st = vt_error("summary.json: write failed");
        }
    }
    if (metrics && fclose(metrics) != 0 && st == VT_OK) st = vt_error("metrics.jsonl: write failed");
    vt_mdseg_sampler_free(&smp);
    vt_optim_free(opt);
    vt_mdseg_prior_free(prior);
    vt_mdseg_model_free(m);
    vt_mdseg_data_free(&train);
    vt_mdseg_data_free(&test);
    vt_tensor_free(labels);
    free(bidx);
    return st;
}

vt_status vt_mdseg_run(const vt_config *c, const char *out_dir, vt_mdseg_result *res) {
    memset(res, 0, sizeof *res);
    res->first_loss = res->last_loss = res->pretrain_accuracy = NAN;
    vt_set_num_threads((int)vt_config_int(c, "run.threads"));
    if (out_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/config.resolved", out_dir);
        if (vt_config_write(c, path) != VT_OK) return VT_ERR;
    }
    if (vt_config_enum(c, "run.mode") == 1 && *vt_config_string(c, "run.resume"))
        return vt_error("mdseg: run.resume continues run.mode = seg runs only (pretraining is short: rerun it)");
    return vt_config_enum(c, "run.mode") == 1 ? run_pretrain(c, out_dir, res) : run_seg(c, out_dir, res);
}
