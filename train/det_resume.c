/* det_resume.c: the detector trainer's resume checkpoint (det.h: vt_det_run_state): every
 * record needed to continue vt_det_train bit-identically after the epoch it was written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "checkpoint.h"
#include "det.h"

vt_status vt_det_checkpoint_save(const char *path, const vt_detector *m, vt_optim *opt, const vt_det_run_state *s,
                                 const float *best, const char *config_text) {
    vt_checkpoint *ck = vt_checkpoint_new();
    if (!ck) return VT_ERR;
    int64_t np = vt_params_numel(m->params), nbuf = vt_params_buffer_numel(m->params);
    vt_status st = vt_checkpoint_add_params(ck, m->params);
    for (int i = 0; i < vt_optim_state_count(opt) && st == VT_OK; i++)
        st = vt_checkpoint_add_array(ck, vt_optim_state_name(opt, i), vt_optim_state(opt, i), vt_optim_state_numel(opt));
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "optim.step", vt_optim_get_step(opt));
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "epoch", s->epoch);
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "step", s->step);
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "best_epoch", s->best_epoch);
    /* the mAP as its exact bit pattern, so the "improved" test after resuming is unchanged */
    int64_t bits;
    memcpy(&bits, &s->best_map, sizeof bits);
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "best_map_bits", bits);
    if (st == VT_OK && s->best_epoch > 0) st = vt_checkpoint_add_array(ck, "best_weights", best, np + nbuf);
    if (st == VT_OK) st = vt_checkpoint_set_rng(ck, "rng.shuffle", &s->shuffle);
    if (st == VT_OK) st = vt_checkpoint_set_rng(ck, "rng.augment", &s->augment);
    if (st == VT_OK) st = vt_checkpoint_set_rng(ck, "rng.global", vt_rng_global());
    if (st == VT_OK && config_text) st = vt_checkpoint_set_text(ck, config_text);
    if (st == VT_OK) st = vt_checkpoint_save(ck, path);
    vt_checkpoint_free(ck);
    return st;
}

vt_status vt_det_checkpoint_load(const char *path, vt_detector *m, vt_optim *opt, vt_det_run_state *s, float *best) {
    vt_checkpoint *ck = vt_checkpoint_load(path);
    if (!ck) return VT_ERR;
    int64_t np = vt_params_numel(m->params), nbuf = vt_params_buffer_numel(m->params);
    int64_t epoch = 0, best_epoch = 0, step = 0, ostep = 0, bits = 0;
    vt_status st = vt_checkpoint_restore_params(ck, m->params);
    for (int i = 0; i < vt_optim_state_count(opt) && st == VT_OK; i++)
        st = vt_checkpoint_get_array(ck, vt_optim_state_name(opt, i), vt_optim_state(opt, i), vt_optim_state_numel(opt));
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "optim.step", &ostep);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "epoch", &epoch);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "step", &step);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "best_epoch", &best_epoch);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "best_map_bits", &bits);
    if (st == VT_OK && best_epoch > 0) st = vt_checkpoint_get_array(ck, "best_weights", best, np + nbuf);
    if (st == VT_OK) st = vt_checkpoint_get_rng(ck, "rng.shuffle", &s->shuffle);
    if (st == VT_OK) st = vt_checkpoint_get_rng(ck, "rng.augment", &s->augment);
    if (st == VT_OK) st = vt_checkpoint_get_rng(ck, "rng.global", vt_rng_global());
    if (st == VT_OK && (epoch < 1 || step < 0 || best_epoch < 0 || best_epoch > epoch))
        st = vt_error("%s: not a detector training checkpoint (epoch %lld, best epoch %lld)", path, (long long)epoch, (long long)best_epoch);
    if (st == VT_OK) {
        vt_optim_set_step(opt, ostep);
        s->epoch = (int)epoch, s->best_epoch = (int)best_epoch, s->step = step;
        memcpy(&s->best_map, &bits, sizeof bits);
    } else {
        char why[512];
        snprintf(why, sizeof why, "%s", vt_last_error());
        st = vt_error("det resume: %s: %s", path, why);
    }
    vt_checkpoint_free(ck);
    return st;
}
