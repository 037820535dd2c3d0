/* cmd_train.c: `vertebra train CONFIG [--set section.key=value]...`: runs the trainer that
 * CONFIG names in its `method = ...` line (before the first [section]), as
 * `vertebra METHOD --config CONFIG --set ...`; `vertebra train --resume RUN_DIR` reruns
 * RUN_DIR/config.resolved from the run's last checkpoint. Each trainer's schema declares `method`, so
 * the same file also works with the trainer's own command. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"

/* resume_key/resume_file: how `vertebra train --resume RUN_DIR` continues that trainer's run
 * (NULL: the trainer cannot resume yet) */
static const struct {
    const char *method;
    int (*run)(int argc, char **argv);
    const char *what;
    const char *resume_key, *resume_file;
} trainers[] = {
    {"ctbq", vt_cmd_ctbq, "CT bone quality: baseline / multi-task / + self-paced (examples/ct_bone_quality)",
     "resume", "checkpoint.vtck"},
    {"imgcls", vt_cmd_imgcls, "image classification: SPECT, X-ray abnormal/normal (examples/spect, examples/xray_classify)",
     "run.resume", "checkpoint.vtck"},
    {"detect", vt_cmd_detect, "FCOS lesion detection on radiographs (examples/xray_detect)", "run.resume", "checkpoint.vtck"},
    {"softseg", vt_cmd_softseg, "soft spinal-cord segmentation (examples/softseg_cord)", "run.resume", "model.vtck"},
    {"mdseg", vt_cmd_mdseg, "multi-domain bone segmentation (examples/multidomain_seg)", "run.resume", "checkpoint.vtck"},
};
#define N_TRAINERS (int)(sizeof trainers / sizeof trainers[0])

static void usage(FILE *f) {
    fprintf(f, "usage: vertebra train CONFIG [--set section.key=value]...\n"
               "       vertebra train --resume RUN_DIR [--set section.key=value]...\n"
               "  runs the trainer named by CONFIG's `method = NAME` line (before any [section]);\n"
               "  --resume continues the run in RUN_DIR from its config.resolved and last checkpoint:\n");
    for (int i = 0; i < N_TRAINERS; i++) fprintf(f, "    %-8s %s\n", trainers[i].method, trainers[i].what);
}

/* the value of `method = NAME` before the first section header, into name; 0 if found */
static int read_method(const char *path, char *name, size_t n) {
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "vertebra train: %s: cannot open: %s\n", path, strerror(errno)); return -1; }
    char line[4096];
    int lineno = 0, found = -1;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (*p == '[') break;
        if (strncmp(p, "method", 6) != 0) continue;
        p += 6;
        while (*p == ' ' || *p == '\t') p++;
        if (*p++ != '=') continue;
        while (*p == ' ' || *p == '\t') p++;
        size_t k = 0;
        while (p[k] && (isalnum((unsigned char)p[k]) || p[k] == '_') && k + 1 < n) { name[k] = p[k]; k++; }
        name[k] = 0;
        found = k ? 0 : -1;
        if (!k) fprintf(stderr, "vertebra train: %s:%d: 'method' has no value\n", path, lineno);
        fclose(f);
        return found ? -1 : 0;
    }
    fclose(f);
    fprintf(stderr, "vertebra train: %s: no `method = NAME` line before the first [section]\n", path);
    usage(stderr);
    return -1;
}

int vt_cmd_train(int argc, char **argv) {
    if (argc < 3 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
        usage(argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    /* --resume RUN_DIR: the run's own resolved config plus its last checkpoint */
    const int resume = !strcmp(argv[2], "--resume");
    if (resume && argc < 4) { usage(stderr); return 2; }
    static char config[4096], resume_set[4200];
    if (resume) snprintf(config, sizeof config, "%s/config.resolved", argv[3]);
    else snprintf(config, sizeof config, "%s", argv[2]);
    char method[64];
    if (read_method(config, method, sizeof method)) return 2;
    for (int i = 0; i < N_TRAINERS; i++) {
        if (strcmp(method, trainers[i].method)) continue;
        /* vertebra METHOD --config CONFIG [--set RESUME_KEY=RUN_DIR/FILE] [rest...] */
        char *av[256];
        int n = 0;
        av[n++] = argv[0];
        av[n++] = (char *)trainers[i].method;
        av[n++] = "--config";
        av[n++] = config;
        if (resume) {
            if (!trainers[i].resume_key) {
                fprintf(stderr, "vertebra train: --resume: the %s trainer cannot resume a run yet\n", method);
                return 2;
            }
            char ckpt[4150];
            snprintf(ckpt, sizeof ckpt, "%s/%s", argv[3], trainers[i].resume_file);
            if (access(ckpt, R_OK) != 0) {
                fprintf(stderr, "vertebra train: --resume: %s: %s\n", ckpt, strerror(errno));
                return 1;
            }
            snprintf(resume_set, sizeof resume_set, "%s=%s", trainers[i].resume_key, ckpt);
            av[n++] = "--set";
            av[n++] = resume_set;
        }
        for (int k = resume ? 4 : 3; k < argc && n < 255; k++) av[n++] = argv[k];
        av[n] = NULL;
        return trainers[i].run(n, av);
    }
    fprintf(stderr, "vertebra train: %s: unknown method '%s'\n", argv[2], method);
    usage(stderr);
    return 2;
}
