/* cmd_softseg.c: the soft spinal-cord segmentation commands (issue 6, section 1):
 *   vertebra softgt --out SOFT.nii.gz MASK1.nii.gz MASK2.nii.gz ...
 *   vertebra softseg [--config FILE] [--set section.key=value]... [--out DIR]
 *   vertebra predict-seg --checkpoint C --in IMG.nii.gz --out SEG.nii.gz [--binarize T] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "args.h"
#include "commands.h"
#include "progress.h"
#include "softseg.h"

#define MAX_SETS 64

int vt_cmd_softgt(int argc, char **argv) {
    const char *out = NULL;
    float tol = 1e-3f;
    const char *masks[1024];
    int n = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: vertebra softgt --out SOFT.nii.gz [--tol MM] MASK1.nii.gz MASK2.nii.gz ...\n"
                   "  averages co-registered binary masks (same dims, affines equal within --tol mm, default 0.001)\n"
                   "  into a soft mask in [0, 1], written as float32 NIfTI in the first mask's geometry\n");
            return 0;
        }
        if (!strcmp(argv[i], "--out") || !strcmp(argv[i], "--tol")) {
            if (i + 1 >= argc) { fprintf(stderr, "vertebra softgt: %s needs a value\n", argv[i]); return 2; }
            if (!strcmp(argv[i], "--out")) out = argv[++i];
            else {
                char *end;
                tol = strtof(argv[++i], &end);
                if (*end || !(tol >= 0)) { fprintf(stderr, "vertebra softgt: --tol: '%s' is not a distance >= 0\n", argv[i]); return 2; }
            }
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "vertebra softgt: unknown option %s (see --help)\n", argv[i]);
            return 2;
        } else if (n == 1024) {
            fprintf(stderr, "vertebra softgt: more than 1024 masks\n");
            return 2;
        } else masks[n++] = argv[i];
    }
    if (!out || n < 1) { fprintf(stderr, "vertebra softgt: need --out FILE and at least one mask (see --help)\n"); return 2; }
    if (vt_softgt_files(n, masks, out, tol) != VT_OK) { fprintf(stderr, "vertebra softgt: %s\n", vt_last_error()); return 1; }
    printf("vertebra softgt: mean of %d mask%s written to %s\n", n, n == 1 ? "" : "s", out);
    return 0;
}

static void softseg_usage(FILE *f) {
    fprintf(f, "usage: vertebra softseg [--config FILE] [--set section.key=value]... [--out DIR] [--evaluate CKPT]\n"
               "                        [--resume CKPT]\n"
               "  trains the soft cord segmentation UNet (soft GT + Adaptive Wing, or binary GT + Dice) on the cord\n"
               "  phantom or the SCT subject, evaluates Dice / CSA per contrast on held-out data and writes\n"
               "  DIR/config.resolved, DIR/metrics.jsonl, DIR/model.vtck (weights + optimizer + RNG, after every\n"
               "  epoch), DIR/results.json, TensorBoard events, DIR/plots/*.png, DIR/overlays/epoch_NNN.png.\n"
               "  --resume CKPT (short for --set run.resume=CKPT) continues a run from CKPT's next epoch.\n"
               "  --out DIR is short for --set out=DIR. --evaluate CKPT skips training and evaluates that\n"
               "  checkpoint on the config's held-out data. Keys:\n\n");
    vt_config_doc(vt_softseg_schema(), f);
}

int vt_cmd_softseg(int argc, char **argv) {
    const char *config = NULL, *sets[MAX_SETS + 1], *evaluate = NULL;
    char out_set[4200], resume_set[4200];
    int n_sets = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { softseg_usage(stdout); return 0; }
        if (i + 1 >= argc || (strcmp(a, "--config") && strcmp(a, "--set") && strcmp(a, "--out") && strcmp(a, "--evaluate") && strcmp(a, "--resume"))) {
            fprintf(stderr, "vertebra softseg: unexpected '%s'\n", a);
            softseg_usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--config")) config = v;
        else if (!strcmp(a, "--evaluate")) evaluate = v;
        else if (n_sets == MAX_SETS) { fprintf(stderr, "vertebra softseg: more than %d overrides\n", MAX_SETS); return 2; }
        else if (!strcmp(a, "--set")) sets[n_sets++] = v;
        else if (!strcmp(a, "--resume")) {
            snprintf(resume_set, sizeof resume_set, "run.resume=%s", v);
            sets[n_sets++] = resume_set;
        }
        else {
            snprintf(out_set, sizeof out_set, "out=%s", v);
            sets[n_sets++] = out_set;
        }
    }
    vt_config *c = vt_config_load(vt_softseg_schema(), config, n_sets, sets);
    if (!c) { fprintf(stderr, "vertebra softseg: %s\n", vt_last_error()); return 2; }
    vt_softseg_options o;
    if (vt_softseg_options_from_config(c, &o) != VT_OK) {
        fprintf(stderr, "vertebra softseg: %s\n", vt_last_error());
        vt_config_free(c);
        return 2;
    }
    char out[4096], path[4200];
    snprintf(out, sizeof out, "%s", vt_config_string(c, "out"));
    int status = 1;
    vt_model *m = NULL;
    vt_softseg_data d = {0};
    FILE *res = NULL;
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vertebra softseg: %s: cannot create: %s\n", out, strerror(errno));
        goto done;
    }
    snprintf(path, sizeof path, "%s/config.resolved", out);
    if (vt_config_write(c, path) != VT_OK) { fprintf(stderr, "vertebra softseg: %s\n", vt_last_error()); goto done; }
    vt_set_num_threads((int)vt_config_int(c, "threads"));
    double t0 = vt_now();
    if (vt_softseg_data_load(&o, &d) != VT_OK) { fprintf(stderr, "vertebra softseg: %s\n", vt_last_error()); goto done; }
    int64_t ntr = 0, nte = 0;
    for (int i = 0; i < d.n; i++) { ntr += d.vol[i].train_hi - d.vol[i].train_lo; nte += d.vol[i].test_hi - d.vol[i].test_lo; }
    printf("vertebra softseg: %s, %d volumes, slices %lldx%lld at %.2fx%.2f mm, %lld train / %lld test slices; "
           "UNet%s depth %d width %d, %s head; GT %s, loss %s; Adam lr %g, batch %d, %d epochs, %d threads\n",
           o.source_sct ? "SCT subject" : "cord phantom", d.n, (long long)d.height, (long long)d.width, o.spacing[0],
           o.spacing[1], (long long)ntr, (long long)nte, o.dims3d ? "3D" : "2D", o.depth, o.base_width, o.clamp_head ? "clamp" : "sigmoid",
           o.soft_gt ? "soft" : "binary", vt_config_string(c, "loss.loss"), (double)o.lr, o.batch, o.epochs,
           vt_get_num_threads());
    if (o.dims3d)
        printf("  3D patches %lldx%lldx%lld (z, y, x), %d per epoch, foreground probability %.2f; sliding window 50 %% "
               "overlap, %s weights\n", (long long)o.patch[0], (long long)o.patch[1], (long long)o.patch[2],
               o.patches_per_epoch, (double)o.fg_prob, o.gaussian_window ? "Gaussian" : "uniform");
    fflush(stdout);
    vt_seed(o.seed);
    vt_softseg_result r = {0};
    if (evaluate) {
        /* the checkpoint's model and spacing; data prepared with the config's spacing */
        vt_softseg_options lo = o;
        if (!(m = vt_softseg_load(evaluate, &lo))) { fprintf(stderr, "vertebra softseg: %s\n", vt_last_error()); goto done; }
        if (lo.spacing[0] != o.spacing[0] || lo.spacing[1] != o.spacing[1] || lo.spacing[2] != o.spacing[2] || lo.depth != o.depth) {
            fprintf(stderr, "vertebra softseg: %s was trained with another spacing or depth than this config\n", evaluate);
            goto done;
        }
        o = lo;
    } else {
        if (!(m = vt_softseg_model_new(&o))) { fprintf(stderr, "vertebra softseg: %s\n", vt_last_error()); goto done; }
        if (vt_softseg_train(m, &o, &d, out, &r) != VT_OK) { fprintf(stderr, "vertebra softseg: %s\n", vt_last_error()); goto done; }
    }
    vt_softseg_eval e;
    if (vt_softseg_evaluate(m, &o, &d, &e) != VT_OK) { fprintf(stderr, "vertebra softseg: %s\n", vt_last_error()); goto done; }
    double total = vt_now() - t0;
    printf("training %.1f s (loss %.5f -> %.5f), total %.1f s; held-out results:\n", r.seconds, r.first_loss, r.last_loss, total);
    vt_softseg_report(&e, NULL, 1);
    snprintf(path, sizeof path, "%s/%s", out, evaluate ? "results_eval.json" : "results.json");
    if (!(res = fopen(path, "w"))) { fprintf(stderr, "vertebra softseg: %s: cannot create\n", path); goto done; }
    fprintf(res, "{\"train_seconds\": %.3f, \"total_seconds\": %.3f, \"first_loss\": %.6f, \"last_loss\": %.6f, \"eval\": ",
            r.seconds, total, r.first_loss, r.last_loss);
    vt_softseg_report(&e, res, 0);
    fprintf(res, "}\n");
    status = 0;
done:
    if (res) fclose(res);
    vt_model_free(m);
    vt_softseg_data_free(&d);
    vt_config_free(c);
    return status;
}

int vt_cmd_predict_seg(int argc, char **argv) {
    const char *ckpt = NULL, *in = NULL, *out = NULL;
    float binarize = 0;
    int threads = 2;
    const vt_arg spec[] = {
        {"--checkpoint", VT_ARG_STR, &ckpt, "model.vtck written by vertebra softseg", 1, 0},
        {"--in", VT_ARG_STR, &in, "input image (NIfTI, any orientation and spacing)", 1, 0},
        {"--out", VT_ARG_STR, &out, "output soft mask (NIfTI, the input's dims and affine)", 1, 0},
        {"--binarize", VT_ARG_FLOAT, &binarize, "threshold in (0, 1): write {0, 1} (default 0: soft)", 0, 0.999},
        {"--threads", VT_ARG_INT, &threads, "CPU threads (default 2; 0 = all cores)", 0, 1024},
    };
    int rc = vt_args_parse("predict-seg", "predict a soft cord mask in the input's exact geometry", argc, argv, 2, spec,
                           (int)(sizeof spec / sizeof spec[0]));
    if (rc) return rc == 1 ? 0 : rc;
    if (!ckpt || !in || !out) { fprintf(stderr, "vertebra predict-seg: --checkpoint, --in and --out are required\n"); return 2; }
    vt_set_num_threads(threads);
    vt_softseg_options o;
    memset(&o, 0, sizeof o);
    vt_nifti_header h;
    vt_model *m = vt_softseg_load(ckpt, &o);
    vt_tensor *img = m ? vt_nifti_load(in, &h) : NULL, *seg = NULL;
    int status = 1;
    if (img && img->ndim != 3) vt_error("%s: a 3-D image is needed (this one has %d dims)", in, img->ndim);
    else if (img) seg = vt_softseg_predict_volume(m, &o, img, (const double (*)[4])h.affine, binarize);
    if (seg && vt_nifti_save(out, seg, &h, binarize > 0 ? VT_NIFTI_UINT8 : VT_NIFTI_FLOAT32) == VT_OK) {
        double vol = 0;
        for (int64_t i = 0; i < seg->numel; i++) vol += seg->data[i];
        printf("vertebra predict-seg: %s -> %s (%lldx%lldx%lld, cord volume %.1f voxels)\n", in, out, (long long)h.dim[1],
               (long long)h.dim[2], (long long)h.dim[3], vol);
        status = 0;
    } else fprintf(stderr, "vertebra predict-seg: %s\n", vt_last_error());
    vt_tensor_free(seg);
    vt_tensor_free(img);
    vt_model_free(m);
    return status;
}
