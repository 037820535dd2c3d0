/* nifti_affine.c: voxel -> world geometry of NIfTI volumes, following nibabel so that
 * affines and canonical reorientation match what the Python tools (SCT, nnU-Net) see:
 * qform from quaternions, the best-affine choice, io_orientation and as_closest_canonical. */
#include <float.h>
#include <math.h>
#include <string.h>
#include "internal.h"
#include "nifti.h"

vt_status vt_nifti_qform_affine(const vt_nifti_header *h, double out[4][4]) {
    double b = h->quatern_b, c = h->quatern_c, d = h->quatern_d;
    if (!isfinite(b) || !isfinite(c) || !isfinite(d) || !isfinite(h->qoffset_x) ||
        !isfinite(h->qoffset_y) || !isfinite(h->qoffset_z))
        return vt_error("qform quaternion or offset is not finite");
    /* a = sqrt(1 - b^2 - c^2 - d^2); slightly negative from rounding counts as 0 (nibabel) */
    double w2 = 1.0 - (b * b + c * c + d * d), a = 0;
    if (w2 < -3 * FLT_EPSILON) return vt_error("qform quaternion (b, c, d) has norm > 1");
    if (w2 > 0) a = sqrt(w2);
    double nq = a * a + b * b + c * c + d * d, s = nq < DBL_EPSILON ? 0 : 2.0 / nq;
    double R[3][3] = {
        {1 - s * (c * c + d * d), s * (b * c - a * d), s * (b * d + a * c)},
        {s * (b * c + a * d), 1 - s * (b * b + d * d), s * (c * d - a * b)},
        {s * (b * d - a * c), s * (c * d + a * b), 1 - s * (b * b + c * c)}};
    if (nq < DBL_EPSILON) memset(R, 0, sizeof R), R[0][0] = R[1][1] = R[2][2] = 1;
    double vox[3] = {h->pixdim[1], h->pixdim[2], h->pixdim[3]};
    if (vox[0] < 0 || vox[1] < 0 || vox[2] < 0) return vt_error("pixdim[1..3] must be positive for the qform");
    vox[2] *= h->pixdim[0] == -1 ? -1 : 1; /* qfac; 0 and anything else read as 1 */
    memset(out, 0, 16 * sizeof(double));
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) out[i][j] = R[i][j] * vox[j];
    out[0][3] = h->qoffset_x; out[1][3] = h->qoffset_y; out[2][3] = h->qoffset_z;
    out[3][3] = 1;
    return VT_OK;
}

/* nibabel's get_best_affine; fills h->affine. Called from the header validation. */
vt_status vt_nifti_best_affine(const char *path, vt_nifti_header *h);
vt_status vt_nifti_best_affine(const char *path, vt_nifti_header *h) {
    double (*A)[4] = h->affine;
    memset(h->affine, 0, sizeof h->affine);
    A[3][3] = 1;
    if (h->sform_code != 0) {
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) {
                if (!isfinite(h->srow[i][j])) return vt_error("%s: sform is not finite", path);
                A[i][j] = h->srow[i][j];
            }
    } else if (h->qform_code != 0) {
        if (vt_nifti_qform_affine(h, A) < 0) return vt_error("%s: %s", path, vt_last_error());
    } else { /* pixdim scaling, x flipped, origin at the centre (nibabel shape_zoom_affine) */
        for (int i = 0; i < 3; i++) {
            double zoom = i < h->ndim ? h->pixdim[i + 1] : 1, n = (double)h->dim[i + 1];
            if (i == 0) zoom = -zoom;
            A[i][i] = zoom;
            A[i][3] = -(n - 1) / 2.0 * zoom;
        }
    }
    return VT_OK;
}

void vt_nifti_spacing(const double A[4][4], double out[3]) {
    for (int j = 0; j < 3; j++) out[j] = sqrt(A[0][j] * A[0][j] + A[1][j] * A[1][j] + A[2][j] * A[2][j]);
}

static double det3(const double m[3][3]) {
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

/* Orthogonal polar factor U V^T of m (what nibabel gets from its SVD), by Newton's
 * iteration X <- (X + X^-T) / 2; -1 when m is singular. */
static int polar_orthogonal(double m[3][3]) {
    for (int it = 0; it < 100; it++) {
        double d = det3(m);
        if (!(fabs(d) > 1e-12)) return -1;
        double inv_t[3][3], change = 0; /* (m^-1)^T = cofactor(m) / det */
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                int i1 = (i + 1) % 3, i2 = (i + 2) % 3, j1 = (j + 1) % 3, j2 = (j + 2) % 3;
                inv_t[i][j] = (m[i1][j1] * m[i2][j2] - m[i1][j2] * m[i2][j1]) / d;
            }
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                double v = 0.5 * (m[i][j] + inv_t[i][j]);
                change += fabs(v - m[i][j]);
                m[i][j] = v;
            }
        if (change < 1e-14) break;
    }
    return 0;
}

vt_status vt_nifti_orientation(const double A[4][4], int axis[3], int flip[3]) {
    double R[3][3], zoom[3];
    vt_nifti_spacing(A, zoom);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            if (!isfinite(A[i][j])) return vt_error("affine is not finite");
            R[i][j] = A[i][j] / (zoom[j] == 0 ? 1 : zoom[j]);
        }
    if (polar_orthogonal(R) < 0) return vt_error("affine is degenerate (singular 3x3 part)");
    /* voxel axis in order: the world axis it is closest to, then that world axis is taken */
    for (int in = 0; in < 3; in++) {
        int best = 0;
        for (int out = 1; out < 3; out++)
            if (fabs(R[out][in]) > fabs(R[best][in])) best = out;
        if (R[best][in] == 0) return vt_error("affine is degenerate (axis %d)", in);
        axis[in] = best;
        flip[in] = R[best][in] < 0 ? -1 : 1;
        for (int j = 0; j < 3; j++) R[best][j] = 0;
    }
    return VT_OK;
}

vt_tensor *vt_nifti_canonical(const vt_tensor *vol, const double affine[4][4], double out_affine[4][4]) {
    int axis[3], flip[3];
    if (!vol) return NULL;
    if (vt_nifti_orientation(affine, axis, flip) < 0) return NULL;
    int nd = vol->ndim, ns = nd < 3 ? nd : 3;
    int64_t n[3] = {1, 1, 1}, m[3], outer = 1; /* n: old sizes along i, j, k; m: new */
    for (int a = 0; a < ns; a++) n[a] = vol->shape[nd - 1 - a];
    for (int d = 0; d < nd - ns; d++) outer *= vol->shape[d];
    for (int a = 0; a < 3; a++) m[axis[a]] = n[a];
    int64_t shape[VT_MAX_DIMS];
    int ond = nd < 3 ? 3 : nd;
    for (int d = 0; d < ond - 3; d++) shape[d] = vol->shape[d];
    shape[ond - 3] = m[2]; shape[ond - 2] = m[1]; shape[ond - 1] = m[0];
    vt_tensor *out = vt_tensor_new(ond, shape);
    if (!out) return NULL;
    /* new index along world axis axis[a] for old index i_a: i_a, or n_a - 1 - i_a if flipped;
     * ostride[a]: step in the output for a unit step along old axis a */
    int64_t mstride[3] = {1, m[0], m[0] * m[1]}, ostride[3], obase = 0;
    for (int a = 0; a < 3; a++) {
        ostride[a] = flip[a] > 0 ? mstride[axis[a]] : -mstride[axis[a]];
        if (flip[a] < 0) obase += (n[a] - 1) * mstride[axis[a]];
    }
    int64_t block = n[0] * n[1] * n[2];
    for (int64_t o = 0; o < outer; o++) {
        const float *src = vol->data + o * block;
        float *dst = out->data + o * block + obase;
        for (int64_t k = 0; k < n[2]; k++)
            for (int64_t j = 0; j < n[1]; j++)
                for (int64_t i = 0; i < n[0]; i++)
                    dst[i * ostride[0] + j * ostride[1] + k * ostride[2]] = *src++;
    }
    /* new affine = affine @ M, M mapping new voxel indices to old ones */
    double M[4][4] = {{0}}, res[4][4];
    M[3][3] = 1;
    for (int a = 0; a < 3; a++) {
        M[a][axis[a]] = flip[a];
        M[a][3] = flip[a] < 0 ? (double)(n[a] - 1) : 0;
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            double s = 0;
            for (int k = 0; k < 4; k++) s += affine[i][k] * M[k][j];
            res[i][j] = s;
        }
    memcpy(out_affine, res, sizeof res);
    return out;
}
