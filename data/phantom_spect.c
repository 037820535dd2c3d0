/* phantom_spect.c: whole-body bone scan phantom (see phantom_spect.h).
 *
 * Body frame: u = horizontal offset / width in [-0.5, 0.5], t = row / height in [0, 1]
 * (head at the top); each subject gets a scale, a shift and its own organ activity.
 * Bone is painted as strokes (skull ring, 24 vertebrae, 11 rib pairs, clavicles, sternum,
 * humeri, pelvis, femurs) combined by max; soft tissue, kidneys and bladder are added on
 * top. Each view weighs the structures by their depth (spine and kidneys are brighter
 * seen from the back, the sternum from the front); the posterior view is mirrored as on a
 * scanner display. Metastases are Gaussian hot spots of 2-4x bone uptake centred on a
 * thoracic vertebra or a rib. Counts are Poisson with mean `counts` x uptake. All random
 * draws happen in a fixed order, so positive_fraction 0 and 1 give twin images that
 * differ only by the hot spots (the same Poisson uniforms). */
#include <stdlib.h>
#include <string.h>
#include "phantom_common.h"
#include "phantom_spect.h"

#define MAX_SPOTS 8
#define T_LO 0.15f  /* thoracic crop rows in body units */
#define T_HI 0.45f
#define U_HALF 0.36f

typedef struct {
    int H, W;
    float cx, dy, sc;        /* body centre column, top shift, scale */
    float *bone[2], *organ[2]; /* per view (anterior, posterior) */
} canvas;

static inline float px_x(const canvas *c, float u) { return c->cx + c->sc * u * c->W; }
static inline float px_y(const canvas *c, float t) { return c->dy + c->sc * t * c->H; }

/* max-paints a Gaussian stroke from (u0, t0) to (u1, t1), sigma in pixels, per-view amplitudes */
static void stroke(canvas *c, float u0, float t0, float u1, float t1, float sigma, float amp_a, float amp_p) {
    float x0 = px_x(c, u0), y0 = px_y(c, t0), x1 = px_x(c, u1), y1 = px_y(c, t1);
    float len = sqrtf((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0));
    int steps = 1 + (int)(len * 2);
    int R = (int)ceilf(3 * sigma);
    for (int s = 0; s <= steps; s++) {
        float x = x0 + (x1 - x0) * s / steps, y = y0 + (y1 - y0) * s / steps;
        for (int i = (int)y - R; i <= (int)y + R; i++)
            for (int j = (int)x - R; j <= (int)x + R; j++) {
                if (i < 0 || j < 0 || i >= c->H || j >= c->W) continue;
                float d2 = (j + 0.5f - x) * (j + 0.5f - x) + (i + 0.5f - y) * (i + 0.5f - y);
                float g = expf(-d2 / (2 * sigma * sigma));
                float *a = &c->bone[0][i * c->W + j], *p = &c->bone[1][i * c->W + j];
                if (amp_a * g > *a) *a = amp_a * g;
                if (amp_p * g > *p) *p = amp_p * g;
            }
    }
}

/* adds a soft-edged filled ellipse (radii in body units) to the organ maps */
static void blob(canvas *c, float u, float t, float ru, float rt, float amp_a, float amp_p) {
    float x = px_x(c, u), y = px_y(c, t), rx = c->sc * ru * c->W, ry = c->sc * rt * c->H;
    for (int i = (int)(y - ry) - 1; i <= (int)(y + ry) + 1; i++)
        for (int j = (int)(x - rx) - 1; j <= (int)(x + rx) + 1; j++) {
            if (i < 0 || j < 0 || i >= c->H || j >= c->W) continue;
            float e = vt_phantom_ell(j + 0.5f, i + 0.5f, x, y, rx, ry);
            float w = (1.f - e) * 3.f;
            if (w <= 0) continue;
            w = w > 1 ? 1 : w;
            c->organ[0][i * c->W + j] += amp_a * w;
            c->organ[1][i * c->W + j] += amp_p * w;
        }
}

static void skeleton(canvas *c, const float *u) {
    float k = c->H / 256.f; /* stroke widths scale with the image */
    blob(c, 0, 0.075f, 0.2f, 0.07f, 0.05f, 0.05f);            /* head soft tissue */
    blob(c, 0, 0.40f, 0.40f, 0.27f, 0.06f, 0.06f);            /* trunk */
    blob(c, -0.14f, 0.82f, 0.10f, 0.18f, 0.05f, 0.05f);       /* legs */
    blob(c, 0.14f, 0.82f, 0.10f, 0.18f, 0.05f, 0.05f);
    for (int a = 0; a < 48; a++) {                             /* skull */
        float t0 = a * 6.2831853f / 48, t1 = (a + 1) * 6.2831853f / 48;
        stroke(c, 0.15f * cosf(t0), 0.075f + 0.062f * sinf(t0), 0.15f * cosf(t1), 0.075f + 0.062f * sinf(t1),
               1.4f * k, 0.9f, 0.9f);
    }
    for (int v = 0; v < 24; v++) {                             /* vertebrae */
        float t = 0.145f + v * 0.0205f;
        stroke(c, -0.025f, t, 0.025f, t, 1.5f * k, 0.85f, 1.25f);
    }
    stroke(c, -0.05f, 0.64f, 0.05f, 0.64f, 2.f * k, 0.9f, 1.2f); /* sacrum */
    stroke(c, 0, 0.64f, 0, 0.68f, 1.5f * k, 0.9f, 1.2f);
    for (int side = -1; side <= 1; side += 2) {
        for (int r = 0; r < 11; r++) {                         /* ribs */
            float t0 = 0.18f + r * 0.021f, reach = r < 7 ? 0.28f : 0.28f - 0.02f * (r - 6);
            float pu = side * 0.03f, pt = t0;
            for (int s = 1; s <= 12; s++) {
                float q = s / 12.f, uu = side * (0.03f + reach * powf(q, 0.7f)), tt = t0 + 0.055f * q * q;
                stroke(c, pu, pt, uu, tt, 0.9f * k, 0.6f, 0.75f);
                pu = uu; pt = tt;
            }
        }
        stroke(c, side * 0.04f, 0.15f, side * 0.22f, 0.135f, 1.1f * k, 0.85f, 0.6f);   /* clavicle */
        stroke(c, side * 0.27f, 0.15f, side * 0.33f, 0.43f, 1.5f * k, 0.75f, 0.75f);   /* humerus */
        stroke(c, side * 0.27f, 0.15f, side * 0.27f, 0.15f, 2.6f * k, 0.95f, 0.95f);   /* humeral head */
        stroke(c, side * 0.05f, 0.60f, side * 0.22f, 0.55f, 1.6f * k, 0.85f, 1.0f);    /* iliac wing */
        stroke(c, side * 0.22f, 0.55f, side * 0.17f, 0.67f, 1.6f * k, 0.85f, 1.0f);
        stroke(c, side * 0.04f, 0.72f, side * 0.12f, 0.70f, 1.3f * k, 0.8f, 0.7f);     /* pubis */
        stroke(c, side * 0.14f, 0.70f, side * 0.13f, 0.98f, 1.6f * k, 0.75f, 0.75f);   /* femur */
        stroke(c, side * 0.14f, 0.69f, side * 0.14f, 0.69f, 2.6f * k, 0.95f, 0.95f);   /* femoral head */
        float kid = 0.3f + 0.5f * u[side < 0 ? 0 : 1];
        blob(c, side * 0.12f, 0.47f, 0.045f, 0.045f, kid, 2.f * kid);                 /* kidney */
    }
    stroke(c, 0, 0.17f, 0, 0.30f, 1.5f * k, 0.8f, 0.3f);       /* sternum */
    float bl = 1.5f + 3.5f * u[2];
    blob(c, 0, 0.68f, 0.07f, 0.03f, bl, 0.6f * bl);            /* bladder */
}

void vt_phantom_spect_config_default(vt_phantom_spect_config *c) {
    *c = (vt_phantom_spect_config){.height = 256, .views = 1, .positive_fraction = 0.5f, .max_spots = 3,
                                   .contrast = 1, .counts = 40};
}

/* one image; returns the number of hot spots */
static int make_one(const vt_phantom_spect_config *cfg, vt_rng *r, int H, int W, float *img, float *mask,
                    int *y0, int *x0) {
    size_t np = (size_t)H * W;
    float g[8], su[1 + MAX_SPOTS * 5];
    vt_rng_uniform(r, g, 8, 0.f, 1.f);
    vt_rng_uniform(r, su, 1 + MAX_SPOTS * 5, 0.f, 1.f);
    float *buf = calloc(np * 6, sizeof(float));
    canvas c = {H, W, 0.5f * W + (g[3] - 0.5f) * 0.06f * W, (0.005f + 0.02f * g[4]) * H, 0.93f + 0.07f * g[5],
                {buf, buf + np}, {buf + 2 * np, buf + 3 * np}};
    float *uni = buf + 4 * np, *nor = buf + 5 * np;
    skeleton(&c, g);
    *y0 = (int)floorf(px_y(&c, T_LO));
    *x0 = (int)floorf(px_x(&c, -U_HALF));
    int ns = 0;
    memset(mask, 0, sizeof(float) * np);
    if (su[0] < cfg->positive_fraction) {
        ns = 1 + (int)(su[1] * cfg->max_spots) % cfg->max_spots;
        for (int s = 0; s < ns; s++) {
            const float *q = su + 2 + s * 5;
            float u, t;
            if (q[0] < 0.4f) { u = 0; t = 0.185f + 0.0205f * (int)(q[1] * 11); } /* T2..T12 body */
            else {
                int rib = (int)(q[1] * 10);
                float side = q[2] < 0.5f ? -1.f : 1.f, qq = 0.15f + 0.75f * q[3];
                float reach = rib < 7 ? 0.28f : 0.28f - 0.02f * (rib - 6);
                u = side * (0.03f + reach * powf(qq, 0.7f));
                t = 0.18f + rib * 0.021f + 0.055f * qq * qq;
            }
            float amp = (2.f + 2.f * q[4]) * cfg->contrast, sigma = (1.1f + 0.9f * q[3]) * H / 256.f;
            float x = px_x(&c, u), y = px_y(&c, t);
            int R = (int)ceilf(3 * sigma);
            for (int i = (int)y - R; i <= (int)y + R; i++)
                for (int j = (int)x - R; j <= (int)x + R; j++) {
                    if (i < 0 || j < 0 || i >= H || j >= W) continue;
                    float d2 = (j + 0.5f - x) * (j + 0.5f - x) + (i + 0.5f - y) * (i + 0.5f - y);
                    float w = expf(-d2 / (2 * sigma * sigma));
                    c.organ[0][i * W + j] += amp * w;
                    c.organ[1][i * W + j] += amp * (u == 0 ? 1.2f : 1.f) * w;
                    if (w > 0.5f) mask[i * W + j] = 1;
                }
        }
    }
    float level = cfg->counts * (0.8f + 0.4f * g[6]);
    for (int v = 0; v < cfg->views; v++) {
        vt_rng_uniform(r, uni, (int64_t)np, 0.f, 1.f);
        vt_rng_normal(r, nor, (int64_t)np, 0.f, 1.f);
        float *out = img + v * np;
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                int src = i * W + (v ? W - 1 - j : j); /* posterior: seen from the back */
                float lam = level * (c.bone[v][src] + c.organ[v][src] + 0.01f);
                out[i * W + j] = vt_phantom_poisson(lam, uni[i * W + j], nor[i * W + j]);
            }
    }
    free(buf);
    return ns;
}

void vt_phantom_spect_free(vt_phantom_spect *p) {
    if (!p) return;
    vt_tensor_free(p->images); vt_tensor_free(p->labels); vt_tensor_free(p->spot_mask);
    free(p->thorax_y0); free(p->thorax_x0);
    memset(p, 0, sizeof *p);
}

vt_status vt_phantom_spect_make(const vt_phantom_spect_config *cfg, int64_t n, uint64_t seed,
                                vt_phantom_spect *out) {
    memset(out, 0, sizeof *out);
    vt_phantom_spect_config c;
    if (cfg) c = *cfg; else vt_phantom_spect_config_default(&c);
    if (n < 1 || n > (1 << 24)) return vt_error("phantom_spect: n %lld must be in 1..2^24", (long long)n);
    if (c.height < 128 || c.height > 1024) return vt_error("phantom_spect: height %d must be in 128..1024", c.height);
    if (c.views != 1 && c.views != 2) return vt_error("phantom_spect: views %d must be 1 or 2", c.views);
    if (!(c.positive_fraction >= 0 && c.positive_fraction <= 1))
        return vt_error("phantom_spect: positive_fraction %g must be in [0, 1]", c.positive_fraction);
    if (c.max_spots < 1 || c.max_spots > MAX_SPOTS)
        return vt_error("phantom_spect: max_spots %d must be in 1..%d", c.max_spots, MAX_SPOTS);
    if (!(c.contrast >= 0.1f && c.contrast <= 3) || !(c.counts >= 1 && c.counts <= 10000))
        return vt_error("phantom_spect: contrast %g (0.1..3) or counts %g (1..10000) out of range", c.contrast, c.counts);
    int H = c.height, W = c.height * 3 / 8;
    out->images = vt_tensor_new(VT_DIMS(n, c.views, H, W));
    out->labels = vt_tensor_new(VT_DIMS(n));
    out->spot_mask = vt_tensor_new(VT_DIMS(n, 1, H, W));
    out->thorax_y0 = malloc(sizeof(int) * (size_t)n);
    out->thorax_x0 = malloc(sizeof(int) * (size_t)n);
    if (!out->images || !out->labels || !out->spot_mask || !out->thorax_y0 || !out->thorax_x0) {
        vt_phantom_spect_free(out);
        return vt_error("phantom_spect: out of memory for %lld images of %dx%d", (long long)n, H, W);
    }
    out->n = n; out->height = H; out->width = W; out->views = c.views;
    out->thorax_h = (int)((T_HI - T_LO) * H);
    out->thorax_w = (int)(2 * U_HALF * W);
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t i = 0; i < n; i++) {
        vt_rng r;
        vt_phantom_stream(&r, seed, 3, i);
        int ns = make_one(&c, &r, H, W, out->images->data + i * c.views * H * W, out->spot_mask->data + i * H * W,
                          &out->thorax_y0[i], &out->thorax_x0[i]);
        out->labels->data[i] = ns > 0;
        /* keep the crop inside the image */
        int y0 = out->thorax_y0[i], x0 = out->thorax_x0[i];
        out->thorax_y0[i] = y0 < 0 ? 0 : y0 + out->thorax_h > H ? H - out->thorax_h : y0;
        out->thorax_x0[i] = x0 < 0 ? 0 : x0 + out->thorax_w > W ? W - out->thorax_w : x0;
    }
    return VT_OK;
}

vt_tensor *vt_phantom_spect_crop_thorax(const vt_phantom_spect *p) {
    if (!p || !p->images) { vt_error("phantom_spect_crop_thorax: no phantom"); return NULL; }
    int V = p->views, h = p->thorax_h, w = p->thorax_w, H = p->height, W = p->width;
    vt_tensor *t = vt_tensor_new(VT_DIMS(p->n, V, h, w));
    if (!t) return NULL;
    for (int64_t i = 0; i < p->n; i++)
        for (int v = 0; v < V; v++)
            for (int y = 0; y < h; y++) {
                /* the posterior view is mirrored, so its thorax sits at the mirrored columns */
                int x0 = v ? W - w - p->thorax_x0[i] : p->thorax_x0[i];
                memcpy(t->data + ((i * V + v) * h + y) * w,
                       p->images->data + ((i * V + v) * H + p->thorax_y0[i] + y) * W + x0, sizeof(float) * (size_t)w);
            }
    return t;
}
