/* ops_matmul.c: matrix products through the backend GEMM (OpenBLAS sgemm on CPU).
 *
 * matmul: (M,K)@(K,N), batched (B,M,K)@(B,K,N), and either operand 2-D against a 3-D
 * other (broadcast over the batch, as torch.matmul). linear: y = x @ w^T + b for x
 * (..., in), like torch.nn.functional.linear. Backward passes call GEMM with beta = 1 so
 * gradients accumulate straight into the gradient buffers, without temporaries. */
#include <limits.h>
#include "internal.h"

/* C (m,n) = A (m,k) op B (k,n) + beta C, row-major, contiguous operands (ld from the
 * transposition). Handles empty dims, which BLAS rejects through its ld checks. */
static void gemm(const vt_backend *be, int ta, int tb, int64_t m, int64_t n, int64_t k,
                 const float *a, const float *b, float beta, float *c) {
    if (m == 0 || n == 0) return;
    if (k == 0) { /* empty sum: C = beta C */
        if (beta == 0.f) be->fill(c, m * n, 0.f);
        return;
    }
    int lda = (int)(ta ? m : k), ldb = (int)(tb ? k : n);
    be->gemm(ta, tb, (int)m, (int)n, (int)k, 1.f, a, lda, b, ldb, beta, c, (int)n);
}

static int too_big(const char *op, int64_t a, int64_t b, int64_t c) {
    if (a <= INT_MAX && b <= INT_MAX && c <= INT_MAX) return 0;
    vt_error("%s: matrix dims (%lld, %lld, %lld) exceed the GEMM's int range", op, (long long)a,
             (long long)b, (long long)c);
    return 1;
}

/* ---- matmul ------------------------------------------------------------------------- */

/* Saved geometry: i[0] = batch count (1 when neither operand is 3-D), i[1..3] = M, K, N,
 * i[4] = A is batched, i[5] = B is batched. A 3-D A times a 2-D B is folded into one
 * (batch*M, K) @ (K, N) product (i[0] = 1, i[1] = batch*M). */
static void matmul_backward(vt_node *n) {
    vt_tensor *a = n->in[0], *b = n->in[1], *y = n->out;
    const vt_backend *be = vt_be(y);
    int64_t batch = n->i[0], m = n->i[1], k = n->i[2], nn = n->i[3];
    int64_t a_step = n->i[4] ? m * k : 0, b_step = n->i[5] ? k * nn : 0;
    float *ga = vt_grad_buf(a), *gb = vt_grad_buf(b);
    const float *gy = y->grad->data;
    for (int64_t p = 0; p < batch; p++) {
        const float *gyp = gy + p * m * nn;
        if (ga) /* gA (M,K) += gY (M,N) @ B^T */
            gemm(be, 0, 1, m, k, nn, gyp, b->data + p * b_step, 1.f, ga + p * a_step);
        if (gb) /* gB (K,N) += A^T @ gY */
            gemm(be, 1, 0, k, nn, m, a->data + p * a_step, gyp, 1.f, gb + p * b_step);
    }
}

vt_tensor *vt_matmul(vt_tensor *a, vt_tensor *b) {
    VT_CHECK_IN(a);
    VT_CHECK_IN(b);
    if (a->device != b->device) { vt_error("matmul: operands on different devices"); return NULL; }
    if (a->ndim < 2 || a->ndim > 3 || b->ndim < 2 || b->ndim > 3) {
        vt_error("matmul: %s @ %s: operands must be 2-D (M,K)@(K,N) or 3-D batched (B,M,K)@(B,K,N)",
                 vt_sstr(a), vt_sstr(b));
        return NULL;
    }
    int ab = a->ndim == 3, bb = b->ndim == 3;
    int64_t m = a->shape[ab], k = a->shape[ab + 1], kb = b->shape[bb], nn = b->shape[bb + 1];
    int64_t batch = ab ? a->shape[0] : (bb ? b->shape[0] : 1);
    if (k != kb) {
        vt_error("matmul: %s @ %s: inner dims differ (%lld vs %lld)", vt_sstr(a), vt_sstr(b),
                 (long long)k, (long long)kb);
        return NULL;
    }
    if (ab && bb && a->shape[0] != b->shape[0]) {
        vt_error("matmul: %s @ %s: batch sizes differ (%lld vs %lld)", vt_sstr(a), vt_sstr(b),
                 (long long)a->shape[0], (long long)b->shape[0]);
        return NULL;
    }
    int64_t shape[3] = {batch, m, nn};
    vt_tensor *y = ab || bb ? vt_arena_tensor(3, shape, a->device) : vt_arena_tensor(2, shape + 1, a->device);
    if (!y) return NULL;
    if (ab && !bb) { m *= batch; batch = 1; } /* (B*M, K) @ (K, N): one GEMM */
    if (too_big("matmul", m, k, nn)) return NULL;
    const vt_backend *be = vt_be(a);
    int64_t a_step = ab ? m * k : 0, b_step = bb ? k * nn : 0;
    for (int64_t p = 0; p < batch; p++)
        gemm(be, 0, 0, m, nn, k, a->data + p * a_step, b->data + p * b_step, 0.f, y->data + p * m * nn);
    vt_node *n = vt_node_record("matmul", y, matmul_backward, 2, (vt_tensor *[]){a, b});
    if (n) {
        n->i[0] = batch; n->i[1] = m; n->i[2] = k; n->i[3] = nn;
        n->i[4] = ab && bb; n->i[5] = bb; /* folded A is one matrix */
    }
    return y;
}

/* ---- linear ------------------------------------------------------------------------- */

/* x viewed as (rows, in), w (out, in), y (rows, out) */
static void linear_backward(vt_node *n) {
    vt_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2], *y = n->out;
    const vt_backend *be = vt_be(y);
    int64_t rows = n->i[0], in = n->i[1], out = n->i[2];
    const float *gy = y->grad->data;
    float *gx = vt_grad_buf(x), *gw = vt_grad_buf(w), *gb = vt_grad_buf(b);
    if (gx) gemm(be, 0, 0, rows, in, out, gy, w->data, 1.f, gx);   /* gx (rows,in) += gy @ w */
    if (gw) gemm(be, 1, 0, out, in, rows, gy, x->data, 1.f, gw);   /* gw (out,in) += gy^T @ x */
    if (gb && rows > 0) /* gb (out) += column sums of gy (rows, out) */
        be->reduce_sum(2, (int64_t[]){rows, out}, gy, (int64_t[]){1, out}, gb, 1.f, 1);
}

vt_tensor *vt_linear(vt_tensor *x, vt_tensor *w, vt_tensor *b) {
    VT_CHECK_IN(x);
    VT_CHECK_IN(w);
    if (x->device != w->device || (b && b->device != x->device)) {
        vt_error("linear: operands on different devices");
        return NULL;
    }
    if (w->ndim != 2) { vt_error("linear: weight %s must be (out, in)", vt_sstr(w)); return NULL; }
    int64_t out = w->shape[0], in = w->shape[1];
    if (x->ndim < 1 || x->shape[x->ndim - 1] != in) {
        vt_error("linear: input %s does not end in in_features = %lld of weight %s", vt_sstr(x),
                 (long long)in, vt_sstr(w));
        return NULL;
    }
    if (b && (b->ndim != 1 || b->shape[0] != out)) {
        vt_error("linear: bias %s must be (%lld) for weight %s", vt_sstr(b), (long long)out, vt_sstr(w));
        return NULL;
    }
    int64_t rows = in ? x->numel / in : 1, shape[VT_MAX_DIMS];
    if (!in) for (int d = 0; d < x->ndim - 1; d++) rows *= x->shape[d];
    for (int d = 0; d < x->ndim - 1; d++) shape[d] = x->shape[d];
    shape[x->ndim - 1] = out;
    if (too_big("linear", rows, in, out)) return NULL;
    vt_tensor *y = vt_arena_tensor(x->ndim, shape, x->device);
    if (!y) return NULL;
    const vt_backend *be = vt_be(x);
    if (b && rows > 0) /* every row of y starts as b, then one GEMM adds x @ w^T */
        be->copy_strided(2, (int64_t[]){rows, out}, b->data, (int64_t[]){0, 1}, y->data,
                         (int64_t[]){out, 1}, 0);
    gemm(be, 0, 1, rows, out, in, x->data, w->data, b ? 1.f : 0.f, y->data);
    vt_node *n = vt_node_record("linear", y, linear_backward, b ? 3 : 2, (vt_tensor *[]){x, w, b});
    if (n) { n->i[0] = rows; n->i[1] = in; n->i[2] = out; }
    return y;
}
