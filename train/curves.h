/* curves.h: scalar histories (tag -> (step, value) points) rendered as PNG line plots
 * with data/plot.h, e.g. the loss and metric curves of a run from its metrics.jsonl. */
#ifndef VT_CURVES_H
#define VT_CURVES_H

#include <stdint.h>
#include "plot.h"
#include "vertebra.h"

#define VT_CURVES_MAX_TAGS 256

typedef struct vt_curves vt_curves;

vt_curves *vt_curves_new(void);
void vt_curves_free(vt_curves *c);
/* Appends a point to the history of tag (created on first use). */
vt_status vt_curves_add(vt_curves *c, const char *tag, int64_t step, double value);
/* Number of points of tag, 0 if unknown; tag i (0 <= i < vt_curves_n_tags) by index. */
int vt_curves_points(const vt_curves *c, const char *tag);
int vt_curves_n_tags(const vt_curves *c);
const char *vt_curves_tag(const vt_curves *c, int i);

/* Reads a metrics.jsonl: one flat JSON object per line, e.g.
 *   {"epoch": 2, "train_loss": 0.41, "test_accuracy": 0.87, "note": "x"}
 * Every numeric field except step_key becomes a point at step = the step_key value
 * (step_key NULL: the 0-based line index). Strings, booleans, null and nested values are
 * skipped. Errors name FILE:LINE. */
vt_status vt_curves_load_jsonl(vt_curves *c, const char *path, const char *step_key);

/* One PNG with a line per tag (x = step), colours in order blue, red, green, orange,
 * purple, ...; auto range over those tags, written to *range_used when non-NULL (the
 * plot has no text, so a caller that labels it needs the range). */
vt_status vt_curves_plot(const vt_curves *c, const char *const *tags, int n_tags, const char *path, int width,
                         int height, vt_plot_range *range_used);
/* dir/curve_<tag>.png for every tag (characters other than letters, digits, '-', '_'
 * become '_'), and dir/loss.png with every tag whose name contains "loss". */
vt_status vt_curves_plot_all(const vt_curves *c, const char *dir);

#endif
