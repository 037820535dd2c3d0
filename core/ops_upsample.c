/* ops_upsample.c: upsampling front-end and backward (torch.nn.functional.interpolate,
 * modes 'nearest', 'bilinear', 'trilinear'; PyTorch 1.13 CPU index rules).
 *
 * x (N, C, H, W) or (N, C, D, H, W) -> y (N, C, oH, oW) / (N, C, oD, oH, oW).
 * Output size: given, or floor(in * scale) in double (F.interpolate's rule). Source index
 * ratio per dim (PyTorch's area_pixel_compute_scale, in float):
 *   out == in:          1 (PyTorch copies: its kernels short-cut this case, whatever the scale)
 *   align_corners:      (in - 1) / (out - 1), 0 when out == 1
 *   scale factor given: 1 / scale (recompute_scale_factor unset)
 *   size given:         in / out
 * nearest also short-cuts out == 2 in to src = o / 2, which the ratio 1/2 reproduces. */
#include <math.h>
#include "internal.h"

static void upsample_backward(vt_node *n) {
    float *gx = vt_grad_buf(n->in[0]);
    if (gx) vt_be(n->out)->upsample_backward(n->saved, n->out->grad->data, gx);
}

static float source_ratio(const vt_upsample_params *p, int64_t in, int64_t out, double scale) {
    if (out == in) return 1.f;
    if (p->mode == VT_UPSAMPLE_NEAREST && out == 2 * in) return 0.5f;
    if (p->mode == VT_UPSAMPLE_LINEAR && p->align_corners)
        return out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.f;
    if (scale > 0) return (float)(1.0 / scale);
    return (float)in / (float)out;
}

vt_tensor *vt_upsample(vt_tensor *x, const vt_upsample_params *p) {
    VT_CHECK_IN(x);
    if (!p) { vt_error("upsample: parameters are NULL (input %s)", vt_sstr(x)); return NULL; }
    if (x->ndim != 4 && x->ndim != 5) {
        vt_error("upsample: input %s must be (N, C, H, W) or (N, C, D, H, W)", vt_sstr(x));
        return NULL;
    }
    if (p->mode != VT_UPSAMPLE_NEAREST && p->mode != VT_UPSAMPLE_LINEAR) {
        vt_error("upsample: unknown mode %d (input %s)", (int)p->mode, vt_sstr(x));
        return NULL;
    }
    if (p->mode == VT_UPSAMPLE_NEAREST && p->align_corners) {
        vt_error("upsample: align_corners is only for linear modes, not nearest (input %s)",
                 vt_sstr(x));
        return NULL;
    }
    if (x->numel == 0) { vt_error("upsample: input %s is empty", vt_sstr(x)); return NULL; }
    const int sp = x->ndim - 2, by_scale = p->scale[0] != 0;
    vt_resample_desc d = {.planes = x->shape[0] * x->shape[1], .in = {1, 1, 1}, .out = {1, 1, 1},
                          .ratio = {1.f, 1.f, 1.f}, .linear = p->mode == VT_UPSAMPLE_LINEAR,
                          .align_corners = p->align_corners ? 1 : 0};
    int64_t shape[VT_MAX_DIMS] = {x->shape[0], x->shape[1]};
    for (int k = 0; k < sp; k++) {
        const int64_t in = x->shape[2 + k];
        int64_t out = p->size[k];
        const double scale = by_scale ? p->scale[k] : 0;
        if (by_scale) {
            if (!(scale > 0) || !isfinite(scale)) {
                vt_error("upsample: scale factors (%g, %g, %g) must all be > 0 for input %s",
                         p->scale[0], p->scale[1], p->scale[2], vt_sstr(x));
                return NULL;
            }
            double o = floor((double)in * scale);
            out = o > (double)INT32_MAX ? -1 : (int64_t)o;
        }
        if (out < 1 || out > INT32_MAX) {
            vt_error("upsample: output size %lld along spatial dim %d is out of range (input %s%s)",
                     (long long)out, k, vt_sstr(x), by_scale ? ", floor(in * scale)" : "");
            return NULL;
        }
        const int dim = 3 - sp + k; /* (D, H, W) slot */
        d.in[dim] = in;
        d.out[dim] = out;
        d.ratio[dim] = source_ratio(p, in, out, scale);
        shape[2 + k] = out;
    }
    vt_tensor *y = vt_arena_tensor(x->ndim, shape, x->device);
    if (!y) return NULL;
    vt_be(x)->upsample_forward(&d, x->data, y->data);
    vt_node *n = vt_node_record("upsample", y, upsample_backward, 1, &x);
    if (n) {
        vt_resample_desc *saved = vt_arena_alloc(vt_arena_current(), sizeof *saved);
        VT_ASSERT(saved);
        *saved = d;
        n->saved = saved;
    }
    return y;
}
