/* bench.h: pieces of `vertebra bench` (tools/cmd_bench.c): the bench models of
 * ../shared/peer/torch_bench.py, one model's timing run, the conv kernel timer and the
 * sgemm peak. Each model runs in its own child process so peak memory is its own. */
#ifndef VT_BENCH_H
#define VT_BENCH_H

/* One bench model as torch_bench.py defines it. */
typedef struct vt_bench_spec {
    const char *name;   /* torch_bench.py's name and the model zoo arch (smallcnn: layers.h) */
    int dims;           /* 2 or 3 spatial dims */
    int batch, size;    /* input (batch, 1, size, size[, size]) */
    int classes;        /* cross-entropy classes; 0: MSE against a random target of the input's shape */
    int steps, warmup;  /* defaults; reduced for models too slow on 2 cores */
} vt_bench_spec;

/* The table in torch_bench.py's order; n receives its length. NULL name -> not found. */
const vt_bench_spec *vt_bench_specs(int *n);
const vt_bench_spec *vt_bench_find(const char *name);

typedef struct vt_bench_result {
    int ok;
    char error[240];
    int steps, warmup;
    double train_ms, infer_ms;          /* medians */
    double conv_train_ms, conv_infer_ms; /* medians of the time spent inside conv kernels */
    double conv_train_gflop, conv_infer_gflop; /* conv FLOPs (2 x MACs) of one step / one inference */
    double rss_mb;                      /* peak RSS of the child process that ran it */
    double cpu_share;                   /* CPU time / (wall time x threads) of the timed training
                                         * steps: < 1 when other processes took the cores */
} vt_bench_result;

/* Builds the model (seed 0), times `steps` training steps after `warmup` (forward, loss,
 * backward, SGD lr 0.01 momentum 0.9) and as many inference passes (eval, no grad), with
 * the conv timer installed. Fills r except rss_mb; 0 on success, else r->error is set. */
int vt_bench_run_model(const vt_bench_spec *s, int steps, int warmup, vt_bench_result *r);

/* Conv kernel timer: vt_backend_override_cpu() with a copy of the CPU table whose
 * conv2d/conv3d forward/backward-data/backward-filter kernels add their wall time and
 * FLOPs (2 x N x C_out x out spatial x C_in/groups x kernel volume, which also holds for
 * the transposed convs that run on these kernels) to two counters. */
void vt_bench_conv_timer_install(void);
void vt_bench_conv_timer_uninstall(void);
void vt_bench_conv_timer_reset(void);
void vt_bench_conv_timer_read(double *seconds, double *flop);

/* Best GFLOP/s of a square n x n x n sgemm (OpenBLAS via the CPU backend), over reps runs
 * after one warm-up, with the current thread count. */
double vt_bench_sgemm_gflops(int n, int reps);

#endif
