/* model_formula.c: see model_formula.h and formula() in tests/ref/ref_models.py. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "model_formula.h"

static uint32_t fnv1a(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* n values in [-1, 1) from an integer hash of (name, index): exact here and in numpy */
static double uniform(uint32_t seed, int64_t i) {
    uint32_t h = (uint32_t)((uint64_t)i * 0x9E3779B9u + seed);
    h ^= h >> 16; h *= 0x85EBCA6Bu;
    h ^= h >> 13; h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return (double)h / 4294967296.0 * 2.0 - 1.0;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

void vt_test_formula_fill(vt_params *p) {
    for (int i = 0; i < vt_params_count(p); i++) {
        const char *name = vt_params_name(p, i);
        vt_tensor *t = vt_params_tensor(p, i);
        uint32_t seed = fnv1a(name);
        double fan_in = 1;
        for (int k = 1; k < t->ndim; k++) fan_in *= (double)t->shape[k];
        for (int64_t j = 0; j < t->numel; j++) {
            double s = uniform(seed, j), v;
            if (ends_with(name, "running_mean")) v = 0.1 * s;
            else if (ends_with(name, "running_var")) v = 1.0 + 0.25 * (1.0 + s);
            else if (t->ndim >= 2) v = sqrt(6.0 / fan_in) * s; /* variance 2 / fan_in */
            else if (ends_with(name, "weight")) v = 1.0 + 0.1 * s;
            else v = 0.1 * s;
            t->data[j] = (float)v;
        }
    }
}
