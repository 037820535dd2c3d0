/* softseg.h: contrast-agnostic soft spinal-cord segmentation (issue 6, section 1; Bedard et
 * al., "Towards contrast-agnostic soft segmentation of the spinal cord", 2023/2025).
 *
 * Soft ground truth: the co-registered binary cord masks of one subject's contrasts are
 * averaged into one mask in [0, 1]. One UNet (2D on axial slices) with a [0, 1] output
 * (sigmoid head, or no head and a clamp) is trained on all contrasts mixed against that
 * soft mask with Adaptive Wing (MSE and soft Dice as options); the baseline trains the same
 * network on each contrast's own binary mask with the soft Dice loss.
 *
 * Volumes are handled in vt_nifti_load's layout (D, H, W) = (z, y, x). Preparation
 * reorients to RAS+ (so D runs inferior -> superior and a D-slice is axial), resamples to
 * the training spacing (x, y; z kept when spacing z is 0), z-scores the intensities per
 * volume and zero-pads H and W to a common size divisible by 2^depth. Prediction does the
 * same to an input image, predicts slice by slice and resamples the [0, 1] map back onto
 * the input's exact voxel grid (same dims and affine). */
#ifndef VT_SOFTSEG_H
#define VT_SOFTSEG_H

#include "config.h"
#include "dataset.h"
#include "optim.h"
#include "model.h"
#include "nifti.h"

/* ---- soft ground truth (softseg_gt.c) -------------------------------------------------- */
/* VT_OK when the two headers describe the same voxel grid: equal dims 1..3 and affines
 * equal within tol (mm, element-wise); otherwise VT_ERR naming name_a, name_b and what
 * differs. */
vt_status vt_softgt_same_grid(const vt_nifti_header *a, const vt_nifti_header *b,
                              const char *name_a, const char *name_b, double tol);
/* out = mean over n masks (same shape; nonzero = 1): a heap tensor in [0, 1]. */
vt_tensor *vt_softgt_mean(int n, vt_tensor *const *masks);
/* Loads n >= 1 NIfTI masks, checks that all share the first one's grid (tol mm), writes
 * their mean as float32 NIfTI at out_path in the first mask's geometry. */
vt_status vt_softgt_files(int n, const char *const *paths, const char *out_path, double tol);

/* ---- configuration (softseg_config.c) ------------------------------------------------- */
/* The schema of `vertebra softseg --config FILE` (examples/softseg_cord/config). */
const vt_cfg_key *vt_softseg_schema(void);

typedef enum { VT_SOFTSEG_ADAPWING = 0, VT_SOFTSEG_MSE, VT_SOFTSEG_DICE } vt_softseg_loss;

typedef struct vt_softseg_options {
    /* data */
    int source_sct;        /* 0: cord phantom, 1: ../shared/data/sct layout at sct_dir */
    char sct_dir[1024];
    int subjects, test_subjects;         /* phantom */
    int nx, ny, nz;                      /* phantom grid */
    float noise;                         /* phantom */
    double spacing[3];     /* training spacing x, y, z mm; z 0: keep each volume's */
    double test_z_fraction; /* sct: the top fraction of each volume's slices is held out */
    /* model */
    int depth, base_width, clamp_head;   /* clamp_head: no head, output clamped to [0, 1] */
    int instance_norm;
    int dims3d;            /* 0: UNet2D on axial slices, 1: UNet3D on patches */
    int64_t patch[3];      /* 3D patch (D, H, W) = (z, y, x) voxels, multiples of 2^depth */
    float fg_prob;         /* 3D: probability that a patch is centred on a foreground voxel */
    int patches_per_epoch; /* 3D: patches drawn per epoch */
    int gaussian_window;   /* 3D sliding window: 1 Gaussian (sigma = patch / 8), 0 uniform weights */
    /* training */
    int soft_gt;           /* 1: soft GT for every contrast, 0: each contrast's binary mask */
    vt_softseg_loss loss;
    float lr;
    int batch, epochs;
    float threshold;       /* binarisation for Dice */
    uint64_t seed;
    int log_every;
    char resume[1024];     /* run.resume: a model.vtck to continue from ("" : fresh run) */
    int overlays;          /* write RUN/overlays/epoch_NNN.png after every epoch */
} vt_softseg_options;

/* Fills o from a resolved config (vt_config_load with vt_softseg_schema()). */
vt_status vt_softseg_options_from_config(const vt_config *c, vt_softseg_options *o);

/* ---- data (softseg_data.c) ------------------------------------------------------------ */
typedef struct vt_softseg_volume {
    char name[64];          /* "sub-03_T2w" */
    char contrast[16];
    int subject;
    vt_tensor *image;       /* (D, H, W) prepared as above */
    vt_tensor *soft;        /* (D, H, W) soft GT on the same grid */
    vt_tensor *mask;        /* (D, H, W) this contrast's binary mask */
    vt_tensor *other;       /* (D, H, W) another rater's mask (SCT deepseg) or NULL */
    vt_tensor *true_csa;    /* (D) exact cord area per slice (phantom) or NULL */
    double spacing[3];      /* of the prepared grid, x, y, z mm */
    int64_t train_lo, train_hi, test_lo, test_hi; /* slice ranges; empty when lo == hi */
} vt_softseg_volume;

typedef struct vt_softseg_data {
    int n;
    vt_softseg_volume *vol;
    int64_t height, width;  /* common padded in-plane size */
} vt_softseg_data;

/* Reorients to RAS+, resamples (linear for images and soft masks, linear + threshold for
 * binary masks) to spacing, z-scores (image only). vol (D, H, W) in vt_nifti_load's
 * layout with its affine; writes the prepared grid's affine to out_affine (may be NULL). */
vt_tensor *vt_softseg_prepare(const vt_tensor *vol, const double affine[4][4],
                              const double spacing[3], int is_image, int binary,
                              double out_affine[4][4]);
/* Phantom (o->subjects subjects x 4 contrasts; the last o->test_subjects are the test
 * set) or SCT data, prepared and padded to a common size. */
vt_status vt_softseg_data_load(const vt_softseg_options *o, vt_softseg_data *d);
void vt_softseg_data_free(vt_softseg_data *d);

/* ---- model, training, prediction (softseg_train.c) ------------------------------------ */
/* UNet2D of o (in 1, out 1 channel, sigmoid head or clamp). Draws from the global RNG. */
vt_model *vt_softseg_model_new(const vt_softseg_options *o);
/* model output in [0, 1]: (N, 1, H, W) -> (N, 1, H, W) */
vt_tensor *vt_softseg_forward(vt_model *m, int clamp_head, vt_tensor *x, int training);

typedef struct vt_softseg_result {
    double first_loss, last_loss, seconds;
    int epochs_done;
} vt_softseg_result;

/* Trains on the train slices of every volume (all contrasts mixed; 2D: shuffled slices,
 * 3D: o->patches_per_epoch patches per epoch from vt_dataset_patches over the training
 * z-range of every volume, foreground-oversampled with o->fg_prob, sample k of epoch e
 * drawn from vt_loader_sample_rng(seed, e, k)). out_dir (may be NULL) receives
 * metrics.jsonl (one line per epoch: train loss, held-out Dice), model.vtck (after each
 * epoch: weights, Adam state, next epoch, RNG streams), TensorBoard events, plots/ (PNG)
 * curves and overlays/epoch_NNN.png. With o->resume set, the run continues from that
 * checkpoint's next epoch bit-identically (metrics.jsonl appended). */
vt_status vt_softseg_train(vt_model *m, const vt_softseg_options *o, const vt_softseg_data *d,
                           const char *out_dir, vt_softseg_result *res);

/* A checkpoint holding the parameters and, as text, what predict needs to rebuild the
 * model and its preprocessing (depth, base_width, norm, head, spacing, dims, patch,
 * window). */
vt_status vt_softseg_save(const vt_model *m, const vt_softseg_options *o, const char *path);
/* The same plus the run state (optimizer state and step, next epoch, global RNG and the
 * 2D shuffle stream): what vt_softseg_train needs to resume. opt may be NULL (weights only). */
vt_status vt_softseg_save_run(const vt_model *m, const vt_softseg_options *o, vt_optim *opt, int next_epoch,
                              const vt_rng *shuffle, const char *path);
/* Rebuilds the model saved by vt_softseg_save; fills the model fields and spacing of o. */
vt_model *vt_softseg_load(const char *path, vt_softseg_options *o);

/* Prediction on a prepared (D, H, W) volume: a heap tensor (D, H, W) in [0, 1]. 2D: slice
 * by slice, H and W padded to a multiple of 2^depth internally and cropped back; 3D:
 * vt_softseg_sliding_window with o->patch and o->gaussian_window. */
vt_tensor *vt_softseg_predict_prepared(vt_model *m, const vt_softseg_options *o,
                                       const vt_tensor *image);
/* Prediction in the input geometry: image (D, H, W) as loaded with its affine -> a heap
 * tensor of the same shape, values in [0, 1] (binarized to {0, 1} when threshold > 0). */
vt_tensor *vt_softseg_predict_volume(vt_model *m, const vt_softseg_options *o,
                                     const vt_tensor *image, const double affine[4][4],
                                     float threshold);

/* ---- 3D patches (softseg_patch.c) ------------------------------------------------------ */
/* Sliding-window inference of a 3D model over image (D, H, W): windows of size patch
 * (D, H, W) at 50 % overlap (stride patch / 2, the last window flush with the end; an axis
 * shorter than the patch is zero-padded at its end), each window's output weighted by a
 * separable Gaussian (gaussian != 0: sigma = patch / 8 per axis as in nnU-Net, floored at
 * 1e-3 of the peak) or uniformly, and the weighted sum divided by the summed weights. A
 * volume equal to one patch gives the plain forward. Returns a heap (D, H, W) tensor. */
vt_tensor *vt_softseg_sliding_window(vt_model *m, int clamp_head, const vt_tensor *image, const int64_t patch[3],
                                     int gaussian);
/* The 3D training patches: one patch dataset over the training z-range of every volume
 * with training slices (image (1, pd, ph, pw), target = soft GT or binary mask). */
vt_dataset *vt_softseg_patch_dataset(const vt_softseg_options *o, const vt_softseg_data *d);

/* ---- overlays (softseg_overlay.c) ------------------------------------------------------ */
/* An RGB PNG of one (h, w) slice magnified by scale: the image in grey (min-max over the
 * slice), the soft prediction (values in [0, 1]) blended in as red with opacity 0.6 x p,
 * and the contour of gt >= 0.5 (pixels of the mask with a 4-neighbour outside) in green.
 * Rows run as stored, so anterior is at the bottom for RAS+ slices. */
vt_status vt_softseg_overlay_png(const char *path, const float *image, const float *pred, const float *gt,
                                 int h, int w, int scale);

/* ---- evaluation (softseg_eval.c) ------------------------------------------------------ */
typedef struct vt_softseg_eval {
    int n;                       /* volumes */
    char name[64][64], contrast[64][16];
    double dice[64];             /* binarized prediction vs the contrast's mask, test slices */
    double dice_other[64];       /* other rater vs the mask (NAN when absent) */
    double csa[64];              /* mean CSA (mm^2) of the soft prediction over test slices */
    double csa_bin[64];          /* same from the binarized prediction */
    double csa_mask[64];         /* of the contrast's binary mask */
    double csa_abs_err[64];      /* mean |CSA_pred - CSA_true| over test slices (phantom), else NAN */
    double csa_abs_err_bin[64];  /* same for the binarized prediction */
} vt_softseg_eval;

/* Predicts every volume that has test slices and measures the above (at most 64). */
vt_status vt_softseg_evaluate(vt_model *m, const vt_softseg_options *o, const vt_softseg_data *d,
                              vt_softseg_eval *e);
/* Writes a per-contrast summary (means over subjects: Dice, CSA, CSA error) and the CSA
 * variability across contrasts (std, ddof 0, of the per-contrast mean CSAs, averaged over
 * subjects) as JSON to f and as a table to stdout when table != 0. */
void vt_softseg_report(const vt_softseg_eval *e, FILE *json, int table);

#endif
