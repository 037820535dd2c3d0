/* plot.c: line plots rasterised into a planar RGB byte canvas (3, H, W), then PNG. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "plot.h"
#include "png_io.h"

typedef struct {
    uint8_t *px; /* (3, h, w) */
    int w, h;
    int left, right, top, bottom; /* plot area, inclusive */
} canvas;

static void put(canvas *c, int x, int y, const uint8_t rgb[3]) {
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    size_t plane = (size_t)c->w * c->h, at = (size_t)y * c->w + x;
    for (int k = 0; k < 3; k++) c->px[k * plane + at] = rgb[k];
}

/* Bresenham from (x0, y0) to (x1, y1), only pixels inside the plot area. */
static void line(canvas *c, int x0, int y0, int x1, int y1, const uint8_t rgb[3]) {
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    for (;;) {
        if (x0 >= c->left && x0 <= c->right && y0 >= c->top && y0 <= c->bottom) put(c, x0, y0, rgb);
        if (x0 == x1 && y0 == y1) return;
        int e2 = 2 * err;
        if (e2 >= dy) err += dy, x0 += sx;
        if (e2 <= dx) err += dx, y0 += sy;
    }
}

static double point_x(const vt_plot_series *s, int i) { return s->x ? s->x[i] : i; }

vt_status vt_plot_auto_range(const vt_plot_series *series, int n_series, vt_plot_range *out) {
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int k = 0; k < n_series; k++)
        for (int i = 0; i < series[k].n; i++) {
            double x = point_x(&series[k], i), y = series[k].y[i];
            if (!isfinite(x) || !isfinite(y)) continue;
            x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
        }
    if (!(x0 <= x1)) return vt_error("plot: no finite point in %d series", n_series);
    if (x0 == x1) x0 -= 0.5, x1 += 0.5;
    if (y0 == y1) y0 -= 0.5, y1 += 0.5;
    *out = (vt_plot_range){x0, x1, y0, y1};
    return VT_OK;
}

/* frame, grid (4 divisions) and ticks */
static void draw_axes(canvas *c) {
    const uint8_t black[3] = {0, 0, 0}, grid[3] = {220, 220, 220};
    for (int d = 1; d < 4; d++) {
        int gx = c->left + (c->right - c->left) * d / 4, gy = c->top + (c->bottom - c->top) * d / 4;
        line(c, gx, c->top, gx, c->bottom, grid);
        line(c, c->left, gy, c->right, gy, grid);
    }
    canvas whole = *c; /* frame and ticks may lie outside the plot area */
    whole.left = 0, whole.top = 0, whole.right = c->w - 1, whole.bottom = c->h - 1;
    line(&whole, c->left, c->top, c->right, c->top, black);
    line(&whole, c->left, c->bottom, c->right, c->bottom, black);
    line(&whole, c->left, c->top, c->left, c->bottom, black);
    line(&whole, c->right, c->top, c->right, c->bottom, black);
    for (int d = 0; d <= 4; d++) {
        int gx = c->left + (c->right - c->left) * d / 4, gy = c->top + (c->bottom - c->top) * d / 4;
        line(&whole, gx, c->bottom, gx, c->bottom + 4, black);
        line(&whole, c->left - 4, gy, c->left, gy, black);
    }
}

vt_status vt_plot_lines(const char *path, int width, int height, const vt_plot_series *series, int n_series,
                        const vt_plot_range *range) {
    if (width < 32 || height < 32 || width > 8192 || height > 8192)
        return vt_error("%s: plot size %d x %d outside 32..8192", path, width, height);
    if (n_series < 1 || !series) return vt_error("%s: nothing to plot (%d series)", path, n_series);
    for (int k = 0; k < n_series; k++)
        if (series[k].n < 1 || !series[k].y) return vt_error("%s: series %d has no points", path, k);
    vt_plot_range r;
    if (range) r = *range;
    else if (vt_plot_auto_range(series, n_series, &r) < 0) {
        char why[200]; /* vt_error must not read its own buffer */
        snprintf(why, sizeof why, "%s", vt_last_error());
        return vt_error("%s: %s", path, why);
    }
    if (!(r.x0 < r.x1) || !(r.y0 < r.y1) || !isfinite(r.x0 + r.x1 + r.y0 + r.y1))
        return vt_error("%s: bad plot range x %g..%g, y %g..%g", path, r.x0, r.x1, r.y0, r.y1);
    canvas c = {malloc((size_t)3 * width * height), width, height, width / 10, width - 1 - width / 10,
                height / 10, height - 1 - height / 10};
    if (!c.px) return vt_error("%s: out of memory", path);
    for (size_t i = 0; i < (size_t)3 * width * height; i++) c.px[i] = 255;
    draw_axes(&c);
    double sx = (c.right - c.left) / (r.x1 - r.x0), sy = (c.bottom - c.top) / (r.y1 - r.y0);
    for (int k = 0; k < n_series; k++) {
        const vt_plot_series *s = &series[k];
        int have = 0, px = 0, py = 0;
        for (int i = 0; i < s->n; i++) {
            double x = point_x(s, i), y = s->y[i];
            if (!isfinite(x) || !isfinite(y)) { have = 0; continue; } /* break the line */
            /* clamp far-away points so the int conversion stays defined; clipping does the rest */
            double fx = fmin(fmax(c.left + (x - r.x0) * sx, -1e6), 1e6);
            double fy = fmin(fmax(c.bottom - (y - r.y0) * sy, -1e6), 1e6);
            int qx = (int)lround(fx), qy = (int)lround(fy);
            if (have) line(&c, px, py, qx, qy, s->rgb);
            else line(&c, qx, qy, qx, qy, s->rgb);
            px = qx, py = qy, have = 1;
        }
    }
    vt_status st = vt_png_write_u8(path, c.px, 3, height, width);
    free(c.px);
    return st;
}
