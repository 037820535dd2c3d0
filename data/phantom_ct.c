/* phantom_ct.c: axial vertebra phantom (see phantom_ct.h).
 *
 * Anatomy in a unit frame (y down, posterior at the bottom): an elliptic vertebral body
 * with a dense cortical rim and textured cancellous interior, a ring of posterior elements
 * around a dark spinal canal, pedicles joining them, soft tissue around. Lesions are
 * round blobs inside the body: blastic = dense (sclerotic), lytic = lucent (destroyed
 * trabecular bone), mixed = at least one of each. Each sample gets a random rotation,
 * scale, shift, lesion count/size/position and Gaussian noise. */
#include <math.h>
#include <stdlib.h>
#include "phantom_ct.h"

typedef struct { float x, y, r, delta; } blob;

/* inside the ellipse centred (cx, cy) with radii (rx, ry): value < 1 */
static inline float ell(float x, float y, float cx, float cy, float rx, float ry) {
    float dx = (x - cx) / rx, dy = (y - cy) / ry;
    return dx * dx + dy * dy;
}

static float anatomy(float x, float y, float tex) {
    float v = 0.18f;                                            /* soft tissue */
    float body = ell(x, y, 0.0f, -0.18f, 0.36f, 0.28f);
    if (body < 1.f) v = body > 0.78f ? 1.05f : 0.52f + 0.10f * tex; /* cortex : cancellous */
    float ring = ell(x, y, 0.0f, 0.30f, 0.22f, 0.19f);
    float canal = ell(x, y, 0.0f, 0.30f, 0.13f, 0.11f);
    if (ring < 1.f) v = canal < 1.f ? 0.08f : 0.85f;            /* lamina : canal */
    if (fabsf(fabsf(x) - 0.16f) < 0.05f && y > 0.05f && y < 0.22f) v = 0.8f; /* pedicles */
    if (fabsf(x) < 0.04f && y > 0.45f && y < 0.68f) v = 0.8f;    /* spinous process */
    return v;
}

static void render(float *img, int size, int label, vt_rng *r) {
    float u[16];
    vt_rng_uniform(r, u, 16, 0.f, 1.f);
    float ang = (u[0] - 0.5f) * 0.5f, sc = 0.9f + 0.2f * u[1];  /* +-14 deg, +-10 % */
    float sx = (u[2] - 0.5f) * 0.12f, sy = (u[3] - 0.5f) * 0.12f;
    int want_dense = label == VT_BONE_BLASTIC || label == VT_BONE_MIXED;
    int want_lucent = label == VT_BONE_LYTIC || label == VT_BONE_MIXED;
    blob b[6];
    int nb = 0;
    int n_dense = want_dense ? 1 + (int)(u[4] * 2.99f) : 0;
    int n_lucent = want_lucent ? 1 + (int)(u[5] * 2.99f) : 0;
    for (int k = 0; k < n_dense + n_lucent; k++) {
        float q[4];
        vt_rng_uniform(r, q, 4, 0.f, 1.f);
        /* position inside the body ellipse (polar, shrunk to stay inside) */
        float t = q[0] * 6.2831853f, rad = 0.75f * sqrtf(q[1]);
        b[nb++] = (blob){0.30f * rad * cosf(t), -0.18f + 0.22f * rad * sinf(t),
                         0.045f + 0.06f * q[2], k < n_dense ? 0.45f + 0.2f * q[3] : -(0.35f + 0.1f * q[3])};
    }
    float ca = cosf(ang), sa = sinf(ang);
    float *noise = malloc(sizeof(float) * (size_t)size * (size_t)size * 2);
    vt_rng_normal(r, noise, (int64_t)size * size * 2, 0.f, 1.f);
    for (int i = 0; i < size; i++)
        for (int j = 0; j < size; j++) {
            /* pixel -> unit frame: undo shift, rotation, scale */
            float px = (j + 0.5f) / size * 2.f - 1.f - sx, py = (i + 0.5f) / size * 2.f - 1.f - sy;
            float x = (ca * px + sa * py) / sc, y = (-sa * px + ca * py) / sc;
            float tex = noise[size * size + i * size + j];
            float v = anatomy(x, y, tex);
            if (ell(x, y, 0.0f, -0.18f, 0.36f, 0.28f) < 0.78f) /* lesions live in cancellous bone */
                for (int k = 0; k < nb; k++) {
                    float d2 = (x - b[k].x) * (x - b[k].x) + (y - b[k].y) * (y - b[k].y);
                    float w = expf(-d2 / (b[k].r * b[k].r)); /* soft-edged blob */
                    v += b[k].delta * w;
                }
            img[i * size + j] = v + 0.05f * noise[i * size + j];
        }
    free(noise);
}

vt_status vt_phantom_ct_make(int64_t n, int size, uint64_t seed, vt_tensor **images,
                             vt_tensor **labels) {
    *images = *labels = NULL;
    if (n < 1 || size < 16 || size > 1024) return vt_error("phantom: n %lld and size %d must be >= 1 and in 16..1024", (long long)n, size);
    vt_tensor *x = vt_tensor_new(VT_DIMS(n, 1, size, size)), *y = vt_tensor_new(VT_DIMS(n));
    if (!x || !y) { vt_tensor_free(x); vt_tensor_free(y); return VT_ERR; }
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t i = 0; i < n; i++) {
        vt_rng r;
        /* one stream per sample: sample i is the same whatever n or the thread count */
        vt_rng_init(&r, seed * 0x9E3779B97F4A7C15ull + (uint64_t)i);
        int label = (int)(vt_rng_u32(&r) % 4);
        y->data[i] = (float)label;
        render(x->data + i * size * size, size, label, &r);
    }
    *images = x;
    *labels = y;
    return VT_OK;
}
