/* fuzz_config.c: libFuzzer harness for the config parser (train/config.c).
 *
 * Build and run with clang (not part of `make`):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Icore -Itrain -D_GNU_SOURCE \
 *     tests/fuzz/fuzz_config.c train/config.c core/error.c core/atomic_file.c -o build/fuzz_config
 *   build/fuzz_config -max_total_time=60
 * tests/train/test_config.c includes this file and drives it with ~200 deterministic
 * mutations of a valid config, so every `make test` exercises it too.
 *
 * Properties checked beyond "no crash": a config that parses is written back by
 * vt_config_to_string to a text that parses again into the same resolved text; the input
 * used as a --set override never crashes either. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

static const vt_cfg_key fuzz_schema[] = {
    {"", "name", VT_CFG_STRING, "run", 0, 0, NULL, "run name"},
    {"", "seed", VT_CFG_INT, "0", 0, 1e9, NULL, "random seed"},
    {"train", "epochs", VT_CFG_INT, "10", 1, 1000, NULL, "training epochs"},
    {"train", "batch_size", VT_CFG_INT, "32", 1, 4096, NULL, "images per step"},
    {"train", "augment", VT_CFG_BOOL, "true", 0, 0, NULL, "random flips and crops"},
    {"train", "data_dir", VT_CFG_STRING, NULL, 0, 0, NULL, "dataset folder (required)"},
    {"optim", "name", VT_CFG_ENUM, "adam", 0, 0, "sgd|adam|adamw", "optimizer"},
    {"optim", "lr", VT_CFG_FLOAT, "0.001", 0, 10, NULL, "learning rate"},
    {"optim", "lr_scheduler", VT_CFG_ENUM, "cosine", 0, 0, "constant|step|cosine|poly", "LR schedule"},
    {"optim", "milestones", VT_CFG_INT_LIST, "30, 60", 0, 1e6, NULL, "epochs where step decays"},
    {"optim", "momentum", VT_CFG_FLOAT, "0.9", 0, 1, NULL, "SGD momentum"},
    {NULL, NULL, 0, NULL, 0, 0, NULL, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vt_config *c = vt_config_new(fuzz_schema);
    if (!c) __builtin_trap();
    if (vt_config_parse_string(c, (const char *)data, size, "fuzz") == VT_OK) {
        char *once = vt_config_to_string(c);
        vt_config *again = vt_config_new(fuzz_schema);
        if (!once || !again || vt_config_parse_string(again, once, strlen(once), "resolved") != VT_OK)
            __builtin_trap();
        char *twice = vt_config_to_string(again);
        /* sources differ ("fuzz:3" vs "resolved:9"): compare only the key = value lines */
        const char *a = once, *b = twice;
        while (a && b && *a && *b) {
            const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
            if (!na || !nb) break;
            if (*a != '#' && (na - a != nb - b || memcmp(a, b, (size_t)(na - a)))) __builtin_trap();
            a = na + 1;
            b = nb + 1;
        }
        free(once);
        free(twice);
        vt_config_free(again);
    }
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = 0;
        (void)vt_config_set(c, s);
        free(s);
    }
    (void)vt_config_check_required(c);
    vt_config_free(c);
    return 0;
}
