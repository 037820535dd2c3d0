/* backend.c: device -> kernel table. The CUDA table registers itself when built. */
#include "internal.h"

static const vt_backend *cuda_backend; /* set by cuda/ when compiled with CUDA=1 */

void vt_backend_register_cuda(const vt_backend *b);
void vt_backend_register_cuda(const vt_backend *b) { cuda_backend = b; }

/* Bench-only: `vertebra bench` swaps in a copy of the CPU table whose conv kernels are
 * wrapped with timers (tools/bench_conv_timer.c). NULL otherwise: one load per op. */
static const vt_backend *cpu_override;
void vt_backend_override_cpu(const vt_backend *b) { cpu_override = b; }

const vt_backend *vt_backend_get(vt_device dev) {
    if (dev == VT_DEV_CUDA) {
        VT_ASSERT(cuda_backend); /* front-ends refuse CUDA tensors without a backend */
        return cuda_backend;
    }
    return cpu_override ? cpu_override : vt_backend_cpu();
}
