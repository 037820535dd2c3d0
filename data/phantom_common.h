/* phantom_common.h: small helpers shared by the procedural phantoms (phantom_*.c).
 * Internal: not part of the public API. */
#ifndef VT_PHANTOM_COMMON_H
#define VT_PHANTOM_COMMON_H

#include <math.h>
#include "vertebra.h"

/* One Philox stream per (seed, kind, sample): sample i is the same whatever n or the
 * thread count, and the phantom kinds never share a stream for the same seed. */
static inline void vt_phantom_stream(vt_rng *r, uint64_t seed, uint64_t kind, int64_t i) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull ^ (kind + 1) * 0xD1B54A32D192ED03ull;
    vt_rng_init(r, s + (uint64_t)i * 0xBF58476D1CE4E5B9ull);
}

/* one uniform in [0, 1) */
static inline float vt_phantom_u(vt_rng *r) {
    float u;
    vt_rng_uniform(r, &u, 1, 0.f, 1.f);
    return u;
}

/* squared normalised distance to the ellipse centred (cx, cy), radii (rx, ry): < 1 inside */
static inline float vt_phantom_ell(float x, float y, float cx, float cy, float rx, float ry) {
    float dx = (x - cx) / rx, dy = (y - cy) / ry;
    return dx * dx + dy * dy;
}

/* Poisson sample of mean lam from one uniform u and one standard normal z: CDF inversion
 * below 40 (exact), rounded normal approximation above (error < 1 % of the std there). */
static inline float vt_phantom_poisson(float lam, float u, float z) {
    if (!(lam > 0)) return 0;
    if (lam >= 40) {
        float v = floorf(lam + sqrtf(lam) * z + 0.5f);
        return v < 0 ? 0 : v;
    }
    double p = exp(-(double)lam), c = p;
    int k = 0;
    while (u > c && k < 400) { k++; p *= lam / k; c += p; }
    return (float)k;
}

#endif
