/* test_mdseg.c: multi-domain bone segmentation (train/mdseg.h): balanced cross-domain
 * batches, encoder transfer fills exactly down.*, the contrastive term (finite, gradients
 * reach encoder and heads, decreases on a toy case), the shape prior's latent distance,
 * training steps reduce the loss, an end-to-end run (pretrain -> transfer + contrastive +
 * prior) with its files, and config errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "classify.h"
#include "losses.h"
#include "mdseg.h"
#include "optim.h"
#include "nifti.h"
#include "png_io.h"
#include "safetensors.h"
#include "run_watch_check.h"
#include "vt_test.h"

START_TEST(sampler_balances_domains) {
    /* domains of sizes 5, 3, 7 interleaved */
    int dom[15];
    int64_t cnt[3] = {0};
    for (int i = 0; i < 15; i++) {
        dom[i] = i < 9 ? i % 3 : 2;
        if (i == 14) dom[i] = 0;
        if (i == 13) dom[i] = 0;
        cnt[dom[i]]++;
    }
    ck_assert_int_eq((int)cnt[0], 5);
    ck_assert_int_eq((int)cnt[1], 3);
    ck_assert_int_eq((int)cnt[2], 7);
    vt_mdseg_sampler s;
    ck_assert_int_eq(vt_mdseg_sampler_init(&s, dom, 15, 3, 6, 42), VT_OK);
    int64_t steps = vt_mdseg_sampler_steps(&s);
    ck_assert_int_eq((int)steps, 4); /* ceil(7 / 2) */
    int seen[3][15] = {{0}}, draws[3] = {0};
    for (int64_t b = 0; b < steps; b++) {
        int64_t idx[6];
        vt_mdseg_sampler_next(&s, idx);
        for (int k = 0; k < 6; k++) {
            int d = k / 2; /* domain-major layout: 2 per domain */
            ck_assert_int_eq(dom[idx[k]], d);
            /* within one pass over a domain no sample repeats */
            if (draws[d] < cnt[d]) { ck_assert_int_eq(seen[d][idx[k]], 0); seen[d][idx[k]] = 1; }
            draws[d]++;
        }
    }
    for (int d = 0; d < 3; d++) ck_assert_int_eq(draws[d], 8); /* equal per domain */
    for (int i = 0; i < 15; i++) ck_assert_int_eq(seen[dom[i]][i], 1); /* every sample of every domain */
    vt_mdseg_sampler_free(&s);
    ck_assert_int_eq(vt_mdseg_sampler_init(&s, dom, 15, 3, 7, 1), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "multiple of the 3 domains"));
}
END_TEST

static vt_mdseg_model *small_model(float w1, float w2) {
    vt_mdseg_model_config c;
    vt_mdseg_model_config_default(&c);
    c.depth = 2;
    c.base_width = 4;
    c.proj_hidden = 8;
    c.proj_dim = 4;
    c.scale_weight[1] = w1;
    c.scale_weight[2] = w2;
    return vt_mdseg_model_new(&c);
}

START_TEST(transfer_fills_exactly_the_encoder) {
    vt_seed(1);
    vt_mdseg_encoder *e = vt_mdseg_encoder_new(2, 4, 3);
    ck_assert_ptr_nonnull(e);
    /* make running stats distinctive too */
    float *buf = vt_params_buffer_values(e->params);
    for (int64_t i = 0; i < vt_params_buffer_numel(e->params); i++) buf[i] = 0.5f + 0.01f * (float)i;
    char path[] = "/tmp/vt_mdseg_encXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(vt_params_save_safetensors(e->params, path, NULL), VT_OK);
    vt_seed(2);
    vt_mdseg_model *m = small_model(1, 0);
    ck_assert_ptr_nonnull(m);
    int n = vt_params_count(m->params), n_down = 0;
    float **before = calloc((size_t)n, sizeof *before);
    for (int i = 0; i < n; i++) {
        vt_tensor *t = vt_params_tensor(m->params, i);
        before[i] = malloc(sizeof(float) * (size_t)t->numel);
        memcpy(before[i], t->data, sizeof(float) * (size_t)t->numel);
    }
    int loaded = -1;
    ck_assert_msg(vt_mdseg_load_encoder(m, path, &loaded) == VT_OK, "%s", vt_last_error());
    for (int i = 0; i < n; i++) {
        const char *name = vt_params_name(m->params, i);
        vt_tensor *t = vt_params_tensor(m->params, i);
        if (!strncmp(name, "down.", 5)) {
            n_down++;
            vt_tensor *src = vt_params_find(e->params, name);
            ck_assert_msg(src != NULL, "%s not in the classifier", name);
            ck_assert_int_eq((int)src->numel, (int)t->numel);
            ck_assert_msg(!memcmp(src->data, t->data, sizeof(float) * (size_t)t->numel), "%s not loaded", name);
        } else {
            ck_assert_msg(!memcmp(before[i], t->data, sizeof(float) * (size_t)t->numel), "%s changed", name);
        }
    }
    ck_assert_int_eq(n_down, 20); /* 2 blocks x (2 convs + 2 norms x 4) */
    ck_assert_int_eq(loaded, n_down);
    /* the classifier names its trunk exactly as the UNet: every down.* of one is in the other */
    for (int i = 0; i < vt_params_count(e->params); i++)
        if (strncmp(vt_params_name(e->params, i), "fc.", 3))
            ck_assert_ptr_nonnull(vt_params_find(m->params, vt_params_name(e->params, i)));
    /* a wider encoder does not fit: error naming the key, nothing changed */
    vt_mdseg_encoder *wide = vt_mdseg_encoder_new(2, 8, 3);
    ck_assert_int_eq(vt_params_save_safetensors(wide->params, path, NULL), VT_OK);
    vt_tensor *w0 = vt_params_find(m->params, "down.0.0.weight");
    float keep = w0->data[0];
    ck_assert_int_eq(vt_mdseg_load_encoder(m, path, NULL), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "down."));
    ck_assert(w0->data[0] == keep);
    unlink(path);
    for (int i = 0; i < n; i++) free(before[i]);
    free(before);
    vt_mdseg_encoder_free(wide);
    vt_mdseg_encoder_free(e);
    vt_mdseg_model_free(m);
}
END_TEST

/* 8 images of 2 "domains" (different textures) of 16x16 */
static vt_tensor *toy_images(vt_tensor **labels) {
    vt_tensor *x = vt_tensor_new(VT_DIMS(8, 1, 16, 16));
    *labels = vt_tensor_new(VT_DIMS(8));
    vt_rng r;
    vt_rng_init(&r, 9);
    vt_rng_uniform(&r, x->data, x->numel, 0.f, 1.f);
    for (int i = 0; i < 8; i++) {
        (*labels)->data[i] = (float)(i % 2);
        if (i % 2)
            for (int j = 0; j < 256; j++) x->data[i * 256 + j] = 0.5f * x->data[i * 256 + j] + ((j / 16 + j) % 2 ? 0.5f : 0.f);
    }
    return x;
}

START_TEST(contrastive_is_finite_has_gradient_and_decreases) {
    vt_seed(3);
    vt_mdseg_model *m = small_model(0.5f, 1.f);
    ck_assert_ptr_nonnull(m);
    ck_assert(m->has_proj[1] && m->has_proj[2] && !m->has_proj[0]);
    vt_tensor *labels, *x = toy_images(&labels);
    vt_optim *opt = vt_adam_new(m->params, 0.01f, 0.9f, 0.999f, 1e-8f, 0.f);
    double first = 0, last = 0, parts[VT_MDSEG_MAX_SCALES];
    for (int step = 0; step < 15; step++) {
        ck_assert_ptr_nonnull(vt_mdseg_forward(m, x, 1));
        vt_tensor *l = vt_mdseg_contrastive_loss(m, labels, 0.5f, parts);
        ck_assert_ptr_nonnull(l);
        double v = vt_tensor_item(l);
        ck_assert(isfinite(v) && v > 0);
        ck_assert(fabs(v - (0.5 * parts[1] + 1.0 * parts[2])) < 1e-5 * (1 + fabs(v)));
        ck_assert(parts[0] == 0);
        vt_params_zero_grad(m->params);
        ck_assert_int_eq(vt_backward(l), VT_OK);
        if (step == 0) {
            /* gradients reach the encoder and both heads, all finite; the decoder gets none */
            double g_enc = 0, g_head = 0, g_dec = 0;
            for (int i = 0; i < vt_params_count(m->params); i++) {
                if (vt_params_is_buffer(m->params, i)) continue;
                vt_tensor *t = vt_params_tensor(m->params, i);
                const char *name = vt_params_name(m->params, i);
                double s = 0;
                for (int64_t k = 0; k < t->numel; k++) {
                    ck_assert_msg(isfinite(t->grad->data[k]), "%s grad not finite", name);
                    s += fabs(t->grad->data[k]);
                }
                if (!strncmp(name, "down.", 5) || !strncmp(name, "mid.", 4)) g_enc += s;
                else if (!strncmp(name, "proj.", 5)) g_head += s;
                else g_dec += s;
            }
            ck_assert(g_enc > 0 && g_head > 0);
            ck_assert(g_dec == 0);
            first = v;
        }
        last = v;
        ck_assert_int_eq(vt_optim_step(opt), VT_OK);
        vt_arena_reset(NULL);
    }
    ck_assert_msg(last < 0.8 * first, "contrastive loss %g -> %g", first, last);
    /* no head at all: a zero term */
    vt_mdseg_model *plain = small_model(0, 0);
    ck_assert_ptr_nonnull(vt_mdseg_forward(plain, x, 1));
    vt_tensor *z = vt_mdseg_contrastive_loss(plain, labels, 0.1f, NULL);
    ck_assert(z && vt_tensor_item(z) == 0);
    ck_assert_ptr_null(vt_mdseg_embedding(plain, 1));
    vt_arena_reset(NULL);
    vt_optim_free(opt);
    vt_mdseg_model_free(plain);
    vt_mdseg_model_free(m);
    vt_tensor_free(x);
    vt_tensor_free(labels);
}
END_TEST

START_TEST(prior_distance_is_zero_for_identical_masks) {
    vt_tensor *im, *mk;
    ck_assert_int_eq(vt_phantom_bone_make(VT_BONE_DOMAIN_CT, 4, 32, 5, &im, &mk), VT_OK);
    vt_seed(4);
    vt_mdseg_prior *p = vt_mdseg_prior_new(3, 4, 2);
    ck_assert_ptr_nonnull(p);
    double ae = NAN;
    ck_assert_int_eq(vt_mdseg_prior_train(p, mk, 2, 4, 0.01f, 1, &ae), VT_OK);
    ck_assert(isfinite(ae));
    /* frozen: no prior parameter requires grad any more */
    for (int i = 0; i < vt_params_count(p->params); i++) ck_assert_int_eq(vt_params_tensor(p->params, i)->requires_grad, 0);
    vt_tensor *oh = vt_mdseg_onehot(mk, 3);
    ck_assert_ptr_nonnull(oh);
    vt_tensor *same = vt_mdseg_prior_distance(p, oh, oh);
    ck_assert_ptr_nonnull(same);
    ck_assert(vt_tensor_item(same) == 0);
    /* a different mask (images shifted by one sample) is at a positive distance, and the
     * gradient reaches the prediction */
    vt_tensor *probs = vt_tensor_new(VT_DIMS(4, 3, 32, 32));
    int64_t per = 3 * 32 * 32;
    for (int i = 0; i < 4; i++) memcpy(probs->data + i * per, oh->data + ((i + 1) % 4) * per, sizeof(float) * (size_t)per);
    vt_tensor_set_requires_grad(probs, 1);
    vt_tensor *d = vt_mdseg_prior_distance(p, probs, oh);
    ck_assert(d && vt_tensor_item(d) > 0 && isfinite(vt_tensor_item(d)));
    ck_assert_int_eq(vt_backward(d), VT_OK);
    double g = 0;
    for (int64_t k = 0; k < probs->numel; k++) g += fabs(probs->grad->data[k]);
    ck_assert(g > 0 && isfinite(g));
    /* shape errors */
    ck_assert_ptr_null(vt_mdseg_prior_distance(p, vt_slice(probs, 0, 0, 2), oh));
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "shapes differ"));
    vt_arena_reset(NULL);
    vt_tensor_free(probs);
    vt_mdseg_prior_free(p);
    vt_tensor_free(im);
    vt_tensor_free(mk);
}
END_TEST

START_TEST(training_steps_reduce_the_loss) {
    int ph[3] = {0, 1, 2};
    vt_mdseg_data d;
    ck_assert_int_eq(vt_mdseg_data_make(ph, 3, 2, 32, 7, &d), VT_OK);
    ck_assert_int_eq(d.domain[0], 0);
    ck_assert_int_eq(d.domain[5], 2);
    vt_seed(5);
    vt_mdseg_model *m = small_model(0.1f, 0);
    vt_optim *opt = vt_adam_new(m->params, 0.01f, 0.9f, 0.999f, 1e-8f, 0.f);
    vt_tensor *labels = vt_tensor_new(VT_DIMS(6));
    for (int i = 0; i < 6; i++) labels->data[i] = (float)d.domain[i];
    double first = 0, last = 0;
    for (int step = 0; step < 12; step++) {
        vt_tensor *lg = vt_mdseg_forward(m, d.images, 1);
        vt_tensor *loss = vt_add(vt_cross_entropy(lg, vt_reshape(d.masks, VT_DIMS(6, 32, 32)), NULL),
                                 vt_mdseg_contrastive_loss(m, labels, 0.1f, NULL));
        ck_assert_ptr_nonnull(loss);
        if (!step) first = vt_tensor_item(loss);
        last = vt_tensor_item(loss);
        vt_params_zero_grad(m->params);
        ck_assert_int_eq(vt_backward(loss), VT_OK);
        ck_assert_int_eq(vt_optim_step(opt), VT_OK);
        vt_arena_reset(NULL);
    }
    ck_assert_msg(last < 0.8 * first, "loss %g -> %g", first, last);
    double dice[VT_MDSEG_MAX_DOMAINS][VT_MDSEG_CLASSES];
    ck_assert_int_eq(vt_mdseg_evaluate(m, &d, 4, dice), VT_OK);
    for (int k = 0; k < 3; k++) ck_assert(dice[k][0] >= 0 && dice[k][0] <= 1);
    vt_tensor_free(labels);
    vt_optim_free(opt);
    vt_mdseg_model_free(m);
    vt_mdseg_data_free(&d);
}
END_TEST

static int file_lines(const char *dir, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0, ch;
    while ((ch = fgetc(f)) != EOF) n += ch == '\n';
    fclose(f);
    return n;
}

static const char *const TINY[] = {"data.size=32", "data.train_per_domain=4", "data.test_per_domain=2", "model.depth=2",
                                   "model.base_width=4", "train.batch=6", "train.epochs=2", "run.threads=1",
                                   "pretrain.patients=5", "pretrain.epochs=1", "prior.epochs=1"};
#define N_TINY (int)(sizeof TINY / sizeof TINY[0])

static vt_config *tiny_config(const char *extra1, const char *extra2) {
    const char *sets[N_TINY + 2];
    memcpy(sets, TINY, sizeof TINY);
    int n = N_TINY;
    if (extra1) sets[n++] = extra1;
    if (extra2) sets[n++] = extra2;
    return vt_config_load(vt_mdseg_schema, NULL, n, sets);
}

START_TEST(end_to_end_pretrain_then_transfer_contrastive_prior) {
    char dir[] = "/tmp/vt_mdseg_runXXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    vt_mdseg_result r;
    vt_config *c = tiny_config("run.mode=pretrain", NULL);
    ck_assert_ptr_nonnull(c);
    ck_assert_msg(vt_mdseg_run(c, dir, &r) == VT_OK, "%s", vt_last_error());
    ck_assert(r.pretrain_accuracy >= 0 && r.pretrain_accuracy <= 1);
    vt_config_free(c);
    char init[600], seg[600];
    snprintf(init, sizeof init, "transfer.init=%s/encoder.safetensors", dir);
    snprintf(seg, sizeof seg, "%s/seg", dir);
    ck_assert_int_eq(mkdir(seg, 0777), 0);
    c = tiny_config(init, "prior.weight=1");
    ck_assert_int_eq(vt_config_set(c, "contrastive.weight_scale1=0.1"), VT_OK);
    ck_assert_int_eq(vt_config_set(c, "contrastive.weight_scale2=0.1"), VT_OK);
    ck_assert_msg(vt_mdseg_run(c, seg, &r) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(r.encoder_loaded, 20);
    ck_assert_int_eq(r.epochs_done, 2);
    ck_assert_int_eq(r.n_domains, 3);
    for (int d = 0; d < 3; d++) ck_assert(r.dice[d][0] >= 0 && r.dice[d][0] <= 1);
    ck_assert_int_eq(file_lines(seg, "metrics.jsonl"), 2);
    assert_run_is_watchable(dir, "loss.png"); /* the pretraining run */
    assert_run_is_watchable(seg, "loss.png");
    ck_assert_int_eq(file_lines(seg, "summary.json"), 1);
    ck_assert_int_gt(file_lines(seg, "config.resolved"), 10);
    char path[700];
    snprintf(path, sizeof path, "%s/checkpoint.vtck", seg);
    ck_assert_int_eq(access(path, R_OK), 0);
    /* the resolved config parses back to the same run */
    snprintf(path, sizeof path, "%s/config.resolved", seg);
    vt_config *back = vt_config_load(vt_mdseg_schema, path, 0, NULL);
    ck_assert_ptr_nonnull(back);
    ck_assert(vt_config_float(back, "prior.weight") == 1.0);
    ck_assert_str_eq(vt_config_string(back, "transfer.init"), init + strlen("transfer.init="));
    vt_config_free(back);
    vt_config_free(c);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(config_errors_are_reported) {
    const char *bad_key[] = {"train.bach=4"};
    ck_assert_ptr_null(vt_config_load(vt_mdseg_schema, NULL, 1, bad_key));
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "batch"));   /* did you mean */
    const char *bad_mode[] = {"run.mode=finetune"};
    ck_assert_ptr_null(vt_config_load(vt_mdseg_schema, NULL, 1, bad_mode));
    vt_mdseg_result r;
    vt_config *c = tiny_config("train.batch=4", NULL); /* 3 domains */
    ck_assert_int_eq(vt_mdseg_run(c, NULL, &r), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "multiple of the 3 domains"));
    vt_config_free(c);
    c = tiny_config("data.domains=ct,pet", NULL);
    ck_assert_int_eq(vt_mdseg_run(c, NULL, &r), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "unknown domain 'pet'"));
    vt_config_free(c);
    c = tiny_config("data.size=36", NULL);
    ck_assert_int_eq(vt_mdseg_run(c, NULL, &r), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "multiple of 8"));
    vt_config_free(c);
    c = tiny_config("contrastive.weight_scale4=1", NULL); /* depth 2 has scales 0..2 */
    ck_assert_int_eq(vt_mdseg_run(c, NULL, &r), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "scale 4"));
    vt_config_free(c);
    c = tiny_config("transfer.init=/nonexistent/enc.safetensors", NULL);
    ck_assert_int_eq(vt_mdseg_run(c, NULL, &r), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "/nonexistent/enc.safetensors"));
    vt_config_free(c);
    int ph[8];
    ck_assert_int_eq(vt_mdseg_parse_domains("ct, xray", ph), 2);
    ck_assert_int_eq(ph[1], VT_BONE_DOMAIN_XRAY);
    ck_assert_int_eq(vt_mdseg_parse_domains("ct,ct", ph), -1);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "twice"));
}
END_TEST

/* run.resume (mode seg): 2 epochs in one go and 1 epoch + resume + 1 give the same
 * model.safetensors bit for bit (Adam state and step, the sampler's position, the global RNG
 * come back), with contrastive heads and the shape prior on; pretrain mode refuses it. */
static char *read_all(const char *dir, const char *name, long *n) {
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)*n + 1);
    ck_assert(fread(b, 1, (size_t)*n, f) == (size_t)*n);
    fclose(f);
    return b;
}

static void run_tiny(const char *dir, const char *epochs, const char *resume) {
    vt_config *c = tiny_config(epochs, "prior.weight=0.5");
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(vt_config_set(c, "contrastive.weight_scale1=0.1"), VT_OK);
    if (resume) ck_assert_int_eq(vt_config_set(c, resume), VT_OK);
    vt_mdseg_result r;
    ck_assert_msg(vt_mdseg_run(c, dir, &r) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(r.epochs_done, epochs[strlen(epochs) - 1] - '0');
    vt_config_free(c);
}

START_TEST(resume_continues_bit_identically) {
    char a[] = "/tmp/vt_mdres_aXXXXXX", b[] = "/tmp/vt_mdres_bXXXXXX", set[700];
    ck_assert(mkdtemp(a) && mkdtemp(b));
    run_tiny(a, "train.epochs=2", NULL);
    run_tiny(b, "train.epochs=1", NULL);
    long na, nb;
    char *wa = read_all(a, "model.safetensors", &na), *wb = read_all(b, "model.safetensors", &nb);
    ck_assert(na == nb && memcmp(wa, wb, (size_t)na) != 0); /* one epoch less: other weights */
    free(wb);
    snprintf(set, sizeof set, "run.resume=%s/checkpoint.vtck", b);
    run_tiny(b, "train.epochs=2", set);
    wb = read_all(b, "model.safetensors", &nb);
    ck_assert(na == nb && memcmp(wa, wb, (size_t)na) == 0);
    ck_assert_int_eq(file_lines(b, "metrics.jsonl"), 2);
    free(wa); free(wb);
    /* errors: a missing checkpoint, a checkpoint of another batch layout, pretrain mode */
    vt_mdseg_result r;
    vt_config *c = tiny_config("run.resume=/nonexistent/checkpoint.vtck", NULL);
    ck_assert_int_eq(vt_mdseg_run(c, NULL, &r), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "/nonexistent/checkpoint.vtck") != NULL, "%s", vt_last_error());
    vt_config_free(c);
    c = tiny_config(set, "train.batch=3");
    ck_assert_int_eq(vt_config_set(c, "contrastive.weight_scale1=0.1"), VT_OK);
    ck_assert_int_eq(vt_mdseg_run(c, NULL, &r), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "steps per epoch") != NULL, "%s", vt_last_error());
    vt_config_free(c);
    c = tiny_config(set, "run.mode=pretrain");
    ck_assert_int_eq(vt_mdseg_run(c, NULL, &r), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "run.mode = seg runs only") != NULL, "%s", vt_last_error());
    vt_config_free(c);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", a, b);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST


/* ---- file domains (data.source = files) ---------------------------------------------- */
/* pixel p of image i of a domain: image value (p * 7 + i * 13 + dom * 29) % 256, mask id
 * a square of class 1 with a stripe of class 2 shifted by i */
static uint8_t file_px(int dom, int i, int p) { return (uint8_t)((p * 7 + i * 13 + dom * 29) % 256); }
static int file_id(int i, int p, int s) {
    int y = p / s, x = p % s;
    if (y >= 8 && y < 20 && x >= 8 + i && x < 20 + i) return 1;
    return y >= 24 && y < 28 ? 2 : 0;
}

static void put_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* dir/<dom>/img<i>.png + mask<i>.png (domain 0: raw ids; domain 1: ids x 127, and its
 * last row as NIfTI), dir/<dom>.csv with relative paths; returns nothing, asserts writes */
static void write_domain(const char *dir, const char *dom, int di, int rows, int s) {
    char sub[512], path[700], csv[4096] = "image,mask,note\n";
    snprintf(sub, sizeof sub, "%s/%s", dir, dom);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    uint8_t *im = malloc((size_t)s * s), *mk = malloc((size_t)s * s);
    for (int i = 0; i < rows; i++) {
        for (int p = 0; p < s * s; p++) im[p] = file_px(di, i, p), mk[p] = (uint8_t)(file_id(i, p, s) * (di ? 127 : 1));
        char line[300];
        if (di && i == rows - 1) { /* NIfTI pair: image in other units, mask raw ids */
            vt_tensor *t = vt_tensor_new(VT_DIMS(s, s)), *m = vt_tensor_new(VT_DIMS(s, s));
            for (int p = 0; p < s * s; p++) t->data[p] = 1000.f + 4.f * im[p], m->data[p] = (float)file_id(i, p, s);
            snprintf(path, sizeof path, "%s/img%d.nii.gz", sub, i);
            ck_assert_int_eq(vt_nifti_save(path, t, NULL, VT_NIFTI_FLOAT32), VT_OK);
            snprintf(path, sizeof path, "%s/mask%d.nii", sub, i);
            ck_assert_int_eq(vt_nifti_save(path, m, NULL, VT_NIFTI_UINT8), VT_OK);
            vt_tensor_free(t), vt_tensor_free(m);
            snprintf(line, sizeof line, "%s/img%d.nii.gz,%s/mask%d.nii,x\n", dom, i, dom, i);
        } else {
            snprintf(path, sizeof path, "%s/img%d.png", sub, i);
            ck_assert_int_eq(vt_png_write_u8(path, im, 1, s, s), VT_OK);
            snprintf(path, sizeof path, "%s/mask%d.png", sub, i);
            ck_assert_int_eq(vt_png_write_u8(path, mk, 1, s, s), VT_OK);
            snprintf(line, sizeof line, "%s/img%d.png,%s/mask%d.png,x\n", dom, i, dom, i);
        }
        strcat(csv, line);
    }
    free(im), free(mk);
    snprintf(path, sizeof path, "%s/%s.csv", dir, dom);
    put_text(path, csv);
}

/* Two file domains (3 rows each; PNG raw ids, PNG x127, one NIfTI pair) load with the
 * right shapes, pixel values, class ids, domain ids and row-order split, and train
 * through vt_mdseg_run (data.source = files). */
START_TEST(file_domains_load_and_train) {
    if (!vt_png_supported()) return;
    char dir[] = "/tmp/vt_mdseg_filesXXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const int S = 32;
    write_domain(dir, "siteA", 0, 3, S);
    write_domain(dir, "siteB", 1, 3, S);
    char list[1200];
    snprintf(list, sizeof list, "%s/siteA.csv, %s/siteB.csv", dir, dir);
    vt_mdseg_data tr, te;
    ck_assert_msg(vt_mdseg_data_load_files(list, S, 0.34, &tr, &te) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(tr.n_domains, 2);
    ck_assert_int_eq(tr.n, 4); /* rows 0, 1 of each CSV */
    ck_assert_int_eq(te.n, 2); /* row 2 of each */
    ck_assert_int_eq(tr.images->shape[1], 1);
    ck_assert_int_eq(tr.images->shape[2], S);
    ck_assert_int_eq(tr.masks->shape[3], S);
    ck_assert_str_eq(tr.name[0], "siteA");
    ck_assert_str_eq(te.name[1], "siteB");
    int want_dom[4] = {0, 0, 1, 1};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(tr.domain[i], want_dom[i]);
        int row = i % 2, di = want_dom[i];
        for (int p = 0; p < S * S; p++) {
            ck_assert_float_eq_tol(tr.images->data[(int64_t)i * S * S + p], file_px(di, row, p) / 255.f, 1e-6);
            ck_assert_float_eq(tr.masks->data[(int64_t)i * S * S + p], (float)file_id(row, p, S));
        }
    }
    /* held-out row 2 of siteB is the NIfTI pair: min-max normalised image, raw-id mask */
    ck_assert_int_eq(te.domain[1], 1);
    float lo = 255, hi = 0;
    for (int p = 0; p < S * S; p++) lo = fminf(lo, file_px(1, 2, p)), hi = fmaxf(hi, file_px(1, 2, p));
    for (int p = 0; p < S * S; p++) {
        ck_assert_float_eq_tol(te.images->data[S * S + p], (file_px(1, 2, p) - lo) / (hi - lo), 1e-5);
        ck_assert_float_eq(te.masks->data[S * S + p], (float)file_id(2, p, S));
    }
    vt_mdseg_data_free(&tr);
    vt_mdseg_data_free(&te);

    char files[1300];
    snprintf(files, sizeof files, "data.files=%s", list);
    vt_config *c = tiny_config("data.source=files", files);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(vt_config_set(c, "train.batch=4"), VT_OK);
    ck_assert_int_eq(vt_config_set(c, "data.test_fraction=0.34"), VT_OK);
    vt_mdseg_result r;
    char out[600];
    snprintf(out, sizeof out, "%s/run", dir);
    ck_assert_int_eq(mkdir(out, 0755), 0);
    ck_assert_msg(vt_mdseg_run(c, out, &r) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(r.n_domains, 2);
    ck_assert_int_eq(r.epochs_done, 2);
    ck_assert_str_eq(r.name[0], "siteA");
    ck_assert(isfinite(r.first_loss) && isfinite(r.last_loss));
    ck_assert(isfinite(r.dice[1][0]));
    long n;
    char *sum = read_all(out, "summary.json", &n);
    sum[n] = 0;
    ck_assert_ptr_nonnull(strstr(sum, "\"siteB\": {"));
    free(sum);
    vt_config_free(c);

    /* errors name the file: missing image, size mismatch, mask id out of range, column */
    char path[700], bad[1500];
    snprintf(path, sizeof path, "%s/bad.csv", dir);
    put_text(path, "image,mask\nsiteA/img0.png,siteA/mask0.png\nsiteA/nothere.png,siteA/mask1.png\n");
    snprintf(bad, sizeof bad, "%s/siteA.csv,%s", dir, path);
    ck_assert_int_eq(vt_mdseg_data_load_files(bad, S, 0.2, &tr, &te), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "nothere.png") && strstr(vt_last_error(), "bad.csv:3"), "%s", vt_last_error());
    ck_assert_int_eq(vt_mdseg_data_load_files(list, 64, 0.2, &tr, &te), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "img0.png is 32x32, data.size is 64x64"), "%s", vt_last_error());
    uint8_t mk[32 * 32] = {0};
    mk[40] = 5;
    snprintf(path, sizeof path, "%s/siteA/mask_bad.png", dir);
    ck_assert_int_eq(vt_png_write_u8(path, mk, 1, S, S), VT_OK);
    snprintf(path, sizeof path, "%s/bad.csv", dir);
    put_text(path, "image,mask\nsiteA/img0.png,siteA/mask_bad.png\nsiteA/img1.png,siteA/mask1.png\n");
    ck_assert_int_eq(vt_mdseg_data_load_files(bad, S, 0.2, &tr, &te), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "mask_bad.png holds 5"), "%s", vt_last_error());
    put_text(path, "image,label\nsiteA/img0.png,1\nsiteA/img1.png,0\n");
    ck_assert_int_eq(vt_mdseg_data_load_files(bad, S, 0.2, &tr, &te), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "mask"), "%s", vt_last_error());
    ck_assert_int_eq(vt_mdseg_data_load_files("", S, 0.2, &tr, &te), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "data.files is empty"));
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("train/mdseg");
    TCase *tc = tcase_create("mdseg");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, sampler_balances_domains);
    tcase_add_test(tc, transfer_fills_exactly_the_encoder);
    tcase_add_test(tc, contrastive_is_finite_has_gradient_and_decreases);
    tcase_add_test(tc, prior_distance_is_zero_for_identical_masks);
    tcase_add_test(tc, training_steps_reduce_the_loss);
    tcase_add_test(tc, end_to_end_pretrain_then_transfer_contrastive_prior);
    tcase_add_test(tc, config_errors_are_reported);
    tcase_add_test(tc, resume_continues_bit_identically);
    tcase_add_test(tc, file_domains_load_and_train);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
