/* test_api_example.c: examples/api/train_mlp.c (the program docs/api.md walks through)
 * compiled with the library's own flags and run, so the documented example cannot rot:
 * it must train (loss down), save safetensors and reload them to identical logits. */
#include <stdlib.h>
#include <unistd.h>
#include "vt_test.h"
#include "safetensors.h"

/* the example's main() becomes train_mlp_main() here */
#define main train_mlp_main
#include "../../examples/api/train_mlp.c"
#undef main

START_TEST(test_example_trains_saves_and_reloads) {
    char path[] = "/tmp/vt_api_example_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char *argv[] = {"train_mlp", path, NULL};
    ck_assert_int_eq(train_mlp_main(2, argv), 0);

    /* the file holds the MLP's 4 tensors with their shapes and the metadata */
    vt_safetensors *st = vt_safetensors_open(path);
    ck_assert_msg(st != NULL, "%s", vt_last_error());
    ck_assert_int_eq(vt_safetensors_count(st), 4);
    int64_t shape[VT_SAFETENSORS_MAX_DIMS];
    int i = vt_safetensors_find(st, "fc0.weight");
    ck_assert_int_ge(i, 0);
    ck_assert_int_eq(vt_safetensors_shape(st, i, shape), 2);
    ck_assert_int_eq(shape[0], 32);
    ck_assert_int_eq(shape[1], FEATURES);
    i = vt_safetensors_find(st, "fc1.bias");
    ck_assert_int_ge(i, 0);
    ck_assert_int_eq(vt_safetensors_numel(st, i), CLASSES);
    ck_assert_str_eq(vt_safetensors_metadata(st, "arch"), "mlp");
    vt_safetensors_close(st);
    unlink(path);
}
END_TEST

static Suite *api_example_suite(void) {
    Suite *s = suite_create("api_example");
    TCase *tc = tcase_create("train_mlp");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_example_trains_saves_and_reloads);
    suite_add_tcase(s, tc);
    return s;
}

VT_TEST_MAIN(api_example_suite)
