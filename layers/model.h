/* model.h: the model zoo behind one interface.
 *
 *   vt_model_config c; vt_model_config_default(&c, "densenet121");
 *   c.in_channels = 1; c.num_classes = 4;
 *   vt_model *m = vt_model_new(&c);            // parameters drawn as torchvision does
 *   vt_tensor *logits = vt_model_forward(m, x, 1);
 *
 * Parameter names are torchvision's (features.denseblock1.denselayer1.conv1.weight,
 * layer1.0.bn1.running_mean, ...) so converted weights load (docs/weights.md). After a
 * forward, m->features[0..n_features) hold the intermediate feature maps (arena tensors,
 * fine to coarse: the input of each downsampling stage and the last trunk output), used
 * by contrastive regularisation and detection heads. */
#ifndef VT_MODEL_H
#define VT_MODEL_H

#include "vertebra.h"

#define VT_MODEL_MAX_FEATURES 8

typedef enum { VT_HEAD_NONE, VT_HEAD_SIGMOID, VT_HEAD_SOFTMAX } vt_head_kind;
typedef enum { VT_NORM_BATCH, VT_NORM_INSTANCE } vt_norm_kind;

typedef struct vt_model_config {
    const char *arch;   /* see vt_model_archs() */
    int in_channels;    /* 1 for CT/MRI/X-ray */
    int num_classes;    /* classifier outputs, or segmentation output channels */
    /* MLP: hidden widths (0-terminated), dropout between layers */
    int hidden[8];
    float dropout;      /* MLP between layers; VGG classifier (default 0.5) */
    /* UNet */
    int depth;          /* number of downsamplings (default 4) */
    int base_width;     /* channels of the first stage, doubled per stage (default 32) */
    int bottleneck;     /* channels of the bottom block (default 16 * base_width) */
    vt_norm_kind norm;
    int upsample_conv;  /* 1: upsample (nearest) + 3x3 conv decoder; 0: transposed conv */
    int deep_supervision; /* extra 1x1 heads on the decoder stages (aux outputs) */
    vt_head_kind head;
} vt_model_config;

typedef struct vt_model {
    char arch[32];
    vt_model_config cfg;
    vt_params *params;
    void *net;
    vt_tensor *(*forward)(struct vt_model *m, vt_tensor *x, int training);
    void (*destroy)(void *net);
    int n_features;
    vt_tensor *features[VT_MODEL_MAX_FEATURES];
    int n_aux;          /* deep-supervision outputs of the last forward (coarse to fine) */
    vt_tensor *aux[VT_MODEL_MAX_FEATURES];
} vt_model;

/* Defaults: in_channels 1, num_classes 2, UNet depth 4 / width 32 / batch norm /
 * transposed conv / no head, MLP hidden {128}. */
void vt_model_config_default(vt_model_config *c, const char *arch);
/* Builds and finalizes; NULL with vt_last_error() naming the problem. Draws from the global
 * RNG: vt_seed first for reproducible weights. */
vt_model *vt_model_new(const vt_model_config *c);
vt_tensor *vt_model_forward(vt_model *m, vt_tensor *x, int training);
void vt_model_free(vt_model *m);
/* "resnet18, resnet34, ..." */
const char *vt_model_archs(void);
/* for trainers that take a vt_forward_fn (train/classify.h) */
vt_tensor *vt_model_forward_fn(void *model, vt_tensor *x, int training);

/* builders (model_*.c); each fills m->net / forward / destroy and registers parameters */
vt_status vt_resnet_build(vt_model *m, int depth);
vt_status vt_densenet_build(vt_model *m, int depth);
vt_status vt_vgg_build(vt_model *m, int depth, int batch_norm);
vt_status vt_mlp_build(vt_model *m);
vt_status vt_unet_build(vt_model *m, int dims);

#endif
