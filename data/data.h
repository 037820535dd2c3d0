/* data.h: dataset readers. */
#ifndef VT_DATA_H
#define VT_DATA_H

#include "vertebra.h"

/* IDX files (MNIST / Fashion-MNIST), plain or gzip-compressed (zlib reads both).
 * Images (N, rows, cols) uint8 -> heap tensor (N, 1, rows, cols) scaled to [0, 1];
 * labels (N) uint8 -> heap tensor (N) of class indices. limit > 0 keeps the first `limit`.
 * Errors (missing file, bad magic, absurd dims, truncation) name the file. */
vt_tensor *vt_idx_load_images(const char *path, int64_t limit);
vt_tensor *vt_idx_load_labels(const char *path, int64_t limit);

#endif
