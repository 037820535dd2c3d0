/* rng.c: Philox4x32-10 (Salmon et al., SC'11), the counter-based generator used by
 * PyTorch CUDA and JAX. Draw i of a stream is philox(key = seed, counter = offset + i),
 * so results are identical whatever the thread count or the device. */
#include <math.h>
#include "internal.h"

typedef struct { uint32_t v[4]; } philox_ctr;

static inline uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t *hi) {
    uint64_t p = (uint64_t)a * b;
    *hi = (uint32_t)(p >> 32);
    return (uint32_t)p;
}

/* 4 random u32 for (seed, counter) */
philox_ctr vt_philox(uint64_t seed, uint64_t counter);
philox_ctr vt_philox(uint64_t seed, uint64_t counter) {
    uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0, c3 = 0;
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        uint32_t hi0, hi1;
        uint32_t lo0 = mulhilo(0xD2511F53u, c0, &hi0);
        uint32_t lo1 = mulhilo(0xCD9E8D57u, c2, &hi1);
        uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
        k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
    }
    philox_ctr out = {{c0, c1, c2, c3}};
    return out;
}

/* [0, 1) with 24 random bits */
static inline float u01(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

void vt_rng_fill_uniform(uint64_t seed, uint64_t offset, int64_t n, float lo, float hi, float *out);
void vt_rng_fill_normal(uint64_t seed, uint64_t offset, int64_t n, float mean, float std, float *out);

/* Element i uses block (offset + i): one block per element keeps any sub-range
 * computable on its own (threads, GPU blocks) at the cost of unused words. */
void vt_rng_fill_uniform(uint64_t seed, uint64_t offset, int64_t n, float lo, float hi,
                         float *out) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) out[i] = lo + (hi - lo) * u01(vt_philox(seed, offset + (uint64_t)i).v[0]);
}

/* Box-Muller on two words of the same block */
void vt_rng_fill_normal(uint64_t seed, uint64_t offset, int64_t n, float mean, float std,
                        float *out) {
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) {
        philox_ctr c = vt_philox(seed, offset + (uint64_t)i);
        double u1 = ((double)(c.v[0] >> 8) + 1.0) / 16777217.0; /* (0, 1): log stays finite */
        double u2 = (double)(c.v[1] >> 8) / 16777216.0;
        out[i] = mean + std * (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
}

void vt_rng_init(vt_rng *r, uint64_t seed) { r->seed = seed; r->offset = 0; }

static _Thread_local vt_rng global_rng = {0x5eed, 0};
vt_rng *vt_rng_global(void) { return &global_rng; }
void vt_seed(uint64_t seed) { vt_rng_init(&global_rng, seed); }

void vt_rng_uniform(vt_rng *r, float *out, int64_t n, float lo, float hi) {
    vt_rng_fill_uniform(r->seed, r->offset, n, lo, hi, out);
    r->offset += (uint64_t)n;
}

void vt_rng_normal(vt_rng *r, float *out, int64_t n, float mean, float std) {
    vt_rng_fill_normal(r->seed, r->offset, n, mean, std, out);
    r->offset += (uint64_t)n;
}

uint32_t vt_rng_u32(vt_rng *r) { return vt_philox(r->seed, r->offset++).v[0]; }

/* uniform integer in [0, n) without modulo bias (Lemire) */
static uint64_t below(vt_rng *r, uint64_t n) {
    uint64_t hi = vt_rng_u32(r); /* two statements: argument order is unspecified in C */
    uint64_t lo = vt_rng_u32(r);
    uint64_t x = hi << 32 | lo;
    return (uint64_t)(((unsigned __int128)x * n) >> 64);
}

void vt_rng_permutation(vt_rng *r, int64_t *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)below(r, (uint64_t)i + 1);
        int64_t t = out[i]; out[i] = out[j]; out[j] = t;
    }
}
