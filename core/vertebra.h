/* vertebra.h: the public header of the vertebra core.
 *
 * One tensor type (vt_tensor, f32, up to 5 dims N,C,D,H,W, contiguous row-major),
 * one define-by-run autograd tape, backends behind one kernel table.
 *
 * Memory model (see docs/core.md):
 *   - heap tensors (vt_tensor_new*) are reference counted; release with vt_tensor_free.
 *     Parameters, datasets and anything that outlives a training step live here.
 *   - every op output, every gradient of an op output and every tape node is carved from
 *     the current arena. vt_arena_reset() at the end of a step frees them all at once; after
 *     the first step the arena has grown to fit and a step makes no malloc.
 *
 * Errors: functions that can fail return NULL (tensors) or a negative vt_status and set a
 * message readable with vt_last_error(). Ops accept NULL inputs and return NULL, so a model
 * can be written without checks and the caller checks the final output once.
 */
#ifndef VERTEBRA_H
#define VERTEBRA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VT_MAX_DIMS 5

typedef enum { VT_F32 = 0 } vt_dtype;
typedef enum { VT_DEV_CPU = 0, VT_DEV_CUDA = 1 } vt_device;
typedef int vt_status;
enum { VT_OK = 0, VT_ERR = -1 };

typedef struct vt_storage vt_storage;
typedef struct vt_node vt_node;
typedef struct vt_arena vt_arena;

typedef struct vt_tensor {
    int ndim;
    int64_t shape[VT_MAX_DIMS];
    int64_t numel;
    vt_dtype dtype;
    vt_device device;
    float *data;            /* first element; storage base + offset for heap tensors */
    vt_storage *storage;    /* NULL for arena tensors */
    struct vt_tensor *grad; /* same shape; heap for heap tensors, arena for arena tensors */
    vt_node *node;          /* op that produced this tensor; NULL for leaves */
    int requires_grad;
    int refcount;           /* heap tensors only */
    int is_param;           /* grad is a view into a vt_params gradient buffer */
} vt_tensor;

/* Shape helper: vt_tensor_new(VT_DIMS(64, 1, 28, 28)) expands to (4, (int64_t[]){...}). */
#define VT_DIMS(...) \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__}

/* ---- errors ------------------------------------------------------------------------- */
const char *vt_last_error(void);
void vt_clear_error(void);
/* Sets the thread's error message (printf format); returns VT_ERR for `return vt_error(...)`. */
vt_status vt_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- threads ------------------------------------------------------------------------ */
/* Threads used by non-BLAS kernels (OpenMP) and by OpenBLAS. n <= 0: all cores. */
void vt_set_num_threads(int n);
int vt_get_num_threads(void);

/* ---- RNG: Philox4x32-10, counter based ---------------------------------------------- */
/* Element i of a draw depends only on (seed, offset + i): results do not depend on the
 * number of threads, and the state is two integers (checkpoint friendly). */
typedef struct vt_rng {
    uint64_t seed;
    uint64_t offset; /* counter advanced by each draw */
} vt_rng;

void vt_rng_init(vt_rng *r, uint64_t seed);
/* The default stream, used by dropout and init. It is per thread: vt_seed seeds the
 * calling thread's stream (worker threads keep their own, seeded explicitly). */
vt_rng *vt_rng_global(void);
void vt_seed(uint64_t seed);          /* reseeds the global stream */
void vt_rng_uniform(vt_rng *r, float *out, int64_t n, float lo, float hi); /* [lo, hi) */
void vt_rng_normal(vt_rng *r, float *out, int64_t n, float mean, float std);
uint32_t vt_rng_u32(vt_rng *r);
/* Fisher-Yates permutation of 0..n-1 */
void vt_rng_permutation(vt_rng *r, int64_t *out, int64_t n);

/* ---- arena -------------------------------------------------------------------------- */
vt_arena *vt_arena_new(size_t initial_bytes);
void vt_arena_free(vt_arena *a);
/* Frees every tensor and tape node carved from the arena since the last reset. */
void vt_arena_reset(vt_arena *a);
/* The arena op outputs come from (a lazily created default one if none was set). */
vt_arena *vt_arena_current(void);
vt_arena *vt_arena_set(vt_arena *a); /* returns the previous one; NULL restores default */
size_t vt_arena_used(const vt_arena *a);
size_t vt_arena_capacity(const vt_arena *a);
uint64_t vt_arena_mallocs(const vt_arena *a); /* chunk allocations so far (tests, bench) */
void *vt_arena_alloc(vt_arena *a, size_t bytes); /* 64-byte aligned; NULL on OOM */

/* ---- tensors ------------------------------------------------------------------------ */
/* heap tensors: zero-filled, refcount 1 */
vt_tensor *vt_tensor_new(int ndim, const int64_t *shape);
vt_tensor *vt_tensor_from_data(int ndim, const int64_t *shape, const float *data);
vt_tensor *vt_tensor_clone(const vt_tensor *t);     /* heap copy of data (no grad/graph) */
vt_tensor *vt_tensor_retain(vt_tensor *t);
void vt_tensor_free(vt_tensor *t);                  /* release; no-op for arena tensors */
/* arena tensors: freed by vt_arena_reset */
vt_tensor *vt_tensor_empty(int ndim, const int64_t *shape); /* uninitialised */
vt_tensor *vt_tensor_zeros(int ndim, const int64_t *shape);
vt_tensor *vt_tensor_full(int ndim, const int64_t *shape, float value);
vt_tensor *vt_tensor_detach(vt_tensor *t); /* arena view sharing data, no graph */

int vt_tensor_is_heap(const vt_tensor *t);
int vt_shape_equal(const vt_tensor *a, const vt_tensor *b);
/* "(2, 3, 4)" into buf; returns buf */
const char *vt_shape_str(const vt_tensor *t, char *buf, size_t n);
void vt_tensor_fill(vt_tensor *t, float v);
vt_status vt_tensor_copy_data(vt_tensor *dst, const vt_tensor *src); /* same numel */
float vt_tensor_item(const vt_tensor *t);  /* first element (host) */
/* in-place init from the global RNG (no graph) */
void vt_tensor_uniform_(vt_tensor *t, float lo, float hi);
void vt_tensor_normal_(vt_tensor *t, float mean, float std);

/* ---- autograd ----------------------------------------------------------------------- */
int vt_grad_enabled(void);
int vt_set_grad_enabled(int on); /* returns the previous mode: a no_grad scope is
                                    int prev = vt_set_grad_enabled(0); ...; vt_set_grad_enabled(prev); */
/* no-grad scope: int g = vt_no_grad_begin(); ...inference...; vt_no_grad_end(g); */
int vt_no_grad_begin(void);
void vt_no_grad_end(int prev);
void vt_tensor_set_requires_grad(vt_tensor *t, int on); /* leaves only */
/* d(loss)/d(leaf) accumulated into leaf->grad for every leaf that requires grad.
 * loss must have one element. Tape nodes stay until vt_arena_reset. */
vt_status vt_backward(vt_tensor *loss);
/* Same, seeding out's gradient with grad_out (same shape as out). */
vt_status vt_backward_with(vt_tensor *out, const vt_tensor *grad_out);
void vt_tensor_zero_grad(vt_tensor *t);

/* ---- ops (outputs in the current arena; NULL in, NULL out) ---------------------------- */
/* elementwise with numpy broadcasting */
vt_tensor *vt_add(vt_tensor *a, vt_tensor *b);
vt_tensor *vt_sub(vt_tensor *a, vt_tensor *b);
vt_tensor *vt_mul(vt_tensor *a, vt_tensor *b);
vt_tensor *vt_div(vt_tensor *a, vt_tensor *b);
vt_tensor *vt_add_scalar(vt_tensor *x, float s);
vt_tensor *vt_mul_scalar(vt_tensor *x, float s);
/* unary */
vt_tensor *vt_exp(vt_tensor *x);
vt_tensor *vt_log(vt_tensor *x);
vt_tensor *vt_pow(vt_tensor *x, float p);
vt_tensor *vt_sqrt(vt_tensor *x);
vt_tensor *vt_abs(vt_tensor *x);
vt_tensor *vt_clamp(vt_tensor *x, float lo, float hi); /* -INFINITY/INFINITY for one side */
vt_tensor *vt_relu(vt_tensor *x);
vt_tensor *vt_leaky_relu(vt_tensor *x, float negative_slope);
vt_tensor *vt_sigmoid(vt_tensor *x);
vt_tensor *vt_tanh(vt_tensor *x);
vt_tensor *vt_softplus(vt_tensor *x); /* log(1 + exp(x)), stable for large |x| */
vt_tensor *vt_softmax(vt_tensor *x, int axis);
vt_tensor *vt_log_softmax(vt_tensor *x, int axis);
/* reductions; naxes == 0 reduces over all axes. Negative axes count from the end. */
vt_tensor *vt_sum(vt_tensor *x, int naxes, const int *axes, int keepdim);
vt_tensor *vt_mean(vt_tensor *x, int naxes, const int *axes, int keepdim);
/* shape */
vt_tensor *vt_reshape(vt_tensor *x, int ndim, const int64_t *shape); /* one -1 allowed; a view */
vt_tensor *vt_flatten(vt_tensor *x);                                   /* (N, rest) */
vt_tensor *vt_permute(vt_tensor *x, const int *perm);
vt_tensor *vt_transpose(vt_tensor *x, int axis0, int axis1);
vt_tensor *vt_concat(int n, vt_tensor *const *xs, int axis);
vt_tensor *vt_slice(vt_tensor *x, int axis, int64_t start, int64_t end); /* [start, end) */
/* linear algebra (OpenBLAS sgemm on CPU) */
vt_tensor *vt_matmul(vt_tensor *a, vt_tensor *b); /* (M,K)@(K,N) or batched (B,M,K)@(B,K,N) */
vt_tensor *vt_linear(vt_tensor *x, vt_tensor *w, vt_tensor *b); /* x (N,in), w (out,in), b (out) or NULL */

/* convolution and pooling, NCHW */
typedef struct vt_conv2d_params {
    int stride[2], pad[2], dilation[2]; /* (h, w) */
    int groups;
} vt_conv2d_params;
/* p == NULL: stride 1, pad 0, dilation 1, groups 1 */
vt_tensor *vt_conv2d(vt_tensor *x, vt_tensor *w, vt_tensor *b, const vt_conv2d_params *p);

typedef struct vt_pool2d_params {
    int kernel[2], stride[2], pad[2]; /* stride 0 means stride = kernel */
    int ceil_mode;
    int count_include_pad; /* avg pool only; PyTorch default 1 */
} vt_pool2d_params;
vt_tensor *vt_max_pool2d(vt_tensor *x, const vt_pool2d_params *p);
vt_tensor *vt_avg_pool2d(vt_tensor *x, const vt_pool2d_params *p);
vt_tensor *vt_global_avg_pool(vt_tensor *x); /* (N,C,...) -> (N,C) */

/* 3D convolution, transposed convolution and 3D pooling, NCDHW (PyTorch semantics) */
typedef struct vt_conv3d_params {
    int stride[3], pad[3], dilation[3]; /* (d, h, w) */
    int groups;
} vt_conv3d_params;
/* x (N, C_in, D, H, W), w (C_out, C_in/groups, kd, kh, kw), b (C_out) or NULL;
 * p == NULL: stride 1, pad 0, dilation 1, groups 1 */
vt_tensor *vt_conv3d(vt_tensor *x, vt_tensor *w, vt_tensor *b, const vt_conv3d_params *p);

/* Transposed convs: w (C_in, C_out/groups, k...), b (C_out) or NULL; output size per axis
 * (in - 1) stride - 2 pad + dilation (k - 1) + output_padding + 1, output_padding smaller
 * than stride or dilation. p == NULL: stride 1, pad 0, output_padding 0, dilation 1, groups 1 */
typedef struct vt_conv_transpose2d_params {
    int stride[2], pad[2], output_padding[2], dilation[2]; /* (h, w) */
    int groups;
} vt_conv_transpose2d_params;
vt_tensor *vt_conv_transpose2d(vt_tensor *x, vt_tensor *w, vt_tensor *b,
                               const vt_conv_transpose2d_params *p);
typedef struct vt_conv_transpose3d_params {
    int stride[3], pad[3], output_padding[3], dilation[3]; /* (d, h, w) */
    int groups;
} vt_conv_transpose3d_params;
vt_tensor *vt_conv_transpose3d(vt_tensor *x, vt_tensor *w, vt_tensor *b,
                               const vt_conv_transpose3d_params *p);

typedef struct vt_pool3d_params {
    int kernel[3], stride[3], pad[3]; /* (d, h, w); stride 0 means stride = kernel */
    int ceil_mode;
    int count_include_pad; /* avg pool only; PyTorch default 1 */
} vt_pool3d_params;
vt_tensor *vt_max_pool3d(vt_tensor *x, const vt_pool3d_params *p);
vt_tensor *vt_avg_pool3d(vt_tensor *x, const vt_pool3d_params *p);

/* Batch norm over (N,C), (N,C,L), (N,C,H,W) or (N,C,D,H,W). weight/bias (C) may be NULL.
 * training: normalise with batch statistics and update running_mean/var (heap tensors,
 * may be NULL) with momentum, unbiased variance, as PyTorch. eval: use running stats. */
vt_tensor *vt_batch_norm(vt_tensor *x, vt_tensor *weight, vt_tensor *bias,
                         vt_tensor *running_mean, vt_tensor *running_var,
                         int training, float momentum, float eps);
/* Batch norm of the first `channels` channels of x (N, C, ...) -> (N, channels, ...), read in
 * place (no slice copy); otherwise as vt_batch_norm (which is this with channels == C). */
vt_tensor *vt_batch_norm_prefix(vt_tensor *x, int64_t channels, vt_tensor *weight,
                                vt_tensor *bias, vt_tensor *running_mean,
                                vt_tensor *running_var, int training, float momentum, float eps);
/* Feature buffer of a dense block, so that concatenating every layer's output is linear,
 * not quadratic, in copies: vt_feature_buffer_new copies x (N, C0, ...) into channels
 * [0, C0) of a new (N, total_channels, ...) tensor (the rest zero); vt_feature_buffer_append
 * writes feat (N, Cf, ...) into channels [offset, offset + Cf) IN PLACE and returns a new
 * tensor sharing the same memory (the buffer "after" the write) for autograd to follow.
 * Readers of a version may only read channels already written (vt_batch_norm_prefix), and
 * channels [offset, offset + Cf) must not have been read through an earlier version. The
 * gradient of an intermediate version is shared with the versions before it. */
vt_tensor *vt_feature_buffer_new(vt_tensor *x, int64_t total_channels);
vt_tensor *vt_feature_buffer_append(vt_tensor *buffer, vt_tensor *feat, int64_t offset);
/* ---- group / instance norm, upsampling, adaptive pooling (PyTorch semantics, docs/core.md) */
/* F.group_norm: x (N, C, ...) with 2-5 dims, C % num_groups == 0; statistics per sample and
 * group of C/num_groups channels (biased variance). weight/bias (C) or NULL. */
vt_tensor *vt_group_norm(vt_tensor *x, int num_groups, vt_tensor *weight, vt_tensor *bias,
                         float eps);
/* F.instance_norm without running statistics (InstanceNorm2d/3d with the default
 * track_running_stats=False; affine=True passes weight/bias (C), else NULL):
 * x (N, C, L), (N, C, H, W) or (N, C, D, H, W), statistics per (sample, channel). */
vt_tensor *vt_instance_norm(vt_tensor *x, vt_tensor *weight, vt_tensor *bias, float eps);

typedef enum { VT_UPSAMPLE_NEAREST = 0, VT_UPSAMPLE_LINEAR = 1 } vt_upsample_mode;
/* F.interpolate for x (N, C, H, W) or (N, C, D, H, W): mode 'nearest' or 'bilinear' /
 * 'trilinear' (VT_UPSAMPLE_LINEAR). Output by size (scale[0] == 0: size[] holds (H, W) or
 * (D, H, W)) or by scale factor (scale[] > 0 per spatial dim: out = floor(in * scale), source
 * index ratio 1/scale, i.e. recompute_scale_factor unset). align_corners: linear only. */
typedef struct vt_upsample_params {
    vt_upsample_mode mode;
    int align_corners;
    int64_t size[3];
    double scale[3];
} vt_upsample_params;
vt_tensor *vt_upsample(vt_tensor *x, const vt_upsample_params *p);
/* F.adaptive_{avg,max}_pool{2,3}d: x (N, C, H, W) with out_sizes (oH, oW) or
 * (N, C, D, H, W) with (oD, oH, oW); output i pools [floor(i in/out), ceil((i+1) in/out)). */
vt_tensor *vt_adaptive_avg_pool(vt_tensor *x, const int64_t *out_sizes);
vt_tensor *vt_adaptive_max_pool(vt_tensor *x, const int64_t *out_sizes);

/* inverted dropout with the global RNG stream; identity when !training or p == 0 */
vt_tensor *vt_dropout(vt_tensor *x, float p, int training);
/* gather along axis 1: out[n, ...] = -w[t] * x[n, t, ...]; (N,C,...) -> (N,...).
 * targets hold class indices as floats; ignore_index gives 0. weights (C) or NULL. */
vt_tensor *vt_nll(vt_tensor *logp, vt_tensor *targets, vt_tensor *class_weights,
                  int ignore_index);

/* ---- parameters: contiguous values and gradients ----------------------------------- */
/* Modules register their parameters (and buffers such as batch-norm running stats) here.
 * vt_params_finalize packs every parameter into one value buffer and one gradient buffer
 * (and buffers into a third), each registered tensor becoming a view into them: zero-grad
 * is one memset, clipping/all-reduce/checkpointing work on a few large arrays. */
typedef struct vt_params vt_params;
vt_params *vt_params_new(void);
void vt_params_free(vt_params *p);            /* frees the registered tensors too */
/* heap tensor, zero-filled, requires_grad; name is copied (e.g. "conv1.weight") */
vt_tensor *vt_params_add(vt_params *p, const char *name, int ndim, const int64_t *shape);
/* a non-trainable state tensor saved with the model (running_mean, ...) */
vt_tensor *vt_params_add_buffer(vt_params *p, const char *name, int ndim, const int64_t *shape);
vt_status vt_params_finalize(vt_params *p);   /* after all adds; values are kept */
int vt_params_finalized(const vt_params *p);
int64_t vt_params_numel(const vt_params *p);  /* trainable elements */
float *vt_params_values(vt_params *p);        /* flat, numel floats (after finalize) */
float *vt_params_grads(vt_params *p);         /* flat, numel floats (after finalize) */
int64_t vt_params_buffer_numel(const vt_params *p);
float *vt_params_buffer_values(vt_params *p);
void vt_params_zero_grad(vt_params *p);
int vt_params_count(const vt_params *p);      /* parameters + buffers */
vt_tensor *vt_params_tensor(const vt_params *p, int i);
const char *vt_params_name(const vt_params *p, int i);
int vt_params_is_buffer(const vt_params *p, int i);
vt_tensor *vt_params_find(const vt_params *p, const char *name);
vt_device vt_params_device(const vt_params *p);

/* ---- serialization ------------------------------------------------------------------ */
/* .npy: load converts any numeric dtype to f32 (heap tensor); save writes '<f4' */
vt_tensor *vt_npy_load(const char *path);
vt_status vt_npy_save(const char *path, const vt_tensor *t);

#ifdef __cplusplus
}
#endif
#endif /* VERTEBRA_H */
