/* smallcnn.c: the two-conv CNN of the Fashion-MNIST example (and of `make bench`). */
#include "layers.h"

vt_status vt_smallcnn_init(vt_smallcnn *m, vt_params *p, int in_ch, int size, int classes,
                           int batch_norm) {
    int s = ((size - 2) / 2 - 2) / 2; /* spatial size after the two conv+pool stages */
    if (s < 1) return vt_error("smallcnn: input size %d is too small (needs >= 10)", size);
    m->batch_norm = batch_norm;
    /* parameters are drawn in PyTorch's module order: conv1, bn1, conv2, bn2, fc1, fc2 */
    if (vt_conv2d_layer_init(&m->conv1, p, "conv1", in_ch, 32, 3, 1, 0, 1)) return VT_ERR;
    if (batch_norm && vt_batch_norm_layer_init(&m->bn1, p, "bn1", 32)) return VT_ERR;
    if (vt_conv2d_layer_init(&m->conv2, p, "conv2", 32, 64, 3, 1, 0, 1)) return VT_ERR;
    if (batch_norm && vt_batch_norm_layer_init(&m->bn2, p, "bn2", 64)) return VT_ERR;
    if (vt_linear_layer_init(&m->fc1, p, "fc1", 64 * s * s, 128, 1)) return VT_ERR;
    if (vt_linear_layer_init(&m->fc2, p, "fc2", 128, classes, 1)) return VT_ERR;
    return VT_OK;
}

vt_tensor *vt_smallcnn_forward(const vt_smallcnn *m, vt_tensor *x, int training) {
    const vt_pool2d_params pool = {{2, 2}, {2, 2}, {0, 0}, 0, 1};
    x = vt_conv2d_layer_forward(&m->conv1, x);                         /* (N, 32, size-2, size-2) */
    if (m->batch_norm) x = vt_batch_norm_layer_forward(&m->bn1, x, training);
    x = vt_max_pool2d(vt_relu(x), &pool);                              /* (N, 32, (size-2)/2, ..) */
    x = vt_conv2d_layer_forward(&m->conv2, x);                         /* (N, 64, .., ..) */
    if (m->batch_norm) x = vt_batch_norm_layer_forward(&m->bn2, x, training);
    x = vt_max_pool2d(vt_relu(x), &pool);                              /* (N, 64, s, s) */
    x = vt_relu(vt_linear_layer_forward(&m->fc1, vt_flatten(x)));      /* (N, 128) */
    return vt_linear_layer_forward(&m->fc2, x);                        /* (N, classes) */
}
