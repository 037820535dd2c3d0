/* phantom_xray.c: lateral spine radiograph phantom (see phantom_xray.h).
 *
 * Scene (pixels, x to the right = posterior, y down): a slightly curved column of
 * vertebral bodies (quadrilaterals with bright endplates and walls, textured marrow),
 * discs between them, posterior elements (overlapping ellipses) behind each body with a
 * dark neural foramen at every disc level, a spinous process, soft tissue around.
 * Each lesion edits the scene locally at its own level(s):
 *   osteophytes       bright spur growing from an anterior endplate corner
 *   disc narrowing    the two endplates of one disc move together and turn sclerotic
 *   surgical implant  saturated pedicle screws in two vertebrae joined by a rod
 *   foraminal stenosis a foramen shrinks, bone fills it
 *   spondylolisthesis one vertebra (body and posterior elements) slips anteriorly
 *   vertebral collapse anterior wedge of a body, denser (compressed) marrow
 *   other lesions     a lucent round lesion with a sclerotic rim inside a body
 * A lesion's pixels are those where rendering the scene with that lesion alone differs
 * from the lesion-free scene (noise-free); its box is their bounding box. All random
 * draws happen in a fixed order whatever is drawn, so an image with abnormal_fraction 0
 * is the exact lesion-free twin (same anatomy, same noise) of the one with 1. */
#include <stdlib.h>
#include <string.h>
#include "phantom_common.h"
#include "phantom_xray.h"

const char *const vt_xray_class_names[VT_XRAY_N_CLASSES] = {
    "Osteophytes", "Disc space narrowing", "Surgical implant", "Foraminal stenosis",
    "Spondylolysthesis", "Vertebral collapse", "Other lesions"};

#define MAX_VERT 16
#define MAX_SLOTS 4

typedef struct {
    float xa, xp;             /* anterior (left) and posterior (right) walls */
    float yta, ytp, yba, ybp; /* top / bottom endplate y at the anterior and posterior walls */
    float cy;                 /* centre row */
    float sclerosis;          /* added to the marrow (collapse) */
    float top_boost, bot_boost; /* added to the endplates (narrowing) */
} vert;

typedef struct { int cls, level; float q[4]; } lesion;

typedef struct { float x0, y0, dir, len, thick, val; } spur_t;
typedef struct { int k; float angle, val; } implant_t;
typedef struct { float x, y, r, delta; } hole_t;

typedef struct {
    int S, K;
    float W, P, h, cortex, bg0, bg_grad, cx_mid;
    vert v[MAX_VERT];
    float foramen_scale[MAX_VERT]; /* foramen between vertebra k and k + 1 */
    float foramen_fill[MAX_VERT];
    /* overlay lesions (at most MAX_SLOTS of each) */
    int n_spur, n_implant, n_hole;
    spur_t spur[MAX_SLOTS];
    implant_t implant[MAX_SLOTS];
    hole_t hole[MAX_SLOTS];
} scene;

void vt_phantom_xray_config_default(vt_phantom_xray_config *c) {
    *c = (vt_phantom_xray_config){.size = 128, .abnormal_fraction = 0.5f, .max_lesions = 2,
                                  .lesion_scale = 1, .contrast = 1, .noise = 0.03f, .class_mask = 0x7f};
}

static inline float lerp(float a, float b, float t) { return a + (b - a) * t; }

/* applies lesion L to scene s (whose anatomy is already set) */
static void apply_lesion(scene *s, const lesion *L, const vt_phantom_xray_config *c) {
    float sc = c->lesion_scale, ct = c->contrast;
    int k = L->level;
    vert *v = &s->v[k];
    switch (L->cls) {
    case VT_XRAY_OSTEOPHYTES: {
        int top = L->q[0] < 0.5f;
        float len = (0.16f + 0.08f * L->q[1]) * s->W * sc;
        s->spur[s->n_spur++] = (spur_t){v->xa, top ? v->yta : v->yba, top ? -1.f : 1.f, len,
                                                     0.30f * len + 0.5f, 0.30f + 0.40f * ct};
        break;
    }
    case VT_XRAY_DISC_NARROWING: {
        float gap = s->v[k + 1].yta - v->yba;
        float a = 0.36f * gap * (sc < 1.2f ? sc : 1.2f);
        v->yba += a; v->ybp += a;
        s->v[k + 1].yta -= a; s->v[k + 1].ytp -= a;
        v->bot_boost = s->v[k + 1].top_boost = 0.14f * ct;
        break;
    }
    case VT_XRAY_IMPLANT:
        s->implant[s->n_implant++] = (implant_t){k, (L->q[0] - 0.5f) * 0.3f,
                                                            fminf(1.f, 0.72f + 0.25f * ct)};
        break;
    case VT_XRAY_FORAMINAL_STENOSIS:
        s->foramen_scale[k] = fmaxf(0.15f, 1.f - 0.65f * sc);
        s->foramen_fill[k] = 0.08f * ct;
        break;
    case VT_XRAY_SPONDYLOLISTHESIS: {
        float d = (0.20f + 0.08f * L->q[0]) * s->W * sc;
        v->xa -= d; v->xp -= d;
        break;
    }
    case VT_XRAY_COLLAPSE: {
        float H = v->yba - v->yta, f = (0.35f + 0.2f * L->q[0]) * (sc < 1.5f ? sc : 1.5f);
        v->yta += f * H; v->ytp += 0.15f * f * H;
        v->sclerosis = 0.10f * ct;
        break;
    }
    default: { /* other lesions */
        float r = (0.26f + 0.1f * L->q[0]) * s->h * sc;
        float cx = lerp(v->xa, v->xp, 0.35f + 0.3f * L->q[1]), cy = v->cy + (L->q[2] - 0.5f) * 0.4f * s->h;
        s->hole[s->n_hole++] = (hole_t){cx, cy, r, 0.24f * ct};
        break;
    }
    }
}

/* top / bottom endplate rows of vertebra v at column x (extended beyond the walls) */
static inline float ytop(const vert *v, float x) { return lerp(v->yta, v->ytp, (x - v->xa) / (v->xp - v->xa)); }
static inline float ybot(const vert *v, float x) { return lerp(v->yba, v->ybp, (x - v->xa) / (v->xp - v->xa)); }

static float pixel(const scene *s, float x, float y, float tex) {
    float W = s->W, P = s->P;
    float dx = (x - s->cx_mid) / (0.45f * s->S);
    float bg = s->bg0 + 0.10f * expf(-dx * dx) + s->bg_grad * (y / s->S - 0.5f);
    float val = bg;
    for (int k = 0; k < s->K; k++) { /* posterior elements and spinous process */
        const vert *v = &s->v[k];
        if (vt_phantom_ell(x, y, v->xp + 0.17f * W, v->cy, 0.17f * W, 0.50f * P) < 1.f) val = 0.40f + 0.03f * tex;
        else if (vt_phantom_ell(x, y, v->xp + 0.44f * W, v->cy + 0.12f * P, 0.13f * W, 0.13f * P) < 1.f)
            val = 0.42f + 0.03f * tex;
    }
    for (int k = 0; k + 1 < s->K; k++) { /* foramina, below vertebra k */
        const vert *v = &s->v[k];
        float fx = v->xp + 0.14f * W, fy = 0.5f * (v->cy + s->v[k + 1].cy);
        if (vt_phantom_ell(x, y, fx, fy, 0.075f * W, 0.27f * P) < 1.f) {
            float f = s->foramen_scale[k];
            val = vt_phantom_ell(x, y, fx, fy, 0.075f * W * f, 0.27f * P * f) < 1.f ? bg + 0.03f
                                                                                   : 0.40f + s->foramen_fill[k] + 0.03f * tex;
        }
    }
    for (int k = 0; k + 1 < s->K; k++) { /* discs */
        const vert *a = &s->v[k], *b = &s->v[k + 1];
        if (x >= fminf(a->xa, b->xa) && x <= fmaxf(a->xp, b->xp) && y > ybot(a, x) && y < ytop(b, x))
            val = bg + 0.07f;
    }
    for (int k = 0; k < s->K; k++) { /* bodies */
        const vert *v = &s->v[k];
        if (x < v->xa || x > v->xp) continue;
        float yt = ytop(v, x), yb = ybot(v, x);
        if (y < yt || y > yb) continue;
        if (y - yt < s->cortex) val = 0.76f + v->top_boost;
        else if (yb - y < s->cortex) val = 0.76f + v->bot_boost;
        else if (x - v->xa < s->cortex || v->xp - x < s->cortex) val = 0.68f;
        else val = 0.54f + v->sclerosis + 0.05f * tex;
    }
    for (int i = 0; i < s->n_hole; i++) {
        float d = sqrtf((x - s->hole[i].x) * (x - s->hole[i].x) + (y - s->hole[i].y) * (y - s->hole[i].y));
        if (d < s->hole[i].r) val -= s->hole[i].delta;
        else if (d < 1.3f * s->hole[i].r) val += 0.5f * s->hole[i].delta;
    }
    for (int i = 0; i < s->n_spur; i++) {
        float d = s->spur[i].x0 - x; /* outwards (anterior) from the wall */
        if (d < 0 || d > s->spur[i].len) continue;
        float yc = s->spur[i].y0 + s->spur[i].dir * 0.45f * d;
        if (fabsf(y - yc) < s->spur[i].thick * (1.f - d / s->spur[i].len) + 0.5f) val = s->spur[i].val;
    }
    for (int i = 0; i < s->n_implant; i++) {
        float tn = tanf(s->implant[i].angle), rodx = s->v[s->implant[i].k].xp + 0.30f * W;
        for (int j = 0; j < 2; j++) { /* screws in vertebrae k and k + 1 */
            const vert *v = &s->v[s->implant[i].k + j];
            if (x > lerp(v->xa, v->xp, 0.3f) && x < rodx + 0.04f * W &&
                fabsf(y - (v->cy + (x - v->xp) * tn)) < 0.045f * P)
                val = s->implant[i].val;
        }
        const vert *a = &s->v[s->implant[i].k], *b = &s->v[s->implant[i].k + 1];
        if (fabsf(x - rodx) < 0.035f * W && y > a->cy - 0.15f * P && y < b->cy + 0.15f * P) val = s->implant[i].val;
    }
    return val;
}

static void render(const scene *s, const float *tex, float *out) {
    int S = s->S;
    for (int i = 0; i < S; i++)
        for (int j = 0; j < S; j++) out[i * S + j] = pixel(s, j + 0.5f, i + 0.5f, tex[i * S + j]);
}

/* builds the lesion-free anatomy of one image from 8 uniforms */
static void anatomy(scene *s, int S, const float *u) {
    memset(s, 0, sizeof *s);
    s->S = S;
    s->P = S * (0.17f + 0.04f * u[0]);
    s->h = 0.37f * s->P;
    s->W = S * (0.28f + 0.06f * u[1]);
    s->cortex = fmaxf(1.f, S / 110.f);
    s->bg0 = 0.12f + 0.08f * u[2];
    s->bg_grad = (u[3] - 0.5f) * 0.12f;
    float x0 = S * (0.36f + 0.08f * u[4]), curv = (u[5] - 0.5f) * 0.5f, yoff = -u[6] * s->P;
    s->cx_mid = x0 + 0.5f * s->W;
    s->K = (int)(S / s->P) + 2;
    if (s->K > MAX_VERT) s->K = MAX_VERT;
    for (int k = 0; k < s->K; k++) {
        vert *v = &s->v[k];
        v->cy = yoff + (k + 0.5f) * s->P;
        float t = (v->cy - 0.5f * S) / S, xc = x0 + 0.5f * s->W + curv * t * t * S;
        v->xa = xc - 0.5f * s->W; v->xp = xc + 0.5f * s->W;
        v->yta = v->ytp = v->cy - s->h;
        v->yba = v->ybp = v->cy + s->h;
        s->foramen_scale[k] = 1.f;
    }
}

/* Picks lesion levels: single-level lesions take vertebra k, the others (narrowing,
 * implant, foraminal) k and k + 1; levels never overlap. Returns the number placed. */
static int place(const scene *s, lesion *L, int n) {
    int used[MAX_VERT] = {0}, ok[MAX_VERT] = {0}, placed = 0;
    for (int k = 0; k < s->K; k++) ok[k] = s->v[k].cy - s->h > 0.04f * s->S && s->v[k].cy + s->h < 0.96f * s->S;
    for (int i = 0; i < n; i++) {
        int two = L[i].cls == VT_XRAY_DISC_NARROWING || L[i].cls == VT_XRAY_IMPLANT ||
                  L[i].cls == VT_XRAY_FORAMINAL_STENOSIS;
        int cand[MAX_VERT], nc = 0;
        for (int k = 0; k < s->K; k++)
            if (ok[k] && !used[k] && (!two || (k + 1 < s->K && ok[k + 1] && !used[k + 1]))) cand[nc++] = k;
        if (!nc) continue;
        int k = cand[(int)(L[i].q[3] * nc) % nc];
        used[k] = 1;
        if (two) used[k + 1] = 1;
        L[placed] = L[i];
        L[placed++].level = k;
    }
    return placed;
}

typedef struct { int n; vt_phantom_box box[MAX_SLOTS]; } image_boxes;

static void make_one(const vt_phantom_xray_config *c, vt_rng *r, float *img, float *map, image_boxes *ib) {
    int S = c->size;
    size_t np = (size_t)S * S;
    float u[8], lu[2 + MAX_SLOTS * 6];
    vt_rng_uniform(r, u, 8, 0.f, 1.f);
    float *tex = malloc(sizeof(float) * np * 3), *noise = tex + np, *tmp = tex + 2 * np;
    vt_rng_normal(r, tex, (int64_t)np * 2, 0.f, 1.f); /* texture then noise */
    vt_rng_uniform(r, lu, 2 + MAX_SLOTS * 6, 0.f, 1.f);
    scene base;
    anatomy(&base, S, u);
    int allowed[VT_XRAY_N_CLASSES], na = 0;
    for (int k = 0; k < VT_XRAY_N_CLASSES; k++)
        if (c->class_mask >> k & 1) allowed[na++] = k;
    lesion L[MAX_SLOTS];
    int nl = 0;
    if (lu[0] < c->abnormal_fraction && na > 0) {
        int want = 1 + (int)(lu[1] * c->max_lesions) % c->max_lesions;
        for (int i = 0; i < want; i++) {
            const float *q = lu + 2 + i * 6;
            L[i].cls = allowed[(int)(q[0] * na) % na];
            memcpy(L[i].q, q + 1, sizeof L[i].q);
            L[i].q[3] = q[5];
        }
        nl = place(&base, L, want);
    }
    render(&base, tex, img);
    memset(map, 0, sizeof(float) * np);
    ib->n = 0;
    for (int i = 0; i < nl; i++) { /* each lesion alone: its pixels and box */
        scene s = base;
        apply_lesion(&s, &L[i], c);
        render(&s, tex, tmp);
        int x1 = S, y1 = S, x2 = -1, y2 = -1;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
                if (fabsf(tmp[y * S + x] - img[y * S + x]) > 1e-4f) {
                    map[y * S + x] = (float)(ib->n + 1);
                    x1 = x < x1 ? x : x1; x2 = x > x2 ? x : x2;
                    y1 = y < y1 ? y : y1; y2 = y > y2 ? y : y2;
                }
        if (x2 < 0) continue; /* no visible effect: no box (cannot happen at placed levels) */
        ib->box[ib->n++] = (vt_phantom_box){0, (float)x1, (float)y1, (float)(x2 + 1), (float)(y2 + 1), L[i].cls};
    }
    if (nl) { /* the image: all lesions together */
        scene s = base;
        for (int i = 0; i < nl; i++) apply_lesion(&s, &L[i], c);
        render(&s, tex, img);
    }
    float gain = 0.9f + 0.2f * u[7];
    for (size_t p = 0; p < np; p++) {
        float v = img[p] * gain + c->noise * noise[p];
        img[p] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    free(tex);
}

void vt_phantom_xray_free(vt_phantom_xray *p) {
    if (!p) return;
    vt_tensor_free(p->images); vt_tensor_free(p->labels); vt_tensor_free(p->lesion_map);
    free(p->boxes);
    memset(p, 0, sizeof *p);
}

vt_status vt_phantom_xray_make(const vt_phantom_xray_config *cfg, int64_t n, uint64_t seed,
                               vt_phantom_xray *out) {
    memset(out, 0, sizeof *out);
    vt_phantom_xray_config c;
    if (cfg) c = *cfg; else vt_phantom_xray_config_default(&c);
    if (n < 1 || n > (1 << 24)) return vt_error("phantom_xray: n %lld must be in 1..2^24", (long long)n);
    if (c.size < 64 || c.size > 1024) return vt_error("phantom_xray: size %d must be in 64..1024", c.size);
    if (!(c.abnormal_fraction >= 0 && c.abnormal_fraction <= 1))
        return vt_error("phantom_xray: abnormal_fraction %g must be in [0, 1]", c.abnormal_fraction);
    if (c.max_lesions < 1 || c.max_lesions > MAX_SLOTS)
        return vt_error("phantom_xray: max_lesions %d must be in 1..%d", c.max_lesions, MAX_SLOTS);
    if (!(c.lesion_scale >= 0.5f && c.lesion_scale <= 2.f) || !(c.contrast >= 0.1f && c.contrast <= 3.f) ||
        !(c.noise >= 0 && c.noise <= 0.5f))
        return vt_error("phantom_xray: lesion_scale %g (0.5..2), contrast %g (0.1..3) or noise %g (0..0.5) out of range",
                        c.lesion_scale, c.contrast, c.noise);
    if (c.class_mask & ~0x7f) return vt_error("phantom_xray: class_mask 0x%x has bits beyond the 7 classes", c.class_mask);
    int S = c.size;
    out->images = vt_tensor_new(VT_DIMS(n, 1, S, S));
    out->labels = vt_tensor_new(VT_DIMS(n));
    out->lesion_map = vt_tensor_new(VT_DIMS(n, 1, S, S));
    image_boxes *ib = calloc((size_t)n, sizeof *ib);
    if (!out->images || !out->labels || !out->lesion_map || !ib) {
        free(ib);
        vt_phantom_xray_free(out);
        return vt_error("phantom_xray: out of memory for %lld images of %dx%d", (long long)n, S, S);
    }
    out->n = n;
    out->size = S;
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t i = 0; i < n; i++) {
        vt_rng r;
        vt_phantom_stream(&r, seed, 2, i);
        make_one(&c, &r, out->images->data + i * S * S, out->lesion_map->data + i * S * S, &ib[i]);
        out->labels->data[i] = ib[i].n > 0;
    }
    int64_t nb = 0;
    for (int64_t i = 0; i < n; i++) nb += ib[i].n;
    out->boxes = malloc(sizeof(vt_phantom_box) * (size_t)(nb ? nb : 1));
    if (!out->boxes) { free(ib); vt_phantom_xray_free(out); return vt_error("phantom_xray: out of memory"); }
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < ib[i].n; k++) {
            ib[i].box[k].image = i;
            out->boxes[out->n_boxes++] = ib[i].box[k];
        }
    free(ib);
    return VT_OK;
}
