/* cmd_mdseg.c: `vertebra mdseg --config FILE [--set section.key=value ...] [--out DIR]`:
 * multi-domain bone segmentation (issue 6, section 2; train/mdseg.h). run.mode = pretrain
 * trains the encoder classifier and writes DIR/encoder.safetensors for transfer.init. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "commands.h"
#include "mdseg.h"

#define MAX_SETS 64

static int usage(FILE *f) {
    fprintf(f, "usage: vertebra mdseg [--config FILE] [--set section.key=value]... [--out DIR]\n"
               "  multi-domain bone segmentation (balanced cross-domain batches, transfer init,\n"
               "  multi-scale contrastive loss, ACNN shape prior); see examples/multidomain_seg.\n"
               "  --out DIR is short for --set run.out=DIR. Keys:\n\n");
    vt_config_doc(vt_mdseg_schema, f);
    return f == stdout ? 0 : 2;
}

/* mkdir -p */
static int make_dirs(const char *path) {
    char buf[4096];
    if (strlen(path) >= sizeof buf) return -1;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

int vt_cmd_mdseg(int argc, char **argv) {
    const char *config = NULL, *sets[MAX_SETS + 1];
    char out_set[4200];
    int n_sets = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return usage(stdout);
        int known = !strcmp(a, "--config") || !strcmp(a, "--set") || !strcmp(a, "--out");
        if (!known || i + 1 >= argc) {
            fprintf(stderr, "vertebra mdseg: %s '%s'\n", known ? "missing value after" : "unknown argument", a);
            return usage(stderr);
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--config")) config = v;
        else if (n_sets == MAX_SETS) { fprintf(stderr, "vertebra mdseg: more than %d overrides\n", MAX_SETS); return 2; }
        else if (!strcmp(a, "--set")) sets[n_sets++] = v;
        else {
            snprintf(out_set, sizeof out_set, "run.out=%s", v);
            sets[n_sets++] = out_set;
        }
    }
    vt_config *c = vt_config_load(vt_mdseg_schema, config, n_sets, sets);
    if (!c) { fprintf(stderr, "vertebra mdseg: %s\n", vt_last_error()); return 2; }
    const char *out = vt_config_string(c, "run.out");
    int rc = 0;
    if (make_dirs(out) != 0) {
        fprintf(stderr, "vertebra mdseg: %s: cannot create: %s\n", out, strerror(errno));
        rc = 1;
    } else {
        vt_mdseg_result r;
        if (vt_mdseg_run(c, out, &r) != VT_OK) {
            fprintf(stderr, "vertebra mdseg: %s\n", vt_last_error());
            rc = 1;
        } else if (vt_config_enum(c, "run.mode") == 0) {
            printf("held-out Dice (%.1f s)\n  %-6s %10s %10s %10s\n", r.seconds, "domain", "body", "posterior", "fg mean");
            for (int d = 0; d < r.n_domains; d++)
                printf("  %-6s %10.3f %10.3f %10.3f\n", r.name[d], r.dice[d][1], r.dice[d][2],
                       0.5 * (r.dice[d][1] + r.dice[d][2]));
            printf("run folder: %s\n", out);
        }
    }
    vt_config_free(c);
    return rc;
}
