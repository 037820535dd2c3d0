/* backend_cpu.c: the CPU kernel table; memory and BLAS-backed kernels. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include "cpu_kernels.h"

static void *cpu_alloc(size_t bytes) {
    return aligned_alloc(64, (bytes + 63) / 64 * 64 + 64 * (bytes == 0));
}
static void cpu_free(void *p) { free(p); }
static void cpu_copy(void *dst, const void *src, size_t n) { if (n) memmove(dst, src, n); }

static void cpu_fill(float *x, int64_t n, float v) {
    if (v == 0.f) { memset(x, 0, (size_t)n * sizeof(float)); return; }
#pragma omp parallel for schedule(static) if (n > VT_OMP_MIN)
    for (int64_t i = 0; i < n; i++) x[i] = v;
}

static void cpu_axpy(int64_t n, float alpha, const float *x, float *y) {
#pragma omp parallel for schedule(static) if (n > VT_OMP_MIN)
    for (int64_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

static void cpu_gemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                     const float *b, int ldb, float beta, float *c, int ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static const vt_backend cpu = {
    .name = "cpu",
    .alloc = cpu_alloc, .free = cpu_free, .copy = cpu_copy,
    .to_host = cpu_copy, .from_host = cpu_copy, .fill = cpu_fill,
    .binary = vt_cpu_binary, .unary = vt_cpu_unary, .unary_backward = vt_cpu_unary_backward,
    .reduce_sum = vt_cpu_reduce_sum, .copy_strided = vt_cpu_copy_strided,
    .axpy = cpu_axpy, .gemm = cpu_gemm,
    .softmax = vt_cpu_softmax, .softmax_backward = vt_cpu_softmax_backward,
    .conv2d_workspace = vt_cpu_conv2d_workspace, .conv2d_forward = vt_cpu_conv2d_forward,
    .conv2d_backward_data = vt_cpu_conv2d_backward_data,
    .conv2d_backward_filter = vt_cpu_conv2d_backward_filter,
    .max_pool2d_forward = vt_cpu_max_pool2d_forward,
    .max_pool2d_backward = vt_cpu_max_pool2d_backward,
    .avg_pool2d_forward = vt_cpu_avg_pool2d_forward,
    .avg_pool2d_backward = vt_cpu_avg_pool2d_backward,
    .conv3d_workspace = vt_cpu_conv3d_workspace, .conv3d_forward = vt_cpu_conv3d_forward,
    .conv3d_backward_data = vt_cpu_conv3d_backward_data,
    .conv3d_backward_filter = vt_cpu_conv3d_backward_filter,
    .max_pool3d_forward = vt_cpu_max_pool3d_forward,
    .max_pool3d_backward = vt_cpu_max_pool3d_backward,
    .avg_pool3d_forward = vt_cpu_avg_pool3d_forward,
    .avg_pool3d_backward = vt_cpu_avg_pool3d_backward,
    .batch_norm_train = vt_cpu_batch_norm_train, .batch_norm_eval = vt_cpu_batch_norm_eval,
    .batch_norm_backward = vt_cpu_batch_norm_backward,
    .group_norm_forward = vt_cpu_group_norm_forward,
    .group_norm_backward = vt_cpu_group_norm_backward,
    .upsample_forward = vt_cpu_upsample_forward, .upsample_backward = vt_cpu_upsample_backward,
    .adaptive_avg_pool_forward = vt_cpu_adaptive_avg_pool_forward,
    .adaptive_avg_pool_backward = vt_cpu_adaptive_avg_pool_backward,
    .adaptive_max_pool_forward = vt_cpu_adaptive_max_pool_forward,
    .adaptive_max_pool_backward = vt_cpu_adaptive_max_pool_backward,
    .nll_forward = vt_cpu_nll_forward, .nll_backward = vt_cpu_nll_backward,
    .rng_uniform = vt_rng_fill_uniform, .rng_normal = vt_rng_fill_normal,
    .dropout_forward = vt_cpu_dropout_forward, .dropout_backward = vt_cpu_dropout_backward,
    .sgd_update = vt_cpu_sgd_update, .adam_update = vt_cpu_adam_update,
    .sum_squares = vt_cpu_sum_squares, .scale = vt_cpu_scale,
};

const vt_backend *vt_backend_cpu(void) { return &cpu; }
