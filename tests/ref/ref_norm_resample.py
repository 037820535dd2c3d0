"""Fixtures for core/ops_group_norm.c, core/ops_upsample.c and core/ops_adaptive_pool.c.

Group norm cases are named gn_*, instance norm in_*, upsampling up_*, adaptive pooling ap_*;
the C suites (tests/core/test_group_norm.c, test_upsample.c, test_adaptive_pool.c) use the
same parameters."""
import torch
import torch.nn.functional as F
from common import case, rand


def distinct(*shape):
    """values with no ties (spacing 2/numel) so max pooling's argmax is unambiguous"""
    n = 1
    for s in shape:
        n *= s
    return (torch.randperm(n).float() / n * 2 - 1).reshape(*shape)


# ---- group norm: x, weight, bias (affine) or x alone ----
def gn(groups, eps=1e-5):
    return lambda x, w=None, b=None: F.group_norm(x, groups, w, b, eps)


def affine(c):
    return [rand(c, lo=0.5, hi=1.5), rand(c)]


case("gn_4d_g2", gn(2), [rand(2, 4, 3, 3, lo=-2, hi=3)] + affine(4))
case("gn_5d_g1", gn(1), [rand(2, 3, 2, 3, 2)] + affine(3))
case("gn_4d_gC_noaffine", gn(4), [rand(2, 4, 3, 2)])
case("gn_3d_g3_eps", gn(3, 1e-3), [rand(3, 6, 5)] + affine(6))
case("gn_2d_g2", gn(2), [rand(4, 6)] + affine(6))
case("gn_5d_g2_noaffine", gn(2), [rand(1, 4, 2, 2, 3, lo=0, hi=4)])


# ---- instance norm (no running stats): x, weight, bias (affine) or x alone ----
def inorm(eps=1e-5):
    return lambda x, w=None, b=None: F.instance_norm(x, weight=w, bias=b, eps=eps)


case("in_4d", inorm(), [rand(2, 3, 4, 5)])
case("in_4d_affine", inorm(), [rand(2, 3, 4, 5, lo=-3, hi=1)] + affine(3))
case("in_5d_affine", inorm(1e-3), [rand(2, 3, 2, 3, 3)] + affine(3))
case("in_3d", inorm(), [rand(2, 3, 6)])


# ---- upsampling: x; size or scale_factor ----
def up(mode, size=None, scale=None, ac=None):
    return lambda x: F.interpolate(x, size=size, scale_factor=scale, mode=mode, align_corners=ac)


case("up_nearest_size_4d", up("nearest", (5, 7)), [rand(2, 2, 3, 4)])
case("up_nearest_scale2_4d", up("nearest", scale=2), [rand(1, 2, 3, 4)])
case("up_nearest_scale_5d", up("nearest", scale=(3, 2, 1.5)), [rand(1, 2, 2, 3, 2)])
case("up_nearest_down_4d", up("nearest", (3, 4)), [rand(1, 2, 7, 6)])
case("up_nearest_size_5d", up("nearest", (3, 5, 4)), [rand(1, 2, 2, 3, 3)])
case("up_bilinear_size_ac0", up("bilinear", (5, 7), ac=False), [rand(2, 2, 3, 4)])
case("up_bilinear_size_ac1", up("bilinear", (5, 7), ac=True), [rand(2, 2, 3, 4)])
case("up_bilinear_scale2_ac0", up("bilinear", scale=2, ac=False), [rand(1, 2, 3, 4)])
case("up_bilinear_scale2_ac1", up("bilinear", scale=2, ac=True), [rand(1, 2, 3, 4)])
case("up_bilinear_scale_frac", up("bilinear", scale=(1.7, 2.5), ac=False), [rand(1, 2, 3, 4)])
case("up_bilinear_down_ac0", up("bilinear", (4, 3), ac=False), [rand(1, 1, 6, 7)])
case("up_bilinear_out1_ac1", up("bilinear", (1, 5), ac=True), [rand(1, 1, 3, 4)])
case("up_bilinear_scale_same", up("bilinear", scale=1.2, ac=False), [rand(1, 1, 3, 4)])
case("up_trilinear_size_ac0", up("trilinear", (3, 5, 6), ac=False), [rand(1, 2, 2, 3, 4)])
case("up_trilinear_size_ac1", up("trilinear", (3, 5, 6), ac=True), [rand(1, 2, 2, 3, 4)])
case("up_trilinear_scale2_ac0", up("trilinear", scale=2, ac=False), [rand(2, 1, 2, 2, 3)])


# ---- adaptive pooling: x; output sizes that do not divide the input, and larger ones ----
def aavg(size):
    return lambda x: (F.adaptive_avg_pool2d if x.dim() == 4 else F.adaptive_avg_pool3d)(x, size)


def amax(size):
    return lambda x: (F.adaptive_max_pool2d if x.dim() == 4 else F.adaptive_max_pool3d)(x, size)


case("ap_avg_4d", aavg((3, 2)), [rand(2, 3, 7, 5)])
case("ap_avg_4d_up", aavg((5, 6)), [rand(1, 2, 3, 4)])
case("ap_avg_5d", aavg((2, 3, 3)), [rand(1, 2, 5, 4, 7)])
case("ap_avg_4d_1x1", aavg((1, 1)), [rand(2, 2, 5, 5)])
case("ap_max_4d", amax((3, 2)), [distinct(2, 2, 7, 5)])
case("ap_max_4d_up", amax((5, 6)), [distinct(1, 1, 3, 4)])
case("ap_max_5d", amax((2, 3, 3)), [distinct(1, 2, 5, 4, 7)])
