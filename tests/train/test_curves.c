/* test_curves.c: metrics.jsonl -> scalar histories -> PNG plots (read back as pixels). */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "curves.h"
#include "png_io.h"
#include "vt_test.h"

static int count_rgb(const vt_tensor *t, float r, float g, float b) {
    int64_t h = t->shape[1], w = t->shape[2], n = 0;
    for (int64_t i = 0; i < h * w; i++) n += t->data[i] == r && t->data[h * w + i] == g && t->data[2 * h * w + i] == b;
    return (int)n;
}

START_TEST(jsonl_to_plots) {
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "/tmp/vt_test_curves_%ld", (long)getpid());
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"epoch\": 1, \"seconds\": 4.1, \"train_loss\": 1.2, \"test_loss\": 1.4, \"note\": \"a, b}\", \"ok\": true}\n"
               "\n"
               "{\"epoch\": 2, \"train_loss\": 0.7, \"test_loss\": 0.9, \"extra\": {\"x\": [1, 2]}}\n"
               "{\"epoch\": 3, \"train_loss\": 0.5, \"test_loss\": 0.8, \"test_accuracy\": -1e-3}\n");
    fclose(f);
    vt_curves *c = vt_curves_new();
    ck_assert_msg(vt_curves_load_jsonl(c, path, "epoch") == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(vt_curves_n_tags(c), 4); /* seconds, train_loss, test_loss, test_accuracy */
    ck_assert_int_eq(vt_curves_points(c, "train_loss"), 3);
    ck_assert_int_eq(vt_curves_points(c, "seconds"), 1);
    ck_assert_int_eq(vt_curves_points(c, "epoch"), 0);
    ck_assert_int_eq(vt_curves_points(c, "note"), 0);
    vt_plot_range r;
    char png[600];
    snprintf(png, sizeof png, "%s/both.png", dir);
    if (vt_png_supported()) {
        ck_assert_msg(vt_curves_plot(c, (const char *const[]){"train_loss", "test_loss"}, 2, png, 200, 120, &r) == VT_OK,
                      "%s", vt_last_error());
        ck_assert(r.x0 == 1 && r.x1 == 3 && r.y0 == 0.5 && fabs(r.y1 - 1.4) < 1e-6);
        vt_tensor *t = vt_png_load(png, &(vt_png_options){.raw = 1}, NULL);
        ck_assert_msg(t && t->shape[2] == 200 && t->shape[1] == 120, "%s", vt_last_error());
        ck_assert_int_gt(count_rgb(t, 31, 119, 180), 50); /* first series: blue line across the plot */
        ck_assert_int_gt(count_rgb(t, 214, 39, 40), 50);  /* second: red */
        vt_tensor_free(t);
        ck_assert_msg(vt_curves_plot_all(c, dir) == VT_OK, "%s", vt_last_error());
        const char *want[] = {"loss.png", "curve_train_loss.png", "curve_test_loss.png", "curve_test_accuracy.png"};
        for (int i = 0; i < 4; i++) {
            snprintf(png, sizeof png, "%s/%s", dir, want[i]);
            ck_assert_msg(access(png, R_OK) == 0, "%s missing", png);
            unlink(png);
        }
        snprintf(png, sizeof png, "%s/curve_seconds.png", dir); /* bookkeeping, not plotted */
        ck_assert_msg(access(png, R_OK) != 0, "%s should not be plotted", png);
        snprintf(png, sizeof png, "%s/both.png", dir);
        unlink(png);
    }
    ck_assert_int_eq(vt_curves_plot(c, (const char *const[]){"nope"}, 1, png, 200, 120, NULL), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "no tag 'nope'") != NULL, "%s", vt_last_error());
    vt_curves_free(c);

    /* errors name the line */
    f = fopen(path, "w");
    fprintf(f, "{\"epoch\": 1, \"loss\": 2}\n{\"epoch\": 2, \"loss\" 1}\n");
    fclose(f);
    c = vt_curves_new();
    ck_assert_int_eq(vt_curves_load_jsonl(c, path, "epoch"), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "metrics.jsonl:2: not a flat JSON object") != NULL, "%s", vt_last_error());
    vt_curves_free(c);
    f = fopen(path, "w");
    fprintf(f, "{\"loss\": 2}\n");
    fclose(f);
    c = vt_curves_new();
    ck_assert_int_eq(vt_curves_load_jsonl(c, path, "epoch"), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "metrics.jsonl:1: no numeric \"epoch\"") != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_curves_load_jsonl(c, path, NULL), VT_OK); /* step = line index */
    ck_assert_int_eq(vt_curves_points(c, "loss"), 1);
    vt_curves_free(c);
    unlink(path);
    rmdir(dir);
}
END_TEST

static Suite *curves_suite(void) {
    Suite *s = suite_create("curves");
    TCase *tc = tcase_create("curves");
    tcase_add_test(tc, jsonl_to_plots);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(curves_suite)
