/* test_png.c: PNG reader against hand-encoded fixtures (tests/ref/ref_png.py: every colour
 * type and bit depth, all five filters, Adam7, split IDAT), PIL's 'L' conversion, write ->
 * read round trips, and corrupt files made here from a valid one (bad signature, empty,
 * truncated, CRC errors, dimension bombs), each failing with a message naming the file. */
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include "png_io.h"
#include "vt_test.h"

static void fixture_png(const char *name, char *buf, size_t n) {
    const char *dir = getenv("VT_FIXTURES");
    snprintf(buf, n, "%s/png_%s.png", dir ? dir : "tests/fixtures", name);
}

static void tmp_path(const char *name, char *buf, size_t n) {
    snprintf(buf, n, "/tmp/vt_test_png_%ld_%s", (long)getpid(), name);
}

/* the error of the last call names the file and contains `what` */
static void expect_error(const char *path, const char *what) {
    const char *e = vt_last_error();
    ck_assert_msg(strstr(e, path) != NULL, "error does not name %s: %s", path, e);
    ck_assert_msg(strstr(e, what) != NULL, "error lacks \"%s\": %s", what, e);
}

#define SKIP_WITHOUT_PNG()                                                              \
    if (!vt_png_supported()) {                                                          \
        fprintf(stderr, "SKIP: built without libpng (apt-get install libpng-dev)\n"); \
        return;                                                                         \
    }

static const struct { const char *name; int depth, color_type, interlaced; } CASES[] = {
    {"grey8", 8, 0, 0},       {"grey16", 16, 0, 0},     {"grey1", 1, 0, 0},
    {"grey2", 2, 0, 0},       {"grey4", 4, 0, 0},       {"greyalpha8", 8, 4, 0},
    {"greyalpha16", 16, 4, 0}, {"rgb8", 8, 2, 0},        {"rgb16", 16, 2, 0},
    {"rgba8", 8, 6, 0},       {"rgba16", 16, 6, 0},     {"palette8", 8, 3, 0},
    {"palette4", 4, 3, 0},    {"rgb8_interlaced", 8, 2, 1}, {"grey1_interlaced", 1, 0, 1},
};

START_TEST(fixtures_raw_and_scaled) {
    SKIP_WITHOUT_PNG();
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        char path[512], key[64];
        fixture_png(CASES[i].name, path, sizeof path);
        snprintf(key, sizeof key, "png_%s", CASES[i].name);
        vt_tensor *want = vt_fixture(key);
        vt_png_info info;
        vt_tensor *raw = vt_png_load(path, &(vt_png_options){.raw = 1}, &info);
        ck_assert_msg(raw != NULL, "%s", vt_last_error());
        vt_expect_tensor_close(raw, want, 0, 0, path);
        ck_assert_int_eq(info.bit_depth, CASES[i].depth);
        ck_assert_int_eq(info.color_type, CASES[i].color_type);
        ck_assert_int_eq(info.interlaced, CASES[i].interlaced);
        ck_assert_int_eq(info.width, want->shape[2]);
        ck_assert_int_eq(info.height, want->shape[1]);
        /* default: scaled to [0, 1] by the maximum of the file's sample depth */
        vt_tensor *scaled = vt_png_load(path, NULL, NULL);
        ck_assert_msg(scaled != NULL, "%s", vt_last_error());
        float div = CASES[i].depth == 16 ? 65535.f : 255.f;
        for (int64_t k = 0; k < want->numel; k++) want->data[k] /= div;
        vt_expect_tensor_close(scaled, want, 1e-7, 1e-6, path);
        vt_png_info hdr;
        ck_assert_msg(vt_png_read_info(path, &hdr) == VT_OK, "%s", vt_last_error());
        ck_assert(hdr.width == info.width && hdr.height == info.height && hdr.bit_depth == info.bit_depth);
        vt_tensor_free(raw), vt_tensor_free(scaled), vt_tensor_free(want);
    }
}
END_TEST

/* grey = 1 matches PIL's convert('L') exactly; rgb = 1 replicates grey */
START_TEST(grey_and_rgb_options) {
    SKIP_WITHOUT_PNG();
    const char *cases[][2] = {{"rgb8", "png_rgb8_L"}, {"palette8", "png_palette8_L"}};
    for (int i = 0; i < 2; i++) {
        char path[512];
        fixture_png(cases[i][0], path, sizeof path);
        vt_tensor *want = vt_fixture(cases[i][1]);
        vt_tensor *g = vt_png_load(path, &(vt_png_options){.grey = 1, .raw = 1}, NULL);
        ck_assert_msg(g != NULL, "%s", vt_last_error());
        vt_expect_tensor_close(g, want, 0, 0, path);
        vt_tensor_free(g), vt_tensor_free(want);
    }
    /* 16-bit: the same fixed-point weights on 16-bit samples */
    char path[512];
    fixture_png("rgb16", path, sizeof path);
    vt_tensor *rgb = vt_fixture("png_rgb16");
    vt_tensor *g = vt_png_load(path, &(vt_png_options){.grey = 1, .raw = 1}, NULL);
    ck_assert_msg(g && g->ndim == 3 && g->shape[0] == 1, "%s", vt_last_error());
    int64_t plane = rgb->shape[1] * rgb->shape[2];
    for (int64_t k = 0; k < plane; k++) {
        uint64_t r = (uint64_t)rgb->data[k], gg = (uint64_t)rgb->data[plane + k], b = (uint64_t)rgb->data[2 * plane + k];
        float want = (float)((r * 19595 + gg * 38470 + b * 7471 + 0x8000) >> 16);
        ck_assert_msg(g->data[k] == want, "pixel %lld: %g vs %g", (long long)k, g->data[k], want);
    }
    /* grey file, rgb = 1: three identical planes */
    fixture_png("grey8", path, sizeof path);
    vt_tensor *one = vt_png_load(path, NULL, NULL), *three = vt_png_load(path, &(vt_png_options){.rgb = 1}, NULL);
    ck_assert(one && three && three->shape[0] == 3);
    for (int c = 0; c < 3; c++) vt_expect_close(three->data + c * one->numel, one->data, one->numel, 0, 0, "rgb=1");
    vt_tensor_free(rgb), vt_tensor_free(g), vt_tensor_free(one), vt_tensor_free(three);
}
END_TEST

START_TEST(write_read_round_trip) {
    SKIP_WITHOUT_PNG();
    char path[512];
    tmp_path("round.png", path, sizeof path);
    int64_t shapes[][3] = {{3, 6, 9}, {1, 4, 5}};
    for (int s = 0; s < 2; s++) {
        vt_tensor *x = vt_test_rand(3, shapes[s], 0, 1, 7 + s);
        x->data[0] = -0.5f, x->data[1] = 1.5f; /* clamped */
        ck_assert_msg(vt_png_write(path, x, 1) == VT_OK, "%s", vt_last_error());
        vt_png_info info;
        vt_tensor *y = vt_png_load(path, NULL, &info);
        ck_assert_msg(y != NULL, "%s", vt_last_error());
        ck_assert(vt_shape_equal(x, y));
        ck_assert_int_eq(info.bit_depth, 8);
        ck_assert_int_eq(info.color_type, shapes[s][0] == 3 ? 2 : 0);
        x->data[0] = 0, x->data[1] = 1;
        vt_expect_tensor_close(y, x, 0.5 / 255 + 1e-6, 0, "round trip");
        /* 0..255 input (scale_01 = 0) gives the same bytes back as raw values */
        for (int64_t k = 0; k < y->numel; k++) x->data[k] = y->data[k] * 255;
        ck_assert(vt_png_write(path, x, 0) == VT_OK);
        vt_tensor *z = vt_png_load(path, &(vt_png_options){.raw = 1}, NULL);
        vt_expect_tensor_close(z, x, 1e-3, 0, "raw round trip");
        vt_tensor_free(x), vt_tensor_free(y), vt_tensor_free(z);
    }
    /* uint8 planar input and a 2-D (H, W) tensor */
    uint8_t bytes[2 * 3 * 3];
    for (int i = 0; i < 18; i++) bytes[i] = (uint8_t)(i * 14);
    ck_assert(vt_png_write_u8(path, bytes, 3, 2, 3) == VT_OK);
    vt_tensor *u = vt_png_load(path, &(vt_png_options){.raw = 1}, NULL);
    ck_assert(u && u->shape[0] == 3 && u->shape[1] == 2 && u->shape[2] == 3);
    for (int i = 0; i < 18; i++) ck_assert(u->data[i] == bytes[i]);
    vt_tensor *flat = vt_tensor_new(VT_DIMS(4, 2));
    ck_assert(vt_png_write(path, flat, 1) == VT_OK);
    vt_tensor *back = vt_png_load(path, NULL, NULL);
    ck_assert(back && back->ndim == 3 && back->shape[0] == 1 && back->shape[1] == 4);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    ck_assert_msg(access(tmp, F_OK) != 0, "temp file left behind");
    unlink(path);
    vt_tensor_free(u), vt_tensor_free(flat), vt_tensor_free(back);
}
END_TEST

START_TEST(write_errors) {
    SKIP_WITHOUT_PNG();
    vt_tensor *bad = vt_tensor_new(VT_DIMS(2, 3, 3));
    ck_assert(vt_png_write("/tmp/x.png", bad, 1) == VT_ERR);
    expect_error("/tmp/x.png", "(2, 3, 3)");
    vt_tensor *ok = vt_tensor_new(VT_DIMS(1, 2, 2));
    ck_assert(vt_png_write("/nonexistent-dir/a.png", ok, 1) == VT_ERR);
    expect_error("/nonexistent-dir/a.png", "temp file");
    ck_assert(vt_png_write_u8("/tmp/y.png", (uint8_t[4]){0}, 2, 1, 2) == VT_ERR);
    expect_error("/tmp/y.png", "C = 1 or 3");
    vt_tensor_free(bad), vt_tensor_free(ok);
}
END_TEST

/* ---- corrupt files ------------------------------------------------------------------- */
static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    unsigned char *b = malloc(1 << 16);
    *n = fread(b, 1, 1 << 16, f);
    fclose(f);
    return b;
}
static void spit(const char *path, const unsigned char *b, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert(f != NULL);
    if (n) ck_assert(fwrite(b, 1, n, f) == n);
    fclose(f);
}
/* offset of the length field of the first chunk of this type */
static size_t find_chunk(const unsigned char *b, size_t n, const char *type) {
    for (size_t at = 8; at + 12 <= n;) {
        uint32_t len = (uint32_t)b[at] << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3];
        if (!memcmp(b + at + 4, type, 4)) return at;
        at += 12 + len;
    }
    ck_abort_msg("no %s chunk", type);
    return 0;
}
static void fix_crc(unsigned char *b, size_t at) {
    uint32_t len = (uint32_t)b[at] << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3];
    uint32_t crc = (uint32_t)crc32(0, b + at + 4, 4 + len);
    for (int i = 0; i < 4; i++) b[at + 8 + len + i] = (unsigned char)(crc >> (24 - 8 * i));
}
static void set_be32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (24 - 8 * i));
}

/* loads must fail with `what` and the path, both for vt_png_load and (header errors) info */
static void expect_load_fails(const char *path, const char *what) {
    vt_clear_error();
    vt_tensor *t = vt_png_load(path, NULL, NULL);
    ck_assert_msg(t == NULL, "%s loaded", path);
    expect_error(path, what);
}

START_TEST(corrupt_files) {
    SKIP_WITHOUT_PNG();
    char good[512], path[512];
    fixture_png("rgb8", good, sizeof good);
    tmp_path("bad.png", path, sizeof path);
    size_t n;
    unsigned char *orig = slurp(good, &n), *b = malloc(n);

    spit(path, orig, 0);
    expect_load_fails(path, "empty");
    ck_assert(vt_png_read_info(path, NULL) == VT_ERR);

    memcpy(b, orig, n), b[1] = 'Q';
    spit(path, b, n);
    expect_load_fails(path, "signature");

    size_t idat = find_chunk(orig, n, "IDAT");
    spit(path, orig, idat + 8 + 20); /* file ends inside the IDAT data */
    expect_load_fails(path, "truncated");
    spit(path, orig, n - 12); /* IEND missing */
    expect_load_fails(path, "truncated");

    uint32_t idat_len = (uint32_t)orig[idat] << 24 | orig[idat + 1] << 16 | orig[idat + 2] << 8 | orig[idat + 3];
    memcpy(b, orig, n), b[idat + 8 + idat_len] ^= 1; /* IDAT's stored CRC wrong, data intact */
    spit(path, b, n);
    expect_load_fails(path, "CRC");
    size_t ihdr = find_chunk(orig, n, "IHDR");
    memcpy(b, orig, n), b[ihdr + 8 + 13] ^= 1; /* same for IHDR */
    spit(path, b, n);
    expect_load_fails(path, "CRC");

    memcpy(b, orig, n), b[idat + 8 + 5] ^= 0x40; /* payload changed, CRC not: zlib fails first */
    spit(path, b, n);
    expect_load_fails(path, "IDAT");

    memcpy(b, orig, n), b[idat + 8 + 5] ^= 0x40, fix_crc(b, idat); /* valid CRC, bad zlib data */
    spit(path, b, n);
    expect_load_fails(path, path);

    memcpy(b, orig, n), b[ihdr + 8 + 9] = 5, fix_crc(b, ihdr); /* colour type 5 does not exist */
    spit(path, b, n);
    expect_load_fails(path, "IHDR");

    /* a damaged ancillary chunk (tEXt CRC) is only a warning: the pixels still load */
    size_t text = find_chunk(orig, n, "tEXt");
    memcpy(b, orig, n), b[text + 9] ^= 1;
    spit(path, b, n);
    vt_tensor *t = vt_png_load(path, NULL, NULL);
    ck_assert_msg(t != NULL, "%s", vt_last_error());
    vt_tensor_free(t);

    /* dimension bombs: 60000 x 60000 RGB is over the value limit; 8000 x 8000 is under it
     * but cannot come out of a file this small */
    uint32_t dims[][2] = {{60000, 60000}, {8000, 8000}};
    const char *why[] = {"over the limit", "more than a"};
    for (int i = 0; i < 2; i++) {
        memcpy(b, orig, n), set_be32(b + ihdr + 8, dims[i][0]), set_be32(b + ihdr + 12, dims[i][1]), fix_crc(b, ihdr);
        spit(path, b, n);
        expect_load_fails(path, why[i]);
        vt_png_info info;
        ck_assert(vt_png_read_info(path, &info) == VT_OK); /* the header alone is fine */
        ck_assert_int_eq(info.width, (int)dims[i][0]);
    }
    /* beyond libpng's own 1,000,000-pixel row limit */
    memcpy(b, orig, n), set_be32(b + ihdr + 8, 2000000), fix_crc(b, ihdr);
    spit(path, b, n);
    expect_load_fails(path, "width");
    /* a caller's smaller limit */
    ck_assert(vt_png_load(good, &(vt_png_options){.max_values = 50}, NULL) == NULL);
    expect_error(good, "max_values");

    expect_load_fails("/nonexistent/file.png", "cannot open");
    unlink(path);
    free(orig), free(b);
}
END_TEST

START_TEST(without_libpng_reports_it) {
    if (vt_png_supported()) return; /* built with libpng: covered above */
    ck_assert(vt_png_load("a.png", NULL, NULL) == NULL);
    expect_error("a.png", "PNG support was not built");
    ck_assert(vt_png_write_u8("b.png", (uint8_t[1]){0}, 1, 1, 1) == VT_ERR);
    expect_error("b.png", "not built");
}
END_TEST

static Suite *png_suite(void) {
    Suite *s = suite_create("png");
    TCase *tc = tcase_create("png");
    tcase_add_test(tc, fixtures_raw_and_scaled);
    tcase_add_test(tc, grey_and_rgb_options);
    tcase_add_test(tc, write_read_round_trip);
    tcase_add_test(tc, write_errors);
    tcase_add_test(tc, corrupt_files);
    tcase_add_test(tc, without_libpng_reports_it);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(png_suite)
