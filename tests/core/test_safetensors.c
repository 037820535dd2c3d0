/* test_safetensors.c: safetensors round trip, files written by Python (tests/ref/
 * ref_safetensors.py: every dtype, a torchvision-like state dict), loading into a model
 * (strict / non-strict keys, prefix map, skips, num_batches_tracked, the RGB -> grey conv
 * rule, shape errors) and damaged or hostile files, each refused with a message naming
 * the file. */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "safetensors.h"
#include "vt_test.h"

static char tmpdir[256];

static void setup(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vt_st_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') { snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name); unlink(p); }
    if (d) closedir(d);
    rmdir(tmpdir);
}

static const char *tmp_path(const char *name) {
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

static const char *fixture_path(const char *name) {
    static char p[512];
    const char *dir = getenv("VT_FIXTURES");
    snprintf(p, sizeof p, "%s/%s", dir ? dir : "tests/fixtures", name);
    return p;
}

static void write_all(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* a file of u64 hlen (given, or the JSON's length when hlen < 0), the header, then data */
static const char *make_file(const char *name, int64_t hlen, const char *json, const void *data, size_t ndata) {
    size_t jl = strlen(json);
    unsigned char *b = malloc(8 + jl + ndata + 1);
    uint64_t h = hlen < 0 ? jl : (uint64_t)hlen;
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)(h >> (8 * k));
    memcpy(b + 8, json, jl);
    if (ndata) memcpy(b + 8 + jl, data, ndata);
    const char *path = tmp_path(name);
    write_all(path, b, 8 + jl + ndata);
    free(b);
    return path;
}

static void expect_open_error(const char *path, const char *what) {
    vt_clear_error();
    vt_safetensors *st = vt_safetensors_open(path);
    ck_assert_msg(st == NULL, "opening should fail (%s)", what);
    vt_safetensors_close(st);
    ck_assert_msg(strstr(vt_last_error(), what) != NULL, "error '%s' lacks '%s'", vt_last_error(), what);
    ck_assert_msg(strstr(vt_last_error(), path) != NULL, "error '%s' does not name the file", vt_last_error());
}

/* a header with one tensor entry "t" and 16 data bytes */
static void expect_bad_header(const char *json, const char *what) {
    static const float data[4] = {1, 2, 3, 4};
    expect_open_error(make_file("bad.safetensors", -1, json, data, sizeof data), what);
}

static void fill(vt_tensor *t, float base) {
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = base + 0.5f * (float)i;
}

/* ---- round trip --------------------------------------------------------------------------- */

static vt_params *roundtrip_params(float base, int finalize) {
    vt_params *p = vt_params_new();
    /* registered out of name order; a 5-D weight, a buffer, an empty tensor */
    fill(vt_params_add(p, "z.weight", VT_DIMS(2, 3)), base);
    fill(vt_params_add(p, "a.conv3d.weight", VT_DIMS(2, 1, 2, 2, 3)), base + 1);
    fill(vt_params_add_buffer(p, "m.running_var", VT_DIMS(3)), base + 2);
    vt_params_add(p, "empty", VT_DIMS(0, 4));
    if (finalize) ck_assert_int_eq(vt_params_finalize(p), VT_OK);
    return p;
}

START_TEST(round_trip_bit_identical) {
    vt_params *p = roundtrip_params(1.f, 1);
    float *w = vt_params_find(p, "z.weight")->data;
    w[0] = NAN;
    w[1] = -0.f;
    w[2] = 1e-45f; /* subnormal */
    w[3] = -INFINITY;
    const char *path = tmp_path("rt.safetensors");
    ck_assert_int_eq(vt_params_save_safetensors(p, path, "{\"format\":\"pt\",\"arch\":\"t\\\"x\"}"), VT_OK);

    vt_safetensors *st = vt_safetensors_open(path);
    ck_assert_ptr_nonnull(st);
    ck_assert_int_eq(vt_safetensors_count(st), 4);
    const char *sorted[] = {"a.conv3d.weight", "empty", "m.running_var", "z.weight"};
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(vt_safetensors_name(st, i), sorted[i]);
        ck_assert_str_eq(vt_safetensors_dtype(st, i), "F32");
    }
    int64_t shape[VT_SAFETENSORS_MAX_DIMS];
    ck_assert_int_eq(vt_safetensors_shape(st, 0, shape), 5);
    ck_assert(shape[0] == 2 && shape[4] == 3);
    ck_assert_int_eq(vt_safetensors_metadata_count(st), 2);
    ck_assert_str_eq(vt_safetensors_metadata_key(st, 0), "format");
    ck_assert_str_eq(vt_safetensors_metadata(st, "arch"), "t\"x");
    ck_assert_ptr_null(vt_safetensors_metadata(st, "nope"));
    vt_safetensors_close(st);

    /* header padded so the data starts 8-byte aligned */
    FILE *f = fopen(path, "rb");
    unsigned char len8[8];
    ck_assert_uint_eq(fread(len8, 1, 8, f), 8);
    fclose(f);
    ck_assert_int_eq(len8[0] % 8, 0);

    for (int fin = 0; fin <= 1; fin++) {
        vt_params *q = roundtrip_params(-50.f, fin);
        ck_assert_int_eq(vt_params_load_safetensors(q, path, NULL), VT_OK);
        for (int i = 0; i < vt_params_count(p); i++) {
            const vt_tensor *a = vt_params_tensor(p, i), *b = vt_params_find(q, vt_params_name(p, i));
            ck_assert(vt_shape_equal(a, b));
            ck_assert_msg(memcmp(a->data, b->data, (size_t)a->numel * 4) == 0, "%s differs", vt_params_name(p, i));
        }
        vt_params_free(q);
    }
    /* an unfinalized store saves too, without metadata */
    vt_params *u = roundtrip_params(3.f, 0);
    ck_assert_int_eq(vt_params_save_safetensors(u, path, NULL), VT_OK);
    vt_params_free(u);
    st = vt_safetensors_open(path);
    ck_assert_int_eq(vt_safetensors_metadata_count(st), 0);
    vt_tensor *t = vt_safetensors_get(st, "z.weight");
    ck_assert(t && t->ndim == 2 && t->data[5] == 3.f + 2.5f);
    vt_tensor_free(t);
    vt_safetensors_close(st);
    vt_params_free(p);
}
END_TEST

START_TEST(writer_refuses_bad_metadata) {
    vt_params *p = roundtrip_params(1.f, 1);
    const char *path = tmp_path("meta.safetensors");
    const char *bad[] = {"[1]", "{\"a\":1}", "{\"a\":\"b\"} x", "{\"a\":\"b\",}", "{"};
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(vt_params_save_safetensors(p, path, bad[i]), VT_ERR);
        ck_assert_msg(strstr(vt_last_error(), "metadata_json") && strstr(vt_last_error(), path), "%s", vt_last_error());
        ck_assert_int_ne(access(path, F_OK), 0);
    }
    ck_assert_int_eq(vt_params_save_safetensors(p, tmp_path("nodir/x.safetensors"), NULL), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "nodir/x.safetensors"));
    vt_params_free(p);
}
END_TEST

/* ---- files written by Python -------------------------------------------------------------- */

START_TEST(python_dtypes) {
    vt_safetensors *st = vt_safetensors_open(fixture_path("st_dtypes.safetensors"));
    ck_assert_msg(st != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_safetensors_count(st), 13);
    ck_assert_str_eq(vt_safetensors_metadata(st, "note"), "tab\there \"quoted\"");
    const char *names[][3] = {
        {"f32", "F32"}, {"f16", "F16"}, {"bf16", "BF16"}, {"f64", "F64"}, {"i64", "I64"}, {"i32", "I32"},
        {"i16", "I16"}, {"i8", "I8"}, {"u8", "U8"}, {"bool", "BOOL"}, {"scalar", "I64"}, {"empty", "F32"},
        {"caf\xc3\xa9.w", "F32", "cafe_w"}};
    for (int i = 0; i < 13; i++) {
        const char *fx = names[i][2] ? names[i][2] : names[i][0];
        char fname[64];
        snprintf(fname, sizeof fname, "st_dtypes.%s", fx);
        int idx = vt_safetensors_find(st, names[i][0]);
        ck_assert_msg(idx >= 0, "no tensor %s", names[i][0]);
        ck_assert_str_eq(vt_safetensors_dtype(st, idx), names[i][1]);
        vt_tensor *got = vt_safetensors_get(st, names[i][0]), *want = vt_fixture(fname);
        ck_assert_msg(got != NULL, "%s", vt_last_error());
        char sa[64], sb[64];
        ck_assert_msg(vt_shape_equal(got, want), "%s: shape %s vs %s", names[i][0], vt_shape_str(got, sa, sizeof sa),
                      vt_shape_str(want, sb, sizeof sb));
        ck_assert_msg(memcmp(got->data, want->data, (size_t)got->numel * 4) == 0, "%s values differ", names[i][0]);
        vt_tensor_free(got);
        vt_tensor_free(want);
    }
    int64_t shape[VT_SAFETENSORS_MAX_DIMS];
    ck_assert_int_eq(vt_safetensors_shape(st, vt_safetensors_find(st, "scalar"), shape), 0);
    ck_assert_ptr_null(vt_safetensors_get(st, "nope"));
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "nope"));
    vt_safetensors_close(st);
}
END_TEST

/* the model side of st_tv.safetensors; conv1 with in_ch input channels, fc with n_cls */
static vt_params *tv_params(int in_ch, int n_cls, int with_counter) {
    vt_params *p = vt_params_new();
    vt_params_add(p, "conv1.weight", VT_DIMS(4, in_ch, 3, 3));
    const char *bns[] = {"bn1", "layer1.0.bn1"};
    for (int b = 0; b < 2; b++) {
        char n[64];
        const char *w[] = {"weight", "bias", "running_mean", "running_var"};
        for (int k = 0; k < 4; k++) {
            snprintf(n, sizeof n, "%s.%s", bns[b], w[k]);
            vt_tensor *t = k < 2 ? vt_params_add(p, n, VT_DIMS(4)) : vt_params_add_buffer(p, n, VT_DIMS(4));
            vt_tensor_fill(t, 42.f);
        }
        snprintf(n, sizeof n, "%s.num_batches_tracked", bns[b]);
        if (with_counter) vt_params_add_buffer(p, n, VT_DIMS(1));
    }
    vt_params_add(p, "layer1.0.conv1.weight", VT_DIMS(4, 4, 3, 3));
    vt_tensor_fill(vt_params_add(p, "fc.weight", VT_DIMS(n_cls, 4)), 42.f);
    vt_tensor_fill(vt_params_add(p, "fc.bias", VT_DIMS(n_cls)), 42.f);
    ck_assert_int_eq(vt_params_finalize(p), VT_OK);
    return p;
}

static void expect_tensor_is_fixture(const vt_params *p, const char *name) {
    char fx[128];
    snprintf(fx, sizeof fx, "st_tv.%s", name);
    vt_tensor *want = vt_fixture(fx);
    const vt_tensor *got = vt_params_find(p, name);
    ck_assert(vt_shape_equal(got, want));
    ck_assert_msg(memcmp(got->data, want->data, (size_t)got->numel * 4) == 0, "%s differs", name);
    vt_tensor_free(want);
}

START_TEST(torchvision_state_dict) {
    const char *path = fixture_path("st_tv.safetensors");
    vt_load_report rep;
    vt_load_options o = {.strict = 1, .report = &rep};
    /* model without num_batches_tracked: the counters are ignored, strict still passes */
    vt_params *p = tv_params(3, 5, 0);
    ck_assert_msg(vt_params_load_safetensors(p, path, &o) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(rep.loaded, 12);
    ck_assert_int_eq(rep.ignored, 2);
    ck_assert_int_eq(rep.missing + rep.unexpected + rep.skipped + rep.adapted, 0);
    for (int i = 0; i < vt_params_count(p); i++) expect_tensor_is_fixture(p, vt_params_name(p, i));
    vt_params_free(p);
    /* a model that keeps the counter gets it (I64 scalar -> shape (1)) */
    p = tv_params(3, 5, 1);
    ck_assert_int_eq(vt_params_load_safetensors(p, path, &o), VT_OK);
    ck_assert_int_eq(rep.loaded, 14);
    ck_assert_int_eq(rep.ignored, 0);
    ck_assert(vt_params_find(p, "layer1.0.bn1.num_batches_tracked")->data[0] == 17.f);
    vt_params_free(p);
}
END_TEST

START_TEST(rgb_conv_loads_into_grey_model) {
    const char *path = fixture_path("st_tv.safetensors");
    vt_load_report rep;
    vt_load_options o = {.strict = 1, .report = &rep};
    vt_params *p = tv_params(1, 5, 0);
    ck_assert_msg(vt_params_load_safetensors(p, path, &o) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(rep.adapted, 1);
    vt_tensor *want = vt_fixture("st_tv.conv1_grey");
    vt_expect_tensor_close(vt_params_find(p, "conv1.weight"), want, 1e-6, 1e-6, "conv1 summed over RGB");
    vt_tensor_free(want);
    expect_tensor_is_fixture(p, "layer1.0.conv1.weight");
    vt_params_free(p);
    /* any other channel change is a shape error naming the key and both shapes */
    p = tv_params(2, 5, 0);
    ck_assert_int_eq(vt_params_load_safetensors(p, path, &o), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "conv1.weight (file (4, 3, 3, 3), model (4, 2, 3, 3))") &&
                  strstr(vt_last_error(), path), "%s", vt_last_error());
    vt_params_free(p);
}
END_TEST

START_TEST(key_checks_strict_and_not) {
    const char *path = fixture_path("st_tv.safetensors");
    vt_load_report rep;
    vt_load_options strict = {.strict = 1, .report = &rep}, loose = {.strict = 0, .report = &rep};
    /* a model without fc and with an extra tensor */
    vt_params *p = vt_params_new();
    vt_tensor *w = vt_params_add(p, "conv1.weight", VT_DIMS(4, 3, 3, 3));
    vt_tensor_fill(w, 42.f);
    vt_tensor_fill(vt_params_add(p, "head.weight", VT_DIMS(2, 2)), 42.f);
    ck_assert_int_eq(vt_params_load_safetensors(p, path, &strict), VT_ERR);
    const char *e = vt_last_error();
    ck_assert_msg(strstr(e, path) && strstr(e, "missing (1): head.weight") && strstr(e, "unexpected (11):") &&
                  strstr(e, " fc.weight") && strstr(e, "... and 1 more"), "%s", e);
    ck_assert(w->data[0] == 42.f); /* all or nothing */
    ck_assert_int_eq(rep.loaded, 0);
    ck_assert_int_eq(vt_params_load_safetensors(p, path, &loose), VT_OK);
    ck_assert_int_eq(rep.loaded, 1);
    ck_assert_int_eq(rep.missing, 1);
    ck_assert_int_eq(rep.unexpected, 11);
    ck_assert_ptr_nonnull(strstr(rep.message, "missing (1): head.weight"));
    ck_assert(w->data[0] != 42.f && vt_params_find(p, "head.weight")->data[0] == 42.f);
    vt_params_free(p);

    /* a different number of classes: shape error even when not strict, unless skipped */
    p = tv_params(3, 3, 0);
    ck_assert_int_eq(vt_params_load_safetensors(p, path, &loose), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "fc.weight (file (5, 4), model (3, 4))") &&
                  strstr(vt_last_error(), "fc.bias (file (5), model (3))"), "%s", vt_last_error());
    const char *skip[] = {"fc.", NULL};
    vt_load_options o = {.strict = 1, .skip_prefixes = skip, .report = &rep};
    ck_assert_msg(vt_params_load_safetensors(p, path, &o) == VT_OK, "%s", vt_last_error());
    ck_assert_int_eq(rep.skipped, 2);
    ck_assert_int_eq(rep.loaded, 10);
    ck_assert(vt_params_find(p, "fc.weight")->data[0] == 42.f); /* keeps its own init */
    expect_tensor_is_fixture(p, "bn1.running_var");
    vt_params_free(p);
}
END_TEST

START_TEST(prefix_map) {
    /* saved from a DataParallel-like model: "module.*" */
    vt_params *src = vt_params_new();
    fill(vt_params_add(src, "module.features.0.weight", VT_DIMS(2, 2)), 1.f);
    fill(vt_params_add(src, "module.features.0.bias", VT_DIMS(2)), 7.f);
    fill(vt_params_add(src, "other", VT_DIMS(1)), 9.f);
    const char *path = tmp_path("dp.safetensors");
    ck_assert_int_eq(vt_params_save_safetensors(src, path, NULL), VT_OK);

    vt_params *dst = vt_params_new();
    vt_params_add(dst, "backbone.features.0.weight", VT_DIMS(2, 2));
    vt_params_add(dst, "backbone.features.0.bias", VT_DIMS(2));
    vt_params_add(dst, "backbone.other", VT_DIMS(1));
    vt_load_options o = {.strict = 1, .strip_prefix = "module.", .add_prefix = "backbone."};
    ck_assert_msg(vt_params_load_safetensors(dst, path, &o) == VT_OK, "%s", vt_last_error());
    ck_assert(vt_params_find(dst, "backbone.features.0.weight")->data[3] == 2.5f);
    ck_assert(vt_params_find(dst, "backbone.features.0.bias")->data[1] == 7.5f);
    ck_assert(vt_params_find(dst, "backbone.other")->data[0] == 9.f); /* no "module.": only added */
    /* without the map every key is unexpected */
    ck_assert_int_eq(vt_params_load_safetensors(dst, path, NULL), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "unexpected (3)"));
    vt_params_free(dst);

    /* two file keys mapping onto one tensor are refused */
    fill(vt_params_add(src, "features.0.bias", VT_DIMS(2)), 0.f);
    ck_assert_int_eq(vt_params_save_safetensors(src, path, NULL), VT_OK);
    dst = vt_params_new();
    vt_params_add(dst, "features.0.bias", VT_DIMS(2));
    vt_load_options o2 = {.strict = 0, .strip_prefix = "module."};
    ck_assert_int_eq(vt_params_load_safetensors(dst, path, &o2), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "two keys for one tensor"), "%s", vt_last_error());
    vt_params_free(dst);
    vt_params_free(src);
}
END_TEST

/* ---- damaged and hostile files ---------------------------------------------------------- */

#define T "{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}"

START_TEST(valid_baseline_opens) {
    static const float data[4] = {1, 2, 3, 4};
    /* the baseline the corrupt cases below start from, and JSON edge cases that are valid */
    const char *ok[] = {T, "{}", " {\"__metadata__\":{},\"t\":{\"data_offsets\":[0,16],\"shape\":[2,2],\"dtype\":\"F32\"}}  ",
                        "{\"t\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[3,4]},\"\\u00e9\\ud83d\\ude00\":{\"dtype\":\"I8\",\"shape\":[0],\"data_offsets\":[0,0]}}"};
    for (int i = 0; i < 4; i++) {
        const char *path = make_file("ok.safetensors", -1, ok[i], data, sizeof data);
        if (i == 2) { /* a leading space: the header must start with '{' */
            expect_open_error(path, "does not start with '{'");
            continue;
        }
        vt_safetensors *st = vt_safetensors_open(path);
        ck_assert_msg(st != NULL, "case %d: %s", i, vt_last_error());
        if (i == 3) ck_assert_int_ge(vt_safetensors_find(st, "\xc3\xa9\xf0\x9f\x98\x80"), 0);
        vt_safetensors_close(st);
    }
    /* a 6-D tensor opens but cannot become a vertebra tensor */
    const char *path = make_file("6d.safetensors", -1, "{\"t\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,2,2],\"data_offsets\":[0,16]}}", data, sizeof data);
    vt_safetensors *st = vt_safetensors_open(path);
    ck_assert_ptr_nonnull(st);
    ck_assert_ptr_null(vt_safetensors_get(st, "t"));
    ck_assert_msg(strstr(vt_last_error(), "6 dims") && strstr(vt_last_error(), path), "%s", vt_last_error());
    vt_safetensors_close(st);
}
END_TEST

START_TEST(not_a_file) {
    expect_open_error(tmp_path("absent.safetensors"), "cannot open");
    expect_open_error(tmpdir, "is a directory");
}
END_TEST

START_TEST(corrupt_headers) {
    static const float data[4] = {1, 2, 3, 4};
    const char *path;
    /* fewer than 8 bytes */
    path = tmp_path("tiny.safetensors");
    write_all(path, "\x05\0\0", 3);
    expect_open_error(path, "too short");
    /* header length beyond the file, beyond the limit, tiny */
    expect_open_error(make_file("a.safetensors", 4096, T, data, sizeof data), "larger than");
    expect_open_error(make_file("b.safetensors", (int64_t)1 << 62, T, data, sizeof data), "exceeds");
    expect_open_error(make_file("c.safetensors", 0, T, data, sizeof data), "header of 0 bytes");
    /* truncated header: the length cuts the JSON short */
    expect_open_error(make_file("d.safetensors", 24, T, data, sizeof data), "unterminated string");
    expect_open_error(make_file("e.safetensors", (int64_t)strlen(T) - 1, T, data, sizeof data), "expected ',' or '}'");
    /* bad JSON */
    expect_bad_header("{\"t\" {}}", "expected ':'");
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}} x", "trailing characters");
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[4,],\"data_offsets\":[0,16]}}", "expected a non-negative integer");
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},}", "expected '\"'");
    expect_bad_header("{t:1}", "expected '\"'");
    expect_bad_header("{\"t\":[1]}", "is not an object");
    expect_bad_header("{\"t\":{\"dtype\":\"F\\x32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "bad escape");
    expect_bad_header("{\"t\\ud800\":{}}", "unpaired surrogate");
    expect_bad_header("{\"t\\u0000\":{}}", "NUL character");
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[4.0],\"data_offsets\":[0,16]}}", "fraction or exponent");
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[04],\"data_offsets\":[0,16]}}", "leading zero");
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16],\"x\":1}}", "unknown field 'x'");
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "duplicate field 'dtype'");
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[4]}}", "lacks \"data_offsets\"");
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16,20]}}", "too many values");
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16]}}", "needs 2 values");
    expect_bad_header("{\"__metadata__\":{\"a\":1}}", "values must be strings");
    expect_bad_header("{\"__metadata__\":{\"a\":\"b\",\"a\":\"c\"}}", "duplicate __metadata__ key 'a'");
    expect_bad_header("{\"__metadata__\":{},\"__metadata__\":{}}", "duplicate __metadata__");
    /* unknown dtypes */
    expect_bad_header("{\"t\":{\"dtype\":\"F8_E4M3\",\"shape\":[16],\"data_offsets\":[0,16]}}", "unsupported dtype 'F8_E4M3'");
    expect_bad_header("{\"t\":{\"dtype\":\"f32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "unsupported dtype 'f32'");
    /* negative, huge and overflowing dims */
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", "negative number");
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[2199023255552],\"data_offsets\":[0,16]}}", "is absurd");
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,16]}}", "integer too large");
    expect_bad_header("{\"t\":{\"dtype\":\"U8\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,16]}}", "too many elements");
    expect_bad_header("{\"t\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", "too many values");
    /* offsets and byte counts */
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[5],\"data_offsets\":[0,20]}}", "outside the data buffer of 16 bytes");
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[16,0]}}", "outside the data buffer");
    expect_bad_header("{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", "need 12 bytes");
    expect_bad_header("{\"t\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", "need 12 bytes");
    expect_bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", "overlap");
    expect_bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                      "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "overlap");
    expect_bad_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", "duplicate tensor name 'a'");
    /* the model loader reports the same errors */
    path = make_file("f.safetensors", 4096, T, data, sizeof data);
    vt_params *p = vt_params_new();
    vt_params_add(p, "t", VT_DIMS(4));
    ck_assert_int_eq(vt_params_load_safetensors(p, path, NULL), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), path));
    vt_params_free(p);
}
END_TEST

START_TEST(truncated_after_open) {
    static const float data[4] = {1, 2, 3, 4};
    const char *path = make_file("g.safetensors", -1, T, data, sizeof data);
    vt_safetensors *st = vt_safetensors_open(path);
    ck_assert_ptr_nonnull(st);
    ck_assert_int_eq(truncate(path, 8 + (off_t)strlen(T) + 8), 0);
    float out[4];
    ck_assert_int_eq(vt_safetensors_read(st, 0, out, 4), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "read failed") && strstr(vt_last_error(), path), "%s", vt_last_error());
    ck_assert_int_eq(vt_safetensors_read(st, 0, out, 3), VT_ERR);
    ck_assert_ptr_nonnull(strstr(vt_last_error(), "3 requested"));
    vt_safetensors_close(st);
}
END_TEST

/* a deterministic byte-flipping sweep over a valid file: never a crash, and every failure
 * names the file */
START_TEST(mutation_sweep) {
    vt_params *p = roundtrip_params(1.f, 1);
    const char *path = tmp_path("m.safetensors");
    ck_assert_int_eq(vt_params_save_safetensors(p, path, "{\"k\":\"v\"}"), VT_OK);
    FILE *f = fopen(path, "rb");
    unsigned char buf[2048];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_lt(n, sizeof buf);
    vt_rng r;
    vt_rng_init(&r, 7);
    const char *mpath = tmp_path("mut.safetensors");
    for (int it = 0; it < 400; it++) {
        unsigned char m[2048];
        memcpy(m, buf, n);
        size_t len = n;
        uint32_t pos = vt_rng_u32(&r) % (uint32_t)n, kind = vt_rng_u32(&r) % 3;
        if (kind == 0) m[pos] = (unsigned char)vt_rng_u32(&r);
        else if (kind == 1) m[pos] = "{}[]\":,0123456789-"[vt_rng_u32(&r) % 18];
        else len = pos;
        write_all(mpath, m, len);
        vt_safetensors *st = vt_safetensors_open(mpath);
        if (!st) {
            ck_assert_msg(strstr(vt_last_error(), mpath), "iteration %d: %s", it, vt_last_error());
            continue;
        }
        for (int i = 0; i < vt_safetensors_count(st); i++) {
            vt_tensor *t = vt_safetensors_get(st, vt_safetensors_name(st, i));
            vt_tensor_free(t);
        }
        vt_safetensors_close(st);
        vt_params *q = roundtrip_params(0.f, 1);
        if (vt_params_load_safetensors(q, mpath, NULL) != VT_OK) ck_assert_ptr_nonnull(strstr(vt_last_error(), mpath));
        vt_params_free(q);
    }
    vt_params_free(p);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("safetensors");
    TCase *c = tcase_create("safetensors");
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, round_trip_bit_identical);
    tcase_add_test(c, writer_refuses_bad_metadata);
    tcase_add_test(c, python_dtypes);
    tcase_add_test(c, torchvision_state_dict);
    tcase_add_test(c, rgb_conv_loads_into_grey_model);
    tcase_add_test(c, key_checks_strict_and_not);
    tcase_add_test(c, prefix_map);
    tcase_add_test(c, valid_baseline_opens);
    tcase_add_test(c, not_a_file);
    tcase_add_test(c, corrupt_headers);
    tcase_add_test(c, truncated_after_open);
    tcase_add_test(c, mutation_sweep);
    suite_add_tcase(s, c);
    return s;
}

VT_TEST_MAIN(suite)
