/* test_plot.c: the line-plot rasteriser, read back through the PNG reader. */
#include <math.h>
#include <unistd.h>
#include "plot.h"
#include "png_io.h"
#include "vt_test.h"

static const float *pixel(const vt_tensor *t, int x, int y, float out[3]) {
    int64_t h = t->shape[1], w = t->shape[2];
    for (int k = 0; k < 3; k++) out[k] = t->data[(k * h + y) * w + x];
    return out;
}
static int is_rgb(const vt_tensor *t, int x, int y, float r, float g, float b) {
    float p[3];
    pixel(t, x, y, p);
    return p[0] == r && p[1] == g && p[2] == b;
}
static int count_rgb(const vt_tensor *t, float r, float g, float b) {
    int n = 0;
    for (int y = 0; y < t->shape[1]; y++)
        for (int x = 0; x < t->shape[2]; x++) n += is_rgb(t, x, y, r, g, b);
    return n;
}

START_TEST(roc_diagonal_axes_and_gaps) {
    if (!vt_png_supported()) {
        ck_assert(vt_plot_lines("p.png", 64, 64, &(vt_plot_series){NULL, (float[]){1}, 1, {0}}, 1, NULL) == VT_ERR);
        return;
    }
    char path[256];
    snprintf(path, sizeof path, "/tmp/vt_test_plot_%ld.png", (long)getpid());
    float xs[] = {0, 1}, ys[] = {0, 1};
    vt_plot_series diag = {xs, ys, 2, {255, 0, 0}};
    vt_plot_range unit = {0, 1, 0, 1};
    ck_assert_msg(vt_plot_lines(path, 100, 80, &diag, 1, &unit) == VT_OK, "%s", vt_last_error());
    vt_tensor *t = vt_png_load(path, &(vt_png_options){.raw = 1}, NULL);
    ck_assert_msg(t && t->shape[0] == 3 && t->shape[1] == 80 && t->shape[2] == 100, "%s", vt_last_error());
    int left = 10, right = 89, top = 8, bottom = 71; /* 10% margins */
    ck_assert(is_rgb(t, left, bottom, 255, 0, 0));  /* (0, 0) */
    ck_assert(is_rgb(t, right, top, 255, 0, 0));    /* (1, 1) */
    ck_assert(is_rgb(t, 2, 2, 255, 255, 255));      /* margin */
    ck_assert(is_rgb(t, left, top + 1, 0, 0, 0));   /* frame */
    ck_assert(is_rgb(t, left + (right - left) / 4, top + 2, 220, 220, 220)); /* grid */
    ck_assert(is_rgb(t, left + (right - left) / 2, bottom + 3, 0, 0, 0));    /* tick */
    /* a connected line: one red pixel in every column of the plot area */
    for (int x = left; x <= right; x++) {
        int n = 0;
        for (int y = top; y <= bottom; y++) n += is_rgb(t, x, y, 255, 0, 0);
        ck_assert_msg(n >= 1, "column %d has no line pixel", x);
    }
    vt_tensor_free(t);
    /* a NaN breaks the line: two isolated points, nothing between them */
    float gap[] = {0, NAN, 1}, gx[] = {0, 0.5f, 1};
    vt_plot_series broken = {gx, gap, 3, {0, 0, 255}};
    ck_assert(vt_plot_lines(path, 100, 80, &broken, 1, &unit) == VT_OK);
    t = vt_png_load(path, &(vt_png_options){.raw = 1}, NULL);
    ck_assert_int_eq(count_rgb(t, 0, 0, 255), 2);
    vt_tensor_free(t);
    unlink(path);
}
END_TEST

START_TEST(auto_range_and_errors) {
    vt_plot_range r;
    vt_plot_series loss = {NULL, (float[]){3, 1, NAN, 2}, 4, {0, 0, 0}};
    ck_assert(vt_plot_auto_range(&loss, 1, &r) == VT_OK);
    ck_assert(r.x0 == 0 && r.x1 == 3 && r.y0 == 1 && r.y1 == 3); /* x = index, NaN skipped */
    vt_plot_series flat = {NULL, (float[]){2}, 1, {0}};
    ck_assert(vt_plot_auto_range(&flat, 1, &r) == VT_OK);
    ck_assert(r.x0 == -0.5 && r.x1 == 0.5 && r.y0 == 1.5 && r.y1 == 2.5);
    vt_plot_series none = {NULL, (float[]){NAN, INFINITY}, 2, {0}};
    ck_assert(vt_plot_lines("/tmp/p.png", 64, 64, &none, 1, NULL) == VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "/tmp/p.png: plot: no finite point"), "%s", vt_last_error());
    ck_assert(vt_plot_lines("/tmp/p.png", 8, 64, &loss, 1, NULL) == VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "plot size 8 x 64"), "%s", vt_last_error());
    ck_assert(vt_plot_lines("/tmp/p.png", 64, 64, &loss, 1, &(vt_plot_range){1, 1, 0, 1}) == VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "bad plot range"), "%s", vt_last_error());
    ck_assert(vt_plot_lines("/tmp/p.png", 64, 64, &loss, 0, NULL) == VT_ERR);
}
END_TEST

static Suite *plot_suite(void) {
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("plot");
    tcase_add_test(tc, roc_diagonal_axes_and_gaps);
    tcase_add_test(tc, auto_range_and_errors);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(plot_suite)
