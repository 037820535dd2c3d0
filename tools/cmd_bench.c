/* cmd_bench.c: `vertebra bench`: for each bench model of ../shared/peer/torch_bench.py, the
 * median training step (forward, loss, backward, SGD momentum) and inference after warm-up,
 * peak memory and images/s; the PyTorch peer run in the same invocation with the same thread
 * count (vertebra/PyTorch ratios); the OpenBLAS sgemm peak of the machine and each model's
 * conv GEMM efficiency against it. Every model (and the sgemm) runs in its own forked child
 * so that its peak RSS (wait4's rusage of that child) is its own; the parent never runs an
 * OpenMP region, so the children start with a clean thread pool. The sgemm peak is measured
 * before the first model and again after each one, and the best is kept: on a shared
 * machine a single measurement can land in a busy moment and understate the peak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "args.h"
#include "bench.h"
#include "commands.h"
#include "vertebra.h"

#define MAX_MODELS 32

typedef struct peer_result { int ok; double train_ms, infer_ms, rss_mb; char version[32]; } peer_result;

typedef struct row {
    vt_bench_spec spec;
    vt_bench_result v;
    peer_result t;
    char note[200];
} row;

/* Runs fn(arg, out) in a forked child with `threads` threads; out (bytes) comes back through a
 * pipe. Returns 0 and the child's peak RSS in MB, or -1 when the child died. */
static int in_child(void (*fn)(void *arg, void *out), void *arg, void *out, size_t bytes, int threads,
                    double *rss_mb) {
    int fd[2];
    if (pipe(fd) != 0) return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) { close(fd[0]); close(fd[1]); return -1; }
    if (pid == 0) {
        close(fd[0]);
        vt_set_num_threads(threads);
        fn(arg, out);
        const char *p = out;
        for (size_t done = 0; done < bytes;) {
            ssize_t k = write(fd[1], p + done, bytes - done);
            if (k <= 0) _exit(1);
            done += (size_t)k;
        }
        _exit(0);
    }
    close(fd[1]);
    size_t got = 0;
    for (ssize_t k; got < bytes && (k = read(fd[0], (char *)out + got, bytes - got)) > 0;) got += (size_t)k;
    close(fd[0]);
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    if (wait4(pid, &st, 0, &ru) != pid) return -1;
    *rss_mb = (double)ru.ru_maxrss / 1024.0;
    return got == bytes && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

typedef struct model_job { const vt_bench_spec *spec; int steps, warmup; } model_job;

static void model_child(void *arg, void *out) {
    model_job *j = arg;
    vt_bench_run_model(j->spec, j->steps, j->warmup, out);
}

typedef struct gemm_job { int n, reps; } gemm_job;

static void gemm_child(void *arg, void *out) {
    gemm_job *j = arg;
    *(double *)out = vt_bench_sgemm_gflops(j->n, j->reps);
}

static double json_number(const char *s, const char *key) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\": ", key);
    const char *p = strstr(s, k);
    return p ? atof(p + strlen(k)) : 0;
}

/* Runs `python script MODEL THREADS` (one JSON line on stdout); fills note when it cannot. */
static void run_peer(const char *python, const char *script, const char *model, int threads, peer_result *r,
                     char *note, size_t n) {
    memset(r, 0, sizeof *r);
    if (access(script, R_OK) != 0) { snprintf(note, n, "PyTorch peer %s not found (--peer PATH)", script); return; }
    char cmd[2048], line[4096] = {0};
    /* the peer runs with its own default OpenMP wait policy, not the one vertebra set for itself */
    snprintf(cmd, sizeof cmd, "%s%s %s %s %d 2>/dev/null", getenv("VT_SET_OMP_WAIT_POLICY") ? "env -u OMP_WAIT_POLICY " : "",
             python, script, model, threads);
    fflush(stdout);
    FILE *f = popen(cmd, "r");
    if (!f) { snprintf(note, n, "PyTorch peer: cannot run %s", python); return; }
    int got = fgets(line, sizeof line, f) != NULL;
    int st = pclose(f);
    if (!got || st != 0 || !strstr(line, "train_step_ms")) {
        snprintf(note, n, "PyTorch peer failed (python3-torch absent? apt-get install python3-torch python3-torchvision)");
        return;
    }
    r->train_ms = json_number(line, "train_step_ms");
    r->infer_ms = json_number(line, "infer_ms");
    r->rss_mb = json_number(line, "max_rss_mb");
    const char *v = strstr(line, "\"torch\": \"");
    if (v) sscanf(v + 10, "%31[^\"]", r->version);
    r->ok = r->train_ms > 0;
}

static void cpu_model(char *buf, size_t n) {
    snprintf(buf, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *c = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && c) {
            c += 1 + (c[1] == ' ');
            c[strcspn(c, "\n")] = 0;
            snprintf(buf, n, "%s", c);
            break;
        }
    }
    fclose(f);
}

/* --model values (repeatable, comma lists, "all"); the option parser keeps only the last. */
static int collect_models(int argc, char **argv, const vt_bench_spec **out) {
    int n = 0, n_specs;
    const vt_bench_spec *specs = vt_bench_specs(&n_specs);
    for (int i = 2; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--model")) continue;
        char list[512];
        snprintf(list, sizeof list, "%s", argv[++i]);
        for (char *save = NULL, *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
            if (!strcmp(name, "all")) {
                for (int k = 0; k < n_specs && n < MAX_MODELS; k++) out[n++] = &specs[k];
                continue;
            }
            const vt_bench_spec *s = vt_bench_find(name);
            if (!s) {
                fprintf(stderr, "vertebra bench: --model: unknown model '%s' (smallcnn, resnet18, densenet121, "
                                "vgg16_bn, unet2d, unet3d or all)\n", name);
                return -1;
            }
            if (n < MAX_MODELS) out[n++] = s;
        }
    }
    if (n == 0) out[n++] = vt_bench_find("smallcnn");
    return n;
}

static double ratio(double a, double b) { return b > 0 ? a / b : 0; }

static void print_tables(const row *rows, int n, double peak) {
    printf("\n%-12s %5s %-12s %5s %4s | %9s %9s %6s | %9s %9s %6s | %8s %8s %6s | %8s %8s\n", "model", "batch",
           "input", "steps", "cpu", "train ms", "torch", "ratio", "infer ms", "torch", "ratio", "peak MB", "torch",
           "ratio", "img/s", "torch");
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        char in[32], st[16];
        if (r->spec.dims == 3) snprintf(in, sizeof in, "1x%dx%dx%d", r->spec.size, r->spec.size, r->spec.size);
        else snprintf(in, sizeof in, "1x%dx%d", r->spec.size, r->spec.size);
        snprintf(st, sizeof st, "%d+%d", r->v.steps, r->v.warmup);
        printf("%-12s %5d %-12s %5s", r->spec.name, r->spec.batch, in, st);
        if (!r->v.ok) { printf(" FAILED: %s\n", r->v.error); continue; }
        printf(" %3.0f%% |", 100 * r->v.cpu_share);
        const peer_result *t = &r->t;
        printf(" %9.2f", r->v.train_ms);
        t->ok ? printf(" %9.2f %6.2f |", t->train_ms, ratio(r->v.train_ms, t->train_ms)) : printf(" %9s %6s |", "-", "-");
        printf(" %9.2f", r->v.infer_ms);
        t->ok ? printf(" %9.2f %6.2f |", t->infer_ms, ratio(r->v.infer_ms, t->infer_ms)) : printf(" %9s %6s |", "-", "-");
        printf(" %8.1f", r->v.rss_mb);
        t->ok ? printf(" %8.1f %6.2f |", t->rss_mb, ratio(r->v.rss_mb, t->rss_mb)) : printf(" %8s %6s |", "-", "-");
        printf(" %8.1f", r->spec.batch / r->v.train_ms * 1e3);
        t->ok ? printf(" %8.1f\n", r->spec.batch / t->train_ms * 1e3) : printf(" %8s\n", "-");
    }
    printf("steps: timed + warm-up; cpu: CPU time of vertebra's timed steps / (wall x threads), below 100%%\n"
           "when other processes took the cores; ratios: vertebra / PyTorch, lower is better; img/s: training\n"
           "images per second; peak MB: max RSS of the process that ran the model (PyTorch's includes its runtime).\n");
    printf("\n%-12s %11s %9s %7s %9s %9s %10s %10s\n", "model", "conv GFLOP", "conv ms", "share", "GFLOP/s",
           "conv eff", "step bound", "infer eff");
    for (int i = 0; i < n; i++) {
        const vt_bench_result *v = &rows[i].v;
        if (!v->ok) continue;
        double gfs = v->conv_train_ms > 0 ? v->conv_train_gflop / v->conv_train_ms * 1e3 : 0;
        double gfi = v->conv_infer_ms > 0 ? v->conv_infer_gflop / v->conv_infer_ms * 1e3 : 0;
        printf("%-12s %11.2f %9.2f %6.0f%% %9.1f %8.0f%% %9.0f%% %9.0f%%\n", rows[i].spec.name, v->conv_train_gflop,
               v->conv_train_ms, 100 * ratio(v->conv_train_ms, v->train_ms), gfs, 100 * ratio(gfs, peak),
               100 * ratio(v->conv_train_gflop / v->train_ms * 1e3, peak), 100 * ratio(gfi, peak));
    }
    printf("conv GFLOP: FLOPs (2 per MAC) of every conv kernel call of one training step, counted from its\n"
           "geometry (forward + backward data + backward filter, transposed convs included); conv ms: median\n"
           "time inside the conv kernels (im2col + sgemm + col2im, timed by wrapping the kernels); share: of\n"
           "the step. conv eff = conv GFLOP/s over the sgemm peak (%.1f GFLOP/s); step bound = the same FLOPs\n"
           "over the whole step time (a lower bound of conv efficiency); infer eff: conv eff of inference.\n"
           "On a loaded machine the peak and the kernels see different load: efficiencies are approximate.\n",
           peak);
    for (int i = 0; i < n; i++)
        if (rows[i].note[0]) printf("note: %s: %s\n", rows[i].spec.name, rows[i].note);
}

static int write_json(const char *path, const row *rows, int n, const char *date, long nproc, const char *cpu,
                      int threads, int gemm_n, double peak) {
    FILE *f = fopen(path, "w");
    if (!f) { fprintf(stderr, "vertebra bench: %s: cannot create\n", path); return 1; }
    fprintf(f, "{\"date\": \"%s\", \"nproc\": %ld, \"cpu\": \"%s\", \"threads\": %d, \"sgemm_n\": %d, "
               "\"sgemm_peak_gflops\": %.1f,\n \"conv_efficiency\": \"conv FLOPs counted per kernel call over the "
               "time inside the conv kernels, as a fraction of the sgemm peak\",\n \"models\": [",
            date, nproc, cpu, threads, gemm_n, peak);
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        const vt_bench_result *v = &r->v;
        fprintf(f, "%s\n  {\"model\": \"%s\", \"batch\": %d, \"input\": [1, %d, %d%s", i ? "," : "", r->spec.name,
                r->spec.batch, r->spec.size, r->spec.size, r->spec.dims == 3 ? "" : "]");
        if (r->spec.dims == 3) fprintf(f, ", %d]", r->spec.size);
        fprintf(f, ", \"threads\": %d, \"steps\": %d, \"warmup\": %d", threads, v->steps, v->warmup);
        if (!v->ok) {
            fprintf(f, ", \"error\": \"");
            for (const char *c = v->error; *c; c++) fputc(*c == '"' || *c == '\\' ? '\'' : *c, f);
            fprintf(f, "\"}");
            continue;
        }
        double gfs = v->conv_train_ms > 0 ? v->conv_train_gflop / v->conv_train_ms * 1e3 : 0;
        double gfi = v->conv_infer_ms > 0 ? v->conv_infer_gflop / v->conv_infer_ms * 1e3 : 0;
        fprintf(f, ", \"train_step_ms\": %.3f, \"infer_ms\": %.3f, \"train_images_per_s\": %.1f, \"max_rss_mb\": %.1f"
                   ", \"conv_train_gflop\": %.6f, \"conv_train_ms\": %.3f, \"conv_infer_gflop\": %.6f"
                   ", \"conv_infer_ms\": %.3f, \"conv_efficiency\": %.4f, \"conv_infer_efficiency\": %.4f"
                   ", \"step_efficiency_bound\": %.4f, \"cpu_share\": %.3f",
                v->train_ms, v->infer_ms, r->spec.batch / v->train_ms * 1e3, v->rss_mb, v->conv_train_gflop,
                v->conv_train_ms, v->conv_infer_gflop, v->conv_infer_ms, ratio(gfs, peak), ratio(gfi, peak),
                ratio(v->conv_train_gflop / v->train_ms * 1e3, peak), v->cpu_share);
        if (r->t.ok)
            fprintf(f, ", \"torch\": {\"version\": \"%s\", \"train_step_ms\": %.3f, \"infer_ms\": %.3f, "
                       "\"train_images_per_s\": %.1f, \"max_rss_mb\": %.1f}, \"ratio_train\": %.3f, "
                       "\"ratio_infer\": %.3f, \"ratio_memory\": %.3f",
                    r->t.version, r->t.train_ms, r->t.infer_ms, r->spec.batch / r->t.train_ms * 1e3, r->t.rss_mb,
                    ratio(v->train_ms, r->t.train_ms), ratio(v->infer_ms, r->t.infer_ms), ratio(v->rss_mb, r->t.rss_mb));
        else
            fprintf(f, ", \"torch\": null");
        fprintf(f, ", \"note\": \"%s\"}", r->note);
    }
    fprintf(f, "\n]}\n");
    if (fclose(f) != 0) { fprintf(stderr, "vertebra bench: %s: write failed\n", path); return 1; }
    return 0;
}

int vt_cmd_bench(int argc, char **argv) {
    const char *model = "smallcnn", *peer = "../shared/peer/torch_bench.py", *python = "/usr/bin/python3";
    const char *json = NULL;
    int threads = 2, steps = 0, warmup = -1, no_peer = 0, size = 0, batch = 0, gemm_n = 2048;
    const vt_arg spec[] = {
        {"--model", VT_ARG_STR, &model,
         "smallcnn (default), resnet18, densenet121, vgg16_bn, unet2d, unet3d or all; repeatable, or a,b,c", 1, 0},
        {"--threads", VT_ARG_INT, &threads, "threads for both sides (default 2)", 1, 1024},
        {"--steps", VT_ARG_INT, &steps, "timed steps, median reported (default 20; unet3d 5)", 1, 100000},
        {"--iters", VT_ARG_INT, &steps, "same as --steps", 1, 100000},
        {"--warmup", VT_ARG_INT, &warmup, "untimed steps first (default 5; unet3d 2)", 0, 100000},
        {"--size", VT_ARG_INT, &size, "override the input's spatial size (smoke runs; skips the peer)", 4, 4096},
        {"--batch", VT_ARG_INT, &batch, "override the batch size (smoke runs; skips the peer)", 1, 65536},
        {"--gemm-size", VT_ARG_INT, &gemm_n, "n of the n x n x n sgemm peak measurement (default 2048)", 64, 16384},
        {"--peer", VT_ARG_STR, &peer, "PyTorch peer script (default ../shared/peer/torch_bench.py)", 1, 0},
        {"--python", VT_ARG_STR, &python, "Python with torch for the peer (default /usr/bin/python3)", 1, 0},
        {"--no-peer", VT_ARG_FLAG, &no_peer, "skip the PyTorch side", 1, 0},
        {"--json", VT_ARG_STR, &json, "also write the results as JSON to this file", 1, 0},
    };
    int rc = vt_args_parse("bench", "time training steps and inference of the bench models against PyTorch", argc,
                           argv, 2, spec, (int)(sizeof spec / sizeof spec[0]));
    if (rc) return rc == 1 ? 0 : rc;
    (void)model;
    const vt_bench_spec *chosen[MAX_MODELS];
    int n = collect_models(argc, argv, chosen);
    if (n < 0) return 2;

    char date[32], cpu[128];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M", localtime(&now));
    cpu_model(cpu, sizeof cpu);
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);

    gemm_job gj = {gemm_n, 5};
    double peak = 0, first_peak, gemm_rss = 0;
    if (in_child(gemm_child, &gj, &peak, sizeof peak, threads, &gemm_rss) != 0 || peak <= 0) {
        fprintf(stderr, "vertebra bench: the sgemm peak measurement failed\n");
        return 1;
    }
    first_peak = peak;
    printf("vertebra bench %s: %ld CPUs (%s), %d threads; OpenBLAS sgemm %.1f GFLOP/s (n = %d)\n", date, nproc,
           cpu, threads, peak, gemm_n);

    static row rows[MAX_MODELS];
    int failed = 0;
    for (int i = 0; i < n; i++) {
        row *r = &rows[i];
        memset(r, 0, sizeof *r);
        r->spec = *chosen[i];
        int custom = (size && size != r->spec.size) || (batch && batch != r->spec.batch);
        if (size) r->spec.size = size;
        if (batch) r->spec.batch = batch;
        model_job job = {&r->spec, steps ? steps : r->spec.steps, warmup >= 0 ? warmup : r->spec.warmup};
        if (!steps && r->spec.steps < 20)
            snprintf(r->note, sizeof r->note, "vertebra timed %d steps after %d warm-up (slow on few cores; "
                     "--steps to change); the peer always times 20 after 5", job.steps, job.warmup);
        printf("%s: vertebra ...", r->spec.name);
        double rss = 0;
        if (in_child(model_child, &job, &r->v, sizeof r->v, threads, &rss) != 0) {
            if (!r->v.error[0]) snprintf(r->v.error, sizeof r->v.error, "the benchmark process died");
            r->v.ok = 0;
        }
        r->v.rss_mb = rss;
        if (!r->v.ok) {
            failed = 1;
            printf(" FAILED: %s\n", r->v.error);
            continue;
        }
        printf(" %.2f ms/step", r->v.train_ms);
        char peer_note[200] = "";
        if (no_peer) {
            snprintf(peer_note, sizeof peer_note, "PyTorch peer not run (--no-peer)");
        } else if (custom) {
            snprintf(peer_note, sizeof peer_note, "PyTorch peer not run: --size/--batch differ from torch_bench.py");
        } else {
            printf(", PyTorch ...");
            fflush(stdout);
            run_peer(python, peer, r->spec.name, threads, &r->t, peer_note, sizeof peer_note);
            if (r->t.ok) printf(" %.2f ms/step", r->t.train_ms);
        }
        double again = 0;
        gj.reps = 3;
        if (in_child(gemm_child, &gj, &again, sizeof again, threads, &gemm_rss) == 0 && again > peak) peak = again;
        printf("; sgemm %.1f GFLOP/s\n", again);
        if (peer_note[0]) {
            size_t k = strlen(r->note);
            snprintf(r->note + k, sizeof r->note - k, "%s%s", k ? "; " : "", peer_note);
        }
        /* rewritten after every model: a long run cut short keeps the finished rows */
        if (json && i + 1 < n) write_json(json, rows, i + 1, date, nproc, cpu, threads, gemm_n, peak);
    }
    printf("sgemm peak: best of %d measurements %.1f GFLOP/s (first %.1f)\n", n + 1, peak, first_peak);
    print_tables(rows, n, peak);
    if (json && write_json(json, rows, n, date, nproc, cpu, threads, gemm_n, peak)) return 1;
    return failed;
}
