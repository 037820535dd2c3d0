/* test_config.c: config files (train/config.h): values, messages with FILE:LINE, --set,
 * the resolved file round trip, the docs table, and the fuzz harness on ~200 mutations. */
#include <stdlib.h>
#include <unistd.h>
#include "config.h"
#include "vt_test.h"
#include "../fuzz/fuzz_config.c"

static const char *valid =
    "# a run\n"
    "name = \"spine # one\"   # quoted value keeps the '#'\n"
    "seed = 7\n"
    "\n"
    "[train]\n"
    "epochs = 3\n"
    "augment = off\n"
    "data_dir = /data/ct\n"
    "[optim]\n"
    "  name = sgd  \n"
    "lr = 2.5e-2 # inline comment\n"
    "milestones = 1, 2,3\r\n"
    "lr_scheduler = step\n";

static vt_config *parsed(const char *text, const char *name) {
    vt_config *c = vt_config_new(fuzz_schema);
    ck_assert_msg(c != NULL, "%s", vt_last_error());
    if (vt_config_parse_string(c, text, strlen(text), name) != VT_OK) {
        vt_config_free(c);
        return NULL;
    }
    return c;
}

/* the message of parsing `text` (which must fail) */
static const char *error_of(const char *text) {
    vt_config *c = parsed(text, "examples/x/config");
    ck_assert_msg(c == NULL, "expected an error for <<%s>>", text);
    return vt_last_error();
}

#define EXPECT_ERROR(text, want)                                                                    \
    do {                                                                                            \
        const char *got_ = error_of(text);                                                          \
        ck_assert_msg(strstr(got_, want) != NULL, "got '%s', want '%s'", got_, want);               \
    } while (0)

START_TEST(values_defaults_and_sources) {
    vt_config *c = parsed(valid, "run.cfg");
    ck_assert_msg(c != NULL, "%s", vt_last_error());
    ck_assert_str_eq(vt_config_string(c, "name"), "spine # one");
    ck_assert_int_eq(vt_config_int(c, "seed"), 7);
    ck_assert_int_eq(vt_config_int(c, "train.epochs"), 3);
    ck_assert_int_eq(vt_config_int(c, "train.batch_size"), 32); /* default */
    ck_assert_int_eq(vt_config_bool(c, "train.augment"), 0);
    ck_assert_str_eq(vt_config_string(c, "train.data_dir"), "/data/ct");
    ck_assert_int_eq(vt_config_enum(c, "optim.name"), 0);
    const char *opt = vt_config_string(c, "optim.name");
    ck_assert_str_eq(vt_config_string(c, "optim.name"), "sgd");
    ck_assert_str_eq(opt, "sgd"); /* still valid after a second call */
    ck_assert(vt_config_float(c, "optim.lr") == 2.5e-2);
    ck_assert(vt_config_float(c, "optim.momentum") == 0.9);
    const int64_t *m;
    ck_assert_int_eq(vt_config_int_list(c, "optim.milestones", &m), 3);
    ck_assert(m[0] == 1 && m[1] == 2 && m[2] == 3);
    ck_assert_str_eq(vt_config_source(c, "optim.lr"), "run.cfg:11");
    ck_assert_str_eq(vt_config_source(c, "optim.momentum"), "default");
    ck_assert_int_eq(vt_config_check_required(c), VT_OK);
    vt_config_free(c);
    /* an empty int list */
    c = parsed("[optim]\nmilestones =\n", "e");
    ck_assert_int_eq(vt_config_int_list(c, "optim.milestones", NULL), 0);
    vt_config_free(c);
}
END_TEST

START_TEST(errors_name_file_and_line) {
    char text[512];
    snprintf(text, sizeof text, "[optim]\n%s", "\n\n\n\n\n\n\n\n\n\nlr_sheduler = cosine\n");
    const char *got = error_of(text);
    ck_assert_str_eq(got, "examples/x/config:12: unknown key 'lr_sheduler' in [optim] (did you mean 'lr_scheduler'?)");
    EXPECT_ERROR("[optm]\n", "examples/x/config:1: unknown section [optm] (did you mean [optim]?)");
    EXPECT_ERROR("[train]\nlr = 1\n", "config:2: unknown key 'lr' in [train] (it belongs in [optim])");
    EXPECT_ERROR("[train]\nepochs = three\n", "config:2: bad int 'three' for 'epochs' in [train]");
    EXPECT_ERROR("[train]\nepochs = 0\n", "config:2: 'epochs' in [train] = 0 is out of range [1, 1000]");
    EXPECT_ERROR("[train]\nepochs = 99999999999999999999\n", "bad int");
    EXPECT_ERROR("[optim]\nlr = nan\n", "config:2: bad float 'nan'");
    EXPECT_ERROR("[optim]\nlr = 1e999\n", "bad float");
    EXPECT_ERROR("[optim]\nlr = 0.1x\n", "bad float '0.1x'");
    EXPECT_ERROR("[optim]\nname = adm\n", "bad value 'adm' for 'name' in [optim]: expected one of sgd/adam/adamw (did you mean 'adam'?)");
    EXPECT_ERROR("[train]\naugment = maybe\n", "config:2: bad bool 'maybe'");
    EXPECT_ERROR("[optim]\nmilestones = 1,,2\n", "item 2: expected an integer");
    EXPECT_ERROR("[optim]\nmilestones = 1, -5\n", "item 2 = -5 is out of range");
    EXPECT_ERROR("seed = 1\n[train]\nepochs = 2\n\nepochs = 3\n", "config:5: duplicate key 'epochs' in [train] (first set on line 3)");
    EXPECT_ERROR("[train]\nepochs 3\n", "config:2: expected 'key = value'");
    EXPECT_ERROR("[train\n", "config:1: section header without ']'");
    EXPECT_ERROR("[train] x\n", "unexpected text after the section header");
    EXPECT_ERROR(" = 3\n", "missing key name");
    EXPECT_ERROR("name = \"abc\n", "config:1: 'name': unterminated quoted value");
    EXPECT_ERROR("name = \"a\" b\n", "unexpected text after the closing quote");
    EXPECT_ERROR("name = \"a\\q\"\n", "unknown escape");
    /* a NUL byte, a long line, a huge file */
    vt_config *c = vt_config_new(fuzz_schema);
    ck_assert_int_eq(vt_config_parse_string(c, "seed = 1\nse\0ed = 2\n", 19, "bin"), VT_ERR);
    ck_assert_str_eq(vt_last_error(), "bin:2: NUL byte in line (not a text file?)");
    size_t n = VT_CONFIG_MAX_BYTES + 10;
    char *big = malloc(n);
    memset(big, 'a', n);
    ck_assert_int_eq(vt_config_parse_string(c, big, VT_CONFIG_MAX_LINE + 5, "long"), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "long:1: line longer than") != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_config_parse_string(c, big, n, "huge"), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "more than the limit") != NULL, "%s", vt_last_error());
    free(big);
    ck_assert_int_eq(vt_config_parse_file(c, "/nonexistent/run.cfg"), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "/nonexistent/run.cfg: cannot open") != NULL, "%s", vt_last_error());
    /* required key never set */
    ck_assert_int_eq(vt_config_check_required(c), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "missing required key 'data_dir' in [train]") != NULL, "%s", vt_last_error());
    vt_config_free(c);
}
END_TEST

START_TEST(set_overrides) {
    vt_config *c = parsed(valid, "run.cfg");
    ck_assert_int_eq(vt_config_set(c, "optim.lr=0.5"), VT_OK);
    ck_assert(vt_config_float(c, "optim.lr") == 0.5);
    ck_assert_str_eq(vt_config_source(c, "optim.lr"), "--set");
    ck_assert_int_eq(vt_config_set(c, "seed = 12"), VT_OK);
    ck_assert_int_eq(vt_config_int(c, "seed"), 12);
    ck_assert_int_eq(vt_config_set(c, "name=a # b"), VT_OK); /* no comments on the command line */
    ck_assert_str_eq(vt_config_string(c, "name"), "a # b");
    ck_assert_int_eq(vt_config_set(c, "optim.lr=abc"), VT_ERR);
    ck_assert_str_eq(vt_last_error(), "--set optim.lr=abc: bad float 'abc' for 'lr' in [optim]");
    ck_assert(vt_config_float(c, "optim.lr") == 0.5); /* unchanged by a failed override */
    ck_assert_int_eq(vt_config_set(c, "optim.lr_sheduler=step"), VT_ERR);
    ck_assert_str_eq(vt_last_error(), "--set optim.lr_sheduler=step: unknown key 'lr_sheduler' in [optim] (did you mean 'lr_scheduler'?)");
    ck_assert_int_eq(vt_config_set(c, "optm.lr=1"), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "unknown section [optm] (did you mean [optim]?)") != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_config_set(c, "optim.lr"), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), "expected section.key=value") != NULL, "%s", vt_last_error());
    vt_config_free(c);
    /* load: file, then overrides, then the required check */
    const char *sets[] = {"train.data_dir=/x", "optim.name=adamw"};
    c = vt_config_load(fuzz_schema, NULL, 2, sets);
    ck_assert_msg(c != NULL, "%s", vt_last_error());
    ck_assert_str_eq(vt_config_string(c, "optim.name"), "adamw");
    vt_config_free(c);
    ck_assert(vt_config_load(fuzz_schema, NULL, 1, sets + 1) == NULL);
    ck_assert_msg(strstr(vt_last_error(), "--set train.data_dir=") != NULL, "%s", vt_last_error());
}
END_TEST

START_TEST(resolved_file_round_trip) {
    vt_config *c = parsed(valid, "run.cfg");
    ck_assert_int_eq(vt_config_set(c, "name=quote \" back\\slash\ttab"), VT_OK);
    ck_assert_int_eq(vt_config_set(c, "optim.lr=0.1"), VT_OK);
    char path[256];
    snprintf(path, sizeof path, "/tmp/vt_test_config_%ld.resolved", (long)getpid());
    ck_assert_msg(vt_config_write(c, path) == VT_OK, "%s", vt_last_error());
    vt_config *r = vt_config_load(fuzz_schema, path, 0, NULL);
    ck_assert_msg(r != NULL, "%s", vt_last_error());
    ck_assert_str_eq(vt_config_string(r, "name"), "quote \" back\\slash\ttab");
    ck_assert_int_eq(vt_config_int(r, "seed"), 7);
    ck_assert_int_eq(vt_config_int(r, "train.epochs"), 3);
    ck_assert_int_eq(vt_config_int(r, "train.batch_size"), 32);
    ck_assert_int_eq(vt_config_bool(r, "train.augment"), 0);
    ck_assert_str_eq(vt_config_string(r, "optim.name"), "sgd");
    ck_assert(vt_config_float(r, "optim.lr") == 0.1);
    ck_assert(vt_config_float(r, "optim.momentum") == 0.9);
    ck_assert_int_eq(vt_config_int_list(r, "optim.milestones", NULL), 3);
    ck_assert_str_eq(vt_config_string(r, "optim.lr_scheduler"), "step");
    char *a = vt_config_to_string(c), *b = vt_config_to_string(r);
    ck_assert_msg(strstr(a, "\n\n[optim]\n# optimizer (enum; from run.cfg:10)\nname = sgd\n# learning rate (float; from --set)\nlr = 0.1\n") != NULL, "%s", a);
    ck_assert_msg(strstr(a, "batch_size = 32\n") != NULL, "%s", a); /* defaults written too */
    ck_assert(strstr(b, "lr = 0.1\n") != NULL);
    free(a);
    free(b);
    /* a float that needs all 17 digits survives */
    ck_assert_int_eq(vt_config_set(c, "optim.lr=0.30000000000000004"), VT_OK);
    ck_assert_int_eq(vt_config_write(c, path), VT_OK);
    vt_config_free(r);
    r = vt_config_load(fuzz_schema, path, 0, NULL);
    ck_assert(vt_config_float(r, "optim.lr") == 0.30000000000000004);
    vt_config_free(r);
    vt_config_free(c);
    unlink(path);
}
END_TEST

START_TEST(doc_table_and_schema_errors) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    vt_config_doc(fuzz_schema, f);
    fclose(f);
    ck_assert_msg(strstr(buf, "| `lr` | float | `0.001` | 0 .. 10 | learning rate |") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "| `name` | enum | `adam` | sgd, adam, adamw | optimizer |") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "| `data_dir` | string | (required) |") != NULL, "%s", buf);
    ck_assert(strstr(buf, "[optim]\n") != NULL && strstr(buf, "[train]\n") != NULL);
    free(buf);
    const vt_cfg_key twice[] = {{"a", "x", VT_CFG_INT, "1", 0, 0, NULL, ""}, {"a", "x", VT_CFG_INT, "2", 0, 0, NULL, ""}, {0}};
    ck_assert(vt_config_new(twice) == NULL);
    ck_assert_str_eq(vt_last_error(), "config schema: key 'a.x' declared twice");
    const vt_cfg_key bad_default[] = {{"a", "x", VT_CFG_INT, "1.5", 0, 0, NULL, ""}, {0}};
    ck_assert(vt_config_new(bad_default) == NULL);
    ck_assert_msg(strstr(vt_last_error(), "default of 'a.x': bad int '1.5'") != NULL, "%s", vt_last_error());
    const vt_cfg_key no_choices[] = {{"a", "x", VT_CFG_ENUM, "p", 0, 0, NULL, ""}, {0}};
    ck_assert(vt_config_new(no_choices) == NULL);
}
END_TEST

/* xorshift64*, so the corpus is the same on every run */
static uint64_t next(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

START_TEST(fuzz_corpus_of_mutations) {
    static const char special[] = "=[]#\"\\\n\r\t ,.\0\xff";
    size_t base = strlen(valid);
    char *buf = malloc(2 * VT_CONFIG_MAX_LINE + base);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    int parsed_ok = 0;
    for (int iter = 0; iter < 200; iter++) {
        size_t n = base;
        memcpy(buf, valid, base);
        int edits = 1 + (int)(next(&s) % 4);
        for (int e = 0; e < edits; e++) {
            uint64_t r = next(&s);
            size_t at = n ? (size_t)(r >> 8) % n : 0;
            switch (r % 6) {
            case 0: if (n) buf[at] ^= (char)(1u << ((r >> 40) % 8)); break;             /* bit flip */
            case 1: if (n) buf[at] = special[(r >> 40) % (sizeof special - 1)]; break;   /* special byte */
            case 2: memmove(buf + at + 1, buf + at, n - at); buf[at] = special[(r >> 40) % (sizeof special - 1)]; n++; break;
            case 3: if (n) { memmove(buf + at, buf + at + 1, n - at - 1); n--; } break;   /* delete */
            case 4: n = at; break;                                                      /* truncate */
            case 5: if (n + 64 < base * 2) { size_t k = (r >> 40) % 32; if (at + k > n) k = n - at;
                        memmove(buf + at + k, buf + at, n - at); n += k; } break;           /* duplicate a chunk */
            }
        }
        vt_config *c = vt_config_new(fuzz_schema);
        parsed_ok += vt_config_parse_string(c, buf, n, "m") == VT_OK;
        vt_config_free(c);
        LLVMFuzzerTestOneInput((const uint8_t *)buf, n);
    }
    /* a long line without '=' and binary-looking input */
    memset(buf, 'k', 2 * VT_CONFIG_MAX_LINE);
    LLVMFuzzerTestOneInput((const uint8_t *)buf, 2 * VT_CONFIG_MAX_LINE);
    LLVMFuzzerTestOneInput((const uint8_t *)"\0\0\xff[", 4);
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
    free(buf);
    /* the mutations are not all rejected, nor all accepted: the corpus is meaningful */
    ck_assert_msg(parsed_ok > 10 && parsed_ok < 190, "%d of 200 mutations parsed", parsed_ok);
}
END_TEST

static Suite *config_suite(void) {
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, values_defaults_and_sources);
    tcase_add_test(tc, errors_name_file_and_line);
    tcase_add_test(tc, set_overrides);
    tcase_add_test(tc, resolved_file_round_trip);
    tcase_add_test(tc, doc_table_and_schema_errors);
    tcase_add_test(tc, fuzz_corpus_of_mutations);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(config_suite)
