/* split.c: train / val / test splits by patient id (never by slice). */
#include "dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

vt_status vt_split_by_patient(const char *const *patient_ids, int64_t n, double frac_train,
                              double frac_val, uint64_t seed, int *split, int64_t counts[3]) {
    if (n < 1 || !patient_ids || !split) return vt_error("split_by_patient: need n >= 1 ids and an output");
    if (!(frac_train >= 0) || !(frac_val >= 0) || frac_train + frac_val > 1 + 1e-9)
        return vt_error("split_by_patient: fractions train %g, val %g must be >= 0 with sum <= 1",
                        frac_train, frac_val);
    for (int64_t i = 0; i < n; i++)
        if (!patient_ids[i]) return vt_error("split_by_patient: patient id %lld is NULL", (long long)i);
    /* distinct ids in sorted order, so the split does not depend on sample order */
    const char **ids = malloc((size_t)n * sizeof *ids);
    int64_t *perm = malloc((size_t)n * sizeof *perm);
    int *part = malloc((size_t)n * sizeof *part);
    if (!ids || !perm || !part) return free(ids), free(perm), free(part), vt_error("split_by_patient: out of memory");
    memcpy(ids, patient_ids, (size_t)n * sizeof *ids);
    qsort(ids, (size_t)n, sizeof *ids, cmp_str);
    int64_t p = 0;
    for (int64_t i = 0; i < n; i++)
        if (i == 0 || strcmp(ids[i], ids[p - 1])) ids[p++] = ids[i];
    vt_rng r;
    vt_rng_init(&r, seed);
    vt_rng_permutation(&r, perm, p);
    int64_t n_train = (int64_t)floor(frac_train * p + 0.5), n_val = (int64_t)floor(frac_val * p + 0.5);
    if (n_train > p) n_train = p;
    if (n_val > p - n_train) n_val = p - n_train;
    for (int64_t k = 0; k < p; k++) part[perm[k]] = k < n_train ? 0 : k < n_train + n_val ? 1 : 2;
    if (counts) counts[0] = counts[1] = counts[2] = 0;
    for (int64_t i = 0; i < n; i++) {
        const char **hit = bsearch(&patient_ids[i], ids, (size_t)p, sizeof *ids, cmp_str);
        split[i] = part[hit - ids];
        if (counts) counts[split[i]]++;
    }
    free(ids), free(perm), free(part);
    return VT_OK;
}

int64_t *vt_split_indices(const int *split, int64_t n, int part, int64_t *n_out) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) k += split[i] == part;
    int64_t *out = malloc((size_t)(k ? k : 1) * sizeof *out);
    if (!out) return vt_error("split_indices: out of memory"), NULL;
    k = 0;
    for (int64_t i = 0; i < n; i++)
        if (split[i] == part) out[k++] = i;
    *n_out = k;
    return out;
}
