/* augment_spatial.c: flips, rotation, scaling, elastic deformation and crop/pad of 2D
 * images, masks and boxes through one inverse map (see augment.h). */
#include "augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void vt_spatial2d_identity(vt_spatial2d *t, int64_t in_h, int64_t in_w) {
    memset(t, 0, sizeof *t);
    t->in_h = t->out_h = in_h;
    t->in_w = t->out_w = in_w;
    t->scale = 1;
}

void vt_spatial2d_map(const vt_spatial2d *t, double x, double y, double *in_x, double *in_y) {
    double qx = x + (double)t->off_x, qy = y + (double)t->off_y;
    if (t->disp) { /* displacement of the transformed-grid pixel holding q */
        double fx = floor(qx), fy = floor(qy);
        if (fx >= 0 && fy >= 0 && fx < (double)t->in_w && fy < (double)t->in_h) {
            int64_t k = (int64_t)fy * t->in_w + (int64_t)fx;
            qy += t->disp[k];
            qx += t->disp[t->in_h * t->in_w + k];
        }
    }
    double cx = 0.5 * (double)t->in_w, cy = 0.5 * (double)t->in_h;
    double dx = (qx - cx) / t->scale, dy = (qy - cy) / t->scale;
    double c = cos(t->angle), s = sin(t->angle);
    double rx = c * dx + s * dy, ry = -s * dx + c * dy; /* inverse rotation */
    *in_x = cx + (t->flip_x ? -rx : rx);
    *in_y = cy + (t->flip_y ? -ry : ry);
}

/* a coordinate within 1e-9 of an integer is that integer: exact grids copy exactly */
static double snap(double v) {
    double r = nearbyint(v);
    return fabs(v - r) < 1e-9 ? r : v;
}

vt_tensor *vt_spatial2d_apply(const vt_spatial2d *t, const vt_tensor *image, int nearest,
                              float pad_value) {
    char b[64];
    if (!image || (image->ndim != 2 && image->ndim != 3) || image->shape[image->ndim - 2] != t->in_h ||
        image->shape[image->ndim - 1] != t->in_w)
        return vt_error("augment: image %s is not (C, %lld, %lld) or (%lld, %lld)",
                        image ? vt_shape_str(image, b, sizeof b) : "NULL", (long long)t->in_h,
                        (long long)t->in_w, (long long)t->in_h, (long long)t->in_w), NULL;
    if (t->out_h < 1 || t->out_w < 1 || !(t->scale > 0))
        return vt_error("augment: bad output size %lld x %lld or scale %g", (long long)t->out_h,
                        (long long)t->out_w, t->scale), NULL;
    int64_t ch = image->ndim == 3 ? image->shape[0] : 1, h = t->in_h, w = t->in_w;
    int64_t shape[3] = {ch, t->out_h, t->out_w};
    vt_tensor *out = vt_tensor_new(image->ndim, shape + 3 - image->ndim);
    if (!out) return NULL;
    for (int64_t i = 0; i < t->out_h; i++)
        for (int64_t j = 0; j < t->out_w; j++) {
            double ix, iy;
            vt_spatial2d_map(t, j + 0.5, i + 0.5, &ix, &iy);
            double u = snap(ix - 0.5), v = snap(iy - 0.5); /* index coordinates */
            float *dst = out->data + i * t->out_w + j;
            int64_t plane_out = t->out_h * t->out_w;
            if (u < -0.5 || v < -0.5 || u > w - 0.5 || v > h - 0.5) {
                for (int64_t c = 0; c < ch; c++) dst[c * plane_out] = pad_value;
                continue;
            }
            if (nearest) {
                int64_t x0 = (int64_t)floor(u + 0.5), y0 = (int64_t)floor(v + 0.5);
                x0 = x0 >= w ? w - 1 : x0;
                y0 = y0 >= h ? h - 1 : y0;
                for (int64_t c = 0; c < ch; c++) dst[c * plane_out] = image->data[(c * h + y0) * w + x0];
                continue;
            }
            /* the half-pixel rim replicates the edge pixel */
            u = u < 0 ? 0 : u > w - 1 ? w - 1 : u;
            v = v < 0 ? 0 : v > h - 1 ? h - 1 : v;
            int64_t x0 = (int64_t)floor(u), y0 = (int64_t)floor(v);
            int64_t x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
            double fx = u - x0, fy = v - y0;
            for (int64_t c = 0; c < ch; c++) {
                const float *p = image->data + c * h * w;
                double top = (1 - fx) * p[y0 * w + x0] + (fx ? fx * p[y0 * w + x1] : 0);
                double bot = fy ? (1 - fx) * p[y1 * w + x0] + (fx ? fx * p[y1 * w + x1] : 0) : 0;
                dst[c * plane_out] = (float)((1 - fy) * top + fy * bot);
            }
        }
    return out;
}

static void box_clip_or_drop(const vt_spatial2d *t, float *b, double x0, double y0, double x1, double y1) {
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > (double)t->out_w ? (double)t->out_w : x1;
    y1 = y1 > (double)t->out_h ? (double)t->out_h : y1;
    if (!(x1 > x0 && y1 > y0)) {
        b[0] = b[1] = b[2] = b[3] = -1;
        return;
    }
    b[0] = (float)x0, b[1] = (float)y0, b[2] = (float)x1, b[3] = (float)y1;
}

void vt_spatial2d_boxes(const vt_spatial2d *t, float *boxes, int64_t n) {
    double cx = 0.5 * (double)t->in_w, cy = 0.5 * (double)t->in_h;
    double c = cos(t->angle), s = sin(t->angle);
    for (int64_t k = 0; k < n; k++) {
        float *b = boxes + 4 * k;
        if (b[2] <= b[0] || b[3] <= b[1]) {
            b[0] = b[1] = b[2] = b[3] = -1;
            continue;
        }
        double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
        if (!t->disp) { /* forward map of the 4 corners: scale R flip, then the window */
            for (int corner = 0; corner < 4; corner++) {
                double dx = (corner & 1 ? b[2] : b[0]) - cx, dy = (corner & 2 ? b[3] : b[1]) - cy;
                if (t->flip_x) dx = -dx;
                if (t->flip_y) dy = -dy;
                double ox = t->scale * (c * dx - s * dy) + cx - (double)t->off_x;
                double oy = t->scale * (s * dx + c * dy) + cy - (double)t->off_y;
                lo[0] = fmin(lo[0], ox), hi[0] = fmax(hi[0], ox);
                lo[1] = fmin(lo[1], oy), hi[1] = fmax(hi[1], oy);
            }
        } else { /* no closed-form inverse: the output pixels that sample inside the box */
            for (int64_t i = 0; i < t->out_h; i++)
                for (int64_t j = 0; j < t->out_w; j++) {
                    double ix, iy;
                    vt_spatial2d_map(t, j + 0.5, i + 0.5, &ix, &iy);
                    if (ix >= b[0] && ix < b[2] && iy >= b[1] && iy < b[3]) {
                        lo[0] = fmin(lo[0], (double)j), hi[0] = fmax(hi[0], (double)j + 1);
                        lo[1] = fmin(lo[1], (double)i), hi[1] = fmax(hi[1], (double)i + 1);
                    }
                }
        }
        box_clip_or_drop(t, b, lo[0], lo[1], hi[0], hi[1]);
    }
}

vt_tensor *vt_elastic_field(int64_t h, int64_t w, double alpha, double sigma, vt_rng *rng) {
    vt_tensor *f = vt_tensor_new(VT_DIMS(2, h, w));
    if (!f) return NULL;
    vt_rng_uniform(rng, f->data, f->numel, -1, 1);
    if (vt_aug_blur(f, (float)sigma) != VT_OK) return vt_tensor_free(f), NULL;
    for (int64_t i = 0; i < f->numel; i++) f->data[i] *= (float)alpha;
    return f;
}
