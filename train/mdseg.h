/* mdseg.h: multi-domain, multi-task bone segmentation (issue 6, section 2).
 *
 * One UNet 2D (layers/model.h, names down.* / mid.* / up.* / dec.* / head.*) with a 3-class
 * head (background / vertebral body / posterior elements) trained on the union of several
 * domains (data/phantom_bone.h: ct, mr, xray) with
 *   - balanced batches: every batch holds batch / n_domains samples of each domain
 *     (vt_mdseg_sampler), so no domain dominates the gradient whatever its size;
 *   - transfer: the encoder (down.*) loaded from a classifier's safetensors whose trunk is
 *     exactly the UNet encoder (vt_mdseg_encoder, same names; docs/weights.md);
 *   - multi-scale contrastive regularisation: projection heads (global average pool ->
 *     Linear -> ReLU -> Linear) on the encoder feature maps m->features[s], SupCon loss
 *     (losses_extra.h) with the domain id as label, one weight per scale;
 *   - an anatomical prior (Oktay et al. 2018, ACNN): a convolutional autoencoder trained on
 *     one-hot ground-truth masks, then frozen; the squared distance between the latent codes
 *     of the predicted soft mask and of the ground truth is added to the loss.
 * Everything is driven by a train/config.h schema (vt_mdseg_schema); see
 * examples/multidomain_seg/README.md. */
#ifndef VT_MDSEG_H
#define VT_MDSEG_H

#include "config.h"
#include "layers.h"
#include "model.h"
#include "phantom_bone.h"

#define VT_MDSEG_MAX_DOMAINS 8
#define VT_MDSEG_MAX_SCALES 5 /* depth (<= 4 here) encoder blocks + the bottom block */
#define VT_MDSEG_CLASSES 3

/* ---- data --------------------------------------------------------------------------- */
/* Images of several domains concatenated: images (n, 1, S, S), masks (n, 1, S, S) holding
 * class indices, domain[i] in [0, n_domains) the slot of sample i (slot d = the d-th domain
 * of the list, phantom[d] its phantom domain). Samples are grouped by domain. */
typedef struct vt_mdseg_data {
    int n_domains;
    int phantom[VT_MDSEG_MAX_DOMAINS];
    int64_t n;
    vt_tensor *images, *masks; /* heap */
    int *domain;
    char name[VT_MDSEG_MAX_DOMAINS][48]; /* domain names (phantom name or CSV file stem) */
} vt_mdseg_data;

/* Parses "ct,mr,xray" (any subset, any order, no repeats) into phantom domain ids; returns
 * the count or -1 with an error. */
int vt_mdseg_parse_domains(const char *list, int *phantom);
/* n_per_domain phantom images per domain; seed selects the image set (train and held-out
 * sets use different seeds). */
vt_status vt_mdseg_data_make(const int *phantom, int n_domains, int64_t n_per_domain, int size,
                             uint64_t seed, vt_mdseg_data *out);
void vt_mdseg_data_free(vt_mdseg_data *d);

/* File domains (data.source = files, mdseg_files.c): list = comma-separated CSV paths, one
 * per domain (domain name = the file name without folder and extension). Each CSV has
 * columns image and mask (others ignored): paths relative to the CSV's folder (absolute
 * paths kept), PNG (read as grey) or NIfTI (.nii / .nii.gz) holding one size x size slice.
 * Images: PNG scaled to [0, 1]; NIfTI min-max normalised per image to [0, 1]. Masks hold
 * class ids 0..K-1 (K = VT_MDSEG_CLASSES): raw ids, or for PNG the phantom-export scaling
 * (id * 127: 0, 127, 254) when every value is a multiple of 127; anything else is an error
 * naming the file and the value. No resizing: another size is an error naming the file.
 * Rows are split by row order: the last round(test_fraction * rows) rows of each CSV (at
 * least 1, and at least 1 kept for training) are held out. */
vt_status vt_mdseg_data_load_files(const char *list, int size, double test_fraction,
                                   vt_mdseg_data *train, vt_mdseg_data *test);
/* One image / mask pair into img and mask (size * size floats each); the mask check above. */
vt_status vt_mdseg_load_pair(const char *image_path, const char *mask_path, int size, float *img,
                             float *mask);

/* ---- balanced cross-domain sampler -------------------------------------------------- */
/* batch = n_domains * per_domain. Each domain has its own shuffled order; a batch takes the
 * next per_domain samples of every domain (domain d at rows [d per_domain, (d+1) per_domain)),
 * reshuffling a domain when its order is used up (smaller domains cycle). One epoch =
 * ceil(max_d count_d / per_domain) batches, so every sample of the largest domain is seen
 * once per epoch. */
typedef struct vt_mdseg_sampler {
    int n_domains, per_domain;
    int64_t count[VT_MDSEG_MAX_DOMAINS], cursor[VT_MDSEG_MAX_DOMAINS];
    int64_t *members[VT_MDSEG_MAX_DOMAINS]; /* sample indices of domain d, shuffled */
    vt_rng rng;
} vt_mdseg_sampler;

vt_status vt_mdseg_sampler_init(vt_mdseg_sampler *s, const int *domain, int64_t n, int n_domains,
                                int batch, uint64_t seed);
void vt_mdseg_sampler_free(vt_mdseg_sampler *s);
int64_t vt_mdseg_sampler_steps(const vt_mdseg_sampler *s);
/* fills idx (batch entries) */
void vt_mdseg_sampler_next(vt_mdseg_sampler *s, int64_t *idx);

/* ---- segmentation model ------------------------------------------------------------- */
typedef struct vt_mdseg_model_config {
    int depth, base_width;                 /* UNet (default 3, 8) */
    int proj_hidden, proj_dim;             /* projection heads (default 32, 16) */
    float scale_weight[VT_MDSEG_MAX_SCALES]; /* contrastive weight of features[s]; a head is
                                              built only where > 0 (s = depth: bottom block) */
} vt_mdseg_model_config;

typedef struct vt_mdseg_model {
    vt_mdseg_model_config cfg;
    vt_params *params;  /* UNet + projection heads */
    vt_model *unet;     /* shares params */
    vt_linear_layer proj1[VT_MDSEG_MAX_SCALES], proj2[VT_MDSEG_MAX_SCALES];
    int has_proj[VT_MDSEG_MAX_SCALES];
} vt_mdseg_model;

void vt_mdseg_model_config_default(vt_mdseg_model_config *c);
vt_mdseg_model *vt_mdseg_model_new(const vt_mdseg_model_config *c); /* global RNG draws */
void vt_mdseg_model_free(vt_mdseg_model *m);
/* x (N, 1, S, S) -> logits (N, 3, S, S); m->unet->features[] hold the encoder maps */
vt_tensor *vt_mdseg_forward(vt_mdseg_model *m, vt_tensor *x, int training);
/* after a forward: projection of scale s, (N, proj_dim); NULL if that scale has no head */
vt_tensor *vt_mdseg_embedding(vt_mdseg_model *m, int s);
/* sum_s w_s SupCon(embedding_s, labels) over the scales with a head; labels (N) floats.
 * parts (may be NULL, VT_MDSEG_MAX_SCALES entries) receive each unweighted term (0 where
 * no head). Returns (1); a zero scalar when no scale has a head. */
vt_tensor *vt_mdseg_contrastive_loss(vt_mdseg_model *m, vt_tensor *labels, float temperature,
                                     double *parts);
/* Loads the encoder (keys down.*) from a classifier safetensors (vt_mdseg_encoder names):
 * every other file key (fc.*) is skipped, and every model tensor outside down.* keeps its
 * initialisation. Error if any down.* tensor is missing or has another shape. loaded (may
 * be NULL) gets the number of tensors filled. */
vt_status vt_mdseg_load_encoder(vt_mdseg_model *m, const char *path, int *loaded);

/* ---- classifier with the UNet encoder as trunk (for transfer) ------------------------ */
/* down.0 .. down.{depth-1} exactly as the UNet's blocks (conv3 no bias -> batch norm ->
 * ReLU, twice; names down.<i>.{0,3}.weight, down.<i>.{1,4}.{weight,bias,running_mean,
 * running_var}), max pool 2 between blocks, global average pool, then fc (Linear). */
typedef struct vt_mdseg_encoder {
    vt_params *params;
    int depth, base_width, num_classes;
    vt_tensor *conv[6][2], *bn[6][2][4]; /* weight, bias, running_mean, running_var */
    vt_linear_layer fc;
} vt_mdseg_encoder;

vt_mdseg_encoder *vt_mdseg_encoder_new(int depth, int base_width, int num_classes);
void vt_mdseg_encoder_free(vt_mdseg_encoder *e);
vt_tensor *vt_mdseg_encoder_forward(vt_mdseg_encoder *e, vt_tensor *x, int training); /* (N, K) */

/* ---- anatomical prior: mask autoencoder (Oktay et al. 2018) ------------------------- */
/* encoder: 3 x [conv3 stride 2 (+ReLU but the last)], K -> w -> 2w -> latent channels,
 * code (N, latent, S/8, S/8); decoder: 3 x [nearest x2 + conv3 (+ReLU but the last)] ->
 * logits (N, K, S, S). Names prior.enc.<i>.*, prior.dec.<i>.*. */
typedef struct vt_mdseg_prior {
    vt_params *params;
    int classes, width, latent;
    vt_tensor *w[6], *b[6];
} vt_mdseg_prior;

vt_mdseg_prior *vt_mdseg_prior_new(int classes, int width, int latent);
void vt_mdseg_prior_free(vt_mdseg_prior *p);
vt_tensor *vt_mdseg_prior_encode(vt_mdseg_prior *p, vt_tensor *onehot);
vt_tensor *vt_mdseg_prior_decode(vt_mdseg_prior *p, vt_tensor *code);
/* masks (N, 1, S, S) of class indices -> one-hot (N, K, S, S) arena tensor */
vt_tensor *vt_mdseg_onehot(const vt_tensor *masks, int k);
/* Adam on the reconstruction cross-entropy of one-hot masks; then every prior parameter
 * stops requiring grad (frozen). last_loss (may be NULL): mean loss of the last epoch. */
vt_status vt_mdseg_prior_train(vt_mdseg_prior *p, const vt_tensor *masks, int epochs, int batch,
                               float lr, uint64_t seed, double *last_loss);
/* mean over code elements of (E(probs) - E(onehot))^2: probs (N, K, S, S) the predicted
 * soft mask (softmax), onehot the ground truth (no gradient through it). Returns (1). */
vt_tensor *vt_mdseg_prior_distance(vt_mdseg_prior *p, vt_tensor *probs, vt_tensor *onehot);

/* ---- evaluation --------------------------------------------------------------------- */
/* Dice per domain slot and class (dice[d][c], background included), each the mean over
 * the images of that domain of the per-image Dice (VT_EMPTY_NAN, NaNs left out). */
vt_status vt_mdseg_evaluate(vt_mdseg_model *m, const vt_mdseg_data *d, int batch,
                            double dice[VT_MDSEG_MAX_DOMAINS][VT_MDSEG_CLASSES]);

/* ---- the run: config schema and driver ---------------------------------------------- */
extern const vt_cfg_key vt_mdseg_schema[];

typedef struct vt_mdseg_result {
    int n_domains, phantom[VT_MDSEG_MAX_DOMAINS], epochs_done; /* phantom -1: file domain */
    char name[VT_MDSEG_MAX_DOMAINS][48];                        /* domain names */
    double dice[VT_MDSEG_MAX_DOMAINS][VT_MDSEG_CLASSES]; /* held-out, after the last epoch */
    double first_loss, last_loss, seconds;
    double pretrain_accuracy; /* pretrain mode: held-out accuracy of the classifier */
    int encoder_loaded;       /* tensors loaded from transfer.init */
} vt_mdseg_result;

/* mode seg: segmentation training (+ optional transfer / contrastive / prior), held-out
 * Dice per domain; mode pretrain: trains vt_mdseg_encoder on the classification task and
 * writes out_dir/encoder.safetensors. out_dir (created by the caller) gets config.resolved,
 * metrics.jsonl, checkpoint.vtck and summary.json; NULL writes nothing. */
vt_status vt_mdseg_run(const vt_config *c, const char *out_dir, vt_mdseg_result *res);

#endif
