/* phantom_cord.c: multi-contrast spinal-cord MRI phantom (see phantom_cord.h).
 *
 * Each axial slice k holds the cord as an ellipse (semi-axes a LR, b AP in mm, slowly
 * varying along z with a cervical-like enlargement; centre wandering by a few mm) inside
 * a larger CSF-filled canal ellipse, surrounded by vertebral bone, with discs every
 * ~18 mm, and soft tissue elsewhere. The cord of a slice does not vary within the slab,
 * so its true area is exactly pi * a * b; the cord fraction of each voxel is measured on
 * a 16 x 16 sub-grid. The per-contrast masks mimic raters: each contrast's cord is
 * shifted by up to 0.25 voxel, scaled by up to 4 % and thresholded at its own partial-
 * volume level (0.35..0.65), so masks agree in the core and differ at the edge.
 * Intensities mix the tissue values of each contrast by volume fraction, with a grey-
 * matter-like brighter core on T2*, a smooth bias field and Gaussian noise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "phantom_common.h"
#include "phantom_cord.h"

const char *const vt_cord_contrast_names[VT_CORD_N_CONTRASTS] = {"T2w", "T2starw", "T1w", "MTw"};

/* tissue values per contrast: cord, CSF, bone, disc, soft tissue, grey-matter excess */
static const float TISSUE[VT_CORD_N_CONTRASTS][6] = {
    {0.35f, 1.00f, 0.25f, 0.70f, 0.30f, 0.00f}, /* T2: bright CSF, dark cord */
    {0.45f, 0.90f, 0.20f, 0.50f, 0.35f, 0.15f}, /* T2*: grey matter brighter than white */
    {0.65f, 0.15f, 0.75f, 0.40f, 0.50f, 0.00f}, /* T1: inverted, fatty marrow bright */
    {0.55f, 0.25f, 0.35f, 0.45f, 0.40f, 0.00f}, /* MT */
};
static const float THRESHOLD[VT_CORD_N_CONTRASTS] = {0.5f, 0.4f, 0.6f, 0.45f};

#define SUB 16

void vt_phantom_cord_config_default(vt_phantom_cord_config *c) {
    *c = (vt_phantom_cord_config){.nx = 32, .ny = 32, .nz = 48, .dx = 0.8f, .dy = 0.8f, .dz = 2.5f, .noise = 0.03f};
}

/* fraction of voxel (i, j) (mm frame: voxel centre at ((i + 0.5) dx, (j + 0.5) dy)) inside the ellipse */
static float ell_fraction(int i, int j, float dx, float dy, float cx, float cy, float a, float b) {
    float x0 = i * dx, y0 = j * dy;
    /* whole voxel in or out: skip the sub-grid */
    float ex = (x0 + 0.5f * dx - cx) / a, ey = (y0 + 0.5f * dy - cy) / b, r = sqrtf(ex * ex + ey * ey);
    float margin = 0.75f * sqrtf(dx * dx + dy * dy) / fminf(a, b);
    if (r < 1 - margin) return 1;
    if (r > 1 + margin) return 0;
    int in = 0;
    for (int u = 0; u < SUB; u++)
        for (int v = 0; v < SUB; v++)
            in += vt_phantom_ell(x0 + (u + 0.5f) * dx / SUB, y0 + (v + 0.5f) * dy / SUB, cx, cy, a, b) < 1.f;
    return (float)in / (SUB * SUB);
}

void vt_phantom_cord_free(vt_phantom_cord *p) {
    if (!p) return;
    for (int c = 0; c < VT_CORD_N_CONTRASTS; c++) { vt_tensor_free(p->image[c]); vt_tensor_free(p->mask[c]); }
    vt_tensor_free(p->soft); vt_tensor_free(p->fraction); vt_tensor_free(p->csa);
    memset(p, 0, sizeof *p);
}

static void set_geometry(vt_nifti_header *g, const vt_phantom_cord_config *c) {
    memset(g, 0, sizeof *g);
    g->version = 1;
    g->pixdim[0] = 1;
    g->pixdim[1] = c->dx; g->pixdim[2] = c->dy; g->pixdim[3] = c->dz;
    g->qform_code = g->sform_code = 1; /* scanner frame */
    g->xyzt_units = 2;                 /* mm */
    float d[3] = {c->dx, c->dy, c->dz};
    int n[3] = {c->nx, c->ny, c->nz};
    for (int r = 0; r < 3; r++) {
        g->srow[r][r] = d[r];
        g->srow[r][3] = -0.5 * (n[r] - 1) * d[r]; /* volume centred on the origin */
        for (int k = 0; k < 4; k++) g->affine[r][k] = g->srow[r][k];
    }
    g->affine[3][3] = 1;
    g->qoffset_x = g->srow[0][3]; g->qoffset_y = g->srow[1][3]; g->qoffset_z = g->srow[2][3];
    snprintf(g->descrip, sizeof g->descrip, "vertebra cord phantom");
}

vt_status vt_phantom_cord_make(const vt_phantom_cord_config *cfg, uint64_t seed, int64_t subject,
                               vt_phantom_cord *out) {
    memset(out, 0, sizeof *out);
    vt_phantom_cord_config c;
    if (cfg) c = *cfg; else vt_phantom_cord_config_default(&c);
    if (c.nx < 24 || c.nx > 256 || c.ny < 24 || c.ny > 256 || c.nz < 4 || c.nz > 512)
        return vt_error("phantom_cord: size %dx%dx%d must be 24..256 x 24..256 x 4..512", c.nx, c.ny, c.nz);
    if (!(c.dx >= 0.2f && c.dx <= 5) || !(c.dy >= 0.2f && c.dy <= 5) || !(c.dz >= 0.2f && c.dz <= 5))
        return vt_error("phantom_cord: spacing %g x %g x %g mm must be in 0.2..5", c.dx, c.dy, c.dz);
    if (!(c.noise >= 0 && c.noise <= 0.5f)) return vt_error("phantom_cord: noise %g must be in 0..0.5", c.noise);
    if (c.nx * c.dx < 24 || c.ny * c.dy < 24)
        return vt_error("phantom_cord: field of view %gx%g mm is smaller than the 24 mm canal", c.nx * c.dx, c.ny * c.dy);
    int nx = c.nx, ny = c.ny, nz = c.nz;
    int64_t nv = (int64_t)nx * ny * nz, ns = (int64_t)nx * ny;
    int ok = 1;
    for (int k = 0; k < VT_CORD_N_CONTRASTS; k++) {
        ok &= (out->image[k] = vt_tensor_new(VT_DIMS(nz, ny, nx))) != NULL;
        ok &= (out->mask[k] = vt_tensor_new(VT_DIMS(nz, ny, nx))) != NULL;
    }
    ok &= (out->soft = vt_tensor_new(VT_DIMS(nz, ny, nx))) != NULL;
    ok &= (out->fraction = vt_tensor_new(VT_DIMS(nz, ny, nx))) != NULL;
    ok &= (out->csa = vt_tensor_new(VT_DIMS(nz))) != NULL;
    float *noise = malloc(sizeof(float) * (size_t)nv);
    if (!ok || !noise) { free(noise); vt_phantom_cord_free(out); return vt_error("phantom_cord: out of memory"); }
    set_geometry(&out->geometry, &c);
    vt_rng r;
    vt_phantom_stream(&r, seed, 4, subject);
    float g[12], jit[VT_CORD_N_CONTRASTS][4];
    vt_rng_uniform(&r, g, 12, 0.f, 1.f);
    vt_rng_uniform(&r, &jit[0][0], VT_CORD_N_CONTRASTS * 4, 0.f, 1.f);
    float a0 = 5.2f + 1.0f * g[0], b0 = 3.4f + 0.8f * g[1], zc = nz * c.dz * (0.3f + 0.4f * g[2]);
    float ph1 = 6.2831853f * g[3], ph2 = 6.2831853f * g[4], L = 60 + 60 * g[5], disc0 = 18 * g[6];
    float bias_x = (g[7] - 0.5f) * 0.2f, bias_y = (g[8] - 0.5f) * 0.2f;
    float fx = nx * c.dx, fy = ny * c.dy;
    for (int z = 0; z < nz; z++) {
        float zm = (z + 0.5f) * c.dz, e = expf(-(zm - zc) * (zm - zc) / (2 * 15.f * 15.f));
        float a = a0 * (1 + 0.12f * e), b = b0 * (1 + 0.08f * e);
        float cx = 0.5f * fx + 1.5f * sinf(6.2831853f * zm / L + ph1);
        float cy = 0.5f * fy + 1.0f * sinf(6.2831853f * zm / L + ph2);
        float A = a + 3.0f, B = b + 2.5f, ccy = cy - 0.8f; /* canal centre 0.8 mm posterior: the cord lies anteriorly, as in vivo */
        int disc = fmodf(zm + disc0, 18.f) < 4.f;
        out->csa->data[z] = (float)(3.14159265358979 * a * b);
        for (int j = 0; j < ny; j++)
            for (int i = 0; i < nx; i++) {
                int64_t q = z * ns + (int64_t)j * nx + i;
                float fc = ell_fraction(i, j, c.dx, c.dy, cx, cy, a, b);
                float fcanal = fmaxf(ell_fraction(i, j, c.dx, c.dy, cx, ccy, A, B), fc);
                out->fraction->data[q] = fc;
                float x = (i + 0.5f) * c.dx, y = (j + 0.5f) * c.dy;
                int outer = vt_phantom_ell(x, y, cx, ccy, A + 4.5f, B + 5.f) < 1.f;
                int anterior = y > ccy; /* y runs posterior -> anterior */
                int tissue = !outer ? 4 : disc && anterior ? 3 : 2;
                float gm = vt_phantom_ell(x, y, cx, cy, 0.45f * a, 0.5f * b) < 1.f;
                for (int k = 0; k < VT_CORD_N_CONTRASTS; k++) {
                    const float *T = TISSUE[k];
                    float v = fc * (T[0] + gm * T[5]) + (fcanal - fc) * T[1] + (1 - fcanal) * T[tissue];
                    out->image[k]->data[q] = v * (1 + bias_x * (x / fx - 0.5f) + bias_y * (y / fy - 0.5f));
                }
            }
        /* rater masks: jittered cord, own threshold */
        for (int k = 0; k < VT_CORD_N_CONTRASTS; k++) {
            float sx = (jit[k][0] - 0.5f) * 0.5f * c.dx, sy = (jit[k][1] - 0.5f) * 0.5f * c.dy;
            float s = 0.96f + 0.08f * jit[k][2], t = THRESHOLD[k] + (jit[k][3] - 0.5f) * 0.1f;
            for (int j = 0; j < ny; j++)
                for (int i = 0; i < nx; i++)
                    out->mask[k]->data[z * ns + (int64_t)j * nx + i] =
                        ell_fraction(i, j, c.dx, c.dy, cx + sx, cy + sy, s * a, s * b) >= t;
        }
    }
    for (int k = 0; k < VT_CORD_N_CONTRASTS; k++) {
        vt_rng_normal(&r, noise, nv, 0.f, c.noise);
        for (int64_t q = 0; q < nv; q++) out->image[k]->data[q] += noise[q];
    }
    for (int64_t q = 0; q < nv; q++) {
        float s = 0;
        for (int k = 0; k < VT_CORD_N_CONTRASTS; k++) s += out->mask[k]->data[q];
        out->soft->data[q] = s / VT_CORD_N_CONTRASTS;
    }
    free(noise);
    return VT_OK;
}
