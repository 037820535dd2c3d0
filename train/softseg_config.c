/* softseg_config.c: the config schema of the soft cord segmentation method and its
 * conversion to vt_softseg_options. */
#include <stdio.h>
#include <string.h>
#include "softseg.h"

static const vt_cfg_key SCHEMA[] = {
    {"", "method", VT_CFG_ENUM, "softseg", 0, 0, "softseg", "the trainer this file is for"},
    {"", "seed", VT_CFG_INT, "0", 0, 1e9, NULL, "seed of the phantom, the weights and the shuffling"},
    {"", "threads", VT_CFG_INT, "2", 0, 1024, NULL, "CPU threads (0: all cores)"},
    {"", "out", VT_CFG_STRING, "runs/softseg", 0, 0, NULL, "run folder (created; --out overrides)"},
    {"", "overlays", VT_CFG_BOOL, "true", 0, 0, NULL, "write RUN/overlays/epoch_NNN.png (a held-out slice) after every epoch"},
    {"run", "resume", VT_CFG_STRING, "", 0, 0, NULL, "a model.vtck of an earlier run to continue from (its next epoch; --resume CKPT)"},
    {"data", "source", VT_CFG_ENUM, "phantom", 0, 0, "phantom|sct", "cord phantom or the SCT subject folder"},
    {"data", "sct_dir", VT_CFG_STRING, "../shared/data/sct", 0, 0, NULL, "folder with t2/, t2s/, mt/ (source = sct)"},
    {"data", "subjects", VT_CFG_INT, "4", 2, 1000, NULL, "phantom subjects (x 4 contrasts)"},
    {"data", "test_subjects", VT_CFG_INT, "1", 1, 999, NULL, "phantom subjects held out (the last ones)"},
    {"data", "nx", VT_CFG_INT, "32", 24, 256, NULL, "phantom voxels left-right"},
    {"data", "ny", VT_CFG_INT, "32", 24, 256, NULL, "phantom voxels posterior-anterior"},
    {"data", "nz", VT_CFG_INT, "24", 4, 512, NULL, "phantom axial slices"},
    {"data", "noise", VT_CFG_FLOAT, "0.03", 0, 0.5, NULL, "phantom noise std"},
    {"data", "spacing_x", VT_CFG_FLOAT, "0.8", 0.1, 10, NULL, "training spacing left-right (mm)"},
    {"data", "spacing_y", VT_CFG_FLOAT, "0.8", 0.1, 10, NULL, "training spacing posterior-anterior (mm)"},
    {"data", "spacing_z", VT_CFG_FLOAT, "0", 0, 50, NULL, "training spacing along the cord (mm); 0 keeps each volume's"},
    {"data", "test_z_fraction", VT_CFG_FLOAT, "0.3", 0.05, 0.95, NULL,
     "sct (one subject): top fraction of every volume's axial slices held out for testing"},
    {"data", "fg_prob", VT_CFG_FLOAT, "0.5", 0, 1, NULL, "3d: probability that a patch is centred on a cord voxel"},
    {"model", "dims", VT_CFG_ENUM, "2d", 0, 0, "2d|3d", "UNet2D on axial slices, or UNet3D on patches"},
    {"model", "patch_z", VT_CFG_INT, "16", 4, 512, NULL, "3d patch along the cord (voxels; multiple of 2^depth)"},
    {"model", "patch_y", VT_CFG_INT, "32", 4, 512, NULL, "3d patch posterior-anterior (voxels; multiple of 2^depth)"},
    {"model", "patch_x", VT_CFG_INT, "32", 4, 512, NULL, "3d patch left-right (voxels; multiple of 2^depth)"},
    {"model", "depth", VT_CFG_INT, "2", 1, 5, NULL, "UNet downsamplings"},
    {"model", "base_width", VT_CFG_INT, "8", 1, 256, NULL, "channels of the first UNet stage"},
    {"model", "norm", VT_CFG_ENUM, "batch", 0, 0, "batch|instance", "UNet normalisation"},
    {"model", "head", VT_CFG_ENUM, "sigmoid", 0, 0, "sigmoid|clamp", "output in [0, 1]: sigmoid, or none + clamp"},
    {"loss", "gt", VT_CFG_ENUM, "soft", 0, 0, "soft|binary", "soft GT (mean of the contrasts' masks) or each contrast's mask"},
    {"loss", "loss", VT_CFG_ENUM, "adapwing", 0, 0, "adapwing|mse|dice", "Adaptive Wing (paper), MSE or soft Dice"},
    {"optim", "lr", VT_CFG_FLOAT, "0.002", 1e-7, 1, NULL, "Adam learning rate"},
    {"optim", "batch", VT_CFG_INT, "16", 1, 4096, NULL, "slices per step"},
    {"optim", "patches_per_epoch", VT_CFG_INT, "64", 1, 1000000, NULL, "3d: random patches per epoch"},
    {"optim", "epochs", VT_CFG_INT, "6", 1, 10000, NULL, "passes over the training slices"},
    {"eval", "window", VT_CFG_ENUM, "gaussian", 0, 0, "gaussian|uniform",
     "3d sliding-window weights at 50 % overlap: Gaussian (sigma = patch / 8) or uniform"},
    {"eval", "threshold", VT_CFG_FLOAT, "0.5", 0.01, 0.99, NULL, "binarisation threshold for Dice"},
    {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
};

const vt_cfg_key *vt_softseg_schema(void) { return SCHEMA; }

vt_status vt_softseg_options_from_config(const vt_config *c, vt_softseg_options *o) {
    memset(o, 0, sizeof *o);
    o->source_sct = vt_config_enum(c, "data.source") == 1;
    snprintf(o->sct_dir, sizeof o->sct_dir, "%s", vt_config_string(c, "data.sct_dir"));
    o->subjects = (int)vt_config_int(c, "data.subjects");
    o->test_subjects = (int)vt_config_int(c, "data.test_subjects");
    if (!o->source_sct && o->test_subjects >= o->subjects)
        return vt_error("softseg config: data.test_subjects %d leaves no training subject of %d", o->test_subjects, o->subjects);
    o->nx = (int)vt_config_int(c, "data.nx");
    o->ny = (int)vt_config_int(c, "data.ny");
    o->nz = (int)vt_config_int(c, "data.nz");
    o->noise = (float)vt_config_float(c, "data.noise");
    o->spacing[0] = vt_config_float(c, "data.spacing_x");
    o->spacing[1] = vt_config_float(c, "data.spacing_y");
    o->spacing[2] = vt_config_float(c, "data.spacing_z");
    o->test_z_fraction = vt_config_float(c, "data.test_z_fraction");
    o->depth = (int)vt_config_int(c, "model.depth");
    o->base_width = (int)vt_config_int(c, "model.base_width");
    o->instance_norm = vt_config_enum(c, "model.norm") == 1;
    o->clamp_head = vt_config_enum(c, "model.head") == 1;
    o->soft_gt = vt_config_enum(c, "loss.gt") == 0;
    o->loss = (vt_softseg_loss)vt_config_enum(c, "loss.loss");
    o->lr = (float)vt_config_float(c, "optim.lr");
    o->batch = (int)vt_config_int(c, "optim.batch");
    o->epochs = (int)vt_config_int(c, "optim.epochs");
    o->threshold = (float)vt_config_float(c, "eval.threshold");
    o->seed = (uint64_t)vt_config_int(c, "seed");
    o->log_every = 20;
    o->dims3d = vt_config_enum(c, "model.dims") == 1;
    o->patch[0] = vt_config_int(c, "model.patch_z");
    o->patch[1] = vt_config_int(c, "model.patch_y");
    o->patch[2] = vt_config_int(c, "model.patch_x");
    o->fg_prob = (float)vt_config_float(c, "data.fg_prob");
    o->patches_per_epoch = (int)vt_config_int(c, "optim.patches_per_epoch");
    o->gaussian_window = vt_config_enum(c, "eval.window") == 0;
    o->overlays = vt_config_bool(c, "overlays");
    snprintf(o->resume, sizeof o->resume, "%s", vt_config_string(c, "run.resume"));
    int64_t mult = (int64_t)1 << o->depth;
    if (o->dims3d)
        for (int a = 0; a < 3; a++)
            if (o->patch[a] % mult)
                return vt_error("softseg config: model.patch_%c = %lld is not a multiple of 2^depth = %lld", "zyx"[a],
                                (long long)o->patch[a], (long long)mult);
    return VT_OK;
}
