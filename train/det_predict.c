/* det_predict.c: detection on one PNG: boxes in the input's pixels written as CSV and JSON,
 * and an RGB overlay PNG with box outlines in class colours. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "det.h"
#include "phantom_xray.h"
#include "png_io.h"

/* distinct colours (Sasha Trubetskoy's palette), one per class */
static const uint8_t class_rgb[7][3] = {{230, 25, 75}, {60, 180, 75}, {255, 225, 25}, {0, 130, 200},
                                        {245, 130, 48}, {145, 30, 180}, {70, 240, 240}};

static const char *class_name(int c) { return c >= 0 && c < VT_XRAY_N_CLASSES ? vt_xray_class_names[c] : "class"; }

/* 2-pixel outline of box b (image pixels) into planar RGB rgb (3, h, w) */
static void draw_box(uint8_t *rgb, int h, int w, const vt_det_box *b, const uint8_t *col) {
    int x1 = (int)floorf(b->x1), y1 = (int)floorf(b->y1), x2 = (int)ceilf(b->x2) - 1, y2 = (int)ceilf(b->y2) - 1;
    for (int y = y1 < 0 ? 0 : y1; y <= y2 && y < h; y++)
        for (int x = x1 < 0 ? 0 : x1; x <= x2 && x < w; x++) {
            if (!(y <= y1 + 1 || y >= y2 - 1 || x <= x1 + 1 || x >= x2 - 1)) continue;
            for (int c = 0; c < 3; c++) rgb[(size_t)c * h * w + (size_t)y * w + x] = col[c];
        }
}

static vt_status write_outputs(const char *in, const char *out, const vt_tensor *img, const vt_det_box *det, int64_t nd) {
    int h = (int)img->shape[1], w = (int)img->shape[2];
    char path[4096];
    snprintf(path, sizeof path, "%s/detections.csv", out);
    FILE *f = fopen(path, "w");
    if (!f) return vt_error("%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "lesion_type,class,score,xmin,ymin,xmax,ymax\n");
    for (int64_t i = 0; i < nd; i++)
        fprintf(f, "%s,%d,%.4f,%.1f,%.1f,%.1f,%.1f\n", class_name(det[i].cls), det[i].cls, det[i].score, det[i].x1, det[i].y1,
                det[i].x2, det[i].y2);
    if (fclose(f) != 0) return vt_error("%s: write failed", path);
    snprintf(path, sizeof path, "%s/detections.json", out);
    if (!(f = fopen(path, "w"))) return vt_error("%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "{\"image\": \"");
    for (const char *p = in; *p; p++) fprintf(f, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
    fprintf(f, "\", \"width\": %d, \"height\": %d, \"detections\": [", w, h);
    for (int64_t i = 0; i < nd; i++)
        fprintf(f, "%s\n  {\"lesion_type\": \"%s\", \"class\": %d, \"score\": %.4f, \"box\": [%.1f, %.1f, %.1f, %.1f]}",
                i ? "," : "", class_name(det[i].cls), det[i].cls, det[i].score, det[i].x1, det[i].y1, det[i].x2, det[i].y2);
    fprintf(f, "%s]}\n", nd ? "\n" : "");
    if (fclose(f) != 0) return vt_error("%s: write failed", path);
    uint8_t *rgb = malloc((size_t)3 * h * w);
    if (!rgb) return vt_error("predict: out of memory");
    for (int c = 0; c < 3; c++)
        for (int64_t p = 0; p < (int64_t)h * w; p++) {
            float v = img->data[p];
            rgb[(size_t)c * h * w + p] = (uint8_t)lrintf(255.f * (v < 0 ? 0 : v > 1 ? 1 : v));
        }
    for (int64_t i = nd - 1; i >= 0; i--) draw_box(rgb, h, w, &det[i], class_rgb[(det[i].cls % 7 + 7) % 7]); /* best on top */
    snprintf(path, sizeof path, "%s/overlay.png", out);
    vt_status st = vt_png_write_u8(path, rgb, 3, h, w);
    free(rgb);
    return st;
}

int64_t vt_det_predict_png(vt_detector *m, const char *in, const char *out_dir, const vt_det_decode_config *dc,
                           vt_det_box *det) {
    if (m->cfg.in_channels != 1) { vt_error("predict: the detector takes %d channels; PNG input is grey", m->cfg.in_channels); return -1; }
    vt_png_options po = {.grey = 1};
    vt_tensor *img = vt_png_load(in, &po, NULL);
    if (!img) return -1;
    int h = (int)img->shape[1], w = (int)img->shape[2], S = m->cfg.size;
    int g = vt_no_grad_begin();
    vt_upsample_params up = {.mode = VT_UPSAMPLE_LINEAR, .size = {S, S}};
    vt_tensor *x = vt_upsample(vt_reshape(img, VT_DIMS(1, 1, h, w)), &up);
    vt_detector_output o;
    int64_t nd = x && vt_detector_forward(m, x, 0, &o) == VT_OK ? vt_det_decode(m, &o, 0, 0, dc, det) : -1;
    vt_no_grad_end(g);
    vt_arena_reset(NULL);
    if (nd >= 0) {
        float sx = (float)w / (float)S, sy = (float)h / (float)S; /* back to the input's pixels */
        for (int64_t i = 0; i < nd; i++) det[i].x1 *= sx, det[i].x2 *= sx, det[i].y1 *= sy, det[i].y2 *= sy;
        if (write_outputs(in, out_dir, img, det, nd) != VT_OK) nd = -1;
    }
    vt_tensor_free(img);
    return nd;
}
