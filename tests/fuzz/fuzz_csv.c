/* fuzz_csv.c: libFuzzer harness for the CSV reader (data/csv.c) and its two typed loaders
 * (data/csv_tables.c): image labels (image, label, patient_id columns) and VinDr-SpineXR
 * boxes (image_id, lesion_type, xmin, ymin, xmax, ymax).
 *
 * Build and run with clang (not part of `make`): first an instrumented library, then the
 * harness linked against it:
 *   CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
 *     make CC=clang BUILD=build/fuzz build/fuzz/libvertebra.a
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fopenmp -D_GNU_SOURCE -Icore -Idata \
 *     tests/fuzz/fuzz_csv.c build/fuzz/libvertebra.a -lopenblas -lpng -lz -lm -o build/fuzz/fuzz_csv
 *   mkdir -p build/fuzz/csv_corpus && printf 'image,label,patient_id\na.png,1,p1\n' > build/fuzz/csv_corpus/l.csv
 *   build/fuzz/fuzz_csv -max_total_time=60 -malloc_limit_mb=64 build/fuzz/csv_corpus
 * tests/data/test_fuzz_corpus.c includes this file (with VT_FUZZ_NO_ENTRY) and drives it
 * with a few hundred deterministic mutations of valid files in every `make test`.
 *
 * Properties beyond "no crash": every cell of a parsed table exists and is NUL-terminated
 * within the pool; the in-memory and the file parser agree; labels lie in [0, 4); boxes have
 * xmin < xmax, ymin < ymax, a valid class and belong to a listed image. */
#include "fuzz_common.h"
#include "csv.h"

static const char *const vt_fuzz_csv_classes[] = {"Osteophytes", "Disc space narrowing", "Other lesions"};

static int vt_fuzz_csv(const uint8_t *data, size_t size) {
    vt_csv *t = vt_csv_parse("fuzz.csv", (const char *)data, size, NULL);
    char path[512];
    if (!vt_fuzz_write_temp("in.csv", data, size, path, sizeof path)) { vt_csv_free(t); return 0; }
    vt_csv *u = vt_csv_load(path, NULL);
    if (!t != !u) __builtin_trap();
    if (t) {
        if (t->nrows != u->nrows || t->ncols != u->ncols) __builtin_trap();
        for (int64_t r = 0; r < t->nrows; r++)
            for (int c = 0; c < t->ncols; c++) {
                const char *a = vt_csv_cell(t, r, c), *b = vt_csv_cell(u, r, c);
                if (!a || !b || strcmp(a, b)) __builtin_trap();
            }
        if (vt_csv_cell(t, t->nrows, 0) || vt_csv_cell(t, 0, t->ncols)) __builtin_trap();
    }
    vt_csv_free(t);
    vt_csv_free(u);

    const char *extra[] = {"patient_id"};
    vt_labels *l = vt_labels_load(path, "image", "label", extra, 1, 4);
    if (l) {
        for (int64_t i = 0; i < l->n; i++)
            if (l->label[i] < 0 || l->label[i] >= 4 || !l->image[i][0] || !l->extra[i]) __builtin_trap();
        vt_tensor *lt = vt_labels_tensor(l);
        if (!lt && l->n > 0) __builtin_trap();
        vt_tensor_free(lt);
        vt_labels_free(l);
    }
    vt_box_set *b = vt_boxes_load(path, vt_fuzz_csv_classes, 3);
    if (b) {
        for (int64_t i = 0; i < b->n_boxes; i++) {
            const vt_box *x = &b->boxes[i];
            if (!(x->xmin < x->xmax && x->ymin < x->ymax) || x->cls < 0 || x->cls >= 3) __builtin_trap();
        }
        int64_t total = 0;
        for (int64_t i = 0; i < b->n_images; i++) {
            if (vt_box_set_find(b, b->image_ids[i]) != i) __builtin_trap();
            total += b->count[i];
        }
        if (total != b->n_boxes) __builtin_trap();
        vt_box_set_free(b);
    }
    remove(path);
    return 0;
}

#ifndef VT_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return vt_fuzz_csv(data, size); }
#endif
