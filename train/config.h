/* config.h: run configuration files, declared by the trainer as a schema.
 *
 * Format (INI-like, see docs/guide.md):
 *   # a comment line                 (also "value  # comment": '#' after whitespace)
 *   [optim]                          a section; keys before any section have section ""
 *   lr = 0.001                       key = value, whitespace around both trimmed
 *   name = "adam # not a comment"    double quotes keep '#' and spaces; \" \\ \n \t escapes
 *   milestones = 30, 60, 90          int list: comma separated, may be empty
 * Booleans: true/false, yes/no, on/off, 1/0. Enums: one of the declared choices.
 *
 * The trainer declares every key up front (vt_cfg_key array ending with {0}); parsing
 * rejects unknown sections and keys (with a "did you mean" suggestion), bad values, values
 * out of range, a key given twice in one file, and missing required keys, with messages
 * "FILE:LINE: ..." or "--set optim.lr=x: ...". Input is limited to VT_CONFIG_MAX_BYTES and
 * lines to VT_CONFIG_MAX_LINE; NUL bytes are rejected. */
#ifndef VT_CONFIG_H
#define VT_CONFIG_H

#include <stdint.h>
#include <stdio.h>
#include "vertebra.h"

#define VT_CONFIG_MAX_BYTES (1 << 20)
#define VT_CONFIG_MAX_LINE 4096
#define VT_CONFIG_MAX_LIST 1024

typedef enum {
    VT_CFG_STRING = 1,
    VT_CFG_INT,      /* int64 */
    VT_CFG_FLOAT,    /* double, finite */
    VT_CFG_BOOL,
    VT_CFG_ENUM,     /* one of choices "sgd|adam|adamw" */
    VT_CFG_INT_LIST  /* int64 values, each in [min, max] when ranged */
} vt_cfg_type;

typedef struct vt_cfg_key {
    const char *section;  /* "optim"; "" for keys before any section header */
    const char *name;     /* "lr" */
    vt_cfg_type type;
    const char *def;      /* default written as in a file; NULL: required */
    double min, max;      /* INT, FLOAT, INT_LIST: allowed [min, max] when min < max */
    const char *choices;  /* ENUM: "a|b|c" */
    const char *doc;      /* one line for the resolved file and vt_config_doc */
} vt_cfg_key;

typedef struct vt_config vt_config;

/* A config holding every default of schema (an array ending with a key whose name is NULL;
 * it must outlive the config). NULL with an error if the schema itself is inconsistent
 * (duplicate key, default that does not parse, enum without choices). */
vt_config *vt_config_new(const vt_cfg_key *schema);
void vt_config_free(vt_config *c);

/* Parses file text over the current values. `name` is used in messages. */
vt_status vt_config_parse_string(vt_config *c, const char *text, size_t len, const char *name);
vt_status vt_config_parse_file(vt_config *c, const char *path);
/* One command-line override "section.key=value" ("key=value" for section ""); may replace
 * a value from the file. */
vt_status vt_config_set(vt_config *c, const char *assignment);
/* VT_ERR naming the first required key that no file or override has set. */
vt_status vt_config_check_required(const vt_config *c);

/* Defaults, then path (NULL: none), then each override, then the required check. */
vt_config *vt_config_load(const vt_cfg_key *schema, const char *path, int n_sets,
                          const char *const *sets);

/* Getters, key "section.name" ("name" for section ""). Asking for a key the schema does
 * not declare, or with the wrong type, is a programming error: message on stderr, abort. */
const char *vt_config_string(const vt_config *c, const char *key); /* STRING or ENUM name */
int64_t vt_config_int(const vt_config *c, const char *key);
double vt_config_float(const vt_config *c, const char *key);
int vt_config_bool(const vt_config *c, const char *key);
int vt_config_enum(const vt_config *c, const char *key);            /* index in choices */
int vt_config_int_list(const vt_config *c, const char *key, const int64_t **values); /* count */
/* Where the value came from: "default", "FILE:LINE" or "--set". */
const char *vt_config_source(const vt_config *c, const char *key);

/* The fully resolved config (every key, defaults included, docs as comments) in the file
 * format; parses back to the same values. Caller frees. */
char *vt_config_to_string(const vt_config *c);
/* vt_config_to_string written atomically (e.g. RUN_DIR/config.resolved). */
vt_status vt_config_write(const vt_config *c, const char *path);

/* Every key of a schema as Markdown tables, one per section: key, type, default,
 * allowed values, doc (for `vertebra config-doc` and docs generation). */
void vt_config_doc(const vt_cfg_key *schema, FILE *out);

#endif
