/* test_checkpoint.c: checkpoint records, bit-identical training resume, atomic writes
 * under a full disk, and a loader that gives errors (never crashes) on damaged files. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>
#include "checkpoint.h"
#include "layers.h"
#include "losses.h"
#include "optim.h"
#include "vt_test.h"

static char tmpdir[256];

static void make_tmpdir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vt_ckpt_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void) {
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') { snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name); unlink(p); }
    if (d) closedir(d);
    rmdir(tmpdir);
}

static int files_in_tmpdir(void) {
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static unsigned char *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n + 1);
    ck_assert_uint_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void write_all(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void expect_error(const char *path, const char *what) {
    vt_clear_error();
    vt_checkpoint *ck = vt_checkpoint_load(path);
    ck_assert_msg(ck == NULL, "loading should fail (%s)", what);
    ck_assert_msg(strstr(vt_last_error(), what) != NULL, "error '%s' lacks '%s'", vt_last_error(), what);
    ck_assert_msg(strstr(vt_last_error(), path) != NULL, "error '%s' does not name the file", vt_last_error());
}

/* a small params store: one parameter and one buffer with known values */
static vt_params *tiny_params(float base) {
    vt_params *p = vt_params_new();
    vt_tensor *w = vt_params_add(p, "w", VT_DIMS(2, 3));
    vt_tensor *b = vt_params_add_buffer(p, "bn.running_var", VT_DIMS(4));
    for (int i = 0; i < 6; i++) w->data[i] = base + (float)i;
    for (int i = 0; i < 4; i++) b->data[i] = -base - (float)i;
    ck_assert_int_eq(vt_params_finalize(p), VT_OK);
    return p;
}

static vt_checkpoint *tiny_checkpoint(void) {
    vt_checkpoint *ck = vt_checkpoint_new();
    vt_params *p = tiny_params(1.5f);
    ck_assert_int_eq(vt_checkpoint_add_params(ck, p), VT_OK);
    vt_params_free(p);
    float mom[5] = {0.25f, -1, 3, 1e-30f, 7};
    ck_assert_int_eq(vt_checkpoint_add_array(ck, "optim.momentum_buffer", mom, 5), VT_OK);
    ck_assert_int_eq(vt_checkpoint_set_int(ck, "step", 1234567890123LL), VT_OK);
    ck_assert_int_eq(vt_checkpoint_set_int(ck, "epoch", -3), VT_OK);
    vt_rng r = {0xfedcba9876543210ULL, 42};
    ck_assert_int_eq(vt_checkpoint_set_rng(ck, "rng.shuffle", &r), VT_OK);
    ck_assert_int_eq(vt_checkpoint_set_text(ck, "model=smallcnn\nlr=0.01\n"), VT_OK);
    return ck;
}

static void check_tiny(const vt_checkpoint *ck) {
    vt_params *q = tiny_params(100.f);
    ck_assert_int_eq(vt_checkpoint_restore_params(ck, q), VT_OK);
    vt_tensor *w = vt_params_find(q, "w"), *b = vt_params_find(q, "bn.running_var");
    for (int i = 0; i < 6; i++) ck_assert(w->data[i] == 1.5f + (float)i);
    for (int i = 0; i < 4; i++) ck_assert(b->data[i] == -1.5f - (float)i);
    vt_params_free(q);
    float mom[5];
    ck_assert_int_eq(vt_checkpoint_get_array(ck, "optim.momentum_buffer", mom, 5), VT_OK);
    ck_assert(mom[0] == 0.25f && mom[3] == 1e-30f && mom[4] == 7);
    int64_t v;
    ck_assert_int_eq(vt_checkpoint_get_int(ck, "step", &v), VT_OK);
    ck_assert_int_eq(v, 1234567890123LL);
    ck_assert_int_eq(vt_checkpoint_get_int(ck, "epoch", &v), VT_OK);
    ck_assert_int_eq(v, -3);
    vt_rng r;
    ck_assert_int_eq(vt_checkpoint_get_rng(ck, "rng.shuffle", &r), VT_OK);
    ck_assert(r.seed == 0xfedcba9876543210ULL && r.offset == 42);
    ck_assert_str_eq(vt_checkpoint_text(ck), "model=smallcnn\nlr=0.01\n");
    ck_assert_int_eq(vt_checkpoint_count(ck), 8);
    ck_assert_str_eq(vt_checkpoint_name(ck, 0), "w");
    ck_assert_int_eq(vt_checkpoint_numel(ck, "bn.running_var"), 4);
    ck_assert_int_eq(vt_checkpoint_numel(ck, "nope"), -1);
}

START_TEST(records_round_trip) {
    make_tmpdir();
    char path[300];
    snprintf(path, sizeof path, "%s/a.vtck", tmpdir);
    vt_checkpoint *ck = tiny_checkpoint();
    check_tiny(ck); /* the getters work before saving too */
    /* misuse is an error, not a crash */
    ck_assert_int_ne(vt_checkpoint_set_int(ck, "step", 1), VT_OK);
    ck_assert_msg(strstr(vt_last_error(), "duplicate record name 'step'"), "%s", vt_last_error());
    ck_assert_int_ne(vt_checkpoint_set_text(ck, "again"), VT_OK);
    ck_assert_int_ne(vt_checkpoint_set_int(ck, "", 1), VT_OK);
    ck_assert_int_ne(vt_checkpoint_add_array(ck, "neg", NULL, -1), VT_OK);
    ck_assert_int_eq(vt_checkpoint_save(ck, path), VT_OK);
    vt_checkpoint_free(ck);
    ck_assert_int_eq(files_in_tmpdir(), 1); /* no temp file left behind */
    ck = vt_checkpoint_load(path);
    ck_assert_msg(ck != NULL, "%s", vt_last_error());
    check_tiny(ck);
    float mom[4];
    ck_assert_int_ne(vt_checkpoint_get_array(ck, "optim.momentum_buffer", mom, 4), VT_OK);
    ck_assert_msg(strstr(vt_last_error(), "has 5 elements, 4 expected"), "%s", vt_last_error());
    ck_assert_int_ne(vt_checkpoint_get_array(ck, "optim.exp_avg", mom, 4), VT_OK);
    int64_t v;
    ck_assert_int_ne(vt_checkpoint_get_int(ck, "cursor", &v), VT_OK);
    ck_assert_int_ne(vt_checkpoint_get_int(ck, "w", &v), VT_OK); /* a tensor is not an int */
    vt_checkpoint_free(ck);
    /* an empty checkpoint is valid */
    ck = vt_checkpoint_new();
    ck_assert_int_eq(vt_checkpoint_save(ck, path), VT_OK);
    vt_checkpoint_free(ck);
    ck = vt_checkpoint_load(path);
    ck_assert_ptr_nonnull(ck);
    ck_assert_int_eq(vt_checkpoint_count(ck), 0);
    ck_assert_str_eq(vt_checkpoint_text(ck), "");
    vt_checkpoint_free(ck);
    remove_tmpdir();
}
END_TEST

/* missing, unexpected and mis-shaped names are all listed; nothing is copied */
START_TEST(restore_reports_mismatched_names) {
    vt_checkpoint *ck = tiny_checkpoint();
    vt_params *p = vt_params_new();
    vt_tensor *w = vt_params_add(p, "w", VT_DIMS(3, 2));           /* mis-shaped */
    vt_params_add(p, "fc.bias", VT_DIMS(4));                       /* missing */
    ck_assert_int_eq(vt_params_finalize(p), VT_OK);
    ck_assert_int_eq(vt_checkpoint_restore_params(ck, p), VT_ERR);
    const char *e = vt_last_error();
    ck_assert_msg(strstr(e, "missing: fc.bias"), "%s", e);
    ck_assert_msg(strstr(e, "mis-shaped: w (file (2, 3), model (3, 2))"), "%s", e);
    ck_assert_msg(strstr(e, "unexpected: bn.running_var"), "%s", e);
    for (int i = 0; i < 6; i++) ck_assert(w->data[i] == 0.f);
    vt_params_free(p);
    vt_checkpoint_free(ck);
}
END_TEST

/* ---- training resume ------------------------------------------------------------------ */

#define N_SAMPLES 24
#define BATCH 8
#define STEPS_PER_EPOCH (N_SAMPLES / BATCH)

typedef struct run {
    vt_params *p;
    vt_smallcnn m;
    vt_optim *o;
    vt_rng shuffle, epoch_start; /* shuffle stream, and its state before this epoch's draw */
    int64_t perm[N_SAMPLES];
    int64_t step;
} run;

static vt_tensor *x_all, *y_all;

static void run_build(run *r, uint64_t init_seed) {
    memset(r, 0, sizeof *r);
    vt_seed(init_seed);
    r->p = vt_params_new();
    ck_assert_int_eq(vt_smallcnn_init(&r->m, r->p, 1, 28, 10, 1), VT_OK);
    ck_assert_int_eq(vt_params_finalize(r->p), VT_OK);
    r->o = vt_sgd_new(r->p, 0.05f, 0.9f, 0, 1e-4f, 0);
    ck_assert_ptr_nonnull(r->o);
    vt_rng_init(&r->shuffle, 77);
}

static void run_free(run *r) {
    vt_optim_free(r->o);
    vt_params_free(r->p);
}

/* One SGD step on the batch at the data cursor; the global RNG adds input noise so that
 * its state matters to the result as well. */
static void run_step(run *r) {
    int64_t cursor = r->step % STEPS_PER_EPOCH;
    if (cursor == 0) {
        r->epoch_start = r->shuffle;
        vt_rng_permutation(&r->shuffle, r->perm, N_SAMPLES);
    }
    vt_tensor *x = vt_tensor_new(VT_DIMS(BATCH, 1, 28, 28));
    vt_tensor *y = vt_tensor_new(VT_DIMS(BATCH));
    float noise[28 * 28];
    for (int i = 0; i < BATCH; i++) {
        int64_t k = r->perm[cursor * BATCH + i];
        vt_rng_uniform(vt_rng_global(), noise, 28 * 28, -0.1f, 0.1f);
        for (int j = 0; j < 28 * 28; j++) x->data[i * 28 * 28 + j] = x_all->data[k * 28 * 28 + j] + noise[j];
        y->data[i] = y_all->data[k];
    }
    vt_tensor *loss = vt_cross_entropy(vt_smallcnn_forward(&r->m, x, 1), y, NULL);
    ck_assert_msg(loss != NULL, "%s", vt_last_error());
    vt_params_zero_grad(r->p);
    ck_assert_int_eq(vt_backward(loss), VT_OK);
    ck_assert_int_eq(vt_optim_step(r->o), VT_OK);
    vt_arena_reset(NULL);
    vt_tensor_free(x);
    vt_tensor_free(y);
    r->step++;
}

static void run_save(run *r, const char *path) {
    vt_checkpoint *ck = vt_checkpoint_new();
    ck_assert_int_eq(vt_checkpoint_add_params(ck, r->p), VT_OK);
    for (int i = 0; i < vt_optim_state_count(r->o); i++) {
        char name[64];
        snprintf(name, sizeof name, "optim.%s", vt_optim_state_name(r->o, i));
        ck_assert_int_eq(vt_checkpoint_add_array(ck, name, vt_optim_state(r->o, i), vt_optim_state_numel(r->o)), VT_OK);
    }
    ck_assert_int_eq(vt_checkpoint_set_int(ck, "optim.step", vt_optim_get_step(r->o)), VT_OK);
    ck_assert_int_eq(vt_checkpoint_set_int(ck, "step", r->step), VT_OK);
    ck_assert_int_eq(vt_checkpoint_set_int(ck, "epoch", r->step / STEPS_PER_EPOCH), VT_OK);
    ck_assert_int_eq(vt_checkpoint_set_int(ck, "cursor", r->step % STEPS_PER_EPOCH), VT_OK);
    ck_assert_int_eq(vt_checkpoint_set_rng(ck, "rng.global", vt_rng_global()), VT_OK);
    ck_assert_int_eq(vt_checkpoint_set_rng(ck, "rng.shuffle", &r->epoch_start), VT_OK);
    ck_assert_int_eq(vt_checkpoint_set_text(ck, "model=smallcnn\nbatch=8\n"), VT_OK);
    ck_assert_int_eq(vt_checkpoint_save(ck, path), VT_OK);
    vt_checkpoint_free(ck);
}

static void run_load(run *r, const char *path) {
    vt_checkpoint *ck = vt_checkpoint_load(path);
    ck_assert_msg(ck != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_checkpoint_restore_params(ck, r->p), VT_OK);
    for (int i = 0; i < vt_optim_state_count(r->o); i++) {
        char name[64];
        snprintf(name, sizeof name, "optim.%s", vt_optim_state_name(r->o, i));
        ck_assert_int_eq(vt_checkpoint_get_array(ck, name, vt_optim_state(r->o, i), vt_optim_state_numel(r->o)), VT_OK);
    }
    int64_t v, epoch, cursor;
    ck_assert_int_eq(vt_checkpoint_get_int(ck, "optim.step", &v), VT_OK);
    vt_optim_set_step(r->o, v);
    ck_assert_int_eq(vt_checkpoint_get_int(ck, "step", &r->step), VT_OK);
    ck_assert_int_eq(vt_checkpoint_get_int(ck, "epoch", &epoch), VT_OK);
    ck_assert_int_eq(vt_checkpoint_get_int(ck, "cursor", &cursor), VT_OK);
    ck_assert_int_eq(epoch * STEPS_PER_EPOCH + cursor, r->step);
    ck_assert_int_eq(vt_checkpoint_get_rng(ck, "rng.global", vt_rng_global()), VT_OK);
    ck_assert_int_eq(vt_checkpoint_get_rng(ck, "rng.shuffle", &r->shuffle), VT_OK);
    ck_assert_str_eq(vt_checkpoint_text(ck), "model=smallcnn\nbatch=8\n");
    vt_checkpoint_free(ck);
    /* mid-epoch: redraw this epoch's permutation from the state saved before it */
    if (cursor != 0) {
        r->epoch_start = r->shuffle;
        vt_rng_permutation(&r->shuffle, r->perm, N_SAMPLES);
    }
}

START_TEST(resume_is_bit_identical) {
    make_tmpdir();
    char path[300];
    snprintf(path, sizeof path, "%s/resume.vtck", tmpdir);
    x_all = vt_test_rand(VT_DIMS(N_SAMPLES, 1, 28, 28), 0, 1, 11);
    y_all = vt_tensor_new(VT_DIMS(N_SAMPLES));
    for (int i = 0; i < N_SAMPLES; i++) y_all->data[i] = (float)((i * 7) % 10);

    run a; /* 10 steps straight */
    run_build(&a, 5);
    for (int s = 0; s < 10; s++) run_step(&a);
    vt_rng global_a = *vt_rng_global();

    run b; /* 5 steps (mid-epoch 1), save, free everything, rebuild differently, load, 5 more */
    run_build(&b, 5);
    for (int s = 0; s < 5; s++) run_step(&b);
    run_save(&b, path);
    run_free(&b);
    vt_seed(999); /* the global stream moves on: the checkpoint must put it back */
    vt_tensor *junk = vt_tensor_new(VT_DIMS(100));
    vt_tensor_uniform_(junk, 0, 1);
    vt_tensor_free(junk);
    run_build(&b, 6); /* other initial weights: the load must overwrite them */
    ck_assert(memcmp(vt_params_values(a.p), vt_params_values(b.p), 4) != 0);
    run_load(&b, path);
    ck_assert_int_eq(b.step, 5);
    for (int s = 0; s < 5; s++) run_step(&b);

    ck_assert_int_eq(vt_params_numel(a.p), vt_params_numel(b.p));
    ck_assert_msg(memcmp(vt_params_values(a.p), vt_params_values(b.p), sizeof(float) * (size_t)vt_params_numel(a.p)) == 0,
                  "parameters differ after resume");
    ck_assert_int_gt(vt_params_buffer_numel(a.p), 0); /* BN running stats */
    ck_assert_msg(memcmp(vt_params_buffer_values(a.p), vt_params_buffer_values(b.p),
                         sizeof(float) * (size_t)vt_params_buffer_numel(a.p)) == 0, "buffers differ after resume");
    ck_assert_int_eq(vt_optim_state_count(a.o), 1);
    ck_assert_msg(memcmp(vt_optim_state(a.o, 0), vt_optim_state(b.o, 0), sizeof(float) * (size_t)vt_optim_state_numel(a.o)) == 0,
                  "optimizer state differs after resume");
    ck_assert_int_eq(vt_optim_get_step(a.o), vt_optim_get_step(b.o));
    ck_assert(global_a.seed == vt_rng_global()->seed && global_a.offset == vt_rng_global()->offset);
    ck_assert(a.shuffle.seed == b.shuffle.seed && a.shuffle.offset == b.shuffle.offset);
    run_free(&a);
    run_free(&b);
    vt_tensor_free(x_all);
    vt_tensor_free(y_all);
    remove_tmpdir();
}
END_TEST

/* ---- damaged files -------------------------------------------------------------------- */

/* A file in the documented layout around an arbitrary raw payload (checks the format
 * description as much as the loader). */
static void write_custom(const char *path, const void *raw, size_t n, uint32_t version,
                         uint64_t raw_size) {
    uLongf zlen = compressBound((uLong)n);
    unsigned char *file = malloc(40 + zlen);
    ck_assert_int_eq(compress2(file + 40, &zlen, raw, (uLong)n, 1), Z_OK);
    static const unsigned char magic[8] = {0x89, 'V', 'T', 'C', 'K', 0x0D, 0x0A, 0x1A};
    memcpy(file, magic, 8);
    uint64_t fields[3] = {raw_size, zlen};
    uint32_t v32[2] = {version, 0};
    memcpy(file + 8, v32, 8);
    memcpy(file + 16, fields, 16);
    uint32_t zcrc = (uint32_t)crc32(0L, file + 40, (uInt)zlen);
    memcpy(file + 32, &zcrc, 4);
    uint32_t hcrc = (uint32_t)crc32(0L, file, 36);
    memcpy(file + 36, &hcrc, 4);
    write_all(path, file, 40 + zlen);
    free(file);
}

START_TEST(damaged_files_give_clear_errors) {
    make_tmpdir();
    char good[300], bad[300];
    snprintf(good, sizeof good, "%s/good.vtck", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.vtck", tmpdir);
    vt_checkpoint *ck = tiny_checkpoint();
    ck_assert_int_eq(vt_checkpoint_save(ck, good), VT_OK);
    vt_checkpoint_free(ck);
    size_t n;
    unsigned char *b = read_all(good, &n);

    expect_error(bad, "cannot open"); /* missing */
    expect_error(tmpdir, "is a directory");
    write_all(bad, "hello world, this is not a checkpoint at all........", 52);
    expect_error(bad, "bad magic");
    b[8] = 2; write_all(bad, b, n); b[8] = 1;
    expect_error(bad, "version 2 is newer");
    write_all(bad, b, n - 1);
    expect_error(bad, "truncated file");
    write_all(bad, b, 20);
    expect_error(bad, "truncated header");
    b[n / 2 + 20] ^= 0x10; write_all(bad, b, n); b[n / 2 + 20] ^= 0x10;
    expect_error(bad, "payload CRC mismatch");
    b[17] ^= 1; write_all(bad, b, n); b[17] ^= 1;
    expect_error(bad, "header CRC mismatch");
    unsigned char *longer = malloc(n + 3);
    memcpy(longer, b, n);
    memset(longer + n, 0, 3);
    write_all(bad, longer, n + 3);
    expect_error(bad, "trailing bytes");
    free(longer);

    /* well-formed files (valid CRCs) whose contents are wrong */
    { /* garbage instead of a zlib stream, with a valid CRC */
        unsigned char f[48];
        memcpy(f, b, 40);
        memset(f + 40, 0xAB, 8);
        uint64_t zs = 8;
        memcpy(f + 24, &zs, 8);
        uint32_t zc = (uint32_t)crc32(0L, f + 40, 8), hc;
        memcpy(f + 32, &zc, 4);
        hc = (uint32_t)crc32(0L, f, 36);
        memcpy(f + 36, &hc, 4);
        write_all(bad, f, 48);
        expect_error(bad, "decompression failed");
    }
    write_custom(bad, "abc", 3, 1, 1ULL << 50);
    expect_error(bad, "absurd uncompressed size");
    write_custom(bad, "abcdef", 6, 1, 5);
    expect_error(bad, "decompression failed");
    /* records: kind 3, ndim 1, name "a", shape 2^40 -> refused before any allocation */
    unsigned char rec[4 + 1 + 8] = {3, 1, 1, 0, 'a', 0, 0, 0, 0, 0, 1, 0, 0};
    write_custom(bad, rec, sizeof rec, 1, sizeof rec);
    expect_error(bad, "is absurd");
    rec[0] = 9;
    write_custom(bad, rec, sizeof rec, 1, sizeof rec);
    expect_error(bad, "unknown kind 9");
    unsigned char dup[2 * 13] = {4, 0, 1, 0, 'k', 1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 'k', 2, 0, 0, 0, 0, 0, 0, 0};
    write_custom(bad, dup, sizeof dup, 1, sizeof dup);
    expect_error(bad, "duplicate record name 'k'");
    unsigned char text[4 + 1 + 8] = {5, 0, 1, 0, 't', 0xff, 0xff, 0, 0, 0, 0, 0, 0};
    write_custom(bad, text, sizeof text, 1, sizeof text);
    expect_error(bad, "longer than");
    write_custom(bad, dup, 17, 1, 17); /* second record cut short */
    expect_error(bad, "truncated");
    write_custom(bad, dup, 13, 1, 13); /* first record alone is fine */
    ck = vt_checkpoint_load(bad);
    ck_assert_msg(ck != NULL, "%s", vt_last_error());
    vt_checkpoint_free(ck);
    free(b);
    remove_tmpdir();
}
END_TEST

/* every truncation and every single-byte flip of the file fails cleanly (run under ASan) */
START_TEST(truncations_and_flips_never_crash) {
    make_tmpdir();
    char good[300], bad[300];
    snprintf(good, sizeof good, "%s/good.vtck", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.vtck", tmpdir);
    vt_checkpoint *ck = tiny_checkpoint();
    ck_assert_int_eq(vt_checkpoint_save(ck, good), VT_OK);
    vt_checkpoint_free(ck);
    size_t n;
    unsigned char *b = read_all(good, &n);
    ck_assert_uint_gt(n, 60);
    for (size_t len = 0; len < n; len++) {
        write_all(bad, b, len);
        ck_assert_msg(vt_checkpoint_load(bad) == NULL, "truncated to %zu bytes but loaded", len);
    }
    for (size_t i = 0; i < n; i++) /* header and payload */
        for (int bit = 0; bit < 8; bit += 7) {
            b[i] ^= (unsigned char)(1u << bit);
            write_all(bad, b, n);
            ck_assert_msg(vt_checkpoint_load(bad) == NULL, "byte %zu bit %d flipped but loaded", i, bit);
            b[i] ^= (unsigned char)(1u << bit);
        }
    write_all(bad, b, n);
    ck = vt_checkpoint_load(bad);
    ck_assert_ptr_nonnull(ck);
    vt_checkpoint_free(ck);
    free(b);
    remove_tmpdir();
}
END_TEST

/* ---- atomic writes -------------------------------------------------------------------- */

START_TEST(write_stream_reports_full_disk) {
    FILE *f = fopen("/dev/full", "wb");
    if (!f) { fprintf(stderr, "SKIP: /dev/full unavailable\n"); return; }
    char big[100000];
    memset(big, 1, sizeof big);
    const void *bufs[2] = {"header", big};
    size_t lens[2] = {6, 10};
    ck_assert_int_eq(vt_write_stream(f, "ck/last.vtck", 2, bufs, lens), VT_ERR); /* fails at fflush */
    ck_assert_msg(strstr(vt_last_error(), "ck/last.vtck: write failed"), "%s", vt_last_error());
    lens[1] = sizeof big;
    clearerr(f);
    ck_assert_int_eq(vt_write_stream(f, "ck/last.vtck", 2, bufs, lens), VT_ERR); /* fails in fwrite */
    fclose(f);
}
END_TEST

/* A save that fails part-way (the file size limit stands in for a full disk) leaves the
 * previous checkpoint byte-identical and no temp file. */
START_TEST(failed_save_keeps_previous_checkpoint) {
    make_tmpdir();
    char path[300];
    snprintf(path, sizeof path, "%s/last.vtck", tmpdir);
    vt_checkpoint *small = tiny_checkpoint();
    ck_assert_int_eq(vt_checkpoint_save(small, path), VT_OK);
    size_t n0;
    unsigned char *before = read_all(path, &n0);

    vt_checkpoint *large = vt_checkpoint_new();
    vt_tensor *noise = vt_test_rand(VT_DIMS(200000), -1, 1, 3); /* incompressible, ~800 KB */
    ck_assert_int_eq(vt_checkpoint_add_array(large, "big", noise->data, noise->numel), VT_OK);
    vt_tensor_free(noise);
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 65536;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    vt_status st = vt_checkpoint_save(large, path);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    ck_assert_int_eq(st, VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), path) && strstr(vt_last_error(), "write failed"), "%s", vt_last_error());
    ck_assert_int_eq(files_in_tmpdir(), 1); /* temp file removed */
    size_t n1;
    unsigned char *after = read_all(path, &n1);
    ck_assert_uint_eq(n0, n1);
    ck_assert(memcmp(before, after, n0) == 0);
    free(after);

    /* a directory that does not exist: error naming the path */
    char nodir[400];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir/x.vtck", tmpdir);
    ck_assert_int_eq(vt_checkpoint_save(small, nodir), VT_ERR);
    ck_assert_msg(strstr(vt_last_error(), nodir), "%s", vt_last_error());

    /* and the large one saves fine without the limit, replacing the small one */
    ck_assert_int_eq(vt_checkpoint_save(large, path), VT_OK);
    vt_checkpoint *back = vt_checkpoint_load(path);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(vt_checkpoint_numel(back, "big"), 200000);
    vt_checkpoint_free(back);
    vt_checkpoint_free(large);
    vt_checkpoint_free(small);
    free(before);
    remove_tmpdir();
}
END_TEST

static Suite *checkpoint_suite(void) {
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("checkpoint");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, records_round_trip);
    tcase_add_test(tc, restore_reports_mismatched_names);
    tcase_add_test(tc, resume_is_bit_identical);
    tcase_add_test(tc, damaged_files_give_clear_errors);
    tcase_add_test(tc, truncations_and_flips_never_crash);
    tcase_add_test(tc, write_stream_reports_full_disk);
    tcase_add_test(tc, failed_save_keeps_previous_checkpoint);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(checkpoint_suite)
