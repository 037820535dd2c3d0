/* test_nifti.c: NIfTI reader/writer against nibabel (tests/ref/ref_nifti.py): the real
 * SCT volumes in ../shared/data/sct (skipped when absent), synthetic NIfTI-2 / big-endian /
 * scaled / 4D files, write -> read round trips, corrupt and truncated files. */
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include "nifti.h"
#include "vt_test.h"

#define SCT "../shared/data/sct"

static void expect_affine(const double got[4][4], const vt_tensor *want, const char *what) {
    float g[16];
    for (int i = 0; i < 16; i++) g[i] = (float)got[i / 4][i % 4];
    ck_assert_int_eq(want->numel, 16);
    vt_expect_close(g, want->data, 16, 1e-4, 1e-5, what);
}

static void expect_shape_xyz(const vt_tensor *t, const vt_tensor *want_xyz, const char *what) {
    ck_assert_msg(t->ndim >= 3, "%s: %d dims", what, t->ndim);
    for (int a = 0; a < 3; a++)
        ck_assert_msg(t->shape[t->ndim - 1 - a] == (int64_t)want_xyz->data[a], "%s: axis %d is %lld, want %g", what, a,
                      (long long)t->shape[t->ndim - 1 - a], want_xyz->data[a]);
}

/* rows (i, j, k, value) of a (20, 4) fixture against voxel (i, j, k) of a (nz, ny, nx) tensor */
static void expect_samples(const vt_tensor *t, const vt_tensor *s, const char *what) {
    int64_t nx = t->shape[2], ny = t->shape[1];
    for (int r = 0; r < s->shape[0]; r++) {
        const float *row = s->data + 4 * r;
        float got = t->data[((int64_t)row[2] * ny + (int64_t)row[1]) * nx + (int64_t)row[0]];
        char w[200];
        snprintf(w, sizeof w, "%s voxel (%g, %g, %g)", what, row[0], row[1], row[2]);
        vt_expect_close(&got, &row[3], 1, 1e-4, 1e-5, w);
    }
}

static vt_tensor *fx(const char *name, const char *what) {
    char key[400];
    snprintf(key, sizeof key, "%s.%s", name, what);
    return vt_fixture(key);
}

static void check_sct_file(const char *rel) {
    char path[512], name[256];
    snprintf(path, sizeof path, "%s/%s", SCT, rel);
    snprintf(name, sizeof name, "nifti_%s", rel);
    char *dot = strstr(name, ".nii");
    if (dot) *dot = 0;
    for (char *p = name; *p; p++) if (*p == '/') *p = '_';
    vt_nifti_header h;
    vt_tensor *t = vt_nifti_load(path, &h);
    ck_assert_msg(t != NULL, "%s", vt_last_error());
    vt_tensor *shape = fx(name, "shape"), *zooms = fx(name, "zooms"), *aff = fx(name, "affine");
    vt_tensor *stats = fx(name, "stats"), *samp = fx(name, "samples");
    expect_shape_xyz(t, shape, path);
    ck_assert_int_eq(t->ndim, 3);
    for (int a = 0; a < 3; a++) ck_assert(fabs(h.pixdim[a + 1] - zooms->data[a]) < 1e-5);
    expect_affine(h.affine, aff, path);
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < t->numel; i++) sum += t->data[i], sq += (double)t->data[i] * t->data[i];
    float got[2] = {(float)sum, (float)sq};
    vt_expect_close(got, stats->data, 2, 1e-3, 1e-5, path);
    expect_samples(t, samp, path);
    /* canonical RAS+ */
    double caff[4][4];
    vt_tensor *c = vt_nifti_canonical(t, h.affine, caff);
    ck_assert_msg(c != NULL, "%s", vt_last_error());
    vt_tensor *cshape = fx(name, "cshape"), *caffine = fx(name, "caffine"), *csamp = fx(name, "csamples");
    expect_shape_xyz(c, cshape, path);
    expect_affine(caff, caffine, path);
    expect_samples(c, csamp, path);
    vt_tensor *all[] = {t, shape, zooms, aff, stats, samp, c, cshape, caffine, csamp};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) vt_tensor_free(all[i]);
}

START_TEST(sct_files_match_nibabel) {
    FILE *f = fopen(SCT "/README.md", "r");
    if (!f) {
        fprintf(stderr, "SKIP: %s absent (real NIfTI tests)\n", SCT);
        return;
    }
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f)) { /* first table column: "| t2/t2.nii.gz, ... |" */
        if (line[0] != '|') continue;
        char *end = strchr(line + 1, '|');
        if (!end) continue;
        *end = 0;
        for (char *tok = strtok(line + 1, ","); tok; tok = strtok(NULL, ",")) {
            while (*tok == ' ') tok++;
            char *e = tok + strlen(tok);
            while (e > tok && e[-1] == ' ') *--e = 0;
            if (strstr(tok, ".nii")) { check_sct_file(tok); n++; }
        }
    }
    fclose(f);
    ck_assert_int_ge(n, 13); /* every file of the README was found and compared */
}
END_TEST

static const char *SYN[] = {"n2be", "n1be_f64", "qfac_neg", "noxform", "4d_i8", "n2_u8", "n2_i4", "n2_u4", "n2_f4", "n2_u1", "n2_i8"};

static void syn_path(const char *name, char *buf, size_t n) {
    const char *dir = getenv("VT_FIXTURES");
    snprintf(buf, n, "%s/nifti_syn_%s.nii%s", dir ? dir : "tests/fixtures", name, strcmp(name, "n1be_f64") ? "" : ".gz");
}

START_TEST(synthetic_files_match_nibabel) {
    for (size_t s = 0; s < sizeof SYN / sizeof *SYN; s++) {
        char path[512], name[64];
        syn_path(SYN[s], path, sizeof path);
        snprintf(name, sizeof name, "nifti_syn_%s", SYN[s]);
        vt_nifti_header h;
        vt_tensor *t = vt_nifti_load(path, &h);
        ck_assert_msg(t != NULL, "%s", vt_last_error());
        vt_tensor *data = fx(name, "data"), *aff = fx(name, "affine");
        vt_expect_tensor_close(t, data, 1e-6, 1e-6, path);
        expect_affine(h.affine, aff, path);
        double caff[4][4];
        vt_tensor *c = vt_nifti_canonical(t, h.affine, caff);
        vt_tensor *cdata = fx(name, "cdata"), *caffine = fx(name, "caffine"), *cshape = fx(name, "cshape");
        ck_assert_msg(c != NULL, "%s", vt_last_error());
        expect_shape_xyz(c, cshape, path);
        vt_expect_tensor_close(c, cdata, 1e-6, 1e-6, path);
        expect_affine(caff, caffine, path);
        vt_tensor *all[] = {t, data, aff, c, cdata, caffine, cshape};
        for (size_t i = 0; i < sizeof all / sizeof *all; i++) vt_tensor_free(all[i]);
    }
    /* the variants really are what they claim */
    char p[512];
    vt_nifti_header h;
    syn_path("n2be", p, sizeof p);
    ck_assert_int_eq(vt_nifti_read_header(p, &h), VT_OK);
    ck_assert(h.version == 2 && h.big_endian && h.scl_slope == 0.5 && h.sform_code == 0 && h.qform_code == 1);
    syn_path("qfac_neg", p, sizeof p);
    ck_assert_int_eq(vt_nifti_read_header(p, &h), VT_OK);
    ck_assert(h.pixdim[0] == -1 && h.sform_code == 0 && h.qform_code == 2);
    syn_path("4d_i8", p, sizeof p);
    ck_assert_int_eq(vt_nifti_read_header(p, &h), VT_OK);
    ck_assert(h.version == 1 && !h.big_endian && h.ndim == 4 && h.datatype == VT_NIFTI_INT8);
}
END_TEST

static char tmpdir[64];
static void make_tmpdir(void) {
    strcpy(tmpdir, "/tmp/vt_nifti_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

START_TEST(write_read_round_trip) {
    make_tmpdir();
    char src[512], path[600];
    syn_path("n2be", src, sizeof src); /* oblique qform-only geometry, qfac from nibabel */
    vt_nifti_header g;
    vt_tensor *t = vt_nifti_load(src, &g);
    ck_assert_ptr_nonnull(t);
    t->data[3] = 0.123456f; /* not representable in the source int16 */
    for (int gz = 0; gz < 2; gz++) {
        snprintf(path, sizeof path, "%s/vol.nii%s", tmpdir, gz ? ".gz" : "");
        ck_assert_msg(vt_nifti_save(path, t, &g, VT_NIFTI_FLOAT32) == VT_OK, "%s", vt_last_error());
        vt_nifti_header h;
        vt_tensor *back = vt_nifti_load(path, &h);
        ck_assert_msg(back != NULL, "%s", vt_last_error());
        ck_assert(vt_shape_equal(back, t));
        vt_expect_close(back->data, t->data, t->numel, 0, 0, path); /* bit exact */
        for (int i = 0; i < 16; i++) ck_assert(fabs(h.affine[i / 4][i % 4] - g.affine[i / 4][i % 4]) < 1e-5);
        ck_assert(h.vox_offset == 352 && h.datatype == VT_NIFTI_FLOAT32 && h.version == 1);
        /* plain is plain (magic readable), .gz is gzip */
        FILE *f = fopen(path, "rb");
        unsigned char b[2];
        ck_assert(fread(b, 1, 2, f) == 2);
        fclose(f);
        ck_assert_int_eq(b[0] == 0x1f && b[1] == 0x8b, gz);
        vt_tensor_free(back);
    }
    /* uint8 masks: rounded and clamped */
    vt_tensor *m = vt_tensor_from_data(VT_DIMS(2, 1, 3), (float[]){0, 1, 0.6f, 300, -2, 2.4f});
    snprintf(path, sizeof path, "%s/mask.nii.gz", tmpdir);
    ck_assert_int_eq(vt_nifti_save(path, m, NULL, VT_NIFTI_UINT8), VT_OK);
    vt_nifti_header h;
    vt_tensor *mb = vt_nifti_load(path, &h);
    ck_assert_ptr_nonnull(mb);
    vt_expect_close(mb->data, (float[]){0, 1, 1, 255, 0, 2}, 6, 0, 0, "uint8 mask");
    ck_assert(h.datatype == VT_NIFTI_UINT8 && h.dim[1] == 3 && h.dim[2] == 1 && h.dim[3] == 2);
    for (int i = 0; i < 16; i++) ck_assert(h.affine[i / 4][i % 4] == (i % 5 == 0)); /* identity */
    ck_assert_int_eq(vt_nifti_save(path, m, NULL, VT_NIFTI_INT16), VT_ERR);
    vt_tensor_free(mb);
    vt_tensor_free(m);
    vt_tensor_free(t);
}
END_TEST

/* A valid small NIfTI-1 image as bytes (uncompressed). */
static unsigned char *valid_bytes(size_t *n) {
    vt_tensor *t = vt_tensor_new(VT_DIMS(3, 4, 5));
    for (int i = 0; i < 60; i++) t->data[i] = (float)i;
    char p[600];
    snprintf(p, sizeof p, "%s/valid.nii", tmpdir);
    ck_assert_int_eq(vt_nifti_save(p, t, NULL, VT_NIFTI_FLOAT32), VT_OK);
    vt_tensor_free(t);
    FILE *f = fopen(p, "rb");
    unsigned char *b = malloc(1024);
    *n = fread(b, 1, 1024, f);
    fclose(f);
    ck_assert_int_eq(*n, 352 + 240);
    return b;
}

static void write_file(const char *path, const unsigned char *b, size_t n, int gz) {
    if (gz) {
        gzFile f = gzopen(path, "wb");
        gzwrite(f, b, (unsigned)n);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

/* loads path expecting failure with a message naming the file and containing `what` */
static void expect_error(const char *path, const char *what) {
    vt_tensor *t = vt_nifti_load(path, NULL);
    ck_assert_msg(t == NULL, "loaded a corrupt file (want error '%s')", what);
    ck_assert_msg(strstr(vt_last_error(), path) && strstr(vt_last_error(), what), "'%s' lacks '%s'", vt_last_error(), what);
}

static void put16(unsigned char *b, int off, int v) { int16_t x = (int16_t)v; memcpy(b + off, &x, 2); }

START_TEST(corrupt_files_give_errors_naming_the_file) {
    make_tmpdir();
    size_t n;
    unsigned char *ok = valid_bytes(&n), b[1024];
    char p[600];
    snprintf(p, sizeof p, "%s/bad.nii.gz", tmpdir);
    struct { int off, value; const char *what; } cases[] = {
        {40, 0, "dim[0] = 0"}, {40, 8, "dim[0] = 8"}, {42, -3, "dim[1] = -3"}, {44, 0, "dim[2] = 0"},
        {70, 32, "complex"}, {70, 128, "RGB"}, {72, 16, "bitpix 16"}, {70, 999, "unsupported datatype"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        memcpy(b, ok, n);
        put16(b, cases[c].off, cases[c].value);
        write_file(p, b, n, 1);
        expect_error(p, cases[c].what);
    }
    /* absurd dims: 32767^7 voxels overflow int64; 2^31 + ... exceeds the cap */
    memcpy(b, ok, n);
    put16(b, 40, 7);
    for (int i = 1; i <= 7; i++) put16(b, 40 + 2 * i, 32767);
    write_file(p, b, n, 1);
    expect_error(p, "2^31 voxels");
    /* huge but allowed dims (2^30 voxels, 4 GB): must fail on EOF without allocating 4 GB */
    memcpy(b, ok, n);
    put16(b, 40, 3), put16(b, 42, 32767), put16(b, 44, 32767), put16(b, 46, 1);
    write_file(p, b, n, 1);
    expect_error(p, "truncated data");
    /* bad vox_offset */
    float off[] = {100, -352, NAN, 352.5f, 1e9f};
    const char *offwhat[] = {"vox_offset", "vox_offset", "vox_offset", "vox_offset", "before vox_offset"};
    for (int i = 0; i < 5; i++) {
        memcpy(b, ok, n);
        memcpy(b + 108, &off[i], 4);
        write_file(p, b, n, 1);
        expect_error(p, offwhat[i]);
    }
    /* magic */
    memcpy(b, ok, n);
    memcpy(b + 344, "ni1", 4);
    write_file(p, b, n, 1);
    expect_error(p, "two-file");
    memcpy(b + 344, "abc", 4);
    write_file(p, b, n, 1);
    expect_error(p, "magic");
    /* sizeof_hdr */
    memcpy(b, ok, n);
    b[0] = 1;
    write_file(p, b, n, 0);
    expect_error(p, "not a NIfTI");
    write_file(p, ok, 200, 0);
    expect_error(p, "truncated NIfTI header");
    write_file(p, ok, 0, 1);
    expect_error(p, "empty");
    expect_error("/nonexistent/x.nii.gz", "cannot open");
    free(ok);
}
END_TEST

/* Every truncation length and single-byte corruptions of the header: an error or a
 * result, never a crash (run this suite under SAN=1). */
START_TEST(truncations_and_flips_never_crash) {
    make_tmpdir();
    size_t n;
    unsigned char *ok = valid_bytes(&n), b[1024];
    char p[600];
    for (int gz = 0; gz < 2; gz++) {
        snprintf(p, sizeof p, "%s/t.nii%s", tmpdir, gz ? ".gz" : "");
        for (size_t len = 0; len < n; len += (len < 360 ? 1 : 7)) {
            write_file(p, ok, len, gz);
            expect_error(p, "");
        }
    }
    snprintf(p, sizeof p, "%s/f.nii", tmpdir);
    int loaded = 0, failed = 0;
    unsigned char vals[] = {0x00, 0xff, 0x80, 0x7f, 0x01};
    for (int off = 0; off < 352; off++)
        for (size_t v = 0; v < sizeof vals; v++) {
            memcpy(b, ok, n);
            b[off] = vals[v];
            write_file(p, b, n, 0);
            vt_tensor *t = vt_nifti_load(p, NULL);
            if (t) {
                loaded++;
                double aff[4][4];
                vt_nifti_header h;
                ck_assert_int_eq(vt_nifti_read_header(p, &h), VT_OK);
                vt_tensor *c = vt_nifti_canonical(t, h.affine, aff); /* may fail: degenerate */
                vt_tensor_free(c);
                vt_tensor_free(t);
            } else {
                failed++;
                ck_assert_msg(strstr(vt_last_error(), p), "%s", vt_last_error());
            }
        }
    ck_assert(loaded > 0 && failed > 0);
    free(ok);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("data/nifti");
    TCase *tc = tcase_create("nifti");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sct_files_match_nibabel);
    tcase_add_test(tc, synthetic_files_match_nibabel);
    tcase_add_test(tc, write_read_round_trip);
    tcase_add_test(tc, corrupt_files_give_errors_naming_the_file);
    tcase_add_test(tc, truncations_and_flips_never_crash);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
