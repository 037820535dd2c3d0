/* dataset_files.h: datasets defined by files on disk, loaded lazily (one file per get()).
 *
 * Two definitions:
 *   - a CSV with an image-path column, an integer label column and optionally a patient-id
 *     column (vt_dataset_csv); relative paths are relative to the CSV's folder, and
 *     opt->path_prefix / path_suffix are added around each cell (e.g. "images/" and ".png"
 *     for the labels.csv of `vertebra phantom-export`);
 *   - a folder with one sub-folder per class (vt_dataset_folder): root/<class>/<file>;
 *     classes are the sub-folder names in byte order (label = their index), files within a
 *     class in byte order; hidden entries are skipped. The patient id of a file is its name
 *     without extension (a folder layout carries no patient information).
 * Files: .png (vt_png_load; grey, or RGB with opt->channels = 3) or .nii / .nii.gz (one 2D
 * slice of the volume: axial slice opt->slice of (nz, ny, nx), -1 = the middle one; a 2D
 * NIfTI is its own slice). Samples: image (C, H, W), target (1) = the label as a float.
 * H, W come from opt (both > 0) or from the first file, which is read once at construction;
 * a file of another size fails its get() with an error naming it (no resizing here: the
 * augmentation pipeline crops / resizes). */
#ifndef VT_DATASET_FILES_H
#define VT_DATASET_FILES_H

#include "dataset.h"

typedef struct vt_dataset_files_options {
    int channels;            /* 1 (default, colour converted to grey) or 3 */
    int height, width;       /* sample size; 0: that of the first file */
    int slice;               /* NIfTI: axial slice index; < 0 (or 0 without slice_set): the middle one */
    int slice_set;           /* 1: use `slice` as given (so that 0 means the first slice) */
    const char *path_prefix; /* CSV only: prepended to every image cell (NULL: none) */
    const char *path_suffix; /* CSV only: appended to every image cell (NULL: none) */
} vt_dataset_files_options;

/* CSV definition. patient_col may be NULL (then the patient of a row is its image path).
 * num_classes > 0 checks 0 <= label < num_classes. opt NULL: defaults. */
vt_dataset *vt_dataset_csv(const char *csv_path, const char *image_col, const char *label_col,
                           const char *patient_col, int num_classes, const vt_dataset_files_options *opt);

/* Folder-per-class definition. opt NULL: defaults. */
vt_dataset *vt_dataset_folder(const char *root, const vt_dataset_files_options *opt);

/* The file, patient id and label of sample i of a dataset made above (NULL / -1 if i is out
 * of range or ds is not a files dataset). */
const char *vt_dataset_files_path(const vt_dataset *ds, int64_t i);
const char *vt_dataset_files_patient(const vt_dataset *ds, int64_t i);
int vt_dataset_files_label(const vt_dataset *ds, int64_t i);
/* Class names of a folder dataset (k in 0..n_classes-1) and their number; CSV datasets
 * have no names (NULL) and n_classes = 1 + the largest label. */
int vt_dataset_files_n_classes(const vt_dataset *ds);
const char *vt_dataset_files_class_name(const vt_dataset *ds, int k);

#endif
