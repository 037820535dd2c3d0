/* test_fuzz_corpus.c: the file-format fuzz harnesses of tests/fuzz (NIfTI, PNG, NPY, CSV)
 * driven by a deterministic corpus in every `make test`: valid seed files (fixtures and
 * small files written here) and a few hundred seeded mutations of each (bit flips,
 * truncations, inserted and deleted bytes, huge length / dimension fields, text tokens).
 * A failure is a crash, an ASan report (SAN=1), a harness property trap, or a peak RSS
 * over 512 MiB (a reader that sized a buffer from a lying header). The regression cases
 * below are inputs that once crashed a reader. */
#include <sys/resource.h>
#include "vt_test.h"
#define VT_FUZZ_NO_ENTRY
#include "../fuzz/fuzz_csv.c"
#include "../fuzz/fuzz_nifti.c"
#include "../fuzz/fuzz_npy.c"
#include "../fuzz/fuzz_png.c"

typedef int (*harness_fn)(const uint8_t *data, size_t size);

typedef struct { uint8_t *data; size_t size; } blob;

static uint64_t next_rand(uint64_t *s) { /* splitmix64: the corpus depends only on the seed */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static blob read_fixture(const char *name) {
    const char *dir = getenv("VT_FIXTURES");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/fixtures", name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "missing fixture %s", path);
    blob b = {malloc(1 << 16), 0};
    b.size = fread(b.data, 1, 1 << 16, f);
    fclose(f);
    ck_assert_msg(b.size > 0 && b.size < (1 << 16), "%s: unexpected size", path);
    return b;
}

static blob blob_of_text(const char *s) {
    blob b = {malloc(strlen(s) + 1), strlen(s)};
    memcpy(b.data, s, b.size);
    return b;
}

/* bytes of a file written by one of the library's writers */
static blob blob_of_file(const char *path) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s", path);
    blob b = {malloc(1 << 16), 0};
    b.size = fread(b.data, 1, 1 << 16, f);
    fclose(f);
    remove(path);
    return b;
}

/* Text tokens for CSV mutations: quoting, separators, line ends, NUL, numbers. */
static const char *const TOKENS[] = {"\"", ",", "\n", "\r", "\r\n", "\"\"", "", "nan", "-1", "1e308",
                                     "99999999999999999999", "No finding", "\xEF\xBB\xBF", " ", "0.5"};

/* One mutation of seed (kind chosen by r): the result is a fresh heap blob. Header-ish
 * mutations aim at the first 600 bytes, where every format keeps its length fields. */
static blob mutate(const blob *seed, uint64_t *r) {
    size_t n = seed->size, cap = n + 64;
    blob m = {malloc(cap), n};
    memcpy(m.data, seed->data, n);
    size_t head = n < 600 ? n : 600;
    int kind = (int)(next_rand(r) % 7);
    switch (kind) {
    case 0: { /* 1..4 bit flips */
        int k = 1 + (int)(next_rand(r) % 4);
        for (int i = 0; i < k && n; i++) m.data[next_rand(r) % n] ^= (uint8_t)(1u << (next_rand(r) % 8));
        break;
    }
    case 1: /* truncation */
        m.size = n ? next_rand(r) % n : 0;
        break;
    case 2: { /* 1..16 random bytes inserted */
        size_t k = 1 + next_rand(r) % 16, at = n ? next_rand(r) % (n + 1) : 0;
        memmove(m.data + at + k, m.data + at, n - at);
        for (size_t i = 0; i < k; i++) m.data[at + i] = (uint8_t)next_rand(r);
        m.size = n + k;
        break;
    }
    case 3: { /* a 2/4/8-byte field in the header set to an extreme value, either byte order */
        static const uint64_t EXTREME[] = {0xFFFFFFFFFFFFFFFFull, 0x7FFFFFFFull, 0x80000000ull, 0x7FFFull,
                                           0x8000ull, 0x7FFFFFFFFFFFFFFFull, 0, 1ull << 40, 0x40000000ull};
        int w = 2 << (next_rand(r) % 3);
        if (head < (size_t)w) break;
        size_t at = next_rand(r) % (head - (size_t)w + 1);
        uint64_t v = EXTREME[next_rand(r) % (sizeof EXTREME / sizeof *EXTREME)];
        int big = (int)(next_rand(r) & 1);
        for (int i = 0; i < w; i++) m.data[at + (big ? w - 1 - i : i)] = (uint8_t)(v >> (8 * i));
        break;
    }
    case 4: { /* a chunk deleted */
        if (!n) break;
        size_t at = next_rand(r) % n, k = 1 + next_rand(r) % 32;
        if (k > n - at) k = n - at;
        memmove(m.data + at, m.data + at + k, n - at - k);
        m.size = n - k;
        break;
    }
    case 5: { /* a text token inserted (CSV quoting, NUL, numbers; harmless noise for binaries) */
        const char *t = TOKENS[next_rand(r) % (sizeof TOKENS / sizeof *TOKENS)];
        size_t k = strlen(t) ? strlen(t) : 1, at = n ? next_rand(r) % (n + 1) : 0;
        memmove(m.data + at + k, m.data + at, n - at);
        if (strlen(t)) memcpy(m.data + at, t, k);
        else m.data[at] = 0;
        m.size = n + k;
        break;
    }
    default: { /* a header byte set to 0x00 / 0xFF / '9' */
        if (!head) break;
        static const uint8_t V[] = {0, 0xFF, '9', 0x80};
        m.data[next_rand(r) % head] = V[next_rand(r) % 4];
        break;
    }
    }
    return m;
}

/* Runs fn on every seed and on `mutations` mutants spread over the seeds; then checks the
 * process never grew past 512 MiB. Returns the number of inputs run. */
static int run_corpus(harness_fn fn, blob *seeds, int n_seeds, int mutations, uint64_t seed) {
    uint64_t r = seed;
    int runs = 0;
    for (int s = 0; s < n_seeds; s++, runs++) fn(seeds[s].data, seeds[s].size);
    for (int i = 0; i < mutations; i++, runs++) {
        blob m = mutate(&seeds[i % n_seeds], &r);
        /* a second mutation on a third of the inputs: a flip after a length change */
        if (next_rand(&r) % 3 == 0) {
            blob m2 = mutate(&m, &r);
            free(m.data);
            m = m2;
        }
        fn(m.data, m.size);
        free(m.data);
    }
    for (int s = 0; s < n_seeds; s++) free(seeds[s].data);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    ck_assert_msg(ru.ru_maxrss < 512 * 1024, "peak RSS %ld KiB: some input made a reader allocate too much",
                  ru.ru_maxrss);
    return runs;
}

START_TEST(npy_corpus) {
    vt_tensor *t = vt_tensor_new(VT_DIMS(2, 3));
    for (int i = 0; i < 6; i++) t->data[i] = (float)i - 2.5f;
    char path[512];
    snprintf(path, sizeof path, "/tmp/vt_test_fuzz_%ld_seed.npy", (long)getpid());
    ck_assert_int_eq(vt_npy_save(path, t), VT_OK);
    vt_tensor_free(t);
    /* a version-2 header and a u1 array, hand-made */
    static const char v2[] = "\x93NUMPY\x02\x00\x3a\x00\x00\x00{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }\n\x01\x02\x03";
    blob seeds[] = {blob_of_file(path), read_fixture("relu.x0.npy"), {malloc(sizeof v2), sizeof v2 - 1}};
    memcpy(seeds[2].data, v2, sizeof v2);
    /* the seeds themselves must load (otherwise the mutants test little) */
    ck_assert_msg(vt_fuzz_write_temp("chk.npy", seeds[2].data, seeds[2].size, path, sizeof path), "tmp");
    t = vt_npy_load(path);
    ck_assert_msg(t && t->numel == 3 && t->data[2] == 3, "%s", vt_last_error());
    vt_tensor_free(t);
    remove(path);
    ck_assert_int_eq(run_corpus(vt_fuzz_npy, seeds, 3, 400, 11), 403);
}
END_TEST

START_TEST(nifti_corpus) {
    vt_tensor *t = vt_tensor_new(VT_DIMS(2, 3, 4));
    for (int i = 0; i < 24; i++) t->data[i] = (float)i;
    char path[512];
    snprintf(path, sizeof path, "/tmp/vt_test_fuzz_%ld_seed.nii", (long)getpid());
    ck_assert_int_eq(vt_nifti_save(path, t, NULL, VT_NIFTI_UINT8), VT_OK);
    vt_tensor_free(t);
    blob seeds[] = {blob_of_file(path), read_fixture("nifti_syn_n2_u1.nii"), read_fixture("nifti_syn_4d_i8.nii"),
                    read_fixture("nifti_syn_qfac_neg.nii"), read_fixture("nifti_syn_n1be_f64.nii.gz")};
    ck_assert_int_eq(run_corpus(vt_fuzz_nifti, seeds, 5, 300, 22), 305);
}
END_TEST

START_TEST(png_corpus) {
    if (!vt_png_supported()) { fprintf(stderr, "SKIP: built without libpng\n"); return; }
    uint8_t px[3 * 5 * 4];
    for (int i = 0; i < 60; i++) px[i] = (uint8_t)(i * 7);
    char path[512];
    snprintf(path, sizeof path, "/tmp/vt_test_fuzz_%ld_seed.png", (long)getpid());
    ck_assert_int_eq(vt_png_write_u8(path, px, 3, 5, 4), VT_OK);
    blob seeds[] = {blob_of_file(path), read_fixture("png_grey8.png"), read_fixture("png_grey16.png"),
                    read_fixture("png_palette4.png"), read_fixture("png_grey1_interlaced.png"),
                    read_fixture("png_rgba16.png")};
    ck_assert_int_eq(run_corpus(vt_fuzz_png, seeds, 6, 400, 33), 406);
}
END_TEST

START_TEST(csv_corpus) {
    blob seeds[] = {
        blob_of_text("image,label,patient_id\na.png,0,p1\n\"b,1.png\",3,p2\r\nc.png, 2 ,\"p \"\"3\"\"\"\n"),
        blob_of_text("\xEF\xBB\xBFimage_id,rad_id,lesion_type,xmin,ymin,xmax,ymax\n"
                     "x1,r1,Osteophytes,10,20,30.5,40\nx1,r2,Other lesions,1,2,3,4\n"
                     "x2,r1,No finding,,,,\nx3,r3,Disc space narrowing,5,5,6,6\n"),
        blob_of_text("image,label,patient_id,image_id,lesion_type,xmin,ymin,xmax,ymax\n"
                     "a,1,p,a,Osteophytes,0,0,1,1\nb,0,q,b,No finding,nan,nan,nan,nan\n"),
    };
    ck_assert_int_eq(run_corpus(vt_fuzz_csv, seeds, 3, 600, 44), 603);
}
END_TEST

/* Regression: a .npy header ending in "'descr': '" made the dtype parser read past the
 * header's terminating NUL (heap overflow under ASan). */
START_TEST(npy_descr_at_header_end) {
    static const char bad[] = "\x93NUMPY\x01\x00\x09\x00'descr':'";
    char path[512];
    ck_assert_msg(vt_fuzz_write_temp("descr.npy", bad, sizeof bad - 1, path, sizeof path), "tmp");
    ck_assert_ptr_null(vt_npy_load(path));
    ck_assert_msg(strstr(vt_last_error(), "unsupported dtype") != NULL, "%s", vt_last_error());
    remove(path);
}
END_TEST

/* Regression: a PNG declaring a 1 GB tEXt chunk (length 0x4000001d) in a 60-byte file made
 * libpng 1.6.39 malloc 1 GB before reading it; text chunks are now skipped unread. The
 * allocation itself is caught under SAN=1 by the ASan limit set below. */
START_TEST(png_huge_text_chunk) {
    if (!vt_png_supported()) return;
    static const char bad[] =
        "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x07\x00\x00\x00\x05"
        "\x10\x06\x00\x00\x00\xd9\x0a\x2a\x9b\x40\x00\x00\x1dtEXtComment\x00vertebra";
    char path[512];
    ck_assert_msg(vt_fuzz_write_temp("text.png", bad, sizeof bad - 1, path, sizeof path), "tmp");
    ck_assert_ptr_null(vt_png_load(path, NULL, NULL));
    ck_assert_msg(strstr(vt_last_error(), "bad PNG") != NULL, "%s", vt_last_error());
    remove(path);
}
END_TEST

/* Under ASan (SAN=1): any single allocation over 512 MB is a failure of this suite (no
 * reader may size a buffer from a lying header), not a silent success. */
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "max_allocation_size_mb=512"; }
#endif

static Suite *suite(void) {
    Suite *s = suite_create("fuzz_corpus");
    TCase *tc = tcase_create("readers");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, npy_corpus);
    tcase_add_test(tc, nifti_corpus);
    tcase_add_test(tc, png_corpus);
    tcase_add_test(tc, csv_corpus);
    tcase_add_test(tc, npy_descr_at_header_end);
    tcase_add_test(tc, png_huge_text_chunk);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
