/* threads.c: one knob for OpenMP kernels and OpenBLAS. */
#include <omp.h>
#include "vertebra.h"

void openblas_set_num_threads(int num_threads);

static int n_threads = 0;

void vt_set_num_threads(int n) {
    if (n <= 0) n = omp_get_num_procs();
    n_threads = n;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int vt_get_num_threads(void) { return n_threads > 0 ? n_threads : omp_get_max_threads(); }
