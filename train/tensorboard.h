/* tensorboard.h: scalar summaries in TensorBoard's event-file format, written by hand.
 *
 * A file RUN_DIR/events.out.tfevents.<unix time>.<host> is a sequence of TFRecords:
 *   uint64 length (LE), uint32 masked CRC32C(length bytes), data[length], uint32 masked CRC32C(data)
 * where masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8 and each data is a serialized
 * tensorflow.Event protobuf. Only the subset TensorBoard needs for scalars is encoded:
 *   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *   Summary { repeated Value value = 1; }
 *   Value   { string tag = 1; float simple_value = 2; }
 * The first record carries file_version "brain.Event:2". `tensorboard --logdir RUN_DIR`
 * shows the scalars; a resumed run opens a new file and TensorBoard merges them by step. */
#ifndef VT_TENSORBOARD_H
#define VT_TENSORBOARD_H

#include <stddef.h>
#include <stdint.h>
#include "vertebra.h"

#define VT_TB_MAX_TAG 1024

typedef struct vt_tb_writer vt_tb_writer;

/* Creates a new event file in dir (which must exist) and writes the version record. */
vt_tb_writer *vt_tb_open(const char *dir);
/* One scalar at `step`, stamped with the current wall time; flushed to the file. */
vt_status vt_tb_scalar(vt_tb_writer *w, const char *tag, int64_t step, float value);
/* Same with an explicit wall time (seconds since the epoch). */
vt_status vt_tb_scalar_at(vt_tb_writer *w, const char *tag, int64_t step, float value, double wall_time);
const char *vt_tb_path(const vt_tb_writer *w);
/* Closes the file; VT_ERR if any write failed (the writer is freed either way). */
vt_status vt_tb_close(vt_tb_writer *w);

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), continuing from crc (0 to start). */
uint32_t vt_crc32c(uint32_t crc, const void *data, size_t n);

#endif
