/* args.c: option parsing for the vertebra commands. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"

void vt_args_usage(const char *cmd, const char *summary, const vt_arg *spec, int n) {
    fprintf(stderr, "usage: vertebra %s [options]\n  %s\noptions:\n", cmd, summary);
    for (int i = 0; i < n; i++) {
        const char *meta = spec[i].type == VT_ARG_FLAG ? "" : spec[i].type == VT_ARG_STR ? " S"
                         : spec[i].type == VT_ARG_FLOAT ? " X" : " N";
        char lhs[64];
        snprintf(lhs, sizeof lhs, "%s%s", spec[i].name, meta);
        fprintf(stderr, "  %-22s %s\n", lhs, spec[i].help);
    }
}

static int fail(const char *cmd, const char *summary, const vt_arg *spec, int n, const char *fmt,
                const char *a, const char *b) {
    fprintf(stderr, "vertebra %s: ", cmd);
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    vt_args_usage(cmd, summary, spec, n);
    return 2;
}

int vt_args_parse(const char *cmd, const char *summary, int argc, char **argv, int first,
                  const vt_arg *spec, int n) {
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { vt_args_usage(cmd, summary, spec, n); return 1; }
        const vt_arg *s = NULL;
        for (int k = 0; k < n; k++) if (!strcmp(a, spec[k].name)) s = &spec[k];
        if (!s) return fail(cmd, summary, spec, n, "unknown option '%s'%s", a, "");
        if (s->type == VT_ARG_FLAG) { *(int *)s->dst = 1; continue; }
        if (i + 1 >= argc) return fail(cmd, summary, spec, n, "%s needs a value%s", a, "");
        const char *v = argv[++i];
        char *end;
        errno = 0;
        double x = 0;
        switch (s->type) {
        case VT_ARG_STR: *(const char **)s->dst = v; continue;
        case VT_ARG_FLOAT:
            x = strtod(v, &end);
            if (end == v || *end || errno || !isfinite(x)) return fail(cmd, summary, spec, n, "%s: '%s' is not a number", a, v);
            break;
        default:
            x = (double)strtoll(v, &end, 10);
            if (end == v || *end || errno) return fail(cmd, summary, spec, n, "%s: '%s' is not an integer", a, v);
        }
        if (s->min <= s->max && (x < s->min || x > s->max)) {
            char range[96];
            snprintf(range, sizeof range, "%g..%g", s->min, s->max);
            fprintf(stderr, "vertebra %s: %s: %s is out of range %s\n", cmd, a, v, range);
            vt_args_usage(cmd, summary, spec, n);
            return 2;
        }
        if (s->type == VT_ARG_FLOAT) *(float *)s->dst = (float)x;
        else if (s->type == VT_ARG_INT) *(int *)s->dst = (int)x;
        else *(int64_t *)s->dst = (int64_t)x;
    }
    return 0;
}
