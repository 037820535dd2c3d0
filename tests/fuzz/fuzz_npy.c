/* fuzz_npy.c: libFuzzer harness for the .npy reader (core/npy.c, vt_npy_load).
 *
 * Build and run with clang (not part of `make`): first an instrumented library, then the
 * harness linked against it:
 *   CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
 *     make CC=clang BUILD=build/fuzz build/fuzz/libvertebra.a
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fopenmp -D_GNU_SOURCE -Icore \
 *     tests/fuzz/fuzz_npy.c build/fuzz/libvertebra.a -lopenblas -lpng -lz -lm -o build/fuzz/fuzz_npy
 *   mkdir -p build/fuzz/npy_corpus && cp tests/fixtures/relu.x0.npy build/fuzz/npy_corpus/
 *   build/fuzz/fuzz_npy -max_total_time=60 -malloc_limit_mb=64 build/fuzz/npy_corpus
 * tests/data/test_fuzz_corpus.c includes this file (with VT_FUZZ_NO_ENTRY) and drives it
 * with a few hundred deterministic mutations of valid files in every `make test`.
 *
 * Property beyond "no crash / no huge allocation": a loaded tensor has as many elements
 * as its shape says, and saving it and loading it back gives the same shape. */
#include "fuzz_common.h"
#include "vertebra.h"

static int vt_fuzz_npy(const uint8_t *data, size_t size) {
    char path[512], back[512];
    if (!vt_fuzz_write_temp("in.npy", data, size, path, sizeof path)) return 0;
    vt_tensor *t = vt_npy_load(path);
    if (t) {
        int64_t n = 1;
        for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
        if (n != t->numel) __builtin_trap();
        char nothing = 0;
        if (vt_fuzz_write_temp("back.npy", &nothing, 0, back, sizeof back) && vt_npy_save(back, t) == VT_OK) {
            vt_tensor *u = vt_npy_load(back);
            if (!u || u->ndim != t->ndim || u->numel != t->numel) __builtin_trap();
            vt_tensor_free(u);
        }
        remove(back);
        vt_tensor_free(t);
    }
    remove(path);
    return 0;
}

#ifndef VT_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return vt_fuzz_npy(data, size); }
#endif
