/* backend.h: the table of kernels one device implements.
 *
 * Op front-ends (core/ops_*.c) validate shapes once, then call these. Kernels never
 * validate user input. All buffers are contiguous f32 on the backend's device.
 * "_backward" kernels ACCUMULATE into their gradient outputs (gx += ...), so a tensor used
 * twice in a graph gets the sum of both contributions.
 */
#ifndef VT_BACKEND_H
#define VT_BACKEND_H

#include "vertebra.h"

typedef enum {
    VT_BIN_ADD, VT_BIN_SUB, VT_BIN_MUL, VT_BIN_DIV
} vt_binary_op;

typedef enum {
    VT_UN_EXP, VT_UN_LOG, VT_UN_POW, VT_UN_SQRT, VT_UN_ABS, VT_UN_CLAMP, VT_UN_RELU,
    VT_UN_LEAKY_RELU, VT_UN_SIGMOID, VT_UN_TANH, VT_UN_SOFTPLUS,
    VT_UN_ADD_SCALAR, VT_UN_MUL_SCALAR
} vt_unary_op;

/* Geometry of one 2D convolution, resolved by the front-end. */
typedef struct vt_conv2d_desc {
    int n, c_in, h, w;            /* input (N, C_in, H, W) */
    int c_out, kh, kw;            /* weight (C_out, C_in/groups, kh, kw) */
    int oh, ow;                   /* output (N, C_out, oh, ow) */
    int stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, groups;
} vt_conv2d_desc;

typedef struct vt_pool2d_desc {
    int n, c, h, w, oh, ow;
    int kh, kw, stride_h, stride_w, pad_h, pad_w;
    int count_include_pad;
} vt_pool2d_desc;

/* Geometry of one 3D convolution, resolved by the front-end. The output size is a field,
 * not recomputed: transposed convs run these kernels with od/oh/ow set to their input size,
 * which can be smaller than the conv formula gives (output_padding). */
typedef struct vt_conv3d_desc {
    int n, c_in, d, h, w;         /* input (N, C_in, D, H, W) */
    int c_out, kd, kh, kw;        /* weight (C_out, C_in/groups, kd, kh, kw) */
    int od, oh, ow;               /* output (N, C_out, od, oh, ow) */
    int stride_d, stride_h, stride_w, pad_d, pad_h, pad_w, dil_d, dil_h, dil_w, groups;
} vt_conv3d_desc;

typedef struct vt_pool3d_desc {
    int n, c, d, h, w, od, oh, ow;
    int kd, kh, kw, stride_d, stride_h, stride_w, pad_d, pad_h, pad_w;
    int count_include_pad;
} vt_pool3d_desc;

/* Geometry of an upsampling or adaptive pooling of x (planes, in) -> y (planes, out):
 * planes = N * C, sizes are (D, H, W) with D = 1 for 4-D tensors. ratio: the source index
 * step per dim, resolved by the front-end with PyTorch's rules (align_corners, scale factor). */
typedef struct vt_resample_desc {
    int64_t planes;
    int64_t in[3], out[3];
    float ratio[3];       /* upsample only */
    int linear;           /* upsample: 0 nearest (legacy floor), 1 (bi/tri)linear */
    int align_corners;    /* upsample, linear only */
} vt_resample_desc;

typedef struct vt_backend {
    const char *name;
    /* memory */
    void *(*alloc)(size_t bytes);          /* 64-byte aligned, NULL on failure */
    void (*free)(void *p);
    void (*copy)(void *dst, const void *src, size_t bytes); /* within the device */
    void (*to_host)(void *dst_host, const void *src, size_t bytes);
    void (*from_host)(void *dst, const void *src_host, size_t bytes);
    void (*fill)(float *x, int64_t n, float v);

    /* y = a op b. shape: output shape (ndim dims); sa/sb: element strides of a and b
     * in the output's index space, 0 along broadcast dims. */
    void (*binary)(vt_binary_op op, int ndim, const int64_t *shape,
                   const float *a, const int64_t *sa, const float *b, const int64_t *sb,
                   float *y);
    /* y = f(x; p0, p1) elementwise */
    void (*unary)(vt_unary_op op, int64_t n, const float *x, float *y, float p0, float p1);
    /* gx += f'(x) * gy; y = f(x) given for ops whose derivative is cheaper from y */
    void (*unary_backward)(vt_unary_op op, int64_t n, const float *x, const float *y,
                           const float *gy, float *gx, float p0, float p1);
    /* y (shape_out, each dim 1 or equal to shape_in) = scale * sum of x over the dims
     * where shape_out is 1; accumulate: y += instead of y = */
    void (*reduce_sum)(int ndim, const int64_t *shape_in, const float *x,
                       const int64_t *shape_out, float *y, float scale, int accumulate);
    /* dst[idx . dst_strides] (+)= src[idx . src_strides] for every idx in shape:
     * permute, slice, concat and broadcast are all this kernel. */
    void (*copy_strided)(int ndim, const int64_t *shape, const float *src,
                         const int64_t *src_strides, float *dst, const int64_t *dst_strides,
                         int accumulate);
    void (*axpy)(int64_t n, float alpha, const float *x, float *y); /* y += alpha x */
    /* row-major C = alpha op(A) op(B) + beta C */
    void (*gemm)(int trans_a, int trans_b, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta,
                 float *c, int ldc);
    /* softmax over the middle dim of (outer, dim, inner); log: log-softmax */
    void (*softmax)(int64_t outer, int64_t dim, int64_t inner, const float *x, float *y,
                    int log);
    void (*softmax_backward)(int64_t outer, int64_t dim, int64_t inner, const float *y,
                             const float *gy, float *gx, int log);

    /* convolution; work holds conv2d_workspace(d) bytes */
    size_t (*conv2d_workspace)(const vt_conv2d_desc *d);
    void (*conv2d_forward)(const vt_conv2d_desc *d, const float *x, const float *w,
                           const float *b, float *y, void *work);
    void (*conv2d_backward_data)(const vt_conv2d_desc *d, const float *gy, const float *w,
                                 float *gx, void *work);
    /* gw += ..., gb += ... (gb may be NULL) */
    void (*conv2d_backward_filter)(const vt_conv2d_desc *d, const float *x,
                                   const float *gy, float *gw, float *gb, void *work);

    /* pooling; max pool stores the flat input index (h*w + x within the plane) of each max */
    void (*max_pool2d_forward)(const vt_pool2d_desc *d, const float *x, float *y,
                               int32_t *argmax);
    void (*max_pool2d_backward)(const vt_pool2d_desc *d, const float *gy,
                                const int32_t *argmax, float *gx);
    void (*avg_pool2d_forward)(const vt_pool2d_desc *d, const float *x, float *y);
    void (*avg_pool2d_backward)(const vt_pool2d_desc *d, const float *gy, float *gx);

    /* 3D convolution, same contract as conv2d; work holds conv3d_workspace(d) bytes */
    size_t (*conv3d_workspace)(const vt_conv3d_desc *d);
    void (*conv3d_forward)(const vt_conv3d_desc *d, const float *x, const float *w,
                           const float *b, float *y, void *work);
    void (*conv3d_backward_data)(const vt_conv3d_desc *d, const float *gy, const float *w,
                                 float *gx, void *work);
    void (*conv3d_backward_filter)(const vt_conv3d_desc *d, const float *x,
                                   const float *gy, float *gw, float *gb, void *work);
    /* 3D pooling; max pool stores the flat input index (z*h*w + y*w + x within the volume) */
    void (*max_pool3d_forward)(const vt_pool3d_desc *d, const float *x, float *y,
                               int32_t *argmax);
    void (*max_pool3d_backward)(const vt_pool3d_desc *d, const float *gy,
                                const int32_t *argmax, float *gx);
    void (*avg_pool3d_forward)(const vt_pool3d_desc *d, const float *x, float *y);
    void (*avg_pool3d_backward)(const vt_pool3d_desc *d, const float *gy, float *gx);

    /* batch norm over x (n, c, s): s is the product of spatial dims. x and gx are the first
     * c channels of a buffer (n, xc, s), xc >= c (xc == c: contiguous); y and gy are (n, c, s).
     * train: writes mean/invstd (c) and updates running stats if non-NULL */
    void (*batch_norm_train)(int64_t n, int64_t c, int64_t xc, int64_t s, const float *x,
                             const float *w, const float *b, float *y, float *mean,
                             float *invstd, float *running_mean, float *running_var,
                             float momentum, float eps);
    void (*batch_norm_eval)(int64_t n, int64_t c, int64_t xc, int64_t s, const float *x,
                            const float *w, const float *b, const float *running_mean,
                            const float *running_var, float eps, float *y);
    /* gx, gw, gb accumulate (each may be NULL) */
    void (*batch_norm_backward)(int64_t n, int64_t c, int64_t xc, int64_t s, const float *x,
                                const float *gy, const float *w, const float *mean,
                                const float *invstd, float *gx, float *gw, float *gb);

    /* group norm over x (n, c, s) in g groups of c/g channels (instance norm: g == c):
     * statistics per (n, group) over (c/g)*s values, biased variance; writes mean and
     * invstd (n*g each). w / b (c) may be NULL. */
    void (*group_norm_forward)(int64_t n, int64_t c, int64_t s, int64_t g, const float *x,
                               const float *w, const float *b, float eps, float *y,
                               float *mean, float *invstd);
    /* gx, gw, gb accumulate (each may be NULL) */
    void (*group_norm_backward)(int64_t n, int64_t c, int64_t s, int64_t g, const float *x,
                                const float *gy, const float *w, const float *mean,
                                const float *invstd, float *gx, float *gw, float *gb);
    /* nearest / (bi/tri)linear upsampling, gx accumulates */
    void (*upsample_forward)(const vt_resample_desc *d, const float *x, float *y);
    void (*upsample_backward)(const vt_resample_desc *d, const float *gy, float *gx);
    /* adaptive pooling, windows [floor(i*in/out), ceil((i+1)*in/out)) per dim; max pool
     * stores the flat index within the input plane of each max; gx accumulates */
    void (*adaptive_avg_pool_forward)(const vt_resample_desc *d, const float *x, float *y);
    void (*adaptive_avg_pool_backward)(const vt_resample_desc *d, const float *gy, float *gx);
    void (*adaptive_max_pool_forward)(const vt_resample_desc *d, const float *x, float *y,
                                      int64_t *argmax);
    void (*adaptive_max_pool_backward)(const vt_resample_desc *d, const float *gy,
                                       const int64_t *argmax, float *gx);

    /* y[n, s] = -w[t] * x[n, t, s] for x (n, c, s), t = targets[n, s] */
    void (*nll_forward)(int64_t n, int64_t c, int64_t s, const float *x,
                        const float *targets, const float *w, int ignore_index, float *y);
    void (*nll_backward)(int64_t n, int64_t c, int64_t s, const float *gy,
                         const float *targets, const float *w, int ignore_index, float *gx);

    /* counter-based random numbers: element i uses counter offset + i */
    void (*rng_uniform)(uint64_t seed, uint64_t offset, int64_t n, float lo, float hi,
                        float *out);
    void (*rng_normal)(uint64_t seed, uint64_t offset, int64_t n, float mean, float std,
                       float *out);

    /* inverted dropout: keep_i = u(seed, offset + i) >= p with rng_uniform's draw, so masks
     * agree across devices and thread counts; y = keep ? x * scale : 0; mask = keep (0/1) */
    void (*dropout_forward)(uint64_t seed, uint64_t offset, int64_t n, float p, float scale,
                            const float *x, float *y, uint8_t *mask);
    /* gx += mask ? gy * scale : 0 */
    void (*dropout_backward)(int64_t n, float scale, const uint8_t *mask, const float *gy,
                             float *gx);

    /* optimizer updates over flat buffers (PyTorch semantics, see optim/) */
    void (*sgd_update)(int64_t n, float *p, const float *g, float *buf, float lr,
                       float momentum, float dampening, float weight_decay, int nesterov,
                       int first_step);
    void (*adam_update)(int64_t n, float *p, const float *g, float *m, float *v, float lr,
                        float beta1, float beta2, float eps, float weight_decay,
                        int decoupled, int64_t step);
    double (*sum_squares)(int64_t n, const float *x);
    void (*scale)(int64_t n, float *x, float s);
} vt_backend;

const vt_backend *vt_backend_get(vt_device dev);
const vt_backend *vt_backend_cpu(void);
/* Bench instrumentation only: vt_backend_get(VT_DEV_CPU) returns b instead of the CPU table
 * (b must be a copy of it with some kernels wrapped); NULL restores it. Not thread-safe. */
void vt_backend_override_cpu(const vt_backend *b);

#endif
