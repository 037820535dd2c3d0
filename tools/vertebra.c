/* vertebra.c: the command-line program: dispatch to sub-commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"

/* OpenMP threads that finish a parallel region spin-wait for the next one by default. On
 * few cores, with OpenBLAS's OpenMP regions and ours alternating thousands of times a step,
 * the spinning threads took the cores from the working ones: DenseNet-121 trained 5x slower
 * (800 vs 161 ms per step on 2 cores, bench/RESULTS.md), ResNet-18 1.6x; the small CNN gains
 * 7% from spinning. libgomp reads OMP_WAIT_POLICY once, before main, so when the user has
 * not chosen a policy the program restarts itself once with "passive". */
static void prefer_passive_openmp_waits(char **argv) {
    if (getenv("OMP_WAIT_POLICY")) return;
    /* under valgrind /proc/self/exe is valgrind's tool, not this program: do not restart */
    const char *preload = getenv("LD_PRELOAD");
    if (getenv("VALGRIND_LAUNCHER") || (preload && strstr(preload, "vgpreload"))) return;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    setenv("VT_SET_OMP_WAIT_POLICY", "1", 1); /* child programs (the bench's PyTorch peer) get their default back */
    execv("/proc/self/exe", argv); /* returns only on failure: carry on with spinning */
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"phantom", vt_cmd_phantom, "train a bone-quality classifier on synthetic vertebra CT slices"},
    {"bench", vt_cmd_bench, "time a training step and inference side by side with PyTorch"},
    {"fmnist", vt_cmd_fmnist, "train the small CNN on Fashion-MNIST and report test accuracy"},
    {"phantom-export", vt_cmd_phantom_export, "write synthetic phantoms (xray, spect, cord, bone) as PNG / NIfTI + CSV"},
    {"train", vt_cmd_train, "train with a config file: vertebra train examples/NAME/config [--set k=v]..."},
    {"ctbq", vt_cmd_ctbq, "CT bone quality (issue 5): baseline / multi-task / self-paced on the vertebra phantom"},
    {"detect", vt_cmd_detect, "lesion detection on radiographs (issue 7): FCOS + FPN, mAP@0.5"}, {"predict-det", vt_cmd_predict_det, "boxes on one radiograph: CSV, JSON, overlay PNG"},
    {"imgcls", vt_cmd_imgcls, "image classifier from a config (issue 5: --task spect | xray)"},
    {"eval-cls", vt_cmd_eval_cls, "metrics of an imgcls checkpoint on a split of its data (JSON)"},
    {"predict-cls", vt_cmd_predict_cls, "class probabilities of one PNG from an imgcls checkpoint (JSON)"},
    {"mdseg", vt_cmd_mdseg, "multi-domain bone segmentation (issue 6.2): balanced domains, transfer, contrastive, shape prior"},
    {"softgt", vt_cmd_softgt, "average co-registered binary masks into a soft mask"}, {"softseg", vt_cmd_softseg, "soft cord segmentation (issue 6.1): soft GT + Adaptive Wing vs binary + Dice"}, {"predict-seg", vt_cmd_predict_seg, "soft cord mask in the input's exact geometry"},
    {"forward", vt_cmd_forward, "run a model on an .npy input with safetensors weights (PyTorch parity)"},
};
#define N_COMMANDS (int)(sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
    fprintf(f, "usage: vertebra COMMAND [options]   (vertebra COMMAND --help for its options)\ncommands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv) {
    prefer_passive_openmp_waits(argv);
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) { usage(stdout); return 0; }
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc, argv);
    fprintf(stderr, "vertebra: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
