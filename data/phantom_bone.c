/* phantom_bone.c: multi-domain bone segmentation phantom (see phantom_bone.h).
 *
 * Labels come from the geometry (unit frame, y down): CT and MR share an axial vertebra
 * (elliptic body; pedicles, lamina ring and spinous process as posterior elements), the
 * X-ray domain shows a lateral column of 3 bodies with their posterior elements. Each
 * domain then maps the same classes to its own intensities (with cortex vs marrow inside
 * bone), resolution and noise: the masks are exact, only the appearance changes. */
#include <stdlib.h>
#include <string.h>
#include "phantom_bone.h"
#include "phantom_common.h"

const char *const vt_bone_domain_names[VT_BONE_N_DOMAINS] = {"ct", "mr", "xray"};

/* class of unit-frame point (x, y) and whether it is cortex (edge of the bone) */
static int axial(float x, float y, int *cortex) {
    float body = vt_phantom_ell(x, y, 0, -0.2f, 0.38f, 0.30f);
    if (body < 1) { *cortex = body > 0.75f; return VT_BONE_CLASS_BODY; }
    float ring = vt_phantom_ell(x, y, 0, 0.30f, 0.24f, 0.2f), canal = vt_phantom_ell(x, y, 0, 0.30f, 0.14f, 0.12f);
    *cortex = 1;
    if (ring < 1 && canal >= 1) return VT_BONE_CLASS_POSTERIOR;
    if (fabsf(fabsf(x) - 0.17f) < 0.05f && y > 0.05f && y < 0.24f) return VT_BONE_CLASS_POSTERIOR;
    if (fabsf(x) < 0.045f && y > 0.45f && y < 0.75f) return VT_BONE_CLASS_POSTERIOR;
    if (fabsf(y - 0.22f) < 0.04f && fabsf(x) > 0.2f && fabsf(x) < 0.5f) return VT_BONE_CLASS_POSTERIOR; /* transverse */
    *cortex = 0;
    return VT_BONE_CLASS_BACKGROUND;
}

static int lateral(float x, float y, int *cortex) {
    *cortex = 0;
    for (int k = -1; k <= 1; k++) {
        float cy = k * 0.6f;
        if (x > -0.6f && x < 0.05f && fabsf(y - cy) < 0.22f) {
            *cortex = fabsf(y - cy) > 0.18f || x < -0.55f || x > 0.0f;
            return VT_BONE_CLASS_BODY;
        }
        if (vt_phantom_ell(x, y, 0.22f, cy, 0.16f, 0.27f) < 1 || (x > 0.3f && x < 0.6f && fabsf(y - cy - 0.05f) < 0.06f)) {
            *cortex = 1;
            return VT_BONE_CLASS_POSTERIOR;
        }
    }
    return VT_BONE_CLASS_BACKGROUND;
}

/* intensity of (class, cortex, tex) per domain: background, marrow, cortex, posterior */
static float appearance(int domain, int cls, int cortex, float tex, float bg) {
    if (domain == VT_BONE_DOMAIN_CT)
        return cls == 0 ? bg : cortex ? 0.95f : 0.55f + 0.08f * tex;
    if (domain == VT_BONE_DOMAIN_MR) /* T1: fatty marrow bright, cortex dark */
        return cls == 0 ? bg : cortex ? 0.12f : 0.75f + 0.05f * tex;
    return cls == 0 ? bg : cortex ? 0.80f : 0.60f + 0.03f * tex; /* X-ray */
}

static void render(int domain, int S, vt_rng *r, float *img, float *mask) {
    float u[8];
    vt_rng_uniform(r, u, 8, 0.f, 1.f);
    size_t np = (size_t)S * S;
    float *buf = malloc(sizeof(float) * np * 4), *tex = buf, *noise = buf + np, *nz2 = buf + 2 * np, *tmp = buf + 3 * np;
    vt_rng_normal(r, buf, (int64_t)np * 3, 0.f, 1.f);
    float ang = (u[0] - 0.5f) * 0.5f, sc = 0.85f + 0.25f * u[1], sx = (u[2] - 0.5f) * 0.15f, sy = (u[3] - 0.5f) * 0.15f;
    float ca = cosf(ang), sa = sinf(ang);
    float bg = domain == VT_BONE_DOMAIN_CT ? 0.15f + 0.1f * u[4] : domain == VT_BONE_DOMAIN_MR ? 0.35f + 0.1f * u[4]
                                                                                              : 0.22f + 0.06f * u[4];
    int step = domain == VT_BONE_DOMAIN_MR ? 2 : 1; /* MR: half resolution (2x2 blocks) */
    for (int i = 0; i < S; i++)
        for (int j = 0; j < S; j++) {
            float px = (j + 0.5f) / S * 2 - 1 - sx, py = (i + 0.5f) / S * 2 - 1 - sy;
            float x = (ca * px + sa * py) / sc, y = (-sa * px + ca * py) / sc;
            int cortex, cls = domain == VT_BONE_DOMAIN_XRAY ? lateral(x, y, &cortex) : axial(x, y, &cortex);
            mask[i * S + j] = (float)cls;
            int bi = i / step * step, bj = j / step * step; /* MR texture on the coarse grid */
            tmp[i * S + j] = appearance(domain, cls, cortex, tex[bi * S + bj], bg);
        }
    if (domain == VT_BONE_DOMAIN_MR) { /* coarse sampling: average 2x2 blocks, bias field, Rician noise */
        for (int i = 0; i + 1 < S; i += 2)
            for (int j = 0; j + 1 < S; j += 2) {
                float m = 0.25f * (tmp[i * S + j] + tmp[i * S + j + 1] + tmp[(i + 1) * S + j] + tmp[(i + 1) * S + j + 1]);
                for (int a = 0; a < 2; a++) for (int b = 0; b < 2; b++) tmp[(i + a) * S + j + b] = m;
            }
        for (int i = 0; i < S; i++)
            for (int j = 0; j < S; j++) {
                float bias = 1 + 0.3f * (u[5] - 0.5f) * (2.f * i / S - 1) + 0.3f * (u[6] - 0.5f) * (2.f * j / S - 1);
                float a = tmp[i * S + j] * bias + 0.05f * noise[i * S + j], b = 0.05f * nz2[i * S + j];
                img[i * S + j] = sqrtf(a * a + b * b);
            }
    } else if (domain == VT_BONE_DOMAIN_XRAY) { /* projection blur (3x3 box, twice), signal-dependent noise */
        for (int pass = 0; pass < 2; pass++) {
            float *src = pass ? img : tmp, *dst = pass ? tmp : img;
            for (int i = 0; i < S; i++)
                for (int j = 0; j < S; j++) {
                    float s = 0; int c = 0;
                    for (int a = -1; a <= 1; a++) for (int b = -1; b <= 1; b++) {
                        int y = i + a, x = j + b;
                        if (y >= 0 && x >= 0 && y < S && x < S) { s += src[y * S + x]; c++; }
                    }
                    dst[i * S + j] = s / c;
                }
        }
        for (size_t p = 0; p < np; p++) img[p] = tmp[p] + 0.06f * sqrtf(tmp[p]) * noise[p] + 0.1f * (u[7] - 0.5f);
    } else {
        for (size_t p = 0; p < np; p++) img[p] = tmp[p] + 0.04f * noise[p];
    }
    free(buf);
}

vt_status vt_phantom_bone_make(int domain, int64_t n, int size, uint64_t seed, vt_tensor **images,
                               vt_tensor **masks) {
    *images = *masks = NULL;
    if (domain < 0 || domain >= VT_BONE_N_DOMAINS) return vt_error("phantom_bone: domain %d must be 0..2 (ct, mr, xray)", domain);
    if (n < 1 || n > (1 << 24) || size < 32 || size > 512)
        return vt_error("phantom_bone: n %lld must be >= 1 and size %d in 32..512", (long long)n, size);
    vt_tensor *x = vt_tensor_new(VT_DIMS(n, 1, size, size)), *m = vt_tensor_new(VT_DIMS(n, 1, size, size));
    if (!x || !m) { vt_tensor_free(x); vt_tensor_free(m); return vt_error("phantom_bone: out of memory"); }
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t i = 0; i < n; i++) {
        vt_rng r;
        vt_phantom_stream(&r, seed, 5 + (uint64_t)domain, i);
        render(domain, size, &r, x->data + i * size * size, m->data + i * size * size);
    }
    *images = x;
    *masks = m;
    return VT_OK;
}
