/* test_csv.c: RFC 4180 reader (quoting, CRLF, BOM, blank lines, limits, errors with
 * file:line), the labels loader and the VinDr-SpineXR boxes loader. */
#include <stdlib.h>
#include <unistd.h>
#include "csv.h"
#include "vt_test.h"

static vt_csv *parse(const char *text) { return vt_csv_parse("t.csv", text, strlen(text), NULL); }

static void expect_error(const char *where, const char *what) {
    const char *e = vt_last_error();
    ck_assert_msg(strstr(e, where) != NULL, "error lacks \"%s\": %s", where, e);
    ck_assert_msg(strstr(e, what) != NULL, "error lacks \"%s\": %s", what, e);
}

static void expect_parse_error(const char *text, const char *where, const char *what) {
    vt_clear_error();
    vt_csv *t = parse(text);
    ck_assert_msg(t == NULL, "parsed: %s", text);
    expect_error(where, what);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    ck_assert(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void tmp_path(const char *name, char *buf, size_t n) {
    snprintf(buf, n, "/tmp/vt_test_csv_%ld_%s", (long)getpid(), name);
}

START_TEST(rfc4180_quoting) {
    const char *text = "name,note,n\r\n"
                       "a,\"x, y\",1\r\n"
                       "b,\"he said \"\"hi\"\"\",2\r\n"
                       "\"c\",\"two\r\nlines\",3\r\n"
                       "d,,\"\"\r\n"
                       "e,\"\"\"\",5"; /* no final line end */
    vt_csv *t = parse(text);
    ck_assert_msg(t != NULL, "%s", vt_last_error());
    ck_assert_int_eq(t->ncols, 3);
    ck_assert_int_eq(t->nrows, 5);
    ck_assert_str_eq(t->header[1], "note");
    ck_assert_str_eq(vt_csv_cell(t, 0, 1), "x, y");
    ck_assert_str_eq(vt_csv_cell(t, 1, 1), "he said \"hi\"");
    ck_assert_str_eq(vt_csv_cell(t, 2, 0), "c");
    ck_assert_str_eq(vt_csv_cell(t, 2, 1), "two\r\nlines"); /* kept verbatim */
    ck_assert_str_eq(vt_csv_cell(t, 3, 1), "");
    ck_assert_str_eq(vt_csv_cell(t, 3, 2), "");
    ck_assert_str_eq(vt_csv_cell(t, 4, 1), "\"");
    ck_assert_str_eq(vt_csv_cell(t, 4, 2), "5");
    /* line numbers count the embedded line break */
    int64_t want[] = {2, 3, 4, 6, 7};
    for (int r = 0; r < 5; r++) ck_assert_int_eq(t->lines[r], want[r]);
    ck_assert_int_eq(vt_csv_column(t, "n"), 2);
    ck_assert_int_eq(vt_csv_column(t, "missing"), -1);
    ck_assert(vt_csv_cell(t, 5, 0) == NULL && vt_csv_cell(t, 0, 3) == NULL);
    vt_csv_free(t);
}
END_TEST

START_TEST(bom_line_ends_blank_lines) {
    /* BOM, LF, lone CR, trailing newline, blank lines (skipped), trailing comma = empty field */
    vt_csv *t = parse("\xEF\xBB\xBF" "id,v\n\n1,a\r2,b\r\n\r\n3,\n");
    ck_assert_msg(t != NULL, "%s", vt_last_error());
    ck_assert_str_eq(t->header[0], "id"); /* BOM not part of the first name */
    ck_assert_int_eq(t->nrows, 3);
    ck_assert_str_eq(vt_csv_cell(t, 1, 1), "b");
    ck_assert_str_eq(vt_csv_cell(t, 2, 1), "");
    ck_assert_int_eq(t->lines[0], 3);
    ck_assert_int_eq(t->lines[2], 6);
    vt_csv_free(t);
    /* header only: zero rows */
    t = parse("a,b\n");
    ck_assert(t && t->nrows == 0 && t->ncols == 2);
    vt_csv_free(t);
}
END_TEST

START_TEST(reader_errors_name_file_and_line) {
    expect_parse_error("a,b\n1,2\n3,\"open\n4,5\n", "t.csv:3:", "unterminated quoted field");
    expect_parse_error("a,b\n1,2\n\n1,2,3\n", "t.csv:4:", "3 field(s), but the header has 2");
    expect_parse_error("a,b\n1\n", "t.csv:2:", "1 field(s)");
    expect_parse_error("a,b\n1,x\"y\n", "t.csv:2:", "quote inside an unquoted field");
    expect_parse_error("a,b\n1,\"x\"y\n", "t.csv:2:", "text after a closing quote");
    expect_parse_error("a,a\n1,2\n", "t.csv:1:", "duplicate column name \"a\"");
    expect_parse_error("", "t.csv", "empty file");
    expect_parse_error("\xEF\xBB\xBF\n\n", "t.csv", "empty file");
    vt_clear_error();
    ck_assert(vt_csv_parse("t.csv", "a,b\n1,\0\n", 8, NULL) == NULL);
    expect_error("t.csv:2:", "NUL byte");
    /* limits */
    vt_csv_limits small = {.max_file_bytes = 10, .max_field_bytes = 4};
    ck_assert(vt_csv_parse("t.csv", "a,b\n1,12345\n", 12, &small) == NULL);
    expect_error("t.csv", "over the CSV size limit of 10");
    small.max_file_bytes = 0;
    ck_assert(vt_csv_parse("t.csv", "a,b\n1,12345\n", 12, &small) == NULL);
    expect_error("t.csv:2:", "longer than 4 bytes");
    ck_assert(vt_csv_parse("t.csv", "a,b\n1,\"12\n345\"\n", 15, &small) == NULL);
    expect_error("t.csv:2:", "longer than 4 bytes");
}
END_TEST

START_TEST(load_from_files) {
    char path[256];
    tmp_path("plain.csv", path, sizeof path);
    write_file(path, "x,y\r\n1,2\r\n");
    vt_csv *t = vt_csv_load(path, NULL);
    ck_assert_msg(t && t->nrows == 1, "%s", vt_last_error());
    ck_assert_str_eq(vt_csv_cell(t, 0, 1), "2");
    vt_csv_free(t);
    ck_assert(vt_csv_load(path, &(vt_csv_limits){.max_file_bytes = 5}) == NULL);
    expect_error(path, "over the CSV size limit of 5");
    write_file(path, "x,y\r\n1,2\r\n3\r\n");
    ck_assert(vt_csv_load(path, NULL) == NULL);
    char where[300];
    snprintf(where, sizeof where, "%s:3:", path);
    expect_error(where, "1 field(s)");
    ck_assert(vt_csv_load("/nonexistent/x.csv", NULL) == NULL);
    expect_error("/nonexistent/x.csv", "cannot open");
    unlink(path);
}
END_TEST

START_TEST(labels_by_column_name) {
    char path[256];
    tmp_path("labels.csv", path, sizeof path);
    write_file(path, "patient_id,image,vertebra_id,label,comment\n"
                     "p1,img/a.png,L1,0,\"ok, fine\"\n"
                     "p1,img/b.png,L2, 3 ,\n"
                     "p2,img/c.png,,2,x\n");
    const char *extra[] = {"patient_id", "vertebra_id"};
    vt_labels *l = vt_labels_load(path, "image", "label", extra, 2, 4);
    ck_assert_msg(l != NULL, "%s", vt_last_error());
    ck_assert_int_eq(l->n, 3);
    ck_assert_str_eq(l->image[2], "img/c.png");
    ck_assert_int_eq(l->label[0], 0);
    ck_assert_int_eq(l->label[1], 3);
    ck_assert_str_eq(l->extra_names[1], "vertebra_id");
    ck_assert_str_eq(l->extra[0 * 3 + 2], "p2");
    ck_assert_str_eq(l->extra[1 * 3 + 1], "L2");
    ck_assert_str_eq(l->extra[1 * 3 + 2], "");
    ck_assert_int_eq(l->lines[2], 4);
    vt_tensor *y = vt_labels_tensor(l);
    ck_assert(y && y->numel == 3 && y->data[1] == 3.f && y->data[2] == 2.f);
    vt_tensor_free(y);
    vt_labels_free(l);
    /* num_classes 0: any integer, including negatives (ignore index) */
    write_file(path, "image,label\na,-100\n");
    l = vt_labels_load(path, "image", "label", NULL, 0, 0);
    ck_assert(l && l->label[0] == -100);
    vt_labels_free(l);
    char where[300];
    snprintf(where, sizeof where, "%s:3:", path);
    const char *bad[][2] = {{"image,label\na,1\nb,1.0\n", "label \"1.0\" is not an integer"},
                            {"image,label\na,1\nb,x\n", "label \"x\" is not an integer"},
                            {"image,label\na,1\nb,4\n", "label 4 outside 0..3"},
                            {"image,label\na,1\nb,-1\n", "label -1 outside 0..3"},
                            {"image,label\na,1\nb,99999999999\n", "not an integer"},
                            {"image,label\na,1\n,2\n", "empty image"}};
    for (int i = 0; i < 6; i++) {
        write_file(path, bad[i][0]);
        ck_assert(vt_labels_load(path, "image", "label", NULL, 0, 4) == NULL);
        expect_error(where, bad[i][1]);
    }
    write_file(path, "img,target\na,1\n");
    ck_assert(vt_labels_load(path, "image", "label", NULL, 0, 4) == NULL);
    expect_error(path, "no column \"image\" (the header has: img, target)");
    write_file(path, "image,label\na,1\n");
    ck_assert(vt_labels_load(path, "image", "label", (const char *[]){"patient_id"}, 1, 4) == NULL);
    expect_error(path, "no column \"patient_id\"");
    unlink(path);
}
END_TEST

/* The VinDr-SpineXR annotation layout (train.csv): extra columns, several radiologists,
 * "No finding" rows with empty coordinates, boxes of one image not contiguous. */
static const char *VINDR =
    "image_id,series_id,study_id,rad_id,lesion_type,xmin,ymin,xmax,ymax\n"
    "img1,s1,st1,rad2,Osteophytes,10.5,20,30.25,40\n"
    "img2,s2,st2,rad1,No finding,,,,\n"
    "img3,s3,st3,rad3,Disc space narrowing,1,2,3,4\n"
    "img1,s1,st1,rad2,Vertebral collapse,100,200,150,260\n"
    "img4,s4,st4,rad1,No finding,nan,NaN,,\n"
    "img3,s3,st3,rad3,Osteophytes,5,6,7,8\n";
static const char *CLASSES[] = {"Osteophytes", "Disc space narrowing", "Vertebral collapse"};

START_TEST(vindr_boxes) {
    char path[256];
    tmp_path("boxes.csv", path, sizeof path);
    write_file(path, VINDR);
    vt_box_set *b = vt_boxes_load(path, CLASSES, 3);
    ck_assert_msg(b != NULL, "%s", vt_last_error());
    ck_assert_int_eq(b->n_images, 4);
    ck_assert_int_eq(b->n_boxes, 4);
    const char *ids[] = {"img1", "img2", "img3", "img4"};
    int64_t counts[] = {2, 0, 2, 0};
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(b->image_ids[i], ids[i]);
        ck_assert_int_eq(b->count[i], counts[i]);
        ck_assert_int_eq(vt_box_set_find(b, ids[i]), i);
    }
    ck_assert_int_eq(vt_box_set_find(b, "img5"), -1);
    const vt_box *a = b->boxes + b->first[0];
    ck_assert(a[0].xmin == 10.5f && a[0].ymin == 20.f && a[0].xmax == 30.25f && a[0].ymax == 40.f);
    ck_assert_int_eq(a[0].cls, 0);
    ck_assert_int_eq(a[1].cls, 2);
    ck_assert_int_eq(a[1].line, 5);
    const vt_box *c = b->boxes + b->first[2];
    ck_assert(c[0].cls == 1 && c[1].cls == 0 && c[1].xmin == 5.f);
    vt_box_set_free(b);

    const char *hdr = "image_id,rad_id,lesion_type,xmin,ymin,xmax,ymax\nimg1,r1,Osteophytes,1,2,3,4\n";
    const char *bad[][2] = {{"img2,r1,Spondylolysthesis,1,2,3,4\n", "unknown lesion_type \"Spondylolysthesis\""},
                            {"img2,r1,Osteophytes,5,2,5,4\n", "need xmin < xmax"},
                            {"img2,r1,Osteophytes,1,9,3,4\n", "need xmin < xmax and ymin < ymax"},
                            {"img2,r1,Osteophytes,1,2,inf,4\n", "xmax \"inf\" is not a finite number"},
                            {"img2,r1,Osteophytes,1,2,3,\n", "ymax \"\" is not a finite number"},
                            {"img2,r1,Osteophytes,1,2,3x,4\n", "xmax \"3x\""},
                            {"img2,r1,No finding,1,,,\n", "\"No finding\" row with a xmin coordinate"},
                            {",r1,Osteophytes,1,2,3,4\n", "empty image_id"}};
    char where[300], text[512];
    snprintf(where, sizeof where, "%s:3:", path);
    for (int i = 0; i < 8; i++) {
        snprintf(text, sizeof text, "%s%s", hdr, bad[i][0]);
        write_file(path, text);
        vt_clear_error();
        ck_assert_msg(vt_boxes_load(path, CLASSES, 3) == NULL, "loaded: %s", bad[i][0]);
        expect_error(where, bad[i][1]);
    }
    write_file(path, "image_id,lesion_type,xmin,ymin,xmax\na,b,1,2,3\n");
    ck_assert(vt_boxes_load(path, CLASSES, 3) == NULL);
    expect_error(path, "no column \"ymax\"");
    ck_assert(vt_boxes_load(path, CLASSES, 0) == NULL);
    expect_error(path, "class-name list");
    unlink(path);
}
END_TEST

static Suite *csv_suite(void) {
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("csv");
    tcase_add_test(tc, rfc4180_quoting);
    tcase_add_test(tc, bom_line_ends_blank_lines);
    tcase_add_test(tc, reader_errors_name_file_and_line);
    tcase_add_test(tc, load_from_files);
    tcase_add_test(tc, labels_by_column_name);
    tcase_add_test(tc, vindr_boxes);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(csv_suite)
