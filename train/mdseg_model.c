/* mdseg_model.c: the multi-domain segmentation model (UNet 2D + contrastive projection
 * heads in one parameter store), its contrastive loss, the encoder transfer load, and the
 * classifier whose trunk is the UNet encoder (see mdseg.h). */
#include <stdlib.h>
#include <string.h>
#include "init.h"
#include "losses_extra.h"
#include "mdseg.h"
#include "safetensors.h"

void vt_mdseg_model_config_default(vt_mdseg_model_config *c) {
    memset(c, 0, sizeof *c);
    c->depth = 3;
    c->base_width = 8;
    c->proj_hidden = 32;
    c->proj_dim = 16;
}

/* channels of features[s]: encoder block s has base 2^s, the bottom block base 2^depth */
static int scale_channels(const vt_mdseg_model_config *c, int s) { return c->base_width << s; }

vt_mdseg_model *vt_mdseg_model_new(const vt_mdseg_model_config *c) {
    if (c->depth < 1 || c->depth > VT_MDSEG_MAX_SCALES - 1 || c->base_width < 1 || c->base_width > 256) {
        vt_error("mdseg model: depth %d must be in 1..%d and base_width %d in 1..256", c->depth, VT_MDSEG_MAX_SCALES - 1, c->base_width);
        return NULL;
    }
    if (c->proj_hidden < 1 || c->proj_dim < 1 || c->proj_hidden > 4096 || c->proj_dim > 4096) {
        vt_error("mdseg model: proj_hidden %d and proj_dim %d must be in 1..4096", c->proj_hidden, c->proj_dim);
        return NULL;
    }
    for (int s = c->depth + 1; s < VT_MDSEG_MAX_SCALES; s++)
        if (c->scale_weight[s] > 0) {
            vt_error("mdseg model: contrastive scale %d has weight %g but a depth-%d UNet has scales 0..%d", s,
                     (double)c->scale_weight[s], c->depth, c->depth);
            return NULL;
        }
    vt_mdseg_model *m = calloc(1, sizeof *m);
    vt_model *u = calloc(1, sizeof *u);
    if (!m || !u) { free(m); free(u); vt_error("mdseg model: out of memory"); return NULL; }
    m->cfg = *c;
    m->unet = u;
    strcpy(u->arch, "unet2d");
    vt_model_config_default(&u->cfg, u->arch);
    u->cfg.num_classes = VT_MDSEG_CLASSES;
    u->cfg.depth = c->depth;
    u->cfg.base_width = c->base_width;
    vt_status st = (m->params = vt_params_new()) ? VT_OK : VT_ERR;
    u->params = m->params; /* shared; detached before vt_model_free */
    if (st == VT_OK) st = vt_unet_build(u, 2);
    for (int s = 0; s <= c->depth && st == VT_OK; s++) {
        if (!(c->scale_weight[s] > 0)) continue;
        char name[64];
        snprintf(name, sizeof name, "proj.%d.0", s);
        st = vt_linear_layer_init(&m->proj1[s], m->params, name, scale_channels(c, s), c->proj_hidden, 1);
        snprintf(name, sizeof name, "proj.%d.2", s);
        if (st == VT_OK) st = vt_linear_layer_init(&m->proj2[s], m->params, name, c->proj_hidden, c->proj_dim, 1);
        m->has_proj[s] = 1;
    }
    if (st == VT_OK) st = vt_params_finalize(m->params);
    if (st != VT_OK) { vt_mdseg_model_free(m); return NULL; }
    return m;
}

void vt_mdseg_model_free(vt_mdseg_model *m) {
    if (!m) return;
    if (m->unet) {
        m->unet->params = NULL;
        vt_model_free(m->unet);
    }
    vt_params_free(m->params);
    free(m);
}

vt_tensor *vt_mdseg_forward(vt_mdseg_model *m, vt_tensor *x, int training) {
    return vt_model_forward(m->unet, x, training);
}

vt_tensor *vt_mdseg_embedding(vt_mdseg_model *m, int s) {
    if (s < 0 || s >= VT_MDSEG_MAX_SCALES || !m->has_proj[s]) { vt_error("mdseg: scale %d has no projection head", s); return NULL; }
    if (s >= m->unet->n_features) { vt_error("mdseg: no feature map %d (forward first)", s); return NULL; }
    vt_tensor *g = vt_global_avg_pool(m->unet->features[s]); /* (N, C_s) */
    return vt_linear_layer_forward(&m->proj2[s], vt_relu(vt_linear_layer_forward(&m->proj1[s], g)));
}

vt_tensor *vt_mdseg_contrastive_loss(vt_mdseg_model *m, vt_tensor *labels, float temperature,
                                     double *parts) {
    vt_tensor *total = vt_tensor_zeros(VT_DIMS(1));
    for (int s = 0; s < VT_MDSEG_MAX_SCALES; s++) {
        if (parts) parts[s] = 0;
        if (!m->has_proj[s]) continue;
        vt_tensor *l = vt_supcon_loss(vt_mdseg_embedding(m, s), labels, temperature, temperature, VT_REDUCE_MEAN);
        if (!l) return NULL;
        if (parts) parts[s] = vt_tensor_item(l);
        total = vt_add(total, vt_mul_scalar(l, m->cfg.scale_weight[s]));
    }
    return total;
}

vt_status vt_mdseg_load_encoder(vt_mdseg_model *m, const char *path, int *loaded) {
    /* skip every model name outside down.* so they keep their init and are not "missing";
     * the classifier's fc.* keys are skipped on the file side */
    static const char *const skip[] = {"mid.", "up.", "dec.", "head.", "aux.", "proj.", "fc.", NULL};
    vt_load_report rep;
    vt_load_options opt = {.strict = 1, .skip_prefixes = skip, .report = &rep};
    memset(&rep, 0, sizeof rep);
    if (vt_params_load_safetensors(m->params, path, &opt) != VT_OK) return VT_ERR;
    if (loaded) *loaded = rep.loaded;
    return VT_OK;
}

/* ---- classifier: the UNet encoder as trunk ------------------------------------------ */
vt_mdseg_encoder *vt_mdseg_encoder_new(int depth, int base_width, int num_classes) {
    if (depth < 1 || depth > 6 || base_width < 1 || base_width > 256 || num_classes < 1 || num_classes > 100000) {
        vt_error("mdseg encoder: depth %d (1..6), base_width %d (1..256), classes %d (>= 1)", depth, base_width, num_classes);
        return NULL;
    }
    vt_mdseg_encoder *e = calloc(1, sizeof *e);
    if (!e || !(e->params = vt_params_new())) { free(e); vt_error("mdseg encoder: out of memory"); return NULL; }
    e->depth = depth;
    e->base_width = base_width;
    e->num_classes = num_classes;
    static const char *const bn_names[4] = {"weight", "bias", "running_mean", "running_var"};
    int in = 1, w = base_width;
    char key[96];
    vt_status st = VT_OK;
    for (int i = 0; i < depth && st == VT_OK; i++, in = w, w *= 2)
        for (int j = 0; j < 2 && st == VT_OK; j++) {
            /* same order and shapes as unet.c's block_init: conv .0/.3, norm .1/.4 */
            snprintf(key, sizeof key, "down.%d.%d.weight", i, j ? 3 : 0);
            vt_tensor *c = e->conv[i][j] = vt_params_add(e->params, key, VT_DIMS(w, j ? w : in, 3, 3));
            if (!c) { st = VT_ERR; break; }
            vt_init_default_uniform(c, vt_init_fan_in(c));
            for (int k = 0; k < 4 && st == VT_OK; k++) {
                snprintf(key, sizeof key, "down.%d.%d.%s", i, j ? 4 : 1, bn_names[k]);
                vt_tensor *t = e->bn[i][j][k] = k < 2 ? vt_params_add(e->params, key, VT_DIMS(w))
                                                     : vt_params_add_buffer(e->params, key, VT_DIMS(w));
                if (!t) st = VT_ERR;
                else if (k == 0 || k == 3) vt_tensor_fill(t, 1.f);
            }
        }
    if (st == VT_OK) st = vt_linear_layer_init(&e->fc, e->params, "fc", base_width << (depth - 1), num_classes, 1);
    if (st == VT_OK) st = vt_params_finalize(e->params);
    if (st != VT_OK) { vt_mdseg_encoder_free(e); return NULL; }
    return e;
}

void vt_mdseg_encoder_free(vt_mdseg_encoder *e) {
    if (!e) return;
    vt_params_free(e->params);
    free(e);
}

vt_tensor *vt_mdseg_encoder_forward(vt_mdseg_encoder *e, vt_tensor *x, int training) {
    if (!x) return NULL;
    if (x->ndim != 4 || x->shape[1] != 1) {
        char b[64];
        vt_error("mdseg encoder: input %s must be (N, 1, H, W)", vt_shape_str(x, b, sizeof b));
        return NULL;
    }
    vt_conv2d_params cp = {{1, 1}, {1, 1}, {1, 1}, 1};
    vt_pool2d_params pp = {{2, 2}, {2, 2}, {0, 0}, 0, 1};
    for (int i = 0; i < e->depth; i++) {
        if (i) x = vt_max_pool2d(x, &pp);
        for (int j = 0; j < 2; j++) {
            vt_tensor *const *bn = e->bn[i][j];
            x = vt_relu(vt_batch_norm(vt_conv2d(x, e->conv[i][j], NULL, &cp), bn[0], bn[1], bn[2], bn[3], training, 0.1f, 1e-5f));
        }
    }
    return vt_linear_layer_forward(&e->fc, vt_global_avg_pool(x)); /* (N, K) */
}
