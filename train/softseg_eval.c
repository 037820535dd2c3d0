/* softseg_eval.c: evaluation of the soft cord segmentation on the held-out slices: Dice of
 * the binarized prediction against each contrast's binary mask, mean CSA per contrast (from
 * the soft output and from the binarized one), the CSA error against the phantom's exact
 * area, and the CSA variability across contrasts (std of the per-contrast mean CSAs). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "segmentation.h"
#include "softseg.h"

/* Dice of (a >= thr_a) vs (b >= 0.5) over slices [lo, hi) of (D, H, W) */
static double dice_range(const float *a, float thr_a, const float *b, int64_t hw, int64_t lo, int64_t hi) {
    int64_t n = (hi - lo) * hw;
    int *g = malloc(sizeof(int) * (size_t)n), *p = malloc(sizeof(int) * (size_t)n);
    double dice = NAN;
    if (g && p) {
        for (int64_t i = 0; i < n; i++) {
            p[i] = a[lo * hw + i] >= thr_a;
            g[i] = b[lo * hw + i] >= 0.5f;
        }
        if (vt_dice_iou_binary(g, p, n, VT_EMPTY_ONE, &dice, NULL) != VT_OK) dice = NAN;
    }
    free(g);
    free(p);
    return dice;
}

static double csa_range(const vt_tensor *m, const double spacing[3], int64_t lo, int64_t hi, double *area) {
    const double sp[3] = {spacing[2], spacing[1], spacing[0]}; /* (D, H, W) = (z, y, x) */
    double mean = NAN;
    if (vt_csa_per_slice(m->data, m->shape, sp, 0, area) != VT_OK) return NAN;
    vt_csa_mean(area, m->shape[0], lo, hi, &mean);
    return mean;
}

/* mean |area - true CSA| over the test slices; NAN without a true CSA */
static double abs_err(const vt_softseg_volume *v, const double *area) {
    if (!v->true_csa) return NAN;
    double s = 0;
    for (int64_t z = v->test_lo; z < v->test_hi; z++) s += fabs(area[z] - v->true_csa->data[z]);
    return s / (double)(v->test_hi - v->test_lo);
}

vt_status vt_softseg_evaluate(vt_model *m, const vt_softseg_options *o, const vt_softseg_data *d,
                              vt_softseg_eval *e) {
    memset(e, 0, sizeof *e);
    vt_status st = VT_OK;
    for (int i = 0; i < d->n && st == VT_OK; i++) {
        const vt_softseg_volume *v = &d->vol[i];
        if (v->test_hi <= v->test_lo) continue;
        if (e->n >= 64) return vt_error("softseg evaluate: more than 64 test volumes");
        int k = e->n++;
        snprintf(e->name[k], sizeof e->name[k], "%s", v->name);
        snprintf(e->contrast[k], sizeof e->contrast[k], "%s", v->contrast);
        vt_tensor *pred = vt_softseg_predict_prepared(m, o, v->image);
        vt_tensor *bin = pred ? vt_tensor_clone(pred) : NULL;
        int64_t D = v->image->shape[0], hw = v->image->shape[1] * v->image->shape[2];
        double *area = malloc(sizeof(double) * (size_t)D);
        if (!pred || !bin || !area) st = pred && bin ? vt_error("softseg evaluate: out of memory") : VT_ERR;
        if (st == VT_OK) {
            for (int64_t j = 0; j < bin->numel; j++) bin->data[j] = bin->data[j] >= o->threshold;
            e->dice[k] = dice_range(pred->data, o->threshold, v->mask->data, hw, v->test_lo, v->test_hi);
            e->dice_other[k] = v->other ? dice_range(v->other->data, 0.5f, v->mask->data, hw, v->test_lo, v->test_hi) : NAN;
            e->csa_mask[k] = csa_range(v->mask, v->spacing, v->test_lo, v->test_hi, area);
            e->csa_bin[k] = csa_range(bin, v->spacing, v->test_lo, v->test_hi, area);
            e->csa_abs_err_bin[k] = abs_err(v, area);
            e->csa[k] = csa_range(pred, v->spacing, v->test_lo, v->test_hi, area);
            e->csa_abs_err[k] = abs_err(v, area);
        }
        free(area);
        vt_tensor_free(pred);
        vt_tensor_free(bin);
    }
    return st;
}

/* mean of the finite values */
static double nanmean(const double *x, int n) {
    double s = 0;
    int k = 0;
    for (int i = 0; i < n; i++) if (isfinite(x[i])) { s += x[i]; k++; }
    return k ? s / k : NAN;
}

/* CSA variability across contrasts: per subject (name prefix before '_'), the std (ddof 0)
 * of its contrasts' mean CSAs; averaged over subjects */
static double csa_variability(const vt_softseg_eval *e, const double *csa) {
    double sum = 0;
    int subjects = 0;
    int done[64] = {0};
    for (int i = 0; i < e->n; i++) {
        if (done[i]) continue;
        size_t len = strcspn(e->name[i], "_");
        double vals[64];
        int n = 0;
        for (int j = i; j < e->n; j++)
            if (!done[j] && strcspn(e->name[j], "_") == len && !strncmp(e->name[i], e->name[j], len)) {
                done[j] = 1;
                if (isfinite(csa[j])) vals[n++] = csa[j];
            }
        double sd;
        if (n >= 2 && vt_std(vals, n, 0, &sd) == VT_OK) { sum += sd; subjects++; }
    }
    return subjects ? sum / subjects : NAN;
}

static void jnum(FILE *f, const char *key, double v, int comma) {
    if (isfinite(v)) fprintf(f, "\"%s\": %.6g%s", key, v, comma ? ", " : "");
    else fprintf(f, "\"%s\": null%s", key, comma ? ", " : "");
}

void vt_softseg_report(const vt_softseg_eval *e, FILE *json, int table) {
    char contrasts[64][16];
    int nc = 0;
    for (int i = 0; i < e->n; i++) {
        int seen = 0;
        for (int c = 0; c < nc; c++) seen |= !strcmp(contrasts[c], e->contrast[i]);
        if (!seen) snprintf(contrasts[nc++], 16, "%s", e->contrast[i]);
    }
    double var_soft = csa_variability(e, e->csa), var_bin = csa_variability(e, e->csa_bin),
           var_mask = csa_variability(e, e->csa_mask);
    if (table) {
        printf("%-9s %4s %7s %9s %9s %9s %9s %9s %9s\n", "contrast", "n", "dice", "csa_soft", "csa_bin", "csa_mask", "err_soft",
               "err_bin", "dice_oth");
    }
    if (json) fprintf(json, "{\"per_contrast\": {");
    double all_dice[64];
    for (int c = 0; c < nc; c++) {
        double dice[64], csa[64], csab[64], csam[64], err[64], errb[64], oth[64];
        int n = 0;
        for (int i = 0; i < e->n; i++)
            if (!strcmp(e->contrast[i], contrasts[c])) {
                dice[n] = e->dice[i]; csa[n] = e->csa[i]; csab[n] = e->csa_bin[i]; csam[n] = e->csa_mask[i];
                err[n] = e->csa_abs_err[i]; errb[n] = e->csa_abs_err_bin[i]; oth[n] = e->dice_other[i]; n++;
            }
        all_dice[c] = nanmean(dice, n);
        if (table)
            printf("%-9s %4d %7.4f %9.2f %9.2f %9.2f %9.3f %9.3f %9.4f\n", contrasts[c], n, nanmean(dice, n), nanmean(csa, n),
                   nanmean(csab, n), nanmean(csam, n), nanmean(err, n), nanmean(errb, n), nanmean(oth, n));
        if (json) {
            fprintf(json, "%s\"%s\": {\"n\": %d, ", c ? ", " : "", contrasts[c], n);
            jnum(json, "dice", nanmean(dice, n), 1);
            jnum(json, "csa_soft", nanmean(csa, n), 1);
            jnum(json, "csa_bin", nanmean(csab, n), 1);
            jnum(json, "csa_mask", nanmean(csam, n), 1);
            jnum(json, "csa_abs_err", nanmean(err, n), 1);
            jnum(json, "csa_abs_err_bin", nanmean(errb, n), 1);
            jnum(json, "dice_other_rater", nanmean(oth, n), 0);
            fprintf(json, "}");
        }
    }
    if (table)
        printf("mean Dice %.4f; CSA variability across contrasts (std of mean CSA, mm^2): soft %.3f, binarized %.3f, "
               "masks %.3f\n", nanmean(all_dice, nc), var_soft, var_bin, var_mask);
    if (json) {
        fprintf(json, "}, ");
        jnum(json, "dice_mean", nanmean(all_dice, nc), 1);
        jnum(json, "csa_std_soft", var_soft, 1);
        jnum(json, "csa_std_bin", var_bin, 1);
        jnum(json, "csa_std_masks", var_mask, 0);
        fprintf(json, "}\n");
    }
}
