/* imgcls_model.c: the classifier of an image-classification run, optionally initialised
 * from pretrained safetensors weights (transfer learning: the trunk loads, the classifier
 * keys under model.skip_prefixes keep their fresh initialisation). */
#include <stdlib.h>
#include <string.h>
#include "imgcls.h"
#include "safetensors.h"

#define MAX_SKIPS 16

vt_model *vt_imgcls_model_new(const vt_config *c, int in_channels) {
    vt_model_config mc;
    const char *arch = vt_config_string(c, "model.arch");
    vt_model_config_default(&mc, arch);
    mc.in_channels = in_channels;
    if (!strcmp(arch, "mlp")) { /* the MLP sees the flattened crop */
        int64_t in = vt_config_int(c, "model.input_size");
        mc.in_channels = (int)(in_channels * in * in);
    }
    mc.num_classes = (int)vt_config_int(c, "model.num_classes");
    mc.dropout = (float)vt_config_float(c, "model.dropout");
    vt_model *m = vt_model_new(&mc);
    if (!m) return NULL;
    const char *pre = vt_config_string(c, "model.pretrained");
    if (!*pre) return m;
    /* "fc.,classifier." -> {"fc.", "classifier.", NULL} */
    char list[1024];
    snprintf(list, sizeof list, "%s", vt_config_string(c, "model.skip_prefixes"));
    const char *skips[MAX_SKIPS + 1];
    int ns = 0;
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && ns < MAX_SKIPS; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        if (*tok) skips[ns++] = tok;
    }
    skips[ns] = NULL;
    vt_load_report rep;
    vt_load_options opt = {.strict = 0, .skip_prefixes = skips, .report = &rep};
    if (vt_params_load_safetensors(m->params, pre, &opt) != VT_OK) {
        vt_error("imgcls: model.pretrained %s: %s", pre, vt_last_error());
        vt_model_free(m);
        return NULL;
    }
    if (rep.loaded == 0) {
        vt_error("imgcls: model.pretrained %s: no tensor matches %s (%s)", pre, arch, rep.message);
        vt_model_free(m);
        return NULL;
    }
    printf("imgcls: loaded %d tensors from %s (%d skipped, %d missing, %d unexpected, %d adapted RGB->grey)\n",
           rep.loaded, pre, rep.skipped, rep.missing, rep.unexpected, rep.adapted);
    return m;
}
