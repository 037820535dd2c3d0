/* cmd_bench.c: `vertebra bench`: time one training step (forward, backward, SGD momentum)
 * and inference, median of N after warm-up, and peak memory, for the bench models defined
 * by ../shared/peer/torch_bench.py; runs that PyTorch peer in the same invocation when it is
 * installed and prints vertebra/PyTorch ratios. Models so far: smallcnn (the others need
 * the model zoo). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "args.h"
#include "commands.h"
#include "layers.h"
#include "losses.h"
#include "optim.h"
#include "progress.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct result { double train_ms, infer_ms, rss_mb; int ok; } result;

/* smallcnn of torch_bench.py: conv32-ReLU-pool, conv64-ReLU-pool, fc128, fc10 (no BN),
 * batch 64 of 1x28x28, cross-entropy, SGD lr 0.01 momentum 0.9 */
static result bench_smallcnn(int iters, int warmup) {
    result r = {0};
    vt_seed(0);
    vt_params *p = vt_params_new();
    vt_smallcnn m;
    if (vt_smallcnn_init(&m, p, 1, 28, 10, 0) || vt_params_finalize(p)) return r;
    vt_tensor *x = vt_tensor_new(VT_DIMS(64, 1, 28, 28)), *y = vt_tensor_new(VT_DIMS(64));
    vt_tensor_normal_(x, 0, 1);
    for (int i = 0; i < 64; i++) y->data[i] = (float)(i % 10);
    vt_optim *opt = vt_sgd_new(p, 0.01f, 0.9f, 0, 0, 0);
    double *t = malloc(sizeof(double) * (size_t)iters);
    for (int i = 0; i < warmup + iters; i++) {
        double t0 = vt_now();
        vt_params_zero_grad(p);
        vt_tensor *loss = vt_cross_entropy(vt_smallcnn_forward(&m, x, 1), y, NULL);
        if (!loss || vt_backward(loss) != VT_OK) goto out;
        vt_optim_step(opt);
        vt_arena_reset(NULL);
        if (i >= warmup) t[i - warmup] = (vt_now() - t0) * 1e3;
    }
    r.train_ms = median(t, iters);
    int g = vt_no_grad_begin();
    for (int i = 0; i < warmup + iters; i++) {
        double t0 = vt_now();
        vt_smallcnn_forward(&m, x, 0);
        vt_arena_reset(NULL);
        if (i >= warmup) t[i - warmup] = (vt_now() - t0) * 1e3;
    }
    vt_no_grad_end(g);
    r.infer_ms = median(t, iters);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r.rss_mb = (double)ru.ru_maxrss / 1024.0;
    r.ok = 1;
out:
    free(t);
    vt_optim_free(opt);
    vt_tensor_free(x);
    vt_tensor_free(y);
    vt_params_free(p);
    return r;
}

static double json_number(const char *s, const char *key) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\": ", key);
    const char *p = strstr(s, k);
    return p ? atof(p + strlen(k)) : 0;
}

/* Runs the PyTorch peer; 0 when python3-torch or the script is absent. */
static int run_peer(const char *script, const char *model, int threads, result *r) {
    char cmd[1024], line[4096] = {0};
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %d 2>/dev/null", script, model, threads);
    FILE *f = popen(cmd, "r");
    if (!f) return 0;
    int got = fgets(line, sizeof line, f) != NULL;
    int st = pclose(f);
    if (!got || st != 0 || !strstr(line, "train_step_ms")) return 0;
    r->train_ms = json_number(line, "train_step_ms");
    r->infer_ms = json_number(line, "infer_ms");
    r->rss_mb = json_number(line, "max_rss_mb");
    r->ok = 1;
    return 1;
}

int vt_cmd_bench(int argc, char **argv) {
    const char *model = "smallcnn", *peer = "../shared/peer/torch_bench.py", *json = NULL;
    int threads = 2, iters = 20, warmup = 5, no_peer = 0;
    const vt_arg spec[] = {
        {"--model", VT_ARG_STR, &model, "smallcnn (default; the zoo models come with the layers issue)", 1, 0},
        {"--threads", VT_ARG_INT, &threads, "threads for both sides (default 2)", 1, 1024},
        {"--iters", VT_ARG_INT, &iters, "timed iterations, median reported (default 20)", 1, 100000},
        {"--warmup", VT_ARG_INT, &warmup, "untimed iterations first (default 5)", 0, 100000},
        {"--peer", VT_ARG_STR, &peer, "PyTorch peer script (default ../shared/peer/torch_bench.py)", 1, 0},
        {"--no-peer", VT_ARG_FLAG, &no_peer, "skip the PyTorch side", 1, 0},
        {"--json", VT_ARG_STR, &json, "also write the results as JSON to this file", 1, 0},
    };
    int rc = vt_args_parse("bench", "time a training step and inference against PyTorch", argc, argv, 2, spec,
                           (int)(sizeof spec / sizeof spec[0]));
    if (rc) return rc == 1 ? 0 : rc;
    if (strcmp(model, "smallcnn") != 0) {
        fprintf(stderr, "vertebra bench: --model: '%s' is not available yet (smallcnn only)\n", model);
        return 2;
    }
    vt_set_num_threads(threads);
    result v = bench_smallcnn(iters, warmup), t = {0};
    if (!v.ok) { fprintf(stderr, "vertebra bench: %s\n", vt_last_error()); return 1; }
    int have_peer = !no_peer && run_peer(peer, model, threads, &t);
    printf("%-10s %5s %8s | %12s %12s %12s | %12s %12s %10s\n", "model", "batch", "threads",
           "train ms", "infer ms", "peak MB", "torch train", "torch infer", "torch MB");
    printf("%-10s %5d %8d | %12.2f %12.2f %12.1f |", model, 64, threads, v.train_ms, v.infer_ms, v.rss_mb);
    if (have_peer)
        printf(" %12.2f %12.2f %10.1f\nratio vertebra/PyTorch: train %.2f, infer %.2f, peak memory %.2f\n",
               t.train_ms, t.infer_ms, t.rss_mb, v.train_ms / t.train_ms, v.infer_ms / t.infer_ms, v.rss_mb / t.rss_mb);
    else
        printf(" %12s\n(PyTorch peer not run: apt-get install python3-torch python3-torchvision, or --peer PATH)\n", "n/a");
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) { fprintf(stderr, "vertebra bench: %s: cannot create\n", json); return 1; }
        fprintf(f, "{\"model\": \"%s\", \"batch\": 64, \"threads\": %d, \"train_step_ms\": %.3f, \"infer_ms\": %.3f, \"max_rss_mb\": %.1f",
                model, threads, v.train_ms, v.infer_ms, v.rss_mb);
        if (have_peer)
            fprintf(f, ", \"torch_train_step_ms\": %.3f, \"torch_infer_ms\": %.3f, \"torch_max_rss_mb\": %.1f",
                    t.train_ms, t.infer_ms, t.rss_mb);
        fprintf(f, "}\n");
        if (fclose(f) != 0) { fprintf(stderr, "vertebra bench: %s: write failed\n", json); return 1; }
    }
    return 0;
}
