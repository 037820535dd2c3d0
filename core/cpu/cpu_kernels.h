/* cpu_kernels.h: the CPU implementations behind the backend table (core/backend.h).
 * One file per concept in core/cpu/; signatures mirror vt_backend's fields. */
#ifndef VT_CPU_KERNELS_H
#define VT_CPU_KERNELS_H

#include "../backend.h"

/* Parallelise loops only when they are big enough to pay for waking threads. */
#define VT_OMP_MIN 32768

/* Offsets into two strided operands of row r of an array whose rows are its last dim:
 * the row's multi-index over dims 0..ndim-2 dotted with each operand's strides. */
static inline void vt_cpu_row_offsets(int64_t r, int ndim, const int64_t *shape,
                                      const int64_t *s1, const int64_t *s2, int64_t *o1,
                                      int64_t *o2) {
    int64_t a = 0, b = 0;
    for (int d = ndim - 2; d >= 0; d--) {
        int64_t idx = r % shape[d];
        r /= shape[d];
        a += idx * s1[d];
        b += idx * s2[d];
    }
    *o1 = a;
    *o2 = b;
}

/* elementwise.c */
void vt_cpu_binary(vt_binary_op op, int ndim, const int64_t *shape, const float *a,
                   const int64_t *sa, const float *b, const int64_t *sb, float *y);
void vt_cpu_unary(vt_unary_op op, int64_t n, const float *x, float *y, float p0, float p1);
void vt_cpu_unary_backward(vt_unary_op op, int64_t n, const float *x, const float *y,
                           const float *gy, float *gx, float p0, float p1);
/* strided.c */
void vt_cpu_reduce_sum(int ndim, const int64_t *shape_in, const float *x,
                       const int64_t *shape_out, float *y, float scale, int accumulate);
void vt_cpu_copy_strided(int ndim, const int64_t *shape, const float *src,
                         const int64_t *src_strides, float *dst, const int64_t *dst_strides,
                         int accumulate);
/* softmax.c */
void vt_cpu_softmax(int64_t outer, int64_t dim, int64_t inner, const float *x, float *y, int log);
void vt_cpu_softmax_backward(int64_t outer, int64_t dim, int64_t inner, const float *y,
                             const float *gy, float *gx, int log);
/* conv2d.c */
size_t vt_cpu_conv2d_workspace(const vt_conv2d_desc *d);
void vt_cpu_conv2d_forward(const vt_conv2d_desc *d, const float *x, const float *w,
                           const float *b, float *y, void *work);
void vt_cpu_conv2d_backward_data(const vt_conv2d_desc *d, const float *gy, const float *w,
                                 float *gx, void *work);
void vt_cpu_conv2d_backward_filter(const vt_conv2d_desc *d, const float *x, const float *gy,
                                   float *gw, float *gb, void *work);
/* pool2d.c */
void vt_cpu_max_pool2d_forward(const vt_pool2d_desc *d, const float *x, float *y, int32_t *argmax);
void vt_cpu_max_pool2d_backward(const vt_pool2d_desc *d, const float *gy, const int32_t *argmax, float *gx);
void vt_cpu_avg_pool2d_forward(const vt_pool2d_desc *d, const float *x, float *y);
void vt_cpu_avg_pool2d_backward(const vt_pool2d_desc *d, const float *gy, float *gx);
/* conv3d.c */
size_t vt_cpu_conv3d_workspace(const vt_conv3d_desc *d);
void vt_cpu_conv3d_forward(const vt_conv3d_desc *d, const float *x, const float *w,
                           const float *b, float *y, void *work);
void vt_cpu_conv3d_backward_data(const vt_conv3d_desc *d, const float *gy, const float *w,
                                 float *gx, void *work);
void vt_cpu_conv3d_backward_filter(const vt_conv3d_desc *d, const float *x, const float *gy,
                                   float *gw, float *gb, void *work);
/* pool3d.c */
void vt_cpu_max_pool3d_forward(const vt_pool3d_desc *d, const float *x, float *y, int32_t *argmax);
void vt_cpu_max_pool3d_backward(const vt_pool3d_desc *d, const float *gy, const int32_t *argmax, float *gx);
void vt_cpu_avg_pool3d_forward(const vt_pool3d_desc *d, const float *x, float *y);
void vt_cpu_avg_pool3d_backward(const vt_pool3d_desc *d, const float *gy, float *gx);
/* batch_norm.c */
void vt_cpu_batch_norm_train(int64_t n, int64_t c, int64_t xc, int64_t s, const float *x, const float *w,
                             const float *b, float *y, float *mean, float *invstd,
                             float *running_mean, float *running_var, float momentum, float eps);
void vt_cpu_batch_norm_eval(int64_t n, int64_t c, int64_t xc, int64_t s, const float *x, const float *w,
                            const float *b, const float *running_mean, const float *running_var,
                            float eps, float *y);
void vt_cpu_batch_norm_backward(int64_t n, int64_t c, int64_t xc, int64_t s, const float *x, const float *gy,
                                const float *w, const float *mean, const float *invstd,
                                float *gx, float *gw, float *gb);
/* group_norm.c (also instance norm) */
void vt_cpu_group_norm_forward(int64_t n, int64_t c, int64_t s, int64_t g, const float *x,
                               const float *w, const float *b, float eps, float *y,
                               float *mean, float *invstd);
void vt_cpu_group_norm_backward(int64_t n, int64_t c, int64_t s, int64_t g, const float *x,
                                const float *gy, const float *w, const float *mean,
                                const float *invstd, float *gx, float *gw, float *gb);
/* upsample.c */
void vt_cpu_upsample_forward(const vt_resample_desc *d, const float *x, float *y);
void vt_cpu_upsample_backward(const vt_resample_desc *d, const float *gy, float *gx);
/* adaptive_pool.c */
void vt_cpu_adaptive_avg_pool_forward(const vt_resample_desc *d, const float *x, float *y);
void vt_cpu_adaptive_avg_pool_backward(const vt_resample_desc *d, const float *gy, float *gx);
void vt_cpu_adaptive_max_pool_forward(const vt_resample_desc *d, const float *x, float *y,
                                      int64_t *argmax);
void vt_cpu_adaptive_max_pool_backward(const vt_resample_desc *d, const float *gy,
                                       const int64_t *argmax, float *gx);
/* nll.c */
void vt_cpu_nll_forward(int64_t n, int64_t c, int64_t s, const float *x, const float *targets,
                        const float *w, int ignore_index, float *y);
void vt_cpu_nll_backward(int64_t n, int64_t c, int64_t s, const float *gy, const float *targets,
                         const float *w, int ignore_index, float *gx);
/* dropout.c */
void vt_cpu_dropout_forward(uint64_t seed, uint64_t offset, int64_t n, float p, float scale,
                            const float *x, float *y, uint8_t *mask);
void vt_cpu_dropout_backward(int64_t n, float scale, const uint8_t *mask, const float *gy,
                             float *gx);
/* optim_update.c */
void vt_cpu_sgd_update(int64_t n, float *p, const float *g, float *buf, float lr, float momentum,
                       float dampening, float weight_decay, int nesterov, int first_step);
void vt_cpu_adam_update(int64_t n, float *p, const float *g, float *m, float *v, float lr,
                        float beta1, float beta2, float eps, float weight_decay, int decoupled,
                        int64_t step);
double vt_cpu_sum_squares(int64_t n, const float *x);
void vt_cpu_scale(int64_t n, float *x, float s);
/* ../rng.c */
void vt_rng_fill_uniform(uint64_t seed, uint64_t offset, int64_t n, float lo, float hi, float *out);
void vt_rng_fill_normal(uint64_t seed, uint64_t offset, int64_t n, float mean, float std, float *out);

#endif
