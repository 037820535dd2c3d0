/* test_idx.c: IDX reader: real Fashion-MNIST (skipped when absent) and corrupt files. */
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>
#include "data.h"
#include "vt_test.h"

#define FMNIST "/usr/share/datasets/fashion-mnist"

START_TEST(reads_fashion_mnist) {
    if (access(FMNIST "/t10k-images-idx3-ubyte.gz", R_OK) != 0) {
        fprintf(stderr, "SKIP: %s absent (apt-get install dataset-fashion-mnist)\n", FMNIST);
        return;
    }
    vt_tensor *x = vt_idx_load_images(FMNIST "/t10k-images-idx3-ubyte.gz", 0);
    vt_tensor *y = vt_idx_load_labels(FMNIST "/t10k-labels-idx1-ubyte.gz", 0);
    ck_assert_msg(x && y, "%s", vt_last_error());
    ck_assert_int_eq(x->shape[0], 10000);
    ck_assert_int_eq(x->shape[1], 1);
    ck_assert_int_eq(x->shape[2], 28);
    ck_assert_int_eq(y->numel, 10000);
    /* first test label of Fashion-MNIST is 9 (ankle boot), second 2 (pullover) */
    ck_assert(y->data[0] == 9.f && y->data[1] == 2.f);
    int counts[10] = {0};
    for (int i = 0; i < 10000; i++) counts[(int)y->data[i]]++;
    for (int c = 0; c < 10; c++) ck_assert_int_eq(counts[c], 1000);
    float lo = 1, hi = 0;
    for (int64_t i = 0; i < x->numel; i++) { lo = x->data[i] < lo ? x->data[i] : lo; hi = x->data[i] > hi ? x->data[i] : hi; }
    ck_assert(lo == 0.f && hi == 1.f);
    vt_tensor *few = vt_idx_load_images(FMNIST "/t10k-images-idx3-ubyte.gz", 5);
    ck_assert_int_eq(few->shape[0], 5);
    vt_expect_close(few->data, x->data, few->numel, 0, 0, "limited read");
    vt_tensor_free(few);
    vt_tensor_free(x);
    vt_tensor_free(y);
}
END_TEST

static void write_gz(const char *path, const unsigned char *b, int n) {
    gzFile f = gzopen(path, "wb");
    gzwrite(f, b, (unsigned)n);
    gzclose(f);
}

START_TEST(corrupt_files_give_errors_naming_the_file) {
    char path[] = "/tmp/vt_idx_XXXXXX";
    close(mkstemp(path));
    /* wrong magic */
    write_gz(path, (const unsigned char *)"\x00\x00\x09\x03\x00\x00\x00\x01", 8);
    ck_assert_ptr_null(vt_idx_load_images(path, 0));
    ck_assert_msg(strstr(vt_last_error(), path) && strstr(vt_last_error(), "magic"), "%s", vt_last_error());
    /* labels file given as images */
    write_gz(path, (const unsigned char *)"\x00\x00\x08\x01\x00\x00\x00\x02\x01\x02", 10);
    ck_assert_ptr_null(vt_idx_load_images(path, 0));
    vt_tensor *ok = vt_idx_load_labels(path, 0);
    ck_assert_ptr_nonnull(ok);
    vt_tensor_free(ok);
    /* truncated data: header promises 3 images of 2x2, gives 5 bytes */
    const unsigned char trunc[] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5};
    write_gz(path, trunc, sizeof trunc);
    ck_assert_ptr_null(vt_idx_load_images(path, 0));
    ck_assert_msg(strstr(vt_last_error(), "truncated"), "%s", vt_last_error());
    /* absurd dims are refused before allocating */
    const unsigned char huge[] = {0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0, 1, 0, 0, 0, 0, 0xff, 0xff};
    write_gz(path, huge, sizeof huge);
    ck_assert_ptr_null(vt_idx_load_images(path, 0));
    /* empty file */
    write_gz(path, (const unsigned char *)"", 0);
    ck_assert_ptr_null(vt_idx_load_labels(path, 0));
    unlink(path);
    ck_assert_ptr_null(vt_idx_load_labels("/nonexistent.gz", 0));
    ck_assert_msg(strstr(vt_last_error(), "/nonexistent.gz: cannot open"), "%s", vt_last_error());
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("data/idx");
    TCase *tc = tcase_create("idx");
    tcase_add_test(tc, reads_fashion_mnist);
    tcase_add_test(tc, corrupt_files_give_errors_naming_the_file);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(suite)
