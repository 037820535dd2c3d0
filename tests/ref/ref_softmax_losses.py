"""Fixtures for core/ops_softmax.c, core/ops_nll.c and losses/ (cross-entropy, BCE, MSE).
Targets are saved as float class indices; they never get gradient files (constants)."""
import torch
import torch.nn.functional as F
from common import case, rand

torch.manual_seed(1)


def labels(*shape, classes, ignore=None, frac=0.0):
    t = torch.randint(0, classes, shape).float()
    if ignore is not None:
        t[torch.rand(shape) < frac] = ignore
    return t


# ---- softmax / log-softmax -----------------------------------------------------------------
case("softmax_axis1", lambda x: torch.softmax(x, 1), [rand(2, 3, 4, 5, lo=-3, hi=3)])
case("log_softmax_axis1", lambda x: torch.log_softmax(x, 1), [rand(2, 3, 4, 5, lo=-3, hi=3)])
case("softmax_last", lambda x: torch.softmax(x, -1), [rand(3, 7, lo=-3, hi=3)])
case("log_softmax_last", lambda x: torch.log_softmax(x, -1), [rand(3, 7, lo=-3, hi=3)])
# inner = 300 > one 256-wide tile; large magnitudes test the max subtraction
case("log_softmax_tiles", lambda x: torch.log_softmax(x, 1), [rand(2, 3, 300, lo=-80, hi=80)])
case("softmax_tiles", lambda x: torch.softmax(x, 1), [rand(2, 3, 300, lo=-5, hi=5)])

# ---- nll -------------------------------------------------------------------------------------
w5 = rand(5, lo=0.2, hi=2.0)
case("nll_weighted", lambda lp, t, w: F.nll_loss(lp, t.long(), weight=w, reduction="none"),
     [torch.log_softmax(rand(6, 5, lo=-2, hi=2), 1), labels(6, classes=5, ignore=-100, frac=0.3), w5],
     grads=[True, False, False])
case("nll_spatial", lambda lp, t: F.nll_loss(lp, t.long(), ignore_index=255, reduction="none"),
     [torch.log_softmax(rand(2, 3, 4, 4, lo=-2, hi=2), 1), labels(2, 4, 4, classes=3, ignore=255, frac=0.2)],
     grads=[True, False])

# ---- cross-entropy -----------------------------------------------------------------------------
def ce(**kw):
    def f(x, t, *rest):
        w = rest[0] if rest else None
        return F.cross_entropy(x, t.long(), weight=w, **kw).reshape(-1)
    return f


def ce_sw(reduction, **kw):
    """sample-weighted reference: (s * CE_none).sum() / sum(w[y]) over non-ignored"""
    def f(x, t, w, s):
        ii = kw.get("ignore_index", -100)
        none = F.cross_entropy(x, t.long(), weight=w, reduction="none", **kw)
        sv = s.reshape([-1] + [1] * (none.dim() - 1))
        keep = t != ii
        denom = w[t[keep].long()].sum()
        if reduction == "mean":
            return ((sv * none).sum() / denom).reshape(1)
        if reduction == "per_sample":
            return (sv * none).reshape(none.shape[0], -1).mean(1)
        return sv * none
    return f


x65, t65 = rand(6, 5, lo=-3, hi=3), labels(6, classes=5)
t65i = labels(6, classes=5, ignore=-100, frac=0.3)
t65i[0] = 2  # at least one kept
case("ce_plain", ce(), [x65, t65], grads=[True, False])
case("ce_weights", ce(), [x65, t65, w5], grads=[True, False, False])
case("ce_ignore", ce(), [x65, t65i, w5], grads=[True, False, False])
case("ce_smooth", ce(label_smoothing=0.1), [x65, t65i, w5], grads=[True, False, False])
case("ce_smooth_plain", ce(label_smoothing=0.2), [x65, t65], grads=[True, False])
case("ce_sum", ce(reduction="sum"), [x65, t65i, w5], grads=[True, False, False])
case("ce_none", ce(reduction="none"), [x65, t65i, w5], grads=[True, False, False])
case("ce_large", ce(), [rand(4, 3, lo=-100, hi=100), labels(4, classes=3)], grads=[True, False])

xs, ts = rand(2, 4, 3, 5, lo=-3, hi=3), labels(2, 3, 5, classes=4, ignore=-100, frac=0.2)
w4 = rand(4, lo=0.2, hi=2.0)
case("ce_spatial", ce(), [xs, ts], grads=[True, False])
case("ce_spatial_weights_smooth", ce(label_smoothing=0.15), [xs, ts, w4], grads=[True, False, False])
case("ce_spatial_none", ce(reduction="none", ignore_index=1), [xs, labels(2, 3, 5, classes=4)],
     grads=[True, False])
s6, s2 = rand(6, lo=0.0, hi=2.0), rand(2, lo=0.0, hi=2.0)
case("ce_sample_weights", ce_sw("mean"), [x65, t65i, w5, s6], grads=[True, False, False, False])
case("ce_sample_weights_smooth", ce_sw("mean", label_smoothing=0.1), [x65, t65i, w5, s6],
     grads=[True, False, False, False])
case("ce_per_sample", ce_sw("per_sample"), [xs, ts, w4, s2], grads=[True, False, False, False])
case("ce_spatial_sample_weights", ce_sw("mean"), [xs, ts, w4, s2], grads=[True, False, False, False])

# ---- BCE with logits ---------------------------------------------------------------------------
xb, tb = rand(4, 3, lo=-4, hi=4), rand(4, 3, lo=0, hi=1)
pw = rand(3, lo=0.5, hi=3.0)
bce = F.binary_cross_entropy_with_logits
case("bce_plain", lambda x, t: bce(x, t).reshape(1), [xb, tb])
case("bce_pos_weight", lambda x, t, p: bce(x, t, pos_weight=p).reshape(1), [xb, tb, pw],
     grads=[True, True, False])
case("bce_large", lambda x, t: bce(x, t, reduction="sum").reshape(1),
     [rand(3, 4, lo=-60, hi=60), (rand(3, 4) > 0).float()], grads=[True, False])
case("bce_none_pos_weight", lambda x, t, p: bce(x, t, pos_weight=p, reduction="none"),
     [rand(2, 3, 2, 3, lo=-4, hi=4), rand(2, 3, 2, 3, lo=0, hi=1), pw], grads=[True, False, False])
s4 = rand(4, lo=0, hi=2)
case("bce_sample_weights", lambda x, t, s: bce(x, t, weight=s.reshape(4, 1)).reshape(1),
     [xb, tb, s4], grads=[True, False, False])
case("bce_per_sample", lambda x, t: bce(x, t, reduction="none").mean(1), [xb, tb], grads=[True, False])

# ---- MSE ---------------------------------------------------------------------------------------
xm, tm = rand(3, 4), rand(3, 4)
case("mse_mean", lambda x, t: F.mse_loss(x, t).reshape(1), [xm, tm])
case("mse_sum", lambda x, t: F.mse_loss(x, t, reduction="sum").reshape(1), [xm, tm])
case("mse_none", lambda x, t: F.mse_loss(x, t, reduction="none"), [rand(2, 3, 4), rand(2, 3, 4)])
