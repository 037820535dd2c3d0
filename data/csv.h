/* csv.h: RFC 4180 CSV tables, and two typed loaders on top of them: image labels and
 * bounding boxes in the VinDr-SpineXR layout.
 *
 * The reader (csv.c): the first record is the header; fields are separated by ','; records
 * end with LF, CRLF or a lone CR; the last line may lack its line end; a UTF-8 byte-order
 * mark at the start is skipped; blank lines are skipped (so a one-column table cannot hold
 * an empty value). A field starting with '"' is quoted: it may contain ',', line breaks and
 * '""' (one quote), and must be followed by ',' or the end of the record. Strict where
 * RFC 4180 is: a '"' inside an unquoted field, text after a closing quote, an unterminated
 * quote, a record with a different number of fields than the header, a duplicate column
 * name and a NUL byte are errors. Fields are kept verbatim (no whitespace trimming).
 * Errors read "<file>:<line>: <problem>", with the 1-based line on which the record (or
 * the unterminated quote) starts.
 * Limits: the file size (default VT_CSV_MAX_FILE, 256 MiB) and a field's length (default
 * VT_CSV_MAX_FIELD, 64 KiB) are checked before / while reading. */
#ifndef VT_CSV_H
#define VT_CSV_H

#include "vertebra.h"

#define VT_CSV_MAX_FILE (256LL << 20)
#define VT_CSV_MAX_FIELD (64LL << 10)

typedef struct vt_csv_limits {
    int64_t max_file_bytes;  /* 0: VT_CSV_MAX_FILE */
    int64_t max_field_bytes; /* 0: VT_CSV_MAX_FIELD */
} vt_csv_limits;

typedef struct vt_csv {
    char *name;        /* file name used in messages */
    int ncols;
    char **header;     /* ncols column names */
    int64_t nrows;     /* data records (the header excluded) */
    char **cells;      /* nrows * ncols NUL-terminated UTF-8 strings, row-major */
    int64_t *lines;    /* lines[r]: line on which data record r starts */
    char *pool;        /* storage of all strings (private) */
} vt_csv;

/* lim NULL: defaults. Release with vt_csv_free. */
vt_csv *vt_csv_load(const char *path, const vt_csv_limits *lim);
/* Parses text[0..len) (need not be NUL-terminated); name is used in messages. */
vt_csv *vt_csv_parse(const char *name, const char *text, size_t len, const vt_csv_limits *lim);
void vt_csv_free(vt_csv *t);
/* Index of the column with this exact name, or -1. */
int vt_csv_column(const vt_csv *t, const char *name);
/* Cell of data record row, column col (NULL when out of range). */
const char *vt_csv_cell(const vt_csv *t, int64_t row, int col);
/* Like vt_csv_column, but a missing column is an error naming the file and the columns. */
int vt_csv_require_column(const vt_csv *t, const char *name);

/* ---- labels: one row per image (csv_tables.c) ------------------------------------------ */
typedef struct vt_labels {
    int64_t n;
    const char **image;       /* n names from the image column (non-empty) */
    int *label;               /* n integer labels */
    int n_extra;
    const char **extra_names; /* the n_extra requested extra columns */
    const char **extra;       /* extra[j * n + i]: extra column j of row i (may be "") */
    const int64_t *lines;     /* source line of row i */
    vt_csv *csv;              /* owns the strings */
} vt_labels;

/* Columns by name: image_col, label_col and n_extra further columns (e.g. "patient_id",
 * "vertebra_id"); every one must exist, others are ignored. Labels must be integers
 * (surrounding spaces allowed, "1.0" is not an integer); num_classes > 0 also requires
 * 0 <= label < num_classes. Errors give file:line and the offending value. */
vt_labels *vt_labels_load(const char *path, const char *image_col, const char *label_col,
                          const char *const *extra_cols, int n_extra, int num_classes);
void vt_labels_free(vt_labels *l);
/* Labels as a heap f32 tensor (n) of class indices (what the losses take). */
vt_tensor *vt_labels_tensor(const vt_labels *l);

/* ---- boxes: VinDr-SpineXR annotations (csv_tables.c) ------------------------------------ */
/* Columns image_id, lesion_type, xmin, ymin, xmax, ymax (others, e.g. study_id, rad_id, are
 * ignored). lesion_type is looked up in class_names (exact match) to give the class index;
 * rows whose lesion_type is "No finding" must have empty (or "nan") coordinates and add
 * no box, but their image is listed. Coordinates must be finite numbers with xmin < xmax
 * and ymin < ymax. Images are listed in order of first appearance, boxes grouped by image
 * in file order. */
typedef struct vt_box {
    float xmin, ymin, xmax, ymax; /* pixels, as in the file */
    int cls;                      /* index into class_names */
    int64_t line;                 /* source line */
} vt_box;

typedef struct vt_box_set {
    int64_t n_images;
    const char **image_ids;   /* distinct ids, order of first appearance */
    const int64_t *first;     /* boxes of image i: boxes[first[i] .. first[i] + count[i]) */
    const int64_t *count;
    int64_t n_boxes;
    const vt_box *boxes;
    vt_csv *csv;              /* owns the strings */
    void *index;              /* id -> image hash (private) */
} vt_box_set;

vt_box_set *vt_boxes_load(const char *path, const char *const *class_names, int n_classes);
void vt_box_set_free(vt_box_set *b);
/* Image index of this id, or -1. */
int64_t vt_box_set_find(const vt_box_set *b, const char *image_id);

#endif
