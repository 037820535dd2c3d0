/* cmd_imgcls.c: `vertebra imgcls` (train an image classifier from a config: the SPECT
 * metastasis and spine X-ray abnormality methods of issue 5), `vertebra eval-cls` (metrics
 * of a checkpoint on a split of its data) and `vertebra predict-cls` (class probabilities of
 * one PNG as JSON). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "imgcls.h"
#include "png_io.h"

static void usage_imgcls(FILE *f) {
    fprintf(f, "usage: vertebra imgcls [--task spect|xray] [--config FILE] [--set section.key=value ...] [--doc]\n"
               "  trains an image classifier (issue 5: SPECT metastasis, spine X-ray abnormal/normal);\n"
               "  --task spect|xray is --set data.source=phantom_spect|phantom_xray (applied before the other --set);\n"
               "  --doc prints every config key. Run folder: run.out (config.resolved, metrics.jsonl,\n"
               "  checkpoint.vtck, best.vtck, summary.json, predictions_test.csv, roc_test.png).\n");
}

int vt_cmd_imgcls(int argc, char **argv) {
    const char *config = NULL;
    const char **sets = calloc((size_t)argc + 1, sizeof *sets);
    int n_sets = 0;
    char task_set[64];
    if (!sets) return 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage_imgcls(stdout); free(sets); return 0; }
        if (!strcmp(a, "--doc")) { vt_config_doc(vt_imgcls_schema, stdout); free(sets); return 0; }
        if (i + 1 >= argc || (strcmp(a, "--config") && strcmp(a, "--set") && strcmp(a, "--task"))) {
            fprintf(stderr, "vertebra imgcls: %s: %s\n", a, i + 1 >= argc && (!strcmp(a, "--config") || !strcmp(a, "--set") || !strcmp(a, "--task")) ? "needs a value" : "unknown option");
            usage_imgcls(stderr);
            free(sets);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--config")) config = v;
        else if (!strcmp(a, "--set")) sets[n_sets++] = v;
        else {
            if (strcmp(v, "spect") && strcmp(v, "xray")) {
                fprintf(stderr, "vertebra imgcls: --task: '%s' is not spect or xray\n", v);
                free(sets);
                return 2;
            }
            snprintf(task_set, sizeof task_set, "data.source=phantom_%s", v);
            memmove(sets + 1, sets, sizeof *sets * (size_t)n_sets);
            sets[0] = task_set;
            n_sets++;
        }
    }
    vt_config *c = vt_imgcls_config_load(config, n_sets, sets);
    free(sets);
    if (!c) { fprintf(stderr, "vertebra imgcls: %s\n", vt_last_error()); return 2; }
    vt_imgcls_result r;
    vt_status st = vt_imgcls_run(c, &r);
    if (st != VT_OK) fprintf(stderr, "vertebra imgcls: %s\n", vt_last_error());
    else printf("wrote %s/summary.json\n", vt_config_string(c, "run.out"));
    vt_imgcls_result_free(&r);
    vt_config_free(c);
    return st == VT_OK ? 0 : 1;
}

static void jnum(FILE *f, double v) {
    if (isfinite(v)) fprintf(f, "%.6g", v);
    else fputs("null", f);
}

/* shared option parsing of eval-cls / predict-cls: --checkpoint, --in, --split, --out */
static int parse_simple(const char *cmd, int argc, char **argv, const char **ck, const char **in, const char **split,
                        const char **out, int want_in) {
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: vertebra %s --checkpoint RUN/best.vtck %s[--out FILE.json]\n", cmd,
                   want_in ? "--in IMAGE.png " : "[--split test|val|train] ");
            return 1;
        }
        const char **dst = !strcmp(a, "--checkpoint") ? ck : !strcmp(a, "--out") ? out
                         : want_in && !strcmp(a, "--in") ? in : !want_in && !strcmp(a, "--split") ? split : NULL;
        if (!dst || i + 1 >= argc) {
            fprintf(stderr, "vertebra %s: %s: %s (see --help)\n", cmd, a, dst ? "needs a value" : "unknown option");
            return 2;
        }
        *dst = argv[++i];
    }
    if (!*ck || (want_in && !*in)) {
        fprintf(stderr, "vertebra %s: --checkpoint%s is required\n", cmd, want_in ? " and --in are" : "");
        return 2;
    }
    return 0;
}

static FILE *open_out(const char *cmd, const char *out) {
    if (!out) return stdout;
    FILE *f = fopen(out, "w");
    if (!f) fprintf(stderr, "vertebra %s: %s: cannot create: %s\n", cmd, out, strerror(errno));
    return f;
}

int vt_cmd_eval_cls(int argc, char **argv) {
    const char *ckpt = NULL, *in = NULL, *split = "test", *out = NULL;
    int rc = parse_simple("eval-cls", argc, argv, &ckpt, &in, &split, &out, 0);
    if (rc) return rc == 1 ? 0 : rc;
    int part = !strcmp(split, "train") ? 0 : !strcmp(split, "val") ? 1 : !strcmp(split, "test") ? 2 : -1;
    if (part < 0) { fprintf(stderr, "vertebra eval-cls: --split: '%s' is not train, val or test\n", split); return 2; }
    vt_config *c;
    vt_model *m;
    if (vt_imgcls_load_checkpoint(ckpt, &c, &m) != VT_OK) { fprintf(stderr, "vertebra eval-cls: %s\n", vt_last_error()); return 1; }
    vt_set_num_threads((int)vt_config_int(c, "run.threads"));
    vt_imgcls_data d;
    vt_imgcls_eval e = {0};
    vt_dataset *ds = NULL;
    int status = 1;
    if (vt_imgcls_data_load(c, &d) != VT_OK) { fprintf(stderr, "vertebra eval-cls: %s\n", vt_last_error()); goto done0; }
    ds = vt_imgcls_dataset(c, &d, d.idx[part], d.n_split[part], 0);
    if (!ds || vt_imgcls_evaluate(m, ds, (int)vt_config_int(c, "optim.eval_batch"), d.num_classes, &e) != VT_OK) {
        fprintf(stderr, "vertebra eval-cls: %s\n", vt_last_error());
        goto done;
    }
    FILE *f = open_out("eval-cls", out);
    if (!f) goto done;
    fprintf(f, "{\"checkpoint\": \"%s\", \"split\": \"%s\", \"n\": %lld, \"loss\": ", ckpt, split, (long long)e.n);
    jnum(f, e.loss);
    const char *names[] = {"accuracy", "auroc", "sensitivity", "specificity", "precision", "f1", "balanced_accuracy"};
    const double vals[] = {e.accuracy, e.auroc, e.sensitivity, e.specificity, e.precision, e.f1, e.balanced_accuracy};
    for (int i = 0; i < 7; i++) { fprintf(f, ", \"%s\": ", names[i]); jnum(f, vals[i]); }
    fprintf(f, "}\n");
    status = f == stdout || fclose(f) == 0 ? 0 : 1;
done:
    vt_imgcls_eval_free(&e);
    vt_dataset_free(ds);
    vt_imgcls_data_free(&d);
done0:
    vt_model_free(m);
    vt_config_free(c);
    return status;
}

int vt_cmd_predict_cls(int argc, char **argv) {
    const char *ckpt = NULL, *in = NULL, *split = NULL, *out = NULL;
    int rc = parse_simple("predict-cls", argc, argv, &ckpt, &in, &split, &out, 1);
    if (rc) return rc == 1 ? 0 : rc;
    vt_config *c;
    vt_model *m;
    if (vt_imgcls_load_checkpoint(ckpt, &c, &m) != VT_OK) { fprintf(stderr, "vertebra predict-cls: %s\n", vt_last_error()); return 1; }
    int k = (int)vt_config_int(c, "model.num_classes"), status = 1;
    float probs[VT_IMGCLS_MAX_CLASSES];
    vt_tensor *img = vt_png_load(in, &(vt_png_options){.grey = 1}, NULL);
    if (!img || vt_imgcls_predict(c, m, img, probs) != VT_OK) {
        fprintf(stderr, "vertebra predict-cls: %s\n", vt_last_error());
    } else {
        FILE *f = open_out("predict-cls", out);
        if (f) {
            int best = 0;
            for (int i = 1; i < k; i++) if (probs[i] > probs[best]) best = i;
            char name[64];
            fprintf(f, "{\"image\": \"%s\", \"checkpoint\": \"%s\", \"predicted\": \"%s\", \"predicted_index\": %d, \"probabilities\": {",
                    in, ckpt, vt_imgcls_class_name(c, best, name, sizeof name), best);
            for (int i = 0; i < k; i++) fprintf(f, "%s\"%s\": %.6f", i ? ", " : "", vt_imgcls_class_name(c, i, name, sizeof name), (double)probs[i]);
            fprintf(f, "}}\n");
            status = f == stdout || fclose(f) == 0 ? 0 : 1;
        }
    }
    vt_tensor_free(img);
    vt_model_free(m);
    vt_config_free(c);
    return status;
}
