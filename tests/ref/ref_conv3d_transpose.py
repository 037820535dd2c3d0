"""Fixtures for core/ops_conv3d.c, core/ops_conv_transpose.c and core/ops_pool3d.c.

Cases conv3d_* (x, w, b), convt2d_* / convt3d_* (x, w, b; w is (C_in, C_out/groups, k...))
and pool3d_* (x); the C suites (tests/core/test_conv3d.c, test_conv_transpose.c,
test_pool3d.c) use the same parameters."""
import torch
import torch.nn.functional as F
from common import case, rand


def distinct(*shape):
    """values with no ties (spacing 2/numel) so max pool's argmax is unambiguous"""
    n = 1
    for s in shape:
        n *= s
    return (torch.randperm(n).float() / n * 2 - 1).reshape(*shape)


# ---- conv3d ----
def conv3(stride=1, padding=0, dilation=1, groups=1):
    return lambda x, w, b=None: F.conv3d(x, w, b, stride, padding, dilation, groups)

case("conv3d_basic", conv3(), [rand(2, 3, 5, 6, 4), rand(4, 3, 3, 3, 3), rand(4)])
case("conv3d_stride2_pad1", conv3(2, 1), [rand(2, 2, 6, 7, 5), rand(3, 2, 3, 3, 3), rand(3)])
case("conv3d_dil2_n1", conv3(1, 2, 2), [rand(1, 2, 7, 7, 7), rand(3, 2, 3, 3, 3), rand(3)])
case("conv3d_groups2", conv3(1, 1, 1, 2), [rand(2, 4, 4, 5, 5), rand(6, 2, 3, 3, 3), rand(6)])
case("conv3d_aniso", conv3((1, 2, 1), (0, 1, 2), (2, 1, 1)),
     [rand(2, 3, 6, 7, 5), rand(4, 3, 2, 3, 3), rand(4)])
case("conv3d_1x1", conv3(), [rand(2, 4, 3, 4, 5), rand(3, 4, 1, 1, 1), rand(3)])
case("conv3d_nobias", conv3(1, 1), [rand(2, 3, 4, 4, 4), rand(2, 3, 3, 3, 3)])


# ---- transposed convs ----
def convt2(stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    return lambda x, w, b=None: F.conv_transpose2d(x, w, b, stride, padding, output_padding,
                                                   groups, dilation)

def convt3(stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    return lambda x, w, b=None: F.conv_transpose3d(x, w, b, stride, padding, output_padding,
                                                   groups, dilation)

case("convt2d_basic", convt2(), [rand(2, 3, 4, 5), rand(3, 2, 3, 3), rand(2)])
case("convt2d_stride2_pad1_outpad1", convt2(2, 1, 1), [rand(2, 4, 3, 4), rand(4, 3, 3, 3), rand(3)])
case("convt2d_dil2_n1", convt2(1, 1, 0, 2), [rand(1, 2, 4, 4), rand(2, 3, 3, 3), rand(3)])
case("convt2d_groups2", convt2(2, 0, 0, 1, 2), [rand(2, 4, 3, 3), rand(4, 2, 3, 3), rand(4)])
# output_padding 1 >= stride 1, allowed because dilation 2 > 1
case("convt2d_outpad_dil", convt2(1, 0, 1, 2), [rand(1, 2, 4, 5), rand(2, 2, 3, 3), rand(2)])
case("convt2d_up2_nobias", convt2(2), [rand(2, 3, 4, 4), rand(3, 2, 2, 2)])
case("convt2d_rect", convt2((2, 1), (1, 0), (1, 0), (1, 2)),
     [rand(2, 2, 3, 4), rand(2, 3, 3, 2), rand(3)])

case("convt3d_basic", convt3(), [rand(2, 3, 3, 4, 3), rand(3, 2, 3, 3, 3), rand(2)])
case("convt3d_up2_nobias", convt3(2), [rand(2, 4, 2, 3, 3), rand(4, 2, 2, 2, 2)])
case("convt3d_stride2_pad1_outpad1", convt3(2, 1, 1),
     [rand(1, 2, 3, 3, 4), rand(2, 3, 3, 3, 3), rand(3)])
case("convt3d_groups2_dil2", convt3(1, 1, 0, 2, 2),
     [rand(2, 4, 3, 3, 3), rand(4, 1, 3, 3, 3), rand(2)])
case("convt3d_aniso", convt3((2, 1, 2), (0, 1, 1), (1, 0, 0), (1, 2, 1)),
     [rand(1, 2, 3, 4, 3), rand(2, 2, 2, 3, 3), rand(2)])
case("convt3d_outpad_dil", convt3(1, 0, 1, 2), [rand(2, 2, 3, 3, 3), rand(2, 2, 2, 2, 2), rand(2)])


# ---- pool3d (max pool inputs have distinct values) ----
def maxp(k, s=None, p=0, ceil=False):
    return lambda x: F.max_pool3d(x, k, s, p, 1, ceil)

def avgp(k, s=None, p=0, ceil=False, cip=True):
    return lambda x: F.avg_pool3d(x, k, s, p, ceil, cip)

case("pool3d_max_k2", maxp(2), [distinct(2, 3, 4, 4, 6)])
case("pool3d_max_k3s2p1", maxp(3, 2, 1), [distinct(2, 2, 5, 5, 5)])
case("pool3d_max_ceil", maxp((2, 3, 2), 2, (1, 1, 0), True), [distinct(1, 2, 5, 6, 5)])
case("pool3d_avg_k2", avgp(2), [rand(2, 2, 4, 4, 4)])
case("pool3d_avg_k3s2p1", avgp(3, 2, 1), [rand(2, 2, 5, 5, 5)])
case("pool3d_avg_k3s2p1_nopadcount", avgp(3, 2, 1, False, False), [rand(2, 2, 5, 5, 5)])
case("pool3d_avg_ceil", avgp(3, 2, 1, True, True), [rand(1, 2, 6, 5, 4)])
case("pool3d_avg_ceil_nopadcount", avgp((3, 2, 3), 2, 1, True, False), [rand(1, 2, 6, 5, 4)])
