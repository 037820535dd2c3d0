/* init.h: weight initialisations of torch.nn.init, drawn from the global RNG (vt_seed). */
#ifndef VT_INIT_H
#define VT_INIT_H

#include "vertebra.h"

/* fan_in = shape[1] * prod(shape[2:]), fan_out = shape[0] * prod(shape[2:]) (torch's rule,
 * also for transposed-conv weights whose dims 0 and 1 are swapped) */
int64_t vt_init_fan_in(const vt_tensor *w);
int64_t vt_init_fan_out(const vt_tensor *w);
/* kaiming_normal_(w, mode, nonlinearity='relu'): N(0, sqrt(2 / fan)) */
void vt_init_kaiming_normal(vt_tensor *w, int fan_out_mode);
/* PyTorch's default for Linear/Conv: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform_ a=sqrt(5)) */
void vt_init_default_uniform(vt_tensor *w, int64_t fan_in);

#endif
