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
#include <string.h>
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

/* ---- vertebra-structured phantom (see phantom_ct.h) ------------------------------------ */

/* a lesion in 3D: in-plane centre and radius, axial centre and half-height (slice frame
 * z in [-1, 1] spans the vertebra), intensity change; posterior: lives in the posterior
 * elements instead of the cancellous body */
typedef struct { float x, y, r, z, rz, delta; int posterior; } lesion3d;

#define MAX_LESIONS 6

/* bone of the posterior elements: the arch around the canal, pedicles, spinous process
 * (the same regions anatomy() paints) */
static int posterior_bone(float x, float y) {
    if (ell(x, y, 0.0f, 0.30f, 0.22f, 0.19f) < 1.f && ell(x, y, 0.0f, 0.30f, 0.13f, 0.11f) >= 1.f) return 1;
    if (fabsf(fabsf(x) - 0.16f) < 0.05f && y > 0.05f && y < 0.22f) return 1;
    return fabsf(x) < 0.04f && y > 0.45f && y < 0.68f;
}

/* the in-plane radius of lesion l on the slice at axial position z (0: not cut) */
static float radius_at(const lesion3d *l, float z) {
    float d = (z - l->z) / l->rz;
    return d * d < 1.f ? l->r * sqrtf(1.f - d * d) : 0.f;
}

void vt_phantom_vertebra_config_default(vt_phantom_vertebra_config *c) {
    *c = (vt_phantom_vertebra_config){.n_patients = 20, .vertebrae_per_patient = 4,
                                      .slices_per_vertebra = 6, .size = 32,
                                      .p_posterolateral = 0.4f, .seed = 0};
}

void vt_phantom_slices_free(vt_phantom_slices *s) {
    if (!s) return;
    vt_tensor *t[] = {s->images, s->quality, s->blastic, s->lytic, s->posterolateral,
                      s->visible, s->vertebra, s->patient};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) vt_tensor_free(t[i]);
    memset(s, 0, sizeof *s);
}

/* lesions of one vertebra; returns their count. Dense ones first. */
static int draw_lesions(vt_rng *r, int blastic, int lytic, int postero, lesion3d *l) {
    float u[2];
    vt_rng_uniform(r, u, 2, 0.f, 1.f);
    int n_dense = blastic ? 1 + (int)(u[0] * 1.99f) : 0, n_lucent = lytic ? 1 + (int)(u[1] * 1.99f) : 0;
    int n = 0;
    for (int k = 0; k < n_dense + n_lucent; k++) {
        float q[6];
        vt_rng_uniform(r, q, 6, 0.f, 1.f);
        float t = q[0] * 6.2831853f, rad = 0.7f * sqrtf(q[1]);
        l[n++] = (lesion3d){0.30f * rad * cosf(t), -0.18f + 0.22f * rad * sinf(t), 0.05f + 0.06f * q[2],
                            -0.5f + q[4], 0.35f + 0.45f * q[5],
                            k < n_dense ? 0.45f + 0.2f * q[3] : -(0.35f + 0.1f * q[3]), 0};
    }
    /* drawn for every vertebra so that the posterolateral flag changes nothing else */
    float q[7];
    vt_rng_uniform(r, q, 7, 0.f, 1.f);
    if (postero) { /* kind: the vertebra's, a coin flip when mixed */
        int dense = blastic && (!lytic || q[0] < 0.5f);
        float side = q[1] < 0.5f ? -1.f : 1.f;
        /* centred on a pedicle / the side of the arch, large enough to cover several pixels */
        l[n++] = (lesion3d){side * (0.14f + 0.06f * q[2]), 0.14f + 0.12f * q[3], 0.10f + 0.04f * q[4],
                            -0.4f + 0.8f * q[5], 0.5f + 0.3f * q[6], dense ? 0.6f : -0.6f, 1};
    }
    return n;
}

static void render_vertebra(const vt_phantom_vertebra_config *c, int64_t v, vt_phantom_slices *o) {
    const int S = c->size, K = c->slices_per_vertebra;
    int patient = (int)(v / c->vertebrae_per_patient);
    vt_rng pr, r;
    /* patient build (scale) from the patient's stream; everything else from the vertebra's */
    vt_rng_init(&pr, c->seed * 0xD1B54A32D192ED03ull + (uint64_t)patient + 0x5bd1e995ull);
    float ps;
    vt_rng_uniform(&pr, &ps, 1, 0.9f, 1.1f);
    vt_rng_init(&r, c->seed * 0x9E3779B97F4A7C15ull + (uint64_t)v + 0x27d4eb2full);
    int cls = (int)(vt_rng_u32(&r) % 4);
    int blastic = cls == VT_BONE_BLASTIC || cls == VT_BONE_MIXED, lytic = cls == VT_BONE_LYTIC || cls == VT_BONE_MIXED;
    float u[6];
    vt_rng_uniform(&r, u, 6, 0.f, 1.f);
    int postero = cls != VT_BONE_NORMAL && u[0] < c->p_posterolateral;
    float ang = (u[1] - 0.5f) * 0.35f, sc = ps * (0.95f + 0.1f * u[2]);
    float sx = (u[3] - 0.5f) * 0.1f, sy = (u[4] - 0.5f) * 0.1f;
    lesion3d les[MAX_LESIONS];
    int nl = draw_lesions(&r, blastic, lytic, postero, les);
    float *noise = malloc(sizeof(float) * (size_t)S * (size_t)S * 2);
    for (int k = 0; k < K; k++) {
        int64_t i0 = v * K + k;
        float *img = o->images->data + i0 * S * S;
        float z = -1.f + 2.f * ((float)k + 0.5f) / (float)K, jit[2];
        vt_rng_uniform(&r, jit, 2, -0.01f, 0.01f); /* breathing / table jitter between slices */
        vt_rng_normal(&r, noise, (int64_t)S * S * 2, 0.f, 1.f);
        float rk[MAX_LESIONS];
        int visible = 0;
        for (int l = 0; l < nl; l++) {
            rk[l] = radius_at(&les[l], z);
            visible |= rk[l] >= 0.03f;
        }
        float ca = cosf(ang), sa = sinf(ang);
        for (int i = 0; i < S; i++)
            for (int j = 0; j < S; j++) {
                float px = (j + 0.5f) / S * 2.f - 1.f - sx - jit[0], py = (i + 0.5f) / S * 2.f - 1.f - sy - jit[1];
                float x = (ca * px + sa * py) / sc, y = (-sa * px + ca * py) / sc;
                float val = anatomy(x, y, noise[S * S + i * S + j]);
                int in_body = ell(x, y, 0.0f, -0.18f, 0.36f, 0.28f) < 0.78f, in_post = posterior_bone(x, y);
                int in_canal = ell(x, y, 0.0f, 0.30f, 0.13f, 0.11f) < 1.f;
                for (int l = 0; l < nl; l++) {
                    if (rk[l] <= 0.f) continue;
                    float d2 = (x - les[l].x) * (x - les[l].x) + (y - les[l].y) * (y - les[l].y);
                    float w = expf(-d2 / (rk[l] * rk[l]));
                    if (!les[l].posterior) { if (in_body) val += les[l].delta * w; }
                    else if (in_post) val += les[l].delta * w;  /* sclerosis / destruction of the arch */
                    else if (!in_body && !in_canal) val += 0.35f * w; /* the tumour's soft-tissue / bony extension */
                }
                img[i * S + j] = val + 0.05f * noise[i * S + j];
            }
        o->quality->data[i0] = (float)cls;
        o->blastic->data[i0] = (float)blastic;
        o->lytic->data[i0] = (float)lytic;
        o->posterolateral->data[i0] = (float)postero;
        o->visible->data[i0] = (float)visible;
        o->vertebra->data[i0] = (float)v;
        o->patient->data[i0] = (float)patient;
    }
    free(noise);
}

vt_status vt_phantom_vertebrae_make(const vt_phantom_vertebra_config *c, vt_phantom_slices *out) {
    memset(out, 0, sizeof *out);
    if (!c || c->n_patients < 1 || c->vertebrae_per_patient < 1 || c->slices_per_vertebra < 1)
        return vt_error("phantom vertebrae: patients %d, vertebrae per patient %d and slices per vertebra %d must be >= 1",
                        c ? c->n_patients : 0, c ? c->vertebrae_per_patient : 0, c ? c->slices_per_vertebra : 0);
    if (c->size < 16 || c->size > 1024) return vt_error("phantom vertebrae: size %d must be in 16..1024", c->size);
    if (!(c->p_posterolateral >= 0.f && c->p_posterolateral <= 1.f))
        return vt_error("phantom vertebrae: p_posterolateral %g must be in [0, 1]", (double)c->p_posterolateral);
    int64_t nv = (int64_t)c->n_patients * c->vertebrae_per_patient, n = nv * c->slices_per_vertebra;
    if (n > 10000000) return vt_error("phantom vertebrae: %lld slices is too many", (long long)n);
    out->images = vt_tensor_new(VT_DIMS(n, 1, c->size, c->size));
    vt_tensor **lab[] = {&out->quality, &out->blastic, &out->lytic, &out->posterolateral,
                         &out->visible, &out->vertebra, &out->patient};
    int ok = out->images != NULL;
    for (size_t i = 0; i < sizeof lab / sizeof lab[0]; i++) ok &= (*lab[i] = vt_tensor_new(VT_DIMS(n))) != NULL;
    if (!ok) { vt_phantom_slices_free(out); return VT_ERR; }
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t v = 0; v < nv; v++) render_vertebra(c, v, out);
    return VT_OK;
}
