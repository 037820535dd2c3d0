/* backend.c: device -> kernel table. The CUDA table registers itself when built. */
#include "internal.h"

static const vt_backend *cuda_backend; /* set by cuda/ when compiled with CUDA=1 */

void vt_backend_register_cuda(const vt_backend *b);
void vt_backend_register_cuda(const vt_backend *b) { cuda_backend = b; }

const vt_backend *vt_backend_get(vt_device dev) {
    if (dev == VT_DEV_CUDA) {
        VT_ASSERT(cuda_backend); /* front-ends refuse CUDA tensors without a backend */
        return cuda_backend;
    }
    return vt_backend_cpu();
}
