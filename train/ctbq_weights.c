/* ctbq_weights.c: transfer learning into the CT bone-quality trunk (safetensors) and the
 * probabilities of one image (vertebra ctbq --predict). */
#include <math.h>
#include <string.h>
#include "ctbq.h"

/* the trunk's last layer is the projection to the embedding (its shape is ours, not the
 * source's: ImageNet's 1000 classes) and the heads do not exist in a trunk file */
const char *const *vt_ctbq_pretrained_skips(const vt_ctbq_model *m) {
    static const char *const small[] = {"fc2.", "head.", "fusion.", "loss.", NULL};
    static const char *const densenet[] = {"classifier.", "head.", "fusion.", "loss.", NULL};
    static const char *const resnet[] = {"fc.", "head.", "fusion.", "loss.", NULL};
    static const char *const vgg[] = {"classifier.6.", "head.", "fusion.", "loss.", NULL};
    if (m->small) return small;
    if (!strncmp(m->arch, "resnet", 6)) return resnet;
    if (!strncmp(m->arch, "vgg", 3)) return vgg;
    return densenet;
}

vt_status vt_ctbq_load_pretrained(vt_ctbq_model *m, const char *path, const char *strip_prefix,
                                  vt_load_report *rep) {
    if (!m || !path || !*path) return vt_error("ctbq pretrained: NULL model or empty path");
    vt_load_report r;
    vt_load_options o = {.strict = 0, .strip_prefix = strip_prefix && *strip_prefix ? strip_prefix : NULL,
                         .skip_prefixes = vt_ctbq_pretrained_skips(m), .report = &r};
    if (vt_params_load_safetensors(m->params, path, &o) != VT_OK)
        return vt_error("ctbq pretrained %s: %s", path, vt_last_error());
    if (rep) *rep = r;
    if (r.loaded == 0)
        return vt_error("ctbq pretrained %s: no tensor matches the %s trunk (%s; strip prefix '%s'; "
                        "expected names: docs/weights.md)", path, m->arch, r.message, strip_prefix ? strip_prefix : "");
    return VT_OK;
}

vt_status vt_ctbq_predict(vt_ctbq_model *m, const vt_tensor *x, float probs[7]) {
    char b[64];
    if (!m || !x) return vt_error("ctbq predict: NULL %s", m ? "image" : "model");
    if (x->ndim != 4 || x->shape[0] != 1 || x->shape[1] != 1 || x->shape[2] != m->cfg.size || x->shape[3] != m->cfg.size)
        return vt_error("ctbq predict: image %s must be (1, 1, %d, %d)", vt_shape_str(x, b, sizeof b), m->cfg.size, m->cfg.size);
    int g = vt_no_grad_begin();
    vt_ctbq_output o;
    vt_status st = vt_ctbq_forward(m, (vt_tensor *)x, 0, &o);
    vt_tensor *p = st == VT_OK ? vt_softmax(o.quality, 1) : NULL;
    if (st == VT_OK && !p) st = VT_ERR;
    if (st == VT_OK) {
        memcpy(probs, p->data, sizeof(float) * 4);
        vt_tensor *heads[3] = {o.blastic, o.lytic, o.posterolateral};
        for (int t = 0; t < 3; t++) probs[4 + t] = heads[t] ? 1.f / (1.f + expf(-heads[t]->data[0])) : NAN;
    }
    vt_arena_reset(NULL);
    vt_no_grad_end(g);
    return st;
}
