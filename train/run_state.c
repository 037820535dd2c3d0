/* run_state.c: save and resume a training run (see run_state.h). */
#include <stdio.h>
#include "checkpoint.h"
#include "run_state.h"

vt_status vt_run_save(const char *path, const vt_params *p, vt_optim *o, int epoch,
                      int64_t cursor, const vt_rng *shuffle_epoch_start) {
    vt_checkpoint *ck = vt_checkpoint_new();
    if (!ck) return VT_ERR;
    vt_status st = vt_checkpoint_add_params(ck, p);
    char name[64];
    for (int i = 0; st == VT_OK && i < vt_optim_state_count(o); i++) {
        snprintf(name, sizeof name, "optim.state%d", i);
        st = vt_checkpoint_add_array(ck, name, vt_optim_state(o, i), vt_optim_state_numel(o));
    }
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "optim.step", vt_optim_get_step(o));
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "epoch", epoch);
    if (st == VT_OK) st = vt_checkpoint_set_int(ck, "cursor", cursor);
    if (st == VT_OK) st = vt_checkpoint_set_rng(ck, "rng.global", vt_rng_global());
    if (st == VT_OK) st = vt_checkpoint_set_rng(ck, "rng.shuffle", shuffle_epoch_start);
    if (st == VT_OK) st = vt_checkpoint_save(ck, path);
    vt_checkpoint_free(ck);
    return st;
}

vt_status vt_run_resume(const char *path, vt_params *p, vt_optim *o, int *epoch,
                        int64_t *cursor, vt_rng *shuffle_epoch_start) {
    vt_checkpoint *ck = vt_checkpoint_load(path);
    if (!ck) return VT_ERR;
    int64_t ep = 0, step = 0;
    vt_status st = vt_checkpoint_restore_params(ck, p);
    char name[64];
    for (int i = 0; st == VT_OK && i < vt_optim_state_count(o); i++) {
        snprintf(name, sizeof name, "optim.state%d", i);
        st = vt_checkpoint_get_array(ck, name, vt_optim_state(o, i), vt_optim_state_numel(o));
    }
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "optim.step", &step);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "epoch", &ep);
    if (st == VT_OK) st = vt_checkpoint_get_int(ck, "cursor", cursor);
    if (st == VT_OK) st = vt_checkpoint_get_rng(ck, "rng.global", vt_rng_global());
    if (st == VT_OK) st = vt_checkpoint_get_rng(ck, "rng.shuffle", shuffle_epoch_start);
    if (st == VT_OK && (ep < 1 || ep > 1000000 || *cursor < 0))
        st = vt_error("%s: epoch %lld / cursor %lld out of range", path, (long long)ep, (long long)*cursor);
    if (st == VT_OK) { vt_optim_set_step(o, step); *epoch = (int)ep; }
    vt_checkpoint_free(ck);
    return st;
}
