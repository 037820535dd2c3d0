/* elementwise.c: broadcasting binary ops and unary activations on the CPU. */
#include <math.h>
#include "cpu_kernels.h"

static inline float apply(vt_binary_op op, float a, float b) {
    switch (op) {
    case VT_BIN_ADD: return a + b;
    case VT_BIN_SUB: return a - b;
    case VT_BIN_MUL: return a * b;
    default: return a / b;
    }
}

/* One contiguous run of the last dim: y[i] = a[i*sa] op b[i*sb]. Specialised on the op
 * and on unit/zero strides so the compiler vectorises the common cases. */
#define RUN(OPEXPR)                                                                   \
    do {                                                                              \
        if (sa == 1 && sb == 1)                                                       \
            for (int64_t i = 0; i < n; i++) { float A = a[i], B = b[i]; y[i] = OPEXPR; } \
        else if (sa == 1 && sb == 0) {                                                \
            float B = b[0];                                                           \
            for (int64_t i = 0; i < n; i++) { float A = a[i]; y[i] = OPEXPR; }        \
        } else if (sa == 0 && sb == 1) {                                              \
            float A = a[0];                                                           \
            for (int64_t i = 0; i < n; i++) { float B = b[i]; y[i] = OPEXPR; }        \
        } else                                                                        \
            for (int64_t i = 0; i < n; i++) { float A = a[i * sa], B = b[i * sb]; y[i] = OPEXPR; } \
    } while (0)

static void run(vt_binary_op op, int64_t n, const float *a, int64_t sa, const float *b,
                int64_t sb, float *y) {
    switch (op) {
    case VT_BIN_ADD: RUN(A + B); break;
    case VT_BIN_SUB: RUN(A - B); break;
    case VT_BIN_MUL: RUN(A * B); break;
    default: RUN(A / B); break;
    }
}

void vt_cpu_binary(vt_binary_op op, int ndim, const int64_t *shape, const float *a,
                   const int64_t *sa, const float *b, const int64_t *sb, float *y) {
    if (ndim == 0) { y[0] = apply(op, a[0], b[0]); return; }
    int64_t inner = shape[ndim - 1], rows = 1;
    for (int d = 0; d < ndim - 1; d++) rows *= shape[d];
    /* rows of the output; each row's offsets into a and b from its multi-index */
#pragma omp parallel for schedule(static) if (rows * inner > VT_OMP_MIN && rows > 1)
    for (int64_t r = 0; r < rows; r++) {
        int64_t oa, ob;
        vt_cpu_row_offsets(r, ndim, shape, sa, sb, &oa, &ob);
        run(op, inner, a + oa, sa[ndim - 1], b + ob, sb[ndim - 1], y + r * inner);
    }
}

static inline float softplus(float x) { return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x)); }
static inline float sigm(float x) {
    return x >= 0 ? 1.f / (1.f + expf(-x)) : expf(x) / (1.f + expf(x));
}

#define MAP(EXPR)                                                                     \
    _Pragma("omp parallel for schedule(static) if (n > VT_OMP_MIN)")                  \
    for (int64_t i = 0; i < n; i++) { float v = x[i]; y[i] = (EXPR); }

void vt_cpu_unary(vt_unary_op op, int64_t n, const float *x, float *y, float p0, float p1) {
    switch (op) {
    case VT_UN_EXP: MAP(expf(v)); break;
    case VT_UN_LOG: MAP(logf(v)); break;
    case VT_UN_POW: MAP(powf(v, p0)); break;
    case VT_UN_SQRT: MAP(sqrtf(v)); break;
    case VT_UN_ABS: MAP(fabsf(v)); break;
    case VT_UN_CLAMP: MAP(v < p0 ? p0 : (v > p1 ? p1 : v)); break;
    case VT_UN_RELU: MAP(v > 0 ? v : 0.f); break;
    case VT_UN_LEAKY_RELU: MAP(v > 0 ? v : v * p0); break;
    case VT_UN_SIGMOID: MAP(sigm(v)); break;
    case VT_UN_TANH: MAP(tanhf(v)); break;
    case VT_UN_SOFTPLUS: MAP(softplus(v)); break;
    case VT_UN_ADD_SCALAR: MAP(v + p0); break;
    case VT_UN_MUL_SCALAR: MAP(v * p0); break;
    }
}

#define GRAD(EXPR)                                                                    \
    _Pragma("omp parallel for schedule(static) if (n > VT_OMP_MIN)")                  \
    for (int64_t i = 0; i < n; i++) { float v = x ? x[i] : 0.f, o = y ? y[i] : 0.f, g = gy[i]; \
                                      (void)v; (void)o; gx[i] += (EXPR); }

/* Gradients follow PyTorch's conventions at the kinks: relu'(0) = 0, clamp passes the
 * gradient on the closed interval [lo, hi], abs'(0) = 0. */
void vt_cpu_unary_backward(vt_unary_op op, int64_t n, const float *x, const float *y,
                           const float *gy, float *gx, float p0, float p1) {
    switch (op) {
    case VT_UN_EXP: GRAD(g * o); break;
    case VT_UN_LOG: GRAD(g / v); break;
    case VT_UN_POW: GRAD(p0 == 0.f ? 0.f : g * p0 * powf(v, p0 - 1.f)); break;
    case VT_UN_SQRT: GRAD(g * 0.5f / o); break;
    case VT_UN_ABS: GRAD(v > 0 ? g : (v < 0 ? -g : 0.f)); break;
    case VT_UN_CLAMP: GRAD(v >= p0 && v <= p1 ? g : 0.f); break;
    case VT_UN_RELU: GRAD(v > 0 ? g : 0.f); break;
    case VT_UN_LEAKY_RELU: GRAD(v > 0 ? g : g * p0); break;
    case VT_UN_SIGMOID: GRAD(g * o * (1.f - o)); break;
    case VT_UN_TANH: GRAD(g * (1.f - o * o)); break;
    case VT_UN_SOFTPLUS: GRAD(g * sigm(v)); break;
    case VT_UN_ADD_SCALAR: GRAD(g); break;
    case VT_UN_MUL_SCALAR: GRAD(g * p0); break;
    }
}
