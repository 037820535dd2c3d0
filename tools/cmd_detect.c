/* cmd_detect.c: `vertebra detect --config FILE [--set k=v]...` trains the FCOS lesion
 * detector (issue 7) on radiograph phantoms or VinDr-style CSV + PNG data, writing
 * config.resolved, metrics.jsonl, checkpoint.vtck (resume: run.resume), best.vtck and summary.json into the run dir;
 * `vertebra predict-det --checkpoint C --in IMG.png --out DIR` writes detections.csv,
 * detections.json and overlay.png (box outlines in class colours). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "args.h"
#include "commands.h"
#include "config.h"
#include "det.h"
#include "phantom_xray.h"
#include "png_io.h"

static const vt_cfg_key det_schema[] = {
    {"", "method", VT_CFG_ENUM, "detect", 0, 0, "detect", "the trainer this file is for (vertebra train)"},
    {"data", "source", VT_CFG_ENUM, "phantom", 0, 0, "phantom|csv", "radiograph phantoms, or a VinDr-SpineXR-style CSV + PNG folder"},
    {"data", "size", VT_CFG_INT, "128", 64, 1024, NULL, "image side after resizing (multiple of 32)"},
    {"data", "n_train", VT_CFG_INT, "400", 1, 1e7, NULL, "phantom training images"},
    {"data", "n_val", VT_CFG_INT, "100", 1, 1e7, NULL, "phantom validation images (other seed)"},
    {"data", "abnormal_fraction", VT_CFG_FLOAT, "0.8", 0, 1, NULL, "phantom: share of images with lesions (boxes)"},
    {"data", "seed", VT_CFG_INT, "0", 0, 1e15, NULL, "phantom seed"},
    {"data", "csv", VT_CFG_STRING, "", 0, 0, NULL, "csv: annotation file (image_id, lesion_type, xmin, ymin, xmax, ymax)"},
    {"data", "image_dir", VT_CFG_STRING, "", 0, 0, NULL, "csv: folder of <image_id>.png"},
    {"data", "val_fraction", VT_CFG_FLOAT, "0.2", 0.01, 0.9, NULL, "csv: last fraction of the images used for validation"},
    {"model", "arch", VT_CFG_ENUM, "resnet18", 0, 0, "resnet18|resnet34|resnet50", "ResNet trunk (features at strides 4..32)"},
    {"model", "fpn_channels", VT_CFG_INT, "64", 8, 1024, NULL, "pyramid and head width (multiple of 8)"},
    {"model", "head_convs", VT_CFG_INT, "2", 0, 4, NULL, "3x3 conv + GroupNorm + ReLU layers per head tower (FCOS: 4)"},
    {"train", "epochs", VT_CFG_INT, "12", 1, 1000, NULL, "epochs"},
    {"train", "batch", VT_CFG_INT, "8", 1, 4096, NULL, "batch size"},
    {"train", "lr", VT_CFG_FLOAT, "0.001", 1e-7, 1, NULL, "Adam peak learning rate (warm-up min(100 steps, 10%), cosine decay)"},
    {"train", "weight_decay", VT_CFG_FLOAT, "0.0001", 0, 1, NULL, "Adam L2 weight decay"},
    {"train", "clip_norm", VT_CFG_FLOAT, "10", 0, 1e6, NULL, "gradient norm clip (0: off)"},
    {"train", "threads", VT_CFG_INT, "2", 0, 1024, NULL, "CPU threads (0: all cores)"},
    {"train", "seed", VT_CFG_INT, "0", 0, 1e15, NULL, "initialisation, shuffling and augmentation seed"},
    {"train", "eval_every", VT_CFG_INT, "1", 1, 1000, NULL, "validate every N epochs (and after the last)"},
    {"train", "log_every", VT_CFG_INT, "20", 1, 1e9, NULL, "progress line every N steps off a terminal"},
    {"augment", "p_flip_x", VT_CFG_FLOAT, "0.5", 0, 1, NULL, "horizontal flip probability"},
    {"augment", "p_flip_y", VT_CFG_FLOAT, "0", 0, 1, NULL, "vertical flip probability"},
    {"augment", "p_scale", VT_CFG_FLOAT, "0.5", 0, 1, NULL, "scaling probability"},
    {"augment", "scale_min", VT_CFG_FLOAT, "0.9", 0.2, 5, NULL, "smallest scale"},
    {"augment", "scale_max", VT_CFG_FLOAT, "1.1", 0.2, 5, NULL, "largest scale"},
    {"augment", "p_contrast", VT_CFG_FLOAT, "0.3", 0, 1, NULL, "contrast change probability (0.75..1.25)"},
    {"loss", "focal_alpha", VT_CFG_FLOAT, "0.25", -1, 1, NULL, "focal loss alpha (< 0: none)"},
    {"loss", "focal_gamma", VT_CFG_FLOAT, "2", 0, 10, NULL, "focal loss gamma"},
    {"loss", "w_cls", VT_CFG_FLOAT, "1", 0, 100, NULL, "weight of the focal term"},
    {"loss", "w_box", VT_CFG_FLOAT, "1", 0, 100, NULL, "weight of the GIoU term"},
    {"loss", "w_ctr", VT_CFG_FLOAT, "1", 0, 100, NULL, "weight of the centerness term"},
    {"detect", "score_threshold", VT_CFG_FLOAT, "0.05", 0, 1, NULL, "minimum score sqrt(p_cls p_ctr) of a detection"},
    {"detect", "nms_iou", VT_CFG_FLOAT, "0.5", 0, 1, NULL, "per-class NMS IoU threshold"},
    {"detect", "pre_nms_top_k", VT_CFG_INT, "1000", 1, 1e6, NULL, "candidates per image before NMS"},
    {"detect", "max_detections", VT_CFG_INT, "100", 1, 1e5, NULL, "detections per image after NMS"},
    {"run", "dir", VT_CFG_STRING, "runs/xray_detect", 0, 0, NULL, "run directory (created)"},
    {"run", "resume", VT_CFG_STRING, "", 0, 0, NULL, "RUN/checkpoint.vtck (written every epoch) to continue from; empty: a fresh run"},
    {0},
};

static int fail(const char *cmd, const char *what) {
    fprintf(stderr, "vertebra %s: %s\n", cmd, what);
    return 1;
}

static int make_dir(const char *cmd, const char *dir) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vertebra %s: %s: cannot create: %s\n", cmd, dir, strerror(errno));
        return 1;
    }
    return 0;
}

static void print_table(const vt_det_eval *e, int K, FILE *f) {
    fprintf(f, "| class | AP@0.5 |\n|---|---|\n");
    for (int k = 0; k < K; k++) {
        if (isfinite(e->ap[k])) fprintf(f, "| %s | %.3f |\n", vt_xray_class_names[k], e->ap[k]);
        else fprintf(f, "| %s | (no boxes) |\n", vt_xray_class_names[k]);
    }
    fprintf(f, "| **mAP@0.5** | **%.3f** |\n", e->map);
}

int vt_cmd_detect(int argc, char **argv) {
    const char *config = NULL;
    const char *sets[64];
    int n_sets = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: vertebra detect [--config FILE] [--set section.key=value]...\n"
                   "train the FCOS lesion detector (issue 7); keys:\n\n");
            vt_config_doc(det_schema, stdout);
            return 0;
        }
        if (i + 1 < argc && !strcmp(argv[i], "--config")) config = argv[++i];
        else if (i + 1 < argc && !strcmp(argv[i], "--set") && n_sets < 64) sets[n_sets++] = argv[++i];
        else {
            fprintf(stderr, "vertebra detect: unknown or incomplete option '%s' (--config FILE, --set k=v, --help)\n", argv[i]);
            return 2;
        }
    }
    vt_config *cf = vt_config_load(det_schema, config, n_sets, sets);
    if (!cf) { fprintf(stderr, "vertebra detect: %s\n", vt_last_error()); return 2; }
    int status = 1;
    vt_det_data all = {0}, tr = {0}, val = {0};
    vt_detector *m = NULL;
    const char *dir = vt_config_string(cf, "run.dir");
    int size = (int)vt_config_int(cf, "data.size");
    char path[4096];
    if (size % 32) { fprintf(stderr, "vertebra detect: data.size %d must be a multiple of 32\n", size); status = 2; goto done; }
    if (make_dir("detect", dir)) goto done;
    snprintf(path, sizeof path, "%s/config.resolved", dir);
    if (vt_config_write(cf, path) != VT_OK) { fail("detect", vt_last_error()); goto done; }
    vt_set_num_threads((int)vt_config_int(cf, "train.threads"));
    if (!strcmp(vt_config_string(cf, "data.source"), "phantom")) {
        uint64_t seed = (uint64_t)vt_config_int(cf, "data.seed");
        float ab = (float)vt_config_float(cf, "data.abnormal_fraction");
        if (vt_det_data_phantom(vt_config_int(cf, "data.n_train"), size, ab, seed * 2 + 1, &tr) != VT_OK ||
            vt_det_data_phantom(vt_config_int(cf, "data.n_val"), size, ab, seed * 2 + 2, &val) != VT_OK) { fail("detect", vt_last_error()); goto done; }
    } else {
        const char *csv = vt_config_string(cf, "data.csv"), *imgs = vt_config_string(cf, "data.image_dir");
        if (!*csv || !*imgs) { fprintf(stderr, "vertebra detect: data.source = csv needs data.csv and data.image_dir\n"); status = 2; goto done; }
        if (vt_det_data_csv(csv, imgs, size, &all) != VT_OK) { fail("detect", vt_last_error()); goto done; }
        int64_t nv = (int64_t)lround(vt_config_float(cf, "data.val_fraction") * (double)all.n);
        nv = nv < 1 ? 1 : nv;
        if (all.n - nv < 1) { fprintf(stderr, "vertebra detect: %lld images are too few to split\n", (long long)all.n); goto done; }
        if (vt_det_data_subset(&all, 0, all.n - nv, &tr) != VT_OK || vt_det_data_subset(&all, all.n - nv, nv, &val) != VT_OK) {
            fail("detect", vt_last_error());
            goto done;
        }
    }
    vt_detector_config mc;
    vt_detector_config_default(&mc);
    mc.arch = vt_config_string(cf, "model.arch");
    mc.size = size;
    mc.fpn_channels = (int)vt_config_int(cf, "model.fpn_channels");
    mc.head_convs = (int)vt_config_int(cf, "model.head_convs");
    vt_det_train_config tc;
    vt_det_train_config_default(&tc);
    tc.epochs = (int)vt_config_int(cf, "train.epochs");
    tc.batch = (int)vt_config_int(cf, "train.batch");
    tc.lr = (float)vt_config_float(cf, "train.lr");
    tc.weight_decay = (float)vt_config_float(cf, "train.weight_decay");
    tc.clip_norm = (float)vt_config_float(cf, "train.clip_norm");
    tc.seed = (uint64_t)vt_config_int(cf, "train.seed");
    tc.eval_every = (int)vt_config_int(cf, "train.eval_every");
    tc.log_every = vt_config_int(cf, "train.log_every");
    tc.aug.p_flip_x = (float)vt_config_float(cf, "augment.p_flip_x");
    tc.aug.p_flip_y = (float)vt_config_float(cf, "augment.p_flip_y");
    tc.aug.p_scale = (float)vt_config_float(cf, "augment.p_scale");
    tc.aug.scale_min = (float)vt_config_float(cf, "augment.scale_min");
    tc.aug.scale_max = (float)vt_config_float(cf, "augment.scale_max");
    tc.aug.p_contrast = (float)vt_config_float(cf, "augment.p_contrast");
    tc.loss.focal_alpha = (float)vt_config_float(cf, "loss.focal_alpha");
    tc.loss.focal_gamma = (float)vt_config_float(cf, "loss.focal_gamma");
    tc.loss.w_cls = (float)vt_config_float(cf, "loss.w_cls");
    tc.loss.w_box = (float)vt_config_float(cf, "loss.w_box");
    tc.loss.w_ctr = (float)vt_config_float(cf, "loss.w_ctr");
    tc.decode.score_threshold = (float)vt_config_float(cf, "detect.score_threshold");
    tc.decode.nms_iou = (float)vt_config_float(cf, "detect.nms_iou");
    tc.decode.pre_nms_top_k = (int)vt_config_int(cf, "detect.pre_nms_top_k");
    tc.decode.max_detections = (int)vt_config_int(cf, "detect.max_detections");
    tc.out_dir = dir;
    tc.resume = *vt_config_string(cf, "run.resume") ? vt_config_string(cf, "run.resume") : NULL;
    char *text = vt_config_to_string(cf);
    tc.config_text = text;
    vt_seed(tc.seed);
    if (!(m = vt_detector_new(&mc))) { free(text); fail("detect", vt_last_error()); goto done; }
    printf("vertebra detect: FCOS on %s + FPN (%d ch, %d head convs), %lld params, %d threads; %s data %lld train / %lld val "
           "images of %dx%d (%lld / %lld boxes); Adam lr %g, batch %d, %d epochs\n",
           mc.arch, mc.fpn_channels, mc.head_convs, (long long)vt_params_numel(m->params), vt_get_num_threads(),
           vt_config_string(cf, "data.source"), (long long)tr.n, (long long)val.n, size, size, (long long)tr.n_boxes,
           (long long)val.n_boxes, (double)tc.lr, tc.batch, tc.epochs);
    vt_det_result r;
    vt_status st = vt_det_train(m, &tc, &tr, &val, &r);
    free(text);
    if (st != VT_OK) { fail("detect", vt_last_error()); goto done; }
    printf("best epoch %d of %d, %.1f s; validation (%lld images, %lld boxes, %lld detections):\n", r.best_epoch, r.epochs_done,
           r.seconds, (long long)r.val.n_images, (long long)r.val.n_gt, (long long)r.val.n_det);
    print_table(&r.val, mc.n_classes, stdout);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) { fprintf(stderr, "vertebra detect: %s: cannot create: %s\n", path, strerror(errno)); goto done; }
    fprintf(f, "{\"arch\": \"%s\", \"size\": %d, \"epochs\": %d, \"best_epoch\": %d, \"seconds\": %.2f, \"threads\": %d, "
               "\"n_train\": %lld, \"n_val\": %lld, \"map50\": %.6f, \"ap50\": {",
            mc.arch, size, r.epochs_done, r.best_epoch, r.seconds, vt_get_num_threads(), (long long)tr.n, (long long)val.n, r.val.map);
    for (int k = 0; k < mc.n_classes; k++) {
        fprintf(f, "%s\"%s\": ", k ? ", " : "", vt_xray_class_names[k]);
        fprintf(f, isfinite(r.val.ap[k]) ? "%.6f" : "null", r.val.ap[k]);
    }
    fprintf(f, "}}\n");
    if (fclose(f) != 0) { fprintf(stderr, "vertebra detect: %s: write failed\n", path); goto done; }
    status = 0;
done:
    vt_detector_free(m);
    vt_det_data_free(&all); vt_det_data_free(&tr); vt_det_data_free(&val);
    vt_config_free(cf);
    return status;
}

int vt_cmd_predict_det(int argc, char **argv) {
    const char *ck = NULL, *in = NULL, *out = NULL;
    float score = 0.3f, nms = 0.5f;
    int maxdet = 100, threads = 2;
    const vt_arg spec[] = {
        {"--checkpoint", VT_ARG_STR, &ck, "detector checkpoint (RUN_DIR/best.vtck)", 1, 0},
        {"--in", VT_ARG_STR, &in, "input PNG (grey or colour; converted to grey)", 1, 0},
        {"--out", VT_ARG_STR, &out, "output folder: detections.csv, detections.json, overlay.png (created)", 1, 0},
        {"--score-threshold", VT_ARG_FLOAT, &score, "minimum detection score (default 0.3)", 0, 1},
        {"--nms-iou", VT_ARG_FLOAT, &nms, "per-class NMS IoU (default 0.5)", 0, 1},
        {"--max-detections", VT_ARG_INT, &maxdet, "at most N boxes (default 100)", 1, 100000},
        {"--threads", VT_ARG_INT, &threads, "CPU threads (default 2)", 0, 1024},
    };
    int rc = vt_args_parse("predict-det", "detect lesions on one radiograph with a trained detector", argc, argv, 2, spec,
                           (int)(sizeof spec / sizeof spec[0]));
    if (rc) return rc == 1 ? 0 : rc;
    if (!ck || !in || !out) { fprintf(stderr, "vertebra predict-det: --checkpoint, --in and --out are required\n"); return 2; }
    vt_set_num_threads(threads);
    vt_detector *m = vt_det_load(ck);
    if (!m) return fail("predict-det", vt_last_error());
    if (make_dir("predict-det", out)) { vt_detector_free(m); return 1; }
    vt_det_decode_config dc;
    vt_det_decode_config_default(&dc);
    dc.score_threshold = score, dc.nms_iou = nms, dc.max_detections = maxdet;
    vt_det_box *det = malloc(sizeof *det * (size_t)maxdet);
    int64_t nd = det ? vt_det_predict_png(m, in, out, &dc, det) : -1;
    if (nd < 0) {
        free(det);
        vt_detector_free(m);
        return fail("predict-det", det ? vt_last_error() : "out of memory");
    }
    printf("%lld detections (score > %g) -> %s/detections.csv, detections.json, overlay.png\n", (long long)nd, (double)score, out);
    for (int64_t i = 0; i < nd && i < 10; i++)
        printf("  %-22s %.3f  [%.0f, %.0f, %.0f, %.0f]\n", det[i].cls < 7 ? vt_xray_class_names[det[i].cls] : "class",
               det[i].score, det[i].x1, det[i].y1, det[i].x2, det[i].y2);
    free(det);
    vt_detector_free(m);
    return 0;
}
