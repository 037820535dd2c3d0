/* dataset.h: a dataset is a length and a get(i) callback that fills one sample.
 *
 * Every sample of a dataset has the same image shape (and target shape, when it has
 * targets), so a loader can stack samples into (N, ...) batches without copies. get() is
 * called concurrently from several loader threads: it must only read shared state. All
 * randomness of a sample (patch position, augmentation) comes from the `rng` argument,
 * a stream the loader derives from (seed, epoch, sample index), so batches never depend on
 * thread scheduling. */
#ifndef VT_DATASET_H
#define VT_DATASET_H

#include "vertebra.h"

typedef struct vt_dataset vt_dataset;
/* Writes sample i into image / target (views of the sample's place in a batch, with the
 * dataset's shapes: write ->data only; target is NULL when the dataset has no targets).
 * Returns VT_OK or VT_ERR with vt_error(...) set. */
typedef vt_status (*vt_dataset_get_fn)(const vt_dataset *ds, int64_t i, vt_tensor *image,
                                       vt_tensor *target, vt_rng *rng);

struct vt_dataset {
    int64_t length;
    int image_ndim, target_ndim;      /* target_ndim 0: no target (a scalar target is (1)) */
    int64_t image_shape[VT_MAX_DIMS - 1], target_shape[VT_MAX_DIMS - 1];
    vt_dataset_get_fn get;
    void (*destroy)(vt_dataset *ds); /* frees ctx (not the struct); may be NULL */
    void *ctx;
};

/* Frees a dataset made by the constructors below (destroy + the struct). NULL is a no-op. */
void vt_dataset_free(vt_dataset *ds);
/* Calls ds->get on fresh heap tensors of the dataset's shapes (tests, tools). */
vt_status vt_dataset_get_alloc(const vt_dataset *ds, int64_t i, vt_rng *rng, vt_tensor **image,
                               vt_tensor **target);

/* In-memory samples: images (N, ...) and targets (N, ...) or NULL; both retained. */
vt_dataset *vt_dataset_tensors(vt_tensor *images, vt_tensor *targets);

/* The samples indices[0..n) of base (copied), e.g. one split; base must outlive it. */
vt_dataset *vt_dataset_subset(const vt_dataset *base, const int64_t *indices, int64_t n);

/* Axial 2D slices of 3D volumes. volumes[v] (D_v, H, W) (same H, W for all), masks[v]
 * (D_v, H, W) or masks == NULL, labels[v] a per-volume class or labels == NULL (masks win
 * when both are given). Sample = slice z of volume v in volume order: image (1, H, W),
 * target (1, H, W) mask slice or (1) label. patient_ids[v] (copied) names the volume's
 * patient, for splits. The tensors are retained. */
vt_dataset *vt_dataset_slices(int n_volumes, vt_tensor *const *volumes, vt_tensor *const *masks,
                              const float *labels, const char *const *patient_ids);
/* Patient id and (volume, slice) of sample i of a slices dataset. */
const char *vt_dataset_slices_patient(const vt_dataset *ds, int64_t i);
void vt_dataset_slices_locate(const vt_dataset *ds, int64_t i, int *volume, int64_t *slice);

/* Random 3D patches (nnU-Net style). images[v] (C, D, H, W) or (D, H, W) (C = 1), masks[v]
 * (D, H, W) label maps; sample i draws from volume i % n_volumes a patch of size
 * patch[3] = (pd, ph, pw): with probability fg_prob centred on a uniformly chosen voxel
 * with mask > 0 (when the volume has one), otherwise centred on a uniform voxel. Parts
 * outside the volume are 0 in image and mask. Image (C, pd, ph, pw), target (1, pd, ph, pw).
 * length = samples_per_epoch. */
vt_dataset *vt_dataset_patches(int n_volumes, vt_tensor *const *images, vt_tensor *const *masks,
                               const int64_t patch[3], float fg_prob, int64_t samples_per_epoch);

/* ---- splits by patient (split.c) ---------------------------------------------------- */
/* Assigns every sample to train (0), val (1) or test (2) by its patient: the distinct ids
 * are sorted, shuffled with Philox(seed) and cut into round(frac_train P) train patients,
 * round(frac_val P) val patients, the rest test (frac_train + frac_val <= 1). All samples
 * of one patient land in the same part; the result depends only on the set of ids and the
 * seed (not on sample order). split[i] receives the part of sample i; counts[3] (may be
 * NULL) the number of samples per part. */
vt_status vt_split_by_patient(const char *const *patient_ids, int64_t n, double frac_train,
                              double frac_val, uint64_t seed, int *split, int64_t counts[3]);
/* Indices of the samples with split[i] == part (malloc'd, *n_out of them; free()). */
int64_t *vt_split_indices(const int *split, int64_t n, int part, int64_t *n_out);

#endif
