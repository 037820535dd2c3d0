"""Fixtures for core/ops_conv2d.c, core/ops_pool2d.c and core/ops_batch_norm.c.

Conv cases are named conv2d_*, pooling cases pool_*, batch norm cases bn_*; the C suites
(tests/core/test_conv2d.c, test_pool2d.c, test_batch_norm.c) use the same parameters."""
import torch
import torch.nn.functional as F
from common import case, rand, save


def distinct(*shape):
    """values with no ties (spacing 2/numel) so max pool's argmax is unambiguous"""
    n = 1
    for s in shape:
        n *= s
    return (torch.randperm(n).float() / n * 2 - 1).reshape(*shape)


# ---- conv2d: x, w, b (N = 1 cases take the per-sample path, N = 2 the batched one) ----
def conv(stride=1, padding=0, dilation=1, groups=1):
    return lambda x, w, b=None: F.conv2d(x, w, b, stride, padding, dilation, groups)

case("conv2d_basic", conv(), [rand(2, 3, 7, 6), rand(4, 3, 3, 3), rand(4)])
case("conv2d_stride2_pad1", conv(2, 1), [rand(2, 3, 8, 7), rand(5, 3, 3, 3), rand(5)])
case("conv2d_dil2_n1", conv(1, 2, 2), [rand(1, 2, 9, 9), rand(3, 2, 3, 3), rand(3)])
case("conv2d_groups2", conv(1, 1, 1, 2), [rand(2, 4, 6, 6), rand(6, 2, 3, 3), rand(6)])
case("conv2d_rect", conv((2, 1), (1, 2), (1, 2)), [rand(2, 3, 7, 9), rand(4, 3, 2, 4), rand(4)])
case("conv2d_1x1", conv(), [rand(2, 6, 5, 5), rand(4, 6, 1, 1), rand(4)])
case("conv2d_1x1_n1_groups3", conv(1, 0, 1, 3), [rand(1, 6, 4, 5), rand(6, 2, 1, 1), rand(6)])
case("conv2d_1x1_stride2", conv(2), [rand(2, 4, 5, 5), rand(3, 4, 1, 1), rand(3)])
case("conv2d_nobias", conv(1, 1), [rand(2, 3, 6, 6), rand(4, 3, 3, 3)])
# outputs of >= 1024 pixels are cut into bands of rows (34x36 -> 28 + 6 rows; 33x35 -> 29 + 4)
case("conv2d_bands", conv(1, 1), [rand(1, 1, 34, 36), rand(2, 1, 3, 3), rand(2)])
case("conv2d_bands_stride2", conv(2, 1), [rand(1, 1, 66, 70), rand(2, 1, 3, 3), rand(2)])

# ---- pooling: x (max pool inputs have distinct values) ----
def maxp(k, s=None, p=0, ceil=False):
    return lambda x: F.max_pool2d(x, k, s, p, 1, ceil)

def avgp(k, s=None, p=0, ceil=False, cip=True):
    return lambda x: F.avg_pool2d(x, k, s, p, ceil, cip)

case("pool_max_k2", maxp(2), [distinct(2, 3, 6, 6)])
case("pool_max_k3s2p1", maxp(3, 2, 1), [distinct(2, 2, 7, 7)])
case("pool_max_ceil", maxp((3, 2), 2, (1, 0), True), [distinct(1, 2, 8, 7)])
case("pool_max_rect_s1", maxp((2, 3), 1, (1, 1)), [distinct(1, 2, 5, 6)])
case("pool_avg_k2", avgp(2), [rand(2, 3, 6, 6)])
case("pool_avg_k3s2p1", avgp(3, 2, 1), [rand(2, 2, 7, 7)])
case("pool_avg_k3s2p1_nopadcount", avgp(3, 2, 1, False, False), [rand(2, 2, 7, 7)])
case("pool_avg_ceil", avgp(3, 2, 1, True, True), [rand(1, 2, 8, 6)])
case("pool_avg_ceil_nopadcount", avgp(3, 2, 1, True, False), [rand(1, 2, 8, 6)])
case("pool_gap_4d", lambda x: F.adaptive_avg_pool2d(x, 1).flatten(1), [rand(2, 3, 4, 5)])
case("pool_gap_5d", lambda x: F.adaptive_avg_pool3d(x, 1).flatten(1), [rand(2, 3, 2, 3, 4)])

# ---- batch norm: x, weight, bias; running stats saved before (.rm0/.rv0) and after (.rm/.rv)
def bn_case(name, x, affine, training, momentum=0.1, eps=1e-5):
    c = x.shape[1]
    rm0, rv0 = rand(c), rand(c, lo=0.5, hi=2.0)
    save(name + ".rm0", rm0)
    save(name + ".rv0", rv0)
    rm, rv = rm0.clone(), rv0.clone()
    inputs = [x] + ([rand(c, lo=0.5, hi=1.5), rand(c)] if affine else [])
    case(name, lambda x, w=None, b=None: F.batch_norm(x, rm, rv, w, b, training, momentum, eps),
         inputs)
    save(name + ".rm", rm)
    save(name + ".rv", rv)

bn_case("bn_train_2d", rand(6, 4, lo=-2, hi=3), True, True)
bn_case("bn_train_3d", rand(4, 3, 5), True, True, momentum=0.3)
bn_case("bn_train_4d", rand(3, 4, 5, 6, lo=-1, hi=2), True, True, eps=1e-3)
bn_case("bn_train_5d_noaffine", rand(2, 3, 2, 3, 4), False, True)
bn_case("bn_eval_4d", rand(2, 3, 4, 4), True, False)
bn_case("bn_eval_2d_noaffine", rand(5, 3), False, False)
