/* args.h: command-line options with typed values and clear errors. */
#ifndef VT_ARGS_H
#define VT_ARGS_H

#include <stdint.h>

typedef enum { VT_ARG_INT, VT_ARG_INT64, VT_ARG_FLOAT, VT_ARG_STR, VT_ARG_FLAG } vt_arg_type;

typedef struct vt_arg {
    const char *name;   /* "--epochs" */
    vt_arg_type type;
    void *dst;          /* int*, int64_t*, float*, const char**, int* (flag) */
    const char *help;
    double min, max;    /* numeric range (inclusive); min > max: unchecked */
} vt_arg;

/* Parses argv[first..argc). On error prints "vertebra CMD: ..." and the usage to stderr and
 * returns 2 (the exit status); --help prints the usage and returns 1; 0 on success. */
int vt_args_parse(const char *cmd, const char *summary, int argc, char **argv, int first,
                  const vt_arg *spec, int n_spec);
void vt_args_usage(const char *cmd, const char *summary, const vt_arg *spec, int n_spec);

#endif
