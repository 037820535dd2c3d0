/* fuzz_png.c: libFuzzer harness for the PNG reader (data/png.c on libpng).
 *
 * Each input is read with the four option sets users meet (default, grey, rgb, raw), with
 * a 2^22-value limit so that the fuzzer spends its time on parsing, not on big images.
 *
 * Build and run with clang (not part of `make`): first an instrumented library, then the
 * harness linked against it:
 *   CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
 *     make CC=clang BUILD=build/fuzz build/fuzz/libvertebra.a
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fopenmp -D_GNU_SOURCE -Icore -Idata \
 *     tests/fuzz/fuzz_png.c build/fuzz/libvertebra.a -lopenblas -lpng -lz -lm -o build/fuzz/fuzz_png
 *   mkdir -p build/fuzz/png_corpus && cp tests/fixtures/png_*.png build/fuzz/png_corpus/
 *   build/fuzz/fuzz_png -max_total_time=60 -malloc_limit_mb=64 build/fuzz/png_corpus
 * tests/data/test_fuzz_corpus.c includes this file (with VT_FUZZ_NO_ENTRY) and drives it
 * with a few hundred deterministic mutations of valid files in every `make test`.
 *
 * Properties beyond "no crash / no huge allocation": a loaded image is (C, H, W) with C the
 * channel count the options promise and H, W those of the header; scaled values lie in
 * [0, 1]. */
#include <math.h>
#include "fuzz_common.h"
#include "png_io.h"

static int vt_fuzz_png(const uint8_t *data, size_t size) {
    char path[512];
    if (!vt_fuzz_write_temp("in.png", data, size, path, sizeof path)) return 0;
    vt_png_info info0;
    vt_status hs = vt_png_read_info(path, &info0);
    const vt_png_options opts[4] = {
        {.max_values = 1 << 22}, {.grey = 1, .max_values = 1 << 22},
        {.rgb = 1, .max_values = 1 << 22}, {.raw = 1, .max_values = 1 << 22}};
    for (int k = 0; k < 4; k++) {
        vt_png_info info;
        vt_tensor *t = vt_png_load(path, &opts[k], &info);
        if (!t) continue;
        if (hs != VT_OK || t->ndim != 3 || t->shape[1] != info.height || t->shape[2] != info.width ||
            info.width != info0.width || info.height != info0.height)
            __builtin_trap();
        int64_t c = t->shape[0];
        if ((k == 1 && c != 1) || (k == 2 && c != 3) || (c != 1 && c != 3)) __builtin_trap();
        if (!opts[k].raw)
            for (int64_t i = 0; i < t->numel; i++)
                if (!(t->data[i] >= 0 && t->data[i] <= 1)) __builtin_trap();
        vt_tensor_free(t);
    }
    remove(path);
    return 0;
}

#ifndef VT_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return vt_fuzz_png(data, size); }
#endif
