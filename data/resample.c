/* resample.c: trilinear / nearest resampling between voxel grids (see resample.h). */
#include "resample.h"

#include <math.h>
#include <string.h>

void vt_affine_from_spacing(const double spacing[3], double out[4][4]) {
    memset(out, 0, 16 * sizeof(double));
    for (int a = 0; a < 3; a++) out[a][a] = spacing[a];
    out[3][3] = 1;
}

/* inverse of an affine [M t; 0 1]; VT_ERR when M is singular */
static vt_status affine_inverse(const double a[4][4], double inv[4][4]) {
    double m[3][3];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) m[r][c] = a[r][c];
    double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                 m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                 m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if (!(fabs(det) > 1e-12)) return vt_error("resample: singular affine (det %g)", det);
    double c[3][3] = {
        {m[1][1] * m[2][2] - m[1][2] * m[2][1], m[0][2] * m[2][1] - m[0][1] * m[2][2], m[0][1] * m[1][2] - m[0][2] * m[1][1]},
        {m[1][2] * m[2][0] - m[1][0] * m[2][2], m[0][0] * m[2][2] - m[0][2] * m[2][0], m[0][2] * m[1][0] - m[0][0] * m[1][2]},
        {m[1][0] * m[2][1] - m[1][1] * m[2][0], m[0][1] * m[2][0] - m[0][0] * m[2][1], m[0][0] * m[1][1] - m[0][1] * m[1][0]}};
    memset(inv, 0, 16 * sizeof(double));
    for (int r = 0; r < 3; r++) {
        for (int k = 0; k < 3; k++) inv[r][k] = c[r][k] / det;
        inv[r][3] = -(inv[r][0] * a[0][3] + inv[r][1] * a[1][3] + inv[r][2] * a[2][3]);
    }
    inv[3][3] = 1;
    return VT_OK;
}

static void affine_mul(const double a[4][4], const double b[4][4], double out[4][4]) {
    double t[4][4];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            double s = 0;
            for (int k = 0; k < 4; k++) s += a[r][k] * b[k][c];
            t[r][c] = s;
        }
    memcpy(out, t, sizeof t);
}

/* splits vol into (C, D, H, W) sizes; VT_ERR for another rank */
static vt_status vol_dims(const vt_tensor *vol, const char *op, int64_t d[4]) {
    if (!vol) return vt_error("%s: NULL volume", op);
    if (vol->ndim != 3 && vol->ndim != 4) {
        char b[64];
        return vt_error("%s: volume must be (D, H, W) or (C, D, H, W), got %s", op,
                        vt_shape_str(vol, b, sizeof b));
    }
    int o = vol->ndim - 3;
    d[0] = o ? vol->shape[0] : 1;
    for (int a = 0; a < 3; a++) d[1 + a] = vol->shape[o + a];
    return VT_OK;
}

/* sample one channel (D, H, W) at continuous index (x, y, z), edges clamped */
static float sample_linear(const float *v, const int64_t d[4], double x, double y, double z) {
    double c[3] = {x, y, z};
    int64_t n[3] = {d[3], d[2], d[1]}, i0[3], i1[3];
    double w[3];
    for (int a = 0; a < 3; a++) {
        double p = c[a] < 0 ? 0 : c[a] > (double)(n[a] - 1) ? (double)(n[a] - 1) : c[a];
        double f = floor(p);
        i0[a] = (int64_t)f;
        i1[a] = i0[a] + 1 < n[a] ? i0[a] + 1 : i0[a];
        w[a] = p - f;
    }
    double s = 0;
    for (int k = 0; k < 2; k++) {
        double wz = k ? w[2] : 1 - w[2];
        if (wz == 0) continue;
        int64_t zi = k ? i1[2] : i0[2];
        for (int j = 0; j < 2; j++) {
            double wy = j ? w[1] : 1 - w[1];
            if (wy == 0) continue;
            const float *row = v + (zi * n[1] + (j ? i1[1] : i0[1])) * n[0];
            s += wz * wy * ((1 - w[0]) * row[i0[0]] + (w[0] ? w[0] * row[i1[0]] : 0));
        }
    }
    return (float)s;
}

static float sample_nearest(const float *v, const int64_t d[4], double x, double y, double z) {
    double c[3] = {x, y, z};
    int64_t n[3] = {d[3], d[2], d[1]}, i[3];
    for (int a = 0; a < 3; a++) {
        double r = floor(c[a] + 0.5);
        i[a] = r < 0 ? 0 : r > (double)(n[a] - 1) ? n[a] - 1 : (int64_t)r;
    }
    return v[(i[2] * n[1] + i[1]) * n[0] + i[0]];
}

vt_tensor *vt_resample_to_grid(const vt_tensor *vol, const double affine[4][4],
                               const int64_t out_dhw[3], const double out_affine[4][4],
                               vt_interp interp) {
    int64_t d[4] = {0};
    if (vol_dims(vol, "resample_to_grid", d) != VT_OK) return NULL;
    if (out_dhw[0] < 1 || out_dhw[1] < 1 || out_dhw[2] < 1)
        return vt_error("resample_to_grid: bad output size (%lld, %lld, %lld)", (long long)out_dhw[0],
                        (long long)out_dhw[1], (long long)out_dhw[2]), NULL;
    if (interp < VT_INTERP_LINEAR || interp > VT_INTERP_LINEAR_THRESHOLD)
        return vt_error("resample_to_grid: unknown interpolation %d", (int)interp), NULL;
    double inv[4][4], m[4][4]; /* m: output voxel -> input voxel */
    if (affine_inverse(affine, inv) != VT_OK) return NULL;
    affine_mul(inv, out_affine, m);
    int64_t shape[4] = {d[0], out_dhw[0], out_dhw[1], out_dhw[2]};
    int o = vol->ndim - 3;
    vt_tensor *out = vt_tensor_new(vol->ndim, shape + 1 - o);
    if (!out) return NULL;
    int64_t plane_in = d[1] * d[2] * d[3], plane_out = out_dhw[0] * out_dhw[1] * out_dhw[2];
    /* snap indices within 1e-9 of an integer so that exact grids (identity, 90-degree
     * permutations) copy values bit for bit instead of mixing in round-off weights */
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t c = 0; c < d[0]; c++)
        for (int64_t k = 0; k < out_dhw[0]; k++) {
            const float *src = vol->data + c * plane_in;
            float *dst = out->data + c * plane_out + k * out_dhw[1] * out_dhw[2];
            for (int64_t j = 0; j < out_dhw[1]; j++)
                for (int64_t i = 0; i < out_dhw[2]; i++) {
                    double p[3];
                    for (int r = 0; r < 3; r++) {
                        double v = m[r][0] * i + m[r][1] * j + m[r][2] * k + m[r][3];
                        double rv = nearbyint(v);
                        p[r] = fabs(v - rv) < 1e-9 ? rv : v;
                    }
                    float s = interp == VT_INTERP_NEAREST ? sample_nearest(src, d, p[0], p[1], p[2])
                                                          : sample_linear(src, d, p[0], p[1], p[2]);
                    if (interp == VT_INTERP_LINEAR_THRESHOLD) s = s >= 0.5f ? 1.0f : 0.0f;
                    dst[j * out_dhw[2] + i] = s;
                }
        }
    return out;
}

void vt_resample_shape(const int64_t n[3], const double affine[4][4], const double spacing[3],
                       int64_t out[3]) {
    double sp[3];
    for (int a = 0; a < 3; a++)
        sp[a] = sqrt(affine[0][a] * affine[0][a] + affine[1][a] * affine[1][a] + affine[2][a] * affine[2][a]);
    for (int a = 0; a < 3; a++) {
        double m = floor((double)n[a] * sp[a] / spacing[a] + 0.5); /* half up */
        out[a] = m < 1 ? 1 : (int64_t)m;
    }
}

vt_tensor *vt_resample_spacing(const vt_tensor *vol, const double affine[4][4],
                               const double spacing[3], vt_interp interp,
                               double out_affine[4][4]) {
    int64_t d[4] = {0};
    if (vol_dims(vol, "resample_spacing", d) != VT_OK) return NULL;
    for (int a = 0; a < 3; a++)
        if (!(spacing[a] > 0) || !isfinite(spacing[a]))
            return vt_error("resample_spacing: target spacing (%g, %g, %g) must be positive",
                            spacing[0], spacing[1], spacing[2]), NULL;
    double inv[4][4];
    if (affine_inverse(affine, inv) != VT_OK) return NULL;
    int64_t n[3] = {d[3], d[2], d[1]}, m[3];
    vt_resample_shape(n, affine, spacing, m);
    /* output voxel o -> input index s o + t per axis (s = new / old spacing), centres aligned */
    double g[4][4] = {{0}};
    for (int a = 0; a < 3; a++) {
        double sp = sqrt(affine[0][a] * affine[0][a] + affine[1][a] * affine[1][a] + affine[2][a] * affine[2][a]);
        double s = spacing[a] / sp;
        g[a][a] = s;
        g[a][3] = (double)(n[a] - 1) / 2 - s * (double)(m[a] - 1) / 2;
    }
    g[3][3] = 1;
    double oa[4][4];
    affine_mul(affine, g, oa);
    int64_t dhw[3] = {m[2], m[1], m[0]};
    vt_tensor *out = vt_resample_to_grid(vol, affine, dhw, oa, interp);
    if (out) memcpy(out_affine, oa, sizeof oa);
    return out;
}
