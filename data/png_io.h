/* png_io.h: PNG images (libpng), read into (C, H, W) f32 tensors and written from them.
 * (Not named png.h: that is libpng's own header, and the -I path would mix them up.)
 *
 * Reading: every PNG variant of the standard — grey 1/2/4/8/16 bit, grey+alpha, RGB, RGBA
 * (8/16 bit), palette 1/2/4/8 bit, Adam7 interlaced — loads as a heap tensor (C, H, W):
 *   grey, grey+alpha           -> C = 1
 *   RGB, RGBA, palette         -> C = 3 (palette expanded; alpha and tRNS dropped)
 *   opt.grey = 1               -> C = 1 for every type: RGB/palette converted with the
 *                                 ITU-R 601 weights exactly as PIL's convert('L')
 *                                 (round((19595 R + 38470 G + 7471 B) / 65536)), on the
 *                                 8-bit or 16-bit samples
 *   opt.rgb = 1                -> C = 3 for every type (grey replicated)
 * Grey images below 8 bits are expanded to 8 bits as PIL does (1-bit: 0/255, 2-bit: 0, 85,
 * 170, 255, 4-bit: x17). Values are scaled to [0, 1] by default (v / 255, or v / 65535 for
 * 16-bit files); opt.raw = 1 keeps 0..255 / 0..65535. No gamma / colour-profile correction.
 *
 * Limits: width * height * C above opt.max_values (default VT_PNG_MAX_VALUES = 2^28, 1 GiB as
 * f32) is rejected before anything is allocated, and so is an image whose pixel data could
 * not fit in the file even at zlib's maximum compression ratio (1032:1), so a 50-byte file
 * declaring 100000 x 100000 pixels costs nothing. Errors (missing file, bad signature,
 * CRC errors in critical chunks, truncation, corrupt zlib data) name the file; libpng's
 * own message is appended. Without libpng (no VT_HAVE_PNG at build time) every function
 * here returns an error saying PNG support was not built. */
#ifndef VT_PNG_IO_H
#define VT_PNG_IO_H

#include "vertebra.h"

#define VT_PNG_MAX_VALUES (1LL << 28)

typedef struct vt_png_options {
    int grey;           /* 1: convert colour to one grey channel (PIL 'L' weights) */
    int rgb;            /* 1: replicate grey to three channels (ignored when grey = 1) */
    int raw;            /* 1: raw sample values; 0 (default): scaled to [0, 1] */
    int64_t max_values; /* width * height * C limit; 0: VT_PNG_MAX_VALUES */
} vt_png_options;

typedef struct vt_png_info {
    int width, height;
    int bit_depth;      /* 1, 2, 4, 8 or 16 as stored */
    int color_type;     /* PNG colour type: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA */
    int interlaced;     /* 1 for Adam7 */
} vt_png_info;

/* 1 when the library was built with libpng. */
int vt_png_supported(void);

/* Reads and checks the header (IHDR) only. */
vt_status vt_png_read_info(const char *path, vt_png_info *info);

/* Reads the image as a heap f32 tensor (C, H, W); opt NULL: defaults (all zero). info may
 * be NULL. Release with vt_tensor_free. */
vt_tensor *vt_png_load(const char *path, const vt_png_options *opt, vt_png_info *info);

/* Writes an 8-bit grey (C = 1) or RGB (C = 3) PNG atomically (temp file + rename).
 * t: heap tensor (C, H, W) or (H, W); values in [0, 1] when scale_01 = 1 (multiplied by 255),
 * otherwise already 0..255; both rounded to nearest and clamped, NaN written as 0. */
vt_status vt_png_write(const char *path, const vt_tensor *t, int scale_01);
/* Same from raw bytes, planar (C, H, W) uint8 (C = 1 or 3). */
vt_status vt_png_write_u8(const char *path, const uint8_t *chw, int c, int h, int w);

#endif
