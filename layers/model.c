/* model.c: the model registry: name -> builder, and the shared forward/free. */
#include <stdlib.h>
#include <string.h>
#include "model.h"

static const char *const ARCHS =
    "resnet18, resnet34, resnet50, densenet121, densenet169, vgg11, vgg11_bn, vgg16, vgg16_bn, "
    "mlp, unet2d, unet3d";

const char *vt_model_archs(void) { return ARCHS; }

void vt_model_config_default(vt_model_config *c, const char *arch) {
    memset(c, 0, sizeof *c);
    c->arch = arch;
    c->in_channels = 1;
    c->num_classes = 2;
    c->hidden[0] = 128;
    c->depth = 4;
    c->base_width = 32;
    c->norm = VT_NORM_BATCH;
    c->head = VT_HEAD_NONE;
    c->dropout = arch && !strncmp(arch, "vgg", 3) ? 0.5f : 0.f; /* torchvision's VGG classifier */
}

static vt_status build(vt_model *m, const char *a) {
    if (!strcmp(a, "resnet18")) return vt_resnet_build(m, 18);
    if (!strcmp(a, "resnet34")) return vt_resnet_build(m, 34);
    if (!strcmp(a, "resnet50")) return vt_resnet_build(m, 50);
    if (!strcmp(a, "densenet121")) return vt_densenet_build(m, 121);
    if (!strcmp(a, "densenet169")) return vt_densenet_build(m, 169);
    if (!strcmp(a, "vgg11")) return vt_vgg_build(m, 11, 0);
    if (!strcmp(a, "vgg11_bn")) return vt_vgg_build(m, 11, 1);
    if (!strcmp(a, "vgg16")) return vt_vgg_build(m, 16, 0);
    if (!strcmp(a, "vgg16_bn")) return vt_vgg_build(m, 16, 1);
    if (!strcmp(a, "mlp")) return vt_mlp_build(m);
    if (!strcmp(a, "unet2d")) return vt_unet_build(m, 2);
    if (!strcmp(a, "unet3d")) return vt_unet_build(m, 3);
    return vt_error("model: unknown architecture '%s' (known: %s)", a, ARCHS);
}

vt_model *vt_model_new(const vt_model_config *c) {
    if (!c || !c->arch) { vt_error("model: no architecture given"); return NULL; }
    if (strlen(c->arch) >= sizeof ((vt_model *)0)->arch) {
        vt_error("model: unknown architecture '%.40s...' (known: %s)", c->arch, ARCHS);
        return NULL;
    }
    if (c->in_channels < 1 || c->in_channels > 4096 || c->num_classes < 1 || c->num_classes > 100000) {
        vt_error("model %s: in_channels %d and num_classes %d must be in [1, 4096] and [1, 100000]",
                 c->arch, c->in_channels, c->num_classes);
        return NULL;
    }
    vt_model *m = calloc(1, sizeof *m);
    if (!m) { vt_error("model: out of memory"); return NULL; }
    strcpy(m->arch, c->arch);
    m->cfg = *c;
    m->cfg.arch = m->arch;
    if (!(m->params = vt_params_new()) || build(m, c->arch) != VT_OK ||
        vt_params_finalize(m->params) != VT_OK) {
        vt_model_free(m);
        return NULL;
    }
    return m;
}

vt_tensor *vt_model_forward(vt_model *m, vt_tensor *x, int training) {
    if (!m) { vt_error("model: NULL model"); return NULL; }
    if (!x) return NULL;
    m->n_features = m->n_aux = 0;
    return m->forward(m, x, training);
}

vt_tensor *vt_model_forward_fn(void *model, vt_tensor *x, int training) {
    return vt_model_forward(model, x, training);
}

void vt_model_free(vt_model *m) {
    if (!m) return;
    if (m->destroy && m->net) m->destroy(m->net);
    else free(m->net);
    vt_params_free(m->params);
    free(m);
}
