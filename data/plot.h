/* plot.h: a minimal line-plot rasteriser to PNG, for loss curves and ROC curves.
 *
 * Draws on a white RGB canvas: a black frame around the plot area (10% margins), a light
 * grey grid with 4 divisions per axis and tick marks, and each series as a 1-pixel
 * polyline (Bresenham) in its colour, clipped to the plot area. Non-finite points break a
 * line. There is no text: the caller knows the ranges (e.g. [0, 1] for ROC, or reports the
 * auto range itself via vt_plot_auto_range). Written with vt_png_write_u8 (atomic). */
#ifndef VT_PLOT_H
#define VT_PLOT_H

#include "vertebra.h"

typedef struct vt_plot_series {
    const float *x;        /* NULL: x = 0, 1, ..., n - 1 (e.g. loss per epoch) */
    const float *y;
    int n;
    uint8_t rgb[3];        /* line colour */
} vt_plot_series;

typedef struct vt_plot_range {
    double x0, x1, y0, y1; /* x0 < x1, y0 < y1 */
} vt_plot_range;

/* Range spanning every finite point of the series (a flat span is widened by +-0.5).
 * VT_ERR if there is no finite point. */
vt_status vt_plot_auto_range(const vt_plot_series *series, int n_series, vt_plot_range *out);

/* Renders width x height pixels (each 32..8192) to an 8-bit RGB PNG at path.
 * range NULL: vt_plot_auto_range. */
vt_status vt_plot_lines(const char *path, int width, int height, const vt_plot_series *series, int n_series,
                        const vt_plot_range *range);

#endif
