/* imgcls_predict.c: a trained classifier back from its checkpoint (the resolved config is
 * the checkpoint's text record) and the class probabilities of one image. */
#include <stdlib.h>
#include <string.h>
#include "checkpoint.h"
#include "imgcls.h"

vt_status vt_imgcls_load_checkpoint(const char *path, vt_config **cfg, vt_model **model) {
    *cfg = NULL, *model = NULL;
    vt_checkpoint *ck = vt_checkpoint_load(path);
    if (!ck) return VT_ERR;
    const char *text = vt_checkpoint_text(ck);
    vt_config *c = vt_config_new(vt_imgcls_schema);
    char name[4200];
    snprintf(name, sizeof name, "%s (config)", path);
    vt_status st = c ? vt_config_parse_string(c, text, strlen(text), name) : VT_ERR;
    if (st == VT_OK && !*text) st = vt_error("%s: no config record: not an imgcls checkpoint", path);
    /* the channel count is the first conv's (or linear's) input width in the checkpoint;
     * every zoo model here takes 1 channel from the phantoms and grey PNGs */
    vt_model *m = NULL;
    if (st == VT_OK && !(m = vt_imgcls_model_new(c, 1))) st = VT_ERR;
    if (st == VT_OK && vt_checkpoint_restore_params(ck, m->params) != VT_OK)
        st = vt_error("%s: %s", path, vt_last_error());
    vt_checkpoint_free(ck);
    if (st != VT_OK) { vt_model_free(m); vt_config_free(c); return VT_ERR; }
    *cfg = c, *model = m;
    return VT_OK;
}

vt_status vt_imgcls_predict(const vt_config *c, vt_model *m, const vt_tensor *image, float *probs) {
    char a[64];
    if (!image || image->ndim != 3) return vt_error("imgcls predict: image must be (C, H, W), got %s", image ? vt_shape_str(image, a, sizeof a) : "NULL");
    int64_t s = vt_config_int(c, "data.load_size"), in = vt_config_int(c, "model.input_size");
    int64_t ch = image->shape[0], k = vt_config_int(c, "model.num_classes");
    vt_tensor *x4 = vt_tensor_from_data(4, (int64_t[]){1, ch, image->shape[1], image->shape[2]}, image->data);
    vt_tensor *r = x4 ? vt_imgcls_resize(x4, s) : NULL;
    vt_tensor *r3 = r ? vt_tensor_from_data(3, (int64_t[]){ch, s, s}, r->data) : NULL;
    vt_tensor *x = vt_tensor_new(4, (int64_t[]){1, ch, in, in});
    vt_tensor *x3 = x ? vt_tensor_from_data(3, (int64_t[]){ch, in, in}, x->data) : NULL;
    vt_status st = r3 && x3 ? vt_imgcls_prepare(c, r3, x3) : VT_ERR;
    if (st == VT_OK) {
        memcpy(x->data, x3->data, sizeof(float) * (size_t)x3->numel);
        int g = vt_no_grad_begin();
        vt_tensor *p = vt_softmax(vt_model_forward(m, x, 0), 1);
        if (!p) st = VT_ERR;
        else if (p->numel != k) st = vt_error("imgcls predict: model gives %lld outputs, expected %lld", (long long)p->numel, (long long)k);
        else memcpy(probs, p->data, sizeof(float) * (size_t)k);
        vt_arena_reset(NULL);
        vt_no_grad_end(g);
    }
    vt_tensor_free(x4), vt_tensor_free(r), vt_tensor_free(r3), vt_tensor_free(x), vt_tensor_free(x3);
    return st;
}

const char *vt_imgcls_class_name(const vt_config *c, int i, char *buf, size_t n) {
    const char *names = vt_config_string(c, "data.class_names");
    for (int k = 0; *names; k++) {
        const char *end = strchr(names, ',');
        size_t len = end ? (size_t)(end - names) : strlen(names);
        if (k == i && len > 0 && len < n) {
            memcpy(buf, names, len);
            buf[len] = 0;
            return buf;
        }
        if (!end) break;
        names = end + 1;
    }
    snprintf(buf, n, "%d", i);
    return buf;
}
