/* imgcls_config.c: the config schema of the image-classification trainer (imgcls.h). */
#include "imgcls.h"

const vt_cfg_key vt_imgcls_schema[] = {
    {"", "method", VT_CFG_ENUM, "imgcls", 0, 0, "imgcls", "the trainer this file is for (vertebra train)"},
    {"run", "out", VT_CFG_STRING, "runs/imgcls", 0, 0, NULL, "run folder (created): metrics.jsonl, checkpoints, summary.json"},
    {"run", "resume", VT_CFG_STRING, "", 0, 0, NULL, "checkpoint.vtck to continue from (empty: a fresh run)"},
    {"run", "seed", VT_CFG_INT, "0", 0, 9e18, NULL, "seed of the phantom, split, init, shuffling and augmentation"},
    {"run", "threads", VT_CFG_INT, "2", 0, 1024, NULL, "CPU threads (0: all cores)"},
    {"run", "log_every", VT_CFG_INT, "10", 1, 1e9, NULL, "progress line every N steps when not on a terminal"},
    {"run", "resume_checkpoint", VT_CFG_BOOL, "true", 0, 0, NULL, "write RUN_DIR/checkpoint.vtck (weights + optimizer) every epoch; false saves time and disk for huge models (VGG: 1.6 GB) but the run cannot resume"},
    {"run", "quiet", VT_CFG_BOOL, "false", 0, 0, NULL, "no progress or epoch lines"},

    {"data", "source", VT_CFG_ENUM, "phantom_xray", 0, 0, "phantom_spect|phantom_xray|csv", "where the images come from"},
    {"data", "n", VT_CFG_INT, "400", 6, 1e7, NULL, "phantom: number of images"},
    {"data", "phantom_size", VT_CFG_INT, "0", 0, 1024, NULL, "phantom: SPECT height (128..1024) or X-ray side (64..1024); 0: the phantom's default"},
    {"data", "thorax_crop", VT_CFG_BOOL, "true", 0, 0, NULL, "phantom_spect: classify the thoracic crop (as the paper), else the whole body"},
    {"data", "csv", VT_CFG_STRING, "", 0, 0, NULL, "csv: labels file with an image and a label column"},
    {"data", "image_dir", VT_CFG_STRING, "", 0, 0, NULL, "csv: folder the image names are relative to"},
    {"data", "image_col", VT_CFG_STRING, "image", 0, 0, NULL, "csv: image column (PNG file names)"},
    {"data", "label_col", VT_CFG_STRING, "label", 0, 0, NULL, "csv: label column (0..num_classes-1)"},
    {"data", "class_names", VT_CFG_STRING, "", 0, 0, NULL, "comma-separated class names for predict output (empty: numbers)"},
    {"data", "load_size", VT_CFG_INT, "72", 8, 4096, NULL, "images are resized to load_size x load_size once at load"},
    {"data", "normalize", VT_CFG_ENUM, "zscore", 0, 0, "zscore|none", "per-image normalisation of the network input"},
    {"data", "val_frac", VT_CFG_FLOAT, "0.2", 0.01, 0.9, NULL, "fraction of each class for validation"},
    {"data", "test_frac", VT_CFG_FLOAT, "0.2", 0.01, 0.9, NULL, "fraction of each class for test"},
    {"data", "workers", VT_CFG_INT, "0", 0, 64, NULL, "loader threads (0: in the training thread; results do not depend on it)"},

    {"augment", "p_flip_x", VT_CFG_FLOAT, "0.5", 0, 1, NULL, "probability of a left-right flip"},
    {"augment", "p_flip_y", VT_CFG_FLOAT, "0", 0, 1, NULL, "probability of an up-down flip"},
    {"augment", "p_rotate", VT_CFG_FLOAT, "0.5", 0, 1, NULL, "probability of a rotation"},
    {"augment", "max_angle_deg", VT_CFG_FLOAT, "10", 0, 180, NULL, "rotation angle uniform in [-max, max] degrees"},
    {"augment", "p_scale", VT_CFG_FLOAT, "0.5", 0, 1, NULL, "probability of a zoom"},
    {"augment", "scale_min", VT_CFG_FLOAT, "0.9", 0.1, 10, NULL, "zoom factor range"},
    {"augment", "scale_max", VT_CFG_FLOAT, "1.1", 0.1, 10, NULL, "zoom factor range"},
    {"augment", "random_crop", VT_CFG_BOOL, "true", 0, 0, NULL, "training crop of input_size at a random place (else centred)"},

    {"model", "arch", VT_CFG_STRING, "resnet18", 0, 0, NULL, "layers/model.h architecture (resnet18/34/50, densenet121/169, vgg11(_bn), vgg16(_bn), mlp)"},
    {"model", "input_size", VT_CFG_INT, "64", 8, 4096, NULL, "network input side (crop of the load_size image)"},
    {"model", "num_classes", VT_CFG_INT, "2", 2, VT_IMGCLS_MAX_CLASSES, NULL, "classes (the phantoms are binary)"},
    {"model", "dropout", VT_CFG_FLOAT, "0.5", 0, 0.99, NULL, "VGG classifier / MLP dropout"},
    {"model", "pretrained", VT_CFG_STRING, "", 0, 0, NULL, "safetensors weights for the trunk (transfer learning; empty: random init)"},
    {"model", "skip_prefixes", VT_CFG_STRING, "fc.,classifier.", 0, 0, NULL, "comma-separated key prefixes not loaded from pretrained (the classifier)"},

    {"optim", "name", VT_CFG_ENUM, "adam", 0, 0, "adam|adamw|sgd", "optimizer"},
    {"optim", "lr", VT_CFG_FLOAT, "0.001", 1e-8, 10, NULL, "learning rate"},
    {"optim", "momentum", VT_CFG_FLOAT, "0.9", 0, 1, NULL, "SGD momentum"},
    {"optim", "weight_decay", VT_CFG_FLOAT, "0", 0, 1, NULL, "L2 (adam, sgd) or decoupled (adamw) weight decay"},
    {"optim", "schedule", VT_CFG_ENUM, "constant", 0, 0, "constant|cosine", "learning-rate schedule over the run"},
    {"optim", "clip_grad_norm", VT_CFG_FLOAT, "0", 0, 1e6, NULL, "clip the gradient norm (0: off)"},
    {"optim", "epochs", VT_CFG_INT, "4", 1, 10000, NULL, "epochs"},
    {"optim", "batch_size", VT_CFG_INT, "16", 1, 65536, NULL, "training batch"},
    {"optim", "eval_batch", VT_CFG_INT, "64", 1, 65536, NULL, "evaluation batch"},
    {"optim", "max_steps", VT_CFG_INT, "0", 0, 1e12, NULL, "stop each epoch after this many steps (0: whole epochs; for smoke tests)"},

    {"select", "metric", VT_CFG_ENUM, "auroc", 0, 0, "auroc|accuracy|f1|sensitivity|specificity|precision|balanced_accuracy|neg_loss",
     "validation metric that picks the best epoch (higher is better)"},
    {"select", "patience", VT_CFG_INT, "0", 0, 10000, NULL, "early stopping: epochs without improvement before stopping (0: off)"},
    {"select", "min_delta", VT_CFG_FLOAT, "0", 0, 1, NULL, "smallest change that counts as an improvement"},

    {"eval", "bootstrap", VT_CFG_INT, "2000", 0, 1e6, NULL, "bootstrap resamples of the test AUROC CI (0: none)"},
    {"eval", "ci_level", VT_CFG_FLOAT, "0.95", 0.5, 0.999, NULL, "confidence level of the AUROC interval"},
    {"eval", "roc_png", VT_CFG_BOOL, "true", 0, 0, NULL, "write RUN_DIR/roc_test.png (binary tasks)"},
    {0},
};

vt_config *vt_imgcls_config_load(const char *path, int n_sets, const char *const *sets) {
    return vt_config_load(vt_imgcls_schema, path, n_sets, sets);
}
