/* safetensors.h: read and write the safetensors weight format (Hugging Face), so weights
 * converted from PyTorch / torchvision state dicts load into a vertebra model.
 *
 * File layout (see docs/weights.md): u64 little-endian N, N bytes of JSON header, then the
 * data buffer. The header is one object: tensor name -> {"dtype": "F32", "shape": [2, 3],
 * "data_offsets": [begin, end]} (byte offsets into the data buffer, C order, little-endian)
 * plus an optional "__metadata__" object of string -> string.
 *
 * Reading:
 *   vt_safetensors *st = vt_safetensors_open("resnet18.safetensors");
 *   for (int i = 0; i < vt_safetensors_count(st); i++) puts(vt_safetensors_name(st, i));
 *   vt_tensor *w = vt_safetensors_get(st, "conv1.weight");  // f32 heap tensor
 *   vt_tensor_free(w); vt_safetensors_close(st);
 * open reads and validates the whole header before returning: header length (at most
 * 100 MB and within the file), strict JSON, known dtype, 0..16 dims each <= 2^40, data
 * offsets inside the file, end - begin == numel * dtype size, no two tensors overlapping,
 * no duplicate names. Tensor data is read (fread, in chunks) only by get/read, so a large
 * file costs nothing until used. Gaps between tensors are accepted (the reference
 * library refuses them; no writer makes them). Every error names the file and the problem;
 * a damaged or hostile file never crashes the reader nor makes it allocate more than the
 * file holds.
 *
 * dtypes converted to f32: F32, F16, BF16, F64, I64, I32, I16, I8, U64, U32, U16, U8, BOOL
 * (integers such as BatchNorm's num_batches_tracked read as floats; values beyond 2^24
 * round). F8_* and other dtypes are refused with a message naming them.
 *
 * Loading into a model (vt_params_load_safetensors) matches file keys to the registered
 * parameter and buffer names (torchvision names for VGG/ResNet/DenseNet), with an
 * optional prefix map, skip list and strict/non-strict key checking, and one transfer
 * rule: a 4-D or 5-D conv weight with 3 input channels in the file loads into a model
 * weight with 1 input channel as the sum over the input channels (RGB -> grey, as timm's
 * adapt_input_conv does for in_chans=1: a grey image x gives the same response as the RGB
 * image (x, x, x) under the original weights). */
#ifndef VT_SAFETENSORS_H
#define VT_SAFETENSORS_H

#include "vertebra.h"

#define VT_SAFETENSORS_MAX_HEADER 100000000u /* bytes, as the reference library */
#define VT_SAFETENSORS_MAX_DIMS 16

typedef struct vt_safetensors vt_safetensors;

/* ---- reading ---------------------------------------------------------------------------- */
vt_safetensors *vt_safetensors_open(const char *path); /* NULL + vt_last_error on failure */
void vt_safetensors_close(vt_safetensors *st);
/* Tensors in the order of the JSON header. */
int vt_safetensors_count(const vt_safetensors *st);
const char *vt_safetensors_name(const vt_safetensors *st, int i);
int vt_safetensors_find(const vt_safetensors *st, const char *name); /* index or -1 */
const char *vt_safetensors_dtype(const vt_safetensors *st, int i);   /* "F32", "I64", ... */
/* Number of dims (0 for a scalar, up to VT_SAFETENSORS_MAX_DIMS) and the shape into shape
 * (room for VT_SAFETENSORS_MAX_DIMS); -1 for a bad index. */
int vt_safetensors_shape(const vt_safetensors *st, int i, int64_t *shape);
int64_t vt_safetensors_numel(const vt_safetensors *st, int i);
/* Reads tensor i converted to f32 into n host floats (n must equal its numel). */
vt_status vt_safetensors_read(vt_safetensors *st, int i, float *out, int64_t n);
/* Tensor `name` as a new f32 heap tensor (a scalar comes back with shape (1)); NULL with
 * an error when absent, of more than VT_MAX_DIMS dims, or unreadable. */
vt_tensor *vt_safetensors_get(vt_safetensors *st, const char *name);
/* "__metadata__": number of entries, key i, and the value of a key (NULL if absent). */
int vt_safetensors_metadata_count(const vt_safetensors *st);
const char *vt_safetensors_metadata_key(const vt_safetensors *st, int i);
const char *vt_safetensors_metadata(const vt_safetensors *st, const char *key);

/* ---- writing a model -------------------------------------------------------------------- */
/* Every parameter and buffer of p under its registered name as F32, tensors sorted by name
 * (bytewise strcmp; the data buffer in the same order, no gaps), header padded with spaces
 * so the data starts 8-byte aligned, metadata first. metadata_json: NULL or a JSON object
 * of string -> string, e.g. "{\"format\":\"pt\",\"arch\":\"resnet18\"}" (validated, then
 * written as given). Written atomically (temp file, fsync, rename; see checkpoint.h):
 * on error the file previously at path is untouched. Device tensors are copied to host. */
vt_status vt_params_save_safetensors(const vt_params *p, const char *path,
                                     const char *metadata_json);

/* ---- loading into a model --------------------------------------------------------------- */
typedef struct vt_load_report {
    int loaded;     /* model tensors filled from the file */
    int missing;    /* model tensors (not skipped) with no key in the file */
    int unexpected; /* file keys (not skipped or ignored) with no model tensor */
    int skipped;    /* file keys matching skip_prefixes */
    int ignored;    /* file "*.num_batches_tracked" keys the model has no buffer for */
    int adapted;    /* conv weights summed from 3 input channels to 1 */
    char message[1024]; /* "missing: a b ...; unexpected: c ..." (first 10 of each) */
} vt_load_report;

typedef struct vt_load_options {
    int strict; /* 1: any missing or unexpected key is an error (nothing is loaded) */
    /* Key map applied to every file key: strip_prefix is removed where the key starts with
     * it ("module." from DataParallel), then add_prefix is prepended ("backbone."). */
    const char *strip_prefix, *add_prefix;
    /* NULL-terminated list; a mapped key (and a model name) starting with one of these is
     * left alone: not loaded, not reported missing/unexpected ("fc." when the number of
     * classes differs: the model keeps its own initialisation). */
    const char *const *skip_prefixes;
    vt_load_report *report; /* optional: filled on success and on key errors */
} vt_load_options;

/* Fills the matching tensors of p (finalized or not, any device) from the file. opt NULL:
 * strict, no map, no skips. All or nothing: on any error (missing/unexpected key when
 * strict, shape mismatch (always an error, naming the key and both shapes, except the
 * 3 -> 1 input-channel rule above), unreadable file) no tensor of p is changed.
 * "*.num_batches_tracked" file keys are ignored when p has no tensor of that name. */
vt_status vt_params_load_safetensors(vt_params *p, const char *path,
                                     const vt_load_options *opt);

/* internal (safetensors.c, for the writer): VT_OK if json is one object of string -> string */
vt_status vt_safetensors_check_metadata_(const char *json);

#endif
