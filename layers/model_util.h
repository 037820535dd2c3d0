/* model_util.h: small helpers shared by the model builders (not public). */
#ifndef VT_MODEL_UTIL_H
#define VT_MODEL_UTIL_H

#include <stdio.h>
#include "layers.h"
#include "model.h"

/* "prefix.suffix" into a static rotating buffer (names are copied by vt_params_add) */
static inline const char *vt_name2(char *buf, size_t n, const char *a, const char *b) {
    snprintf(buf, n, "%s.%s", a, b);
    return buf;
}

/* records a feature map of the current forward (silently ignores overflow) */
static inline void vt_model_keep(vt_model *m, vt_tensor *f) {
    if (f && m->n_features < VT_MODEL_MAX_FEATURES) m->features[m->n_features++] = f;
}

#endif
