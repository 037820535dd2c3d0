/* softseg_overlay.c: a picture of one axial slice for the run folder: grey image, the soft
 * prediction as a red overlay (opacity proportional to the soft value, so the partial-volume
 * rim stays visible) and the ground-truth contour in green. */
#include <stdint.h>
#include <stdlib.h>
#include "png_io.h"
#include "softseg.h"

static int inside(const float *gt, int h, int w, int y, int x) {
    return y >= 0 && y < h && x >= 0 && x < w && gt[y * w + x] >= 0.5f;
}

vt_status vt_softseg_overlay_png(const char *path, const float *image, const float *pred, const float *gt,
                                 int h, int w, int scale) {
    if (!path || !image || !pred || !gt || h < 1 || w < 1 || scale < 1 || scale > 64)
        return vt_error("softseg overlay: bad arguments (h %d, w %d, scale %d)", h, w, scale);
    float lo = image[0], hi = image[0];
    for (int i = 1; i < h * w; i++) {
        if (image[i] < lo) lo = image[i];
        if (image[i] > hi) hi = image[i];
    }
    int H = h * scale, W = w * scale;
    uint8_t *rgb = malloc((size_t)3 * (size_t)H * (size_t)W); /* (3, H, W) planes */
    if (!rgb) return vt_error("softseg overlay: out of memory");
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int i = y * w + x;
            float g = hi > lo ? (image[i] - lo) / (hi - lo) : 0.f;
            float p = pred[i] < 0 ? 0.f : pred[i] > 1 ? 1.f : pred[i], a = 0.6f * p;
            float c[3] = {g * (1 - a) + a, g * (1 - a), g * (1 - a)};
            /* contour: a mask pixel with a 4-neighbour outside the mask */
            if (inside(gt, h, w, y, x) && (!inside(gt, h, w, y - 1, x) || !inside(gt, h, w, y + 1, x) ||
                                           !inside(gt, h, w, y, x - 1) || !inside(gt, h, w, y, x + 1))) {
                c[0] = 0.f; c[1] = 1.f; c[2] = 0.f;
            }
            for (int k = 0; k < 3; k++) {
                uint8_t v = (uint8_t)(c[k] * 255.f + 0.5f);
                for (int dy = 0; dy < scale; dy++)
                    for (int dx = 0; dx < scale; dx++) rgb[((size_t)k * H + (size_t)(y * scale + dy)) * W + x * scale + dx] = v;
            }
        }
    vt_status st = vt_png_write_u8(path, rgb, 3, H, W);
    free(rgb);
    return st;
}
