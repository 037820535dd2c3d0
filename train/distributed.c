/* distributed.c: MPI data parallelism (see distributed.h). Without VT_HAVE_MPI every
 * collective is the one-process identity and a multi-process launch is refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "classify.h"
#include "distributed.h"
#ifdef VT_HAVE_MPI
#include <mpi.h>
#endif

static int dist_rank = 0, dist_size = 1;
static int dist_active;  /* this process called MPI_Init_thread and must finalize */
static int dist_started; /* vt_dist_init ran */

/* The process count announced by a launcher (OpenMPI, PMIx, MPICH/Hydra), 0 if none. */
static int launcher_size(void) {
    const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"};
    for (int i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return atoi(v);
    }
    return getenv("PMIX_RANK") ? 1 : 0;
}

int vt_dist_built_with_mpi(void) {
#ifdef VT_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

vt_status vt_dist_init(int *argc, char ***argv) {
    if (dist_started) return VT_OK;
    int launched = launcher_size();
    if (launched == 0) { dist_started = 1; return VT_OK; } /* plain single process */
#ifdef VT_HAVE_MPI
    int inited = 0, provided = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            return vt_error("distributed: MPI_Init_thread failed");
        dist_active = 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &dist_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &dist_size);
    dist_started = 1;
    return VT_OK;
#else
    (void)argc; (void)argv;
    if (launched > 1)
        return vt_error("distributed: started as one of %d processes, but vertebra was built without MPI "
                        "(apt-get install libopenmpi-dev openmpi-bin, then rebuild)", launched);
    dist_started = 1;
    return VT_OK;
#endif
}

void vt_dist_finalize(void) {
#ifdef VT_HAVE_MPI
    int finalized = 0;
    if (dist_active && (MPI_Finalized(&finalized), !finalized)) MPI_Finalize();
#endif
    dist_active = 0;
    dist_started = 0;
    dist_rank = 0;
    dist_size = 1;
}

int vt_dist_rank(void) { return dist_rank; }
int vt_dist_size(void) { return dist_size; }
int vt_dist_is_root(void) { return dist_rank == 0; }

void vt_dist_shard(int64_t m, int rank, int size, int64_t *offset, int64_t *count) {
    int64_t base = m / size, extra = m % size;
    *count = base + (rank < extra);
    *offset = rank * base + (rank < extra ? rank : extra);
}

#ifdef VT_HAVE_MPI
/* MPI counts are int: large buffers go in chunks (same result, the sum is elementwise). */
#define CHUNK ((int64_t)1 << 28)

static vt_status allreduce_floats(float *v, int64_t n) {
    for (int64_t s = 0; s < n; s += CHUNK) {
        int k = (int)(n - s < CHUNK ? n - s : CHUNK);
        if (MPI_Allreduce(MPI_IN_PLACE, v + s, k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
            return vt_error("distributed: MPI_Allreduce of %d floats failed", k);
    }
    return VT_OK;
}
#endif

vt_status vt_dist_broadcast_floats(float *v, int64_t n) {
#ifdef VT_HAVE_MPI
    if (dist_size == 1) return VT_OK;
    for (int64_t s = 0; s < n; s += CHUNK) {
        int k = (int)(n - s < CHUNK ? n - s : CHUNK);
        if (MPI_Bcast(v + s, k, MPI_FLOAT, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return vt_error("distributed: MPI_Bcast of %d floats failed", k);
    }
#else
    (void)v; (void)n;
#endif
    return VT_OK;
}

static vt_status check_params(vt_params *p, const char *what) {
    if (!vt_params_finalized(p)) return vt_error("distributed: %s: parameters are not finalized", what);
    /* GPU parameters will go through NCCL (docs/multiprocess.md); not implemented yet */
    if (vt_params_device(p) != VT_DEV_CPU) return vt_error("distributed: %s: only CPU parameters are supported (NCCL is not implemented)", what);
    return VT_OK;
}

vt_status vt_dist_allreduce_grads(vt_params *p, int64_t local_n, int64_t global_n) {
    if (dist_size == 1) return VT_OK;
    if (check_params(p, "gradient all-reduce") != VT_OK) return VT_ERR;
    if (global_n < 1 || local_n < 0 || local_n > global_n)
        return vt_error("distributed: gradient all-reduce: %lld local of %lld global samples",
                        (long long)local_n, (long long)global_n);
    float *g = vt_params_grads(p);
    int64_t n = vt_params_numel(p);
    /* local mean -> this rank's share of the global mean: grad * local_n / global_n */
    if (local_n == 0) memset(g, 0, sizeof(float) * (size_t)n);
    else if (local_n != global_n) {
        float w = (float)((double)local_n / (double)global_n);
        for (int64_t i = 0; i < n; i++) g[i] *= w;
    }
#ifdef VT_HAVE_MPI
    return allreduce_floats(g, n);
#else
    return VT_OK;
#endif
}

vt_status vt_dist_allreduce_sum(double *v, int n) {
#ifdef VT_HAVE_MPI
    if (dist_size > 1 && MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
        return vt_error("distributed: MPI_Allreduce of %d doubles failed", n);
#else
    (void)v; (void)n;
#endif
    return VT_OK;
}

vt_status vt_dist_broadcast_buffers(vt_params *p) {
    if (dist_size == 1) return VT_OK;
    if (check_params(p, "broadcast") != VT_OK) return VT_ERR;
    return vt_dist_broadcast_floats(vt_params_buffer_values(p), vt_params_buffer_numel(p));
}

vt_status vt_dist_broadcast_params(vt_params *p) {
    if (dist_size == 1) return VT_OK;
    if (check_params(p, "broadcast") != VT_OK) return VT_ERR;
    if (vt_dist_broadcast_floats(vt_params_values(p), vt_params_numel(p)) != VT_OK) return VT_ERR;
    return vt_dist_broadcast_buffers(p);
}

double vt_dist_evaluate_accuracy(void *model, vt_tensor *(*forward)(void *, vt_tensor *, int),
                                 const vt_tensor *x, const vt_tensor *y, int batch) {
    if (dist_size == 1) return vt_evaluate_accuracy(model, forward, x, y, batch);
    int64_t n = x->shape[0], off, cnt;
    vt_dist_shard(n, dist_rank, dist_size, &off, &cnt);
    /* views of rows [off, off + cnt): vt_evaluate_accuracy only reads shape and data */
    vt_tensor xs = *x, ys = *y;
    xs.shape[0] = cnt;
    xs.numel = n ? x->numel / n * cnt : 0;
    xs.data = x->data + (n ? x->numel / n * off : 0);
    ys.shape[0] = cnt;
    ys.numel = cnt;
    ys.data = y->data + off;
    double acc = cnt ? vt_evaluate_accuracy(model, forward, &xs, &ys, batch) : 0;
    double sum[2] = {isnan(acc) ? NAN : acc * (double)cnt, (double)cnt};
    if (vt_dist_allreduce_sum(sum, 2) != VT_OK) return NAN;
    return sum[0] / (sum[1] > 0 ? sum[1] : 1);
}
