/* det_targets.c: FCOS location geometry and target assignment (rules in det.h). */
#include <math.h>
#include <string.h>
#include "det.h"

void vt_fcos_geometry_of(const vt_detector *d, vt_fcos_geometry *g) {
    memset(g, 0, sizeof *g);
    g->n_levels = d->n_levels;
    g->center_radius = 1.5f;
    for (int l = 0; l < d->n_levels; l++) {
        g->stride[l] = d->stride[l];
        g->side[l] = d->side[l];
        /* FCOS ranges (0, 64, 128, 256, 512, inf) for strides 8..128 are 8 s per level;
         * at strides 4..32 on 128-pixel images 4 s keeps each level's share of the box sizes */
        g->range_lo[l] = l == 0 ? 0.f : 4.f * (float)d->stride[l - 1];
        g->range_hi[l] = l == d->n_levels - 1 ? INFINITY : 4.f * (float)d->stride[l];
        g->n_locations += (int64_t)d->side[l] * d->side[l];
    }
}

void vt_fcos_location(const vt_fcos_geometry *g, int64_t i, float *x, float *y, int *level) {
    int l = 0;
    while (l < g->n_levels - 1 && i >= (int64_t)g->side[l] * g->side[l]) i -= (int64_t)g->side[l] * g->side[l], l++;
    int s = g->stride[l];
    *x = (float)(i % g->side[l]) * (float)s + (float)s / 2;
    *y = (float)(i / g->side[l]) * (float)s + (float)s / 2;
    if (level) *level = l;
}

int64_t vt_fcos_targets(const vt_fcos_geometry *g, const float *boxes, const int *cls, int64_t nb,
                        int n_classes, float *cls_t, float *reg_t, float *ctr_t, int *assigned) {
    int64_t L = g->n_locations, n_pos = 0;
    if (cls_t) memset(cls_t, 0, sizeof(float) * (size_t)(L * n_classes));
    if (reg_t) memset(reg_t, 0, sizeof(float) * (size_t)(L * 4));
    if (ctr_t) memset(ctr_t, 0, sizeof(float) * (size_t)L);
    for (int64_t i = 0; i < L; i++) {
        float x, y;
        int lv;
        vt_fcos_location(g, i, &x, &y, &lv);
        float rad = g->center_radius * (float)g->stride[lv];
        int64_t best = -1;
        float best_area = INFINITY, bl = 0, bt = 0, br = 0, bb = 0;
        for (int64_t k = 0; k < nb; k++) {
            const float *b = boxes + 4 * k;
            float l = x - b[0], t = y - b[1], r = b[2] - x, bo = b[3] - y;
            if (fminf(fminf(l, t), fminf(r, bo)) <= 0) continue; /* outside the box */
            if (g->center_radius > 0) {
                float cx = 0.5f * (b[0] + b[2]), cy = 0.5f * (b[1] + b[3]);
                float x0 = fmaxf(cx - rad, b[0]), x1 = fminf(cx + rad, b[2]);
                float y0 = fmaxf(cy - rad, b[1]), y1 = fminf(cy + rad, b[3]);
                if (!(x > x0 && x < x1 && y > y0 && y < y1)) continue; /* outside the centre window */
            }
            float m = fmaxf(fmaxf(l, t), fmaxf(r, bo));
            if (!(m > g->range_lo[lv] && m <= g->range_hi[lv])) continue; /* another level's size */
            float area = (b[2] - b[0]) * (b[3] - b[1]);
            if (area < best_area) best_area = area, best = k, bl = l, bt = t, br = r, bb = bo;
        }
        if (assigned) assigned[i] = (int)best;
        if (best < 0) continue;
        n_pos++;
        if (cls_t && cls[best] >= 0 && cls[best] < n_classes) cls_t[i * n_classes + cls[best]] = 1.f;
        if (reg_t) reg_t[4 * i] = bl, reg_t[4 * i + 1] = bt, reg_t[4 * i + 2] = br, reg_t[4 * i + 3] = bb;
        if (ctr_t) ctr_t[i] = sqrtf(fminf(bl, br) / fmaxf(bl, br) * fminf(bt, bb) / fmaxf(bt, bb));
    }
    return n_pos;
}
