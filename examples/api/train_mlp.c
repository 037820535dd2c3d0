/* train_mlp.c: the vertebra C API end to end in one small program (docs/api.md).
 *
 * Builds an MLP with the model zoo, trains it with Adam and cross-entropy on random data
 * whose labels a fixed linear "teacher" assigns (so there is something to learn), saves the
 * weights as safetensors, loads them into a second model and checks both give the same
 * logits. Build after `make` (from the repository root):
 *
 *   cc -O2 -std=c11 -fopenmp -Icore -Ilayers -Ioptim -Ilosses examples/api/train_mlp.c \
 *      build/libvertebra.a -lopenblas -lz -lm -lpthread -o train_mlp && ./train_mlp mlp.safetensors
 *
 * (tests/tools/test_api_example.c compiles and runs this file in `make test`.)
 * Exit status 0 when the loss went down and the reloaded model matches, 1 otherwise. */
#include <math.h>
#include <stdio.h>
#include "vertebra.h"
#include "model.h"     /* layers/: vt_model_new, vt_model_forward */
#include "losses.h"    /* losses/: vt_cross_entropy */
#include "optim.h"     /* optim/: vt_adam_new, vt_optim_step */
#include "safetensors.h"

enum { N = 256, FEATURES = 16, CLASSES = 3, STEPS = 60 };

/* x (N, FEATURES) uniform in [-1, 1); y (N) = argmax_c (x @ teacher)[c] as floats */
static void make_data(vt_tensor *x, vt_tensor *y) {
    vt_rng rng;
    vt_rng_init(&rng, 42);
    float teacher[FEATURES * CLASSES];
    vt_rng_normal(&rng, teacher, FEATURES * CLASSES, 0.f, 1.f);
    vt_rng_uniform(&rng, x->data, x->numel, -1.f, 1.f);
    for (int i = 0; i < N; i++) {
        int best = 0;
        float best_score = -INFINITY;
        for (int c = 0; c < CLASSES; c++) {
            float s = 0.f;
            for (int f = 0; f < FEATURES; f++) s += x->data[i * FEATURES + f] * teacher[f * CLASSES + c];
            if (s > best_score) { best_score = s; best = c; }
        }
        y->data[i] = (float)best;
    }
}

static vt_model *make_model(void) {
    vt_model_config cfg;
    vt_model_config_default(&cfg, "mlp");
    cfg.in_channels = FEATURES; /* an MLP's input width */
    cfg.num_classes = CLASSES;
    cfg.hidden[0] = 32;         /* one hidden layer of 32 (0-terminated list) */
    cfg.dropout = 0.f;
    return vt_model_new(&cfg);  /* weights drawn from the global RNG */
}

int main(int argc, char **argv) {
    const char *out = argc > 1 ? argv[1] : "mlp.safetensors";
    vt_set_num_threads(1);
    vt_seed(0); /* reproducible initial weights */

    /* heap tensors: outlive every step, released with vt_tensor_free */
    vt_tensor *x = vt_tensor_new(VT_DIMS(N, FEATURES));
    vt_tensor *y = vt_tensor_new(VT_DIMS(N));
    vt_model *model = make_model();
    if (!x || !y || !model) { fprintf(stderr, "setup: %s\n", vt_last_error()); return 1; }
    make_data(x, y);

    vt_optim *opt = vt_adam_new(model->params, 0.01f, 0.9f, 0.999f, 1e-8f, 0.f);
    if (!opt) { fprintf(stderr, "adam: %s\n", vt_last_error()); return 1; }

    /* every op output and tape node of a step lives in the arena; reset frees them all */
    vt_arena *arena = vt_arena_new(1 << 20);
    vt_arena_set(arena);
    float first = NAN, last = NAN;
    for (int step = 0; step < STEPS; step++) {
        vt_params_zero_grad(model->params);
        vt_tensor *logits = vt_model_forward(model, x, 1);       /* (N, CLASSES) */
        vt_tensor *loss = vt_cross_entropy(logits, y, NULL);     /* (1), mean over N */
        if (!loss || vt_backward(loss) || vt_optim_step(opt)) {  /* NULL in, NULL out: one check */
            fprintf(stderr, "step %d: %s\n", step, vt_last_error());
            return 1;
        }
        last = vt_tensor_item(loss);
        if (step == 0) first = last;
        if (step % 20 == 0 || step == STEPS - 1) printf("step %2d  loss %.4f\n", step, last);
        vt_arena_reset(arena);
    }

    /* save, reload into a fresh model, compare the logits in eval mode */
    if (vt_params_save_safetensors(model->params, out, "{\"arch\":\"mlp\"}")) {
        fprintf(stderr, "save: %s\n", vt_last_error());
        return 1;
    }
    vt_model *copy = make_model();
    if (!copy || vt_params_load_safetensors(copy->params, out, NULL)) {
        fprintf(stderr, "load: %s\n", vt_last_error());
        return 1;
    }
    int g = vt_no_grad_begin();
    vt_tensor *a = vt_model_forward(model, x, 0), *b = vt_model_forward(copy, x, 0);
    vt_no_grad_end(g);
    double max_diff = 0.0;
    for (int64_t i = 0; a && b && i < a->numel; i++) max_diff = fmax(max_diff, fabs(a->data[i] - b->data[i]));
    int ok = a && b && last < first && max_diff == 0.0;
    printf("loss %.4f -> %.4f; saved %s (%d tensors); reloaded logits differ by %g\n", first, last,
           out, vt_params_count(model->params), max_diff);

    vt_arena_set(NULL);
    vt_arena_free(arena);
    vt_optim_free(opt);
    vt_model_free(copy);
    vt_model_free(model);
    vt_tensor_free(x);
    vt_tensor_free(y);
    return ok ? 0 : 1;
}
