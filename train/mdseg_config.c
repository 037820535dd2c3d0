/* mdseg_config.c: the config schema of the multi-domain segmentation method (mdseg.h). */
#include "mdseg.h"

const vt_cfg_key vt_mdseg_schema[] = {
    {"", "method", VT_CFG_ENUM, "mdseg", 0, 0, "mdseg", "the trainer this file is for (vertebra train)"},
    {"run", "mode", VT_CFG_ENUM, "seg", 0, 0, "seg|pretrain", "seg: train the segmentation model; pretrain: train the encoder classifier and write encoder.safetensors"},
    {"run", "out", VT_CFG_STRING, "runs/mdseg", 0, 0, NULL, "run folder (created): config.resolved, metrics.jsonl, checkpoint.vtck, summary.json"},
    {"run", "seed", VT_CFG_INT, "0", 0, 9e18, NULL, "seed of the phantoms, init, sampler"},
    {"run", "threads", VT_CFG_INT, "2", 0, 1024, NULL, "CPU threads (0: all cores)"},
    {"run", "log_every", VT_CFG_INT, "10", 1, 1e9, NULL, "progress line every N steps"},
    {"run", "resume", VT_CFG_STRING, "", 0, 0, NULL, "mode seg: RUN/checkpoint.vtck (written every epoch) to continue from, bit-identically; empty: a fresh run"},

    {"data", "source", VT_CFG_ENUM, "phantom", 0, 0, "phantom|files", "phantom: the phantom domains of data.domains; files: your own images, one CSV per domain in data.files (run.mode = seg)"},
    {"data", "files", VT_CFG_STRING, "", 0, 0, NULL, "source = files: comma-separated CSVs, one per domain (name = file stem), columns image, mask: paths relative to the CSV's folder, PNG (grey) or one-slice NIfTI of data.size x data.size; masks hold class ids 0..2 (PNG also 0/127/254 as phantom-export writes)"},
    {"data", "test_fraction", VT_CFG_FLOAT, "0.2", 0, 0.9, NULL, "source = files: the last round(fraction x rows) rows of each CSV are held out (row order; at least 1)"},
    {"data", "domains", VT_CFG_STRING, "ct,mr,xray", 0, 0, NULL, "comma-separated phantom domains (ct, mr, xray); one domain = a per-domain model"},
    {"data", "size", VT_CFG_INT, "64", 32, 512, NULL, "image side (a multiple of 8 and of 2^depth)"},
    {"data", "train_per_domain", VT_CFG_INT, "200", 1, 1e7, NULL, "training images per domain"},
    {"data", "test_per_domain", VT_CFG_INT, "50", 1, 1e7, NULL, "held-out images per domain (another phantom seed)"},

    {"model", "depth", VT_CFG_INT, "3", 1, 4, NULL, "UNet downsamplings"},
    {"model", "base_width", VT_CFG_INT, "8", 1, 256, NULL, "UNet channels of the first stage (doubled per stage)"},

    {"train", "epochs", VT_CFG_INT, "3", 1, 1000, NULL, "epochs (one epoch covers the largest domain once)"},
    {"train", "batch", VT_CFG_INT, "12", 1, 65536, NULL, "batch size; a multiple of the number of domains (equal samples per domain)"},
    {"train", "lr", VT_CFG_FLOAT, "0.003", 1e-7, 10, NULL, "Adam learning rate"},
    {"train", "eval_batch", VT_CFG_INT, "32", 1, 65536, NULL, "batch size of the held-out evaluation"},

    {"transfer", "init", VT_CFG_STRING, "", 0, 0, NULL, "classifier safetensors (run.mode = pretrain output) whose down.* initialise the encoder; empty: none"},

    {"contrastive", "temperature", VT_CFG_FLOAT, "0.1", 1e-4, 100, NULL, "SupCon temperature (base temperature equal to it)"},
    {"contrastive", "proj_hidden", VT_CFG_INT, "32", 1, 4096, NULL, "projection head hidden width"},
    {"contrastive", "proj_dim", VT_CFG_INT, "16", 1, 4096, NULL, "projection head output width"},
    {"contrastive", "weight_scale0", VT_CFG_FLOAT, "0", 0, 100, NULL, "weight of the SupCon term on encoder block 0 (full resolution); 0: no head"},
    {"contrastive", "weight_scale1", VT_CFG_FLOAT, "0", 0, 100, NULL, "weight on encoder block 1 (1/2 resolution)"},
    {"contrastive", "weight_scale2", VT_CFG_FLOAT, "0", 0, 100, NULL, "weight on encoder block 2 (1/4 resolution)"},
    {"contrastive", "weight_scale3", VT_CFG_FLOAT, "0", 0, 100, NULL, "weight on block 3 (the bottom block when depth = 3)"},
    {"contrastive", "weight_scale4", VT_CFG_FLOAT, "0", 0, 100, NULL, "weight on block 4 (the bottom block when depth = 4)"},

    {"prior", "weight", VT_CFG_FLOAT, "0", 0, 1e6, NULL, "weight of the ACNN latent distance; 0: no prior"},
    {"prior", "width", VT_CFG_INT, "8", 1, 256, NULL, "autoencoder channels of the first stage"},
    {"prior", "latent", VT_CFG_INT, "4", 1, 256, NULL, "latent channels (code of S/8 x S/8)"},
    {"prior", "epochs", VT_CFG_INT, "4", 1, 1000, NULL, "autoencoder training epochs on the training masks"},
    {"prior", "lr", VT_CFG_FLOAT, "0.003", 1e-7, 10, NULL, "autoencoder Adam learning rate"},

    {"pretrain", "task", VT_CFG_ENUM, "bone_quality", 0, 0, "bone_quality|domain", "bone_quality: 4-way lesion class of phantom_ct slices; domain: which domain an image is from"},
    {"pretrain", "patients", VT_CFG_INT, "30", 5, 100000, NULL, "bone_quality: phantom patients (4 vertebrae x 6 slices each; the last 20% held out)"},
    {"pretrain", "epochs", VT_CFG_INT, "4", 1, 1000, NULL, "classifier epochs"},
    {"pretrain", "batch", VT_CFG_INT, "32", 1, 65536, NULL, "classifier batch size"},
    {"pretrain", "lr", VT_CFG_FLOAT, "0.003", 1e-7, 10, NULL, "classifier Adam learning rate"},
    {0},
};
