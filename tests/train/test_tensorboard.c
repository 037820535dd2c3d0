/* test_tensorboard.c: event files read back by an independent minimal TFRecord + protobuf
 * reader (bitwise CRC-32C, generic wire-format decoding), plus the CRC check values. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tensorboard.h"
#include "vt_test.h"

/* bit-by-bit CRC-32C, independent of the table-driven one under test */
static uint32_t crc32c_bitwise(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}
static uint32_t masked(const uint8_t *p, size_t n) {
    uint32_t c = crc32c_bitwise(p, n);
    return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}
static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

typedef struct event {
    double wall;
    int64_t step;
    char version[64];
    char tag[64];
    float value;
    int has_value;
} event;

/* protobuf reader: returns 0 on malformed input */
static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return 1;
    }
    return 0;
}
/* walks one message, calling back for each field: wire type 0 (v), 1/5 (fixed bytes), 2 (sub) */
typedef void (*field_fn)(int field, int wire, uint64_t v, const uint8_t *sub, size_t n, void *ctx);
static int walk(const uint8_t *p, size_t n, field_fn fn, void *ctx) {
    const uint8_t *end = p + n;
    while (p < end) {
        uint64_t key, v = 0;
        if (!varint(&p, end, &key)) return 0;
        int field = (int)(key >> 3), wire = (int)(key & 7);
        const uint8_t *sub = NULL;
        size_t len = 0;
        if (wire == 0) { if (!varint(&p, end, &v)) return 0; }
        else if (wire == 1 || wire == 5) {
            len = wire == 1 ? 8 : 4;
            if ((size_t)(end - p) < len) return 0;
            sub = p; p += len;
        } else if (wire == 2) {
            if (!varint(&p, end, &v) || v > (uint64_t)(end - p)) return 0;
            sub = p; len = (size_t)v; p += len;
        } else return 0;
        fn(field, wire, v, sub, len, ctx);
    }
    return 1;
}
static void on_value(int field, int wire, uint64_t v, const uint8_t *sub, size_t n, void *ctx) {
    event *e = ctx;
    if (field == 1 && wire == 2) snprintf(e->tag, sizeof e->tag, "%.*s", (int)n, (const char *)sub);
    if (field == 2 && wire == 5) { uint32_t b = (uint32_t)le(sub, 4); memcpy(&e->value, &b, 4); e->has_value = 1; }
}
static void on_summary(int field, int wire, uint64_t v, const uint8_t *sub, size_t n, void *ctx) {
    if (field == 1 && wire == 2) ck_assert(walk(sub, n, on_value, ctx));
}
static void on_event(int field, int wire, uint64_t v, const uint8_t *sub, size_t n, void *ctx) {
    event *e = ctx;
    if (field == 1 && wire == 1) { uint64_t b = le(sub, 8); memcpy(&e->wall, &b, 8); }
    else if (field == 2 && wire == 0) e->step = (int64_t)v;
    else if (field == 3 && wire == 2) snprintf(e->version, sizeof e->version, "%.*s", (int)n, (const char *)sub);
    else if (field == 5 && wire == 2) ck_assert(walk(sub, n, on_summary, ctx));
    else ck_abort_msg("unexpected Event field %d wire %d", field, wire);
}

/* reads every record of path, checking both CRCs; returns the number of events */
static int read_events(const char *path, event *out, int max) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static uint8_t buf[1 << 16];
    size_t size = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t pos = 0;
    int n = 0;
    while (pos < size) {
        ck_assert_msg(size - pos >= 16, "truncated record at byte %zu", pos);
        uint64_t len = le(buf + pos, 8);
        ck_assert_msg(le(buf + pos + 8, 4) == masked(buf + pos, 8), "length CRC of record %d", n);
        ck_assert(len <= size - pos - 16);
        const uint8_t *data = buf + pos + 12;
        ck_assert_msg(le(data + len, 4) == masked(data, (size_t)len), "data CRC of record %d", n);
        ck_assert(n < max);
        memset(&out[n], 0, sizeof out[n]);
        ck_assert_msg(walk(data, (size_t)len, on_event, &out[n]), "record %d is not a protobuf", n);
        n++;
        pos += 16 + (size_t)len;
    }
    return n;
}

START_TEST(crc32c_check_values) {
    /* RFC 3720 / iSCSI check value, and 32 zero bytes (RFC 3720 B.4: 0x8a9136aa) */
    ck_assert_uint_eq(vt_crc32c(0, "123456789", 9), 0xE3069283u);
    uint8_t zeros[32] = {0};
    ck_assert_uint_eq(vt_crc32c(0, zeros, 32), 0x8A9136AAu);
    ck_assert_uint_eq(crc32c_bitwise(zeros, 32), 0x8A9136AAu);
    /* continuing a CRC over a split buffer */
    ck_assert_uint_eq(vt_crc32c(vt_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}
END_TEST

static void make_dir(char *dir, size_t n, const char *what) {
    snprintf(dir, n, "/tmp/vt_test_tb_%s_%ld", what, (long)getpid());
    mkdir(dir, 0755);
}
static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') { snprintf(p, sizeof p, "%s/%s", dir, e->d_name); unlink(p); }
    if (d) closedir(d);
    rmdir(dir);
}

START_TEST(scalars_read_back) {
    char dir[256];
    make_dir(dir, sizeof dir, "scalars");
    vt_tb_writer *w = vt_tb_open(dir);
    ck_assert_msg(w != NULL, "%s", vt_last_error());
    const char *name = strrchr(vt_tb_path(w), '/') + 1;
    ck_assert_msg(!strncmp(name, "events.out.tfevents.", 20), "%s", name);
    const float loss[] = {2.5f, 1.25f, 0.6f, -3e-8f};
    for (int i = 0; i < 4; i++) ck_assert_int_eq(vt_tb_scalar_at(w, "train/loss", 100 * i, loss[i], 1.7e9 + i), VT_OK);
    ck_assert_int_eq(vt_tb_scalar(w, "val/accuracy", 1LL << 40, 0.875f), VT_OK);
    ck_assert_int_eq(vt_tb_scalar(w, "", 1, 0), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "tag length 0") != NULL, "%s", vt_last_error());
    char path[512];
    snprintf(path, sizeof path, "%s", vt_tb_path(w));
    ck_assert_int_eq(vt_tb_close(w), VT_OK);

    event ev[8];
    int n = read_events(path, ev, 8);
    ck_assert_int_eq(n, 6);
    ck_assert_str_eq(ev[0].version, "brain.Event:2");
    ck_assert(!ev[0].has_value && ev[0].wall > 1.6e9);
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(ev[1 + i].tag, "train/loss");
        ck_assert(ev[1 + i].value == loss[i] && ev[1 + i].step == 100 * i && ev[1 + i].wall == 1.7e9 + i);
    }
    ck_assert_str_eq(ev[5].tag, "val/accuracy");
    ck_assert(ev[5].value == 0.875f && ev[5].step == 1LL << 40 && fabs(ev[5].wall - ev[0].wall) < 60);

    /* a second writer in the same directory gets its own file */
    vt_tb_writer *w2 = vt_tb_open(dir);
    ck_assert(w2 != NULL && strcmp(vt_tb_path(w2), path) != 0);
    ck_assert_int_eq(vt_tb_close(w2), VT_OK);
    /* no directory */
    ck_assert(vt_tb_open("/nonexistent/run") == NULL);
    ck_assert_msg(strstr(vt_last_error(), "/nonexistent/run/events.out.tfevents.") != NULL, "%s", vt_last_error());
    remove_dir(dir);
}
END_TEST

START_TEST(damaged_record_is_detected) {
    /* the reader is not a rubber stamp: one flipped byte breaks the data CRC */
    char dir[256];
    make_dir(dir, sizeof dir, "damage");
    vt_tb_writer *w = vt_tb_open(dir);
    ck_assert(w != NULL);
    ck_assert_int_eq(vt_tb_scalar_at(w, "x", 1, 1.f, 0), VT_OK);
    char path[512];
    snprintf(path, sizeof path, "%s", vt_tb_path(w));
    ck_assert_int_eq(vt_tb_close(w), VT_OK);
    FILE *f = fopen(path, "rb");
    uint8_t buf[512];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    uint64_t first = le(buf, 8);
    size_t second = 16 + (size_t)first;
    ck_assert(n > second + 20);
    ck_assert(le(buf + second + 8, 4) == masked(buf + second, 8));
    uint64_t len2 = le(buf + second, 8);
    ck_assert(le(buf + second + 12 + len2, 4) == masked(buf + second + 12, (size_t)len2));
    buf[second + 14] ^= 1;
    ck_assert(le(buf + second + 12 + len2, 4) != masked(buf + second + 12, (size_t)len2));
    remove_dir(dir);
}
END_TEST

static Suite *tensorboard_suite(void) {
    Suite *s = suite_create("tensorboard");
    TCase *tc = tcase_create("tensorboard");
    tcase_add_test(tc, crc32c_check_values);
    tcase_add_test(tc, scalars_read_back);
    tcase_add_test(tc, damaged_record_is_detected);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(tensorboard_suite)
