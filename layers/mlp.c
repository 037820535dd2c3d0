/* mlp.c: multi-layer perceptron: x (N, in) -> [Linear -> ReLU -> Dropout] per hidden width
 * -> Linear -> (N, classes). Inputs of more dims are flattened. Names fc0, fc1, ... as an
 * nn.Sequential would not give them stable indices with dropout; documented in docs/weights.md. */
#include <stdlib.h>
#include "model_util.h"

typedef struct {
    int n;
    vt_linear_layer fc[9];
    float dropout;
} mlp;

static vt_tensor *mlp_forward(vt_model *m, vt_tensor *x, int tr) {
    const mlp *net = m->net;
    if (x && x->ndim > 2) x = vt_flatten(x);
    for (int i = 0; i < net->n; i++) {
        x = vt_linear_layer_forward(&net->fc[i], x);
        if (i + 1 < net->n) {
            x = vt_dropout(vt_relu(x), net->dropout, tr);
            vt_model_keep(m, x);
        }
    }
    return x;
}

vt_status vt_mlp_build(vt_model *m) {
    mlp *net = calloc(1, sizeof *net);
    if (!net) return vt_error("mlp: out of memory");
    m->net = net;
    m->forward = mlp_forward;
    if (!(m->cfg.dropout >= 0.f && m->cfg.dropout < 1.f))
        return vt_error("mlp: dropout %g must be in [0, 1)", (double)m->cfg.dropout);
    net->dropout = m->cfg.dropout;
    int in = m->cfg.in_channels;
    for (int i = 0; i < 8 && m->cfg.hidden[i] > 0; i++) {
        char name[32];
        snprintf(name, sizeof name, "fc%d", net->n);
        if (vt_linear_layer_init(&net->fc[net->n++], m->params, name, in, m->cfg.hidden[i], 1)) return VT_ERR;
        in = m->cfg.hidden[i];
    }
    char name[32];
    snprintf(name, sizeof name, "fc%d", net->n);
    return vt_linear_layer_init(&net->fc[net->n++], m->params, name, in, m->cfg.num_classes, 1);
}
