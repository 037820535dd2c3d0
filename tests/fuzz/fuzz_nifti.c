/* fuzz_nifti.c: libFuzzer harness for the NIfTI-1/2 reader (data/nifti.c, nifti_affine.c).
 *
 * Each input is read twice: as a plain .nii (the bytes as given) and gzip-compressed as a
 * .nii.gz (so header and data mutations also go through zlib's stream path); the header
 * reader runs too, and a volume that loads is reoriented to RAS+ (the affine code).
 *
 * Build and run with clang (not part of `make`): first an instrumented library, then the
 * harness linked against it:
 *   CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
 *     make CC=clang BUILD=build/fuzz build/fuzz/libvertebra.a
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fopenmp -D_GNU_SOURCE -Icore -Idata \
 *     tests/fuzz/fuzz_nifti.c build/fuzz/libvertebra.a -lopenblas -lpng -lz -lm -o build/fuzz/fuzz_nifti
 *   mkdir -p build/fuzz/nifti_corpus && cp tests/fixtures/nifti_syn_n2_u1.nii build/fuzz/nifti_corpus/
 *   build/fuzz/fuzz_nifti -max_total_time=60 -malloc_limit_mb=64 -rss_limit_mb=2048 build/fuzz/nifti_corpus
 * tests/data/test_fuzz_corpus.c includes this file (with VT_FUZZ_NO_ENTRY) and drives it
 * with a few hundred deterministic mutations of valid files in every `make test`.
 *
 * Properties beyond "no crash / no huge allocation": the header and the volume loaders
 * agree on success and on the dims; the tensor has exactly the voxels the dims give. */
#include <zlib.h>
#include "fuzz_common.h"
#include "nifti.h"

/* loads path; traps on an inconsistency between the header and the volume */
static void vt_fuzz_nifti_one(const char *path) {
    vt_nifti_header h, h2;
    vt_status hs = vt_nifti_read_header(path, &h);
    vt_tensor *t = vt_nifti_load(path, &h2);
    if (t && hs != VT_OK) __builtin_trap();
    if (!t) return;
    int64_t voxels = 1;
    for (int i = 1; i <= h2.ndim; i++) voxels *= h2.dim[i];
    if (voxels != t->numel || h.ndim != h2.ndim || memcmp(h.dim, h2.dim, sizeof h.dim)) __builtin_trap();
    if (t->numel <= (1 << 16)) {
        double aff[4][4];
        vt_tensor *c = vt_nifti_canonical(t, h2.affine, aff);
        if (c && c->numel != t->numel) __builtin_trap();
        vt_tensor_free(c);
    }
    vt_tensor_free(t);
}

static int vt_fuzz_nifti(const uint8_t *data, size_t size) {
    char path[512];
    if (vt_fuzz_write_temp("in.nii", data, size, path, sizeof path)) {
        vt_fuzz_nifti_one(path);
        remove(path);
    }
    char nothing = 0;
    if (vt_fuzz_write_temp("in.nii.gz", &nothing, 0, path, sizeof path)) {
        gzFile g = gzopen(path, "wb1");
        int ok = g != NULL && (size == 0 || gzwrite(g, data, (unsigned)size) == (int)size);
        if (g && gzclose(g) != Z_OK) ok = 0;
        if (ok) vt_fuzz_nifti_one(path);
        remove(path);
    }
    return 0;
}

#ifndef VT_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return vt_fuzz_nifti(data, size); }
#endif
