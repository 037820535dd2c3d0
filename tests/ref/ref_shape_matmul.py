"""Fixtures for core/ops_shape.c (permute, transpose, concat, slice) and core/ops_matmul.c
(matmul, linear). The C side is tests/core/test_shape.c and tests/core/test_matmul.c."""
import torch
import torch.nn.functional as F
from common import case, rand

# permute / transpose (.contiguous(): the .npy writer would store a transposed view in
# Fortran order, which vt_npy_load rejects)
case("perm_3d", lambda x: x.permute(2, 0, 1).contiguous(), [rand(2, 3, 4)])
case("perm_4d", lambda x: x.permute(0, 2, 3, 1).contiguous(), [rand(2, 3, 4, 5)])
case("perm_5d", lambda x: x.permute(4, 1, 3, 0, 2).contiguous(), [rand(2, 3, 2, 4, 3)])
case("transpose_2d", lambda x: x.transpose(0, 1).contiguous(), [rand(3, 5)])
case("transpose_4d", lambda x: x.transpose(1, 3).contiguous(), [rand(2, 3, 4, 5)])

# concat
case("concat_axis0", lambda a, b: torch.cat([a, b], 0), [rand(2, 3), rand(4, 3)])
case("concat_axis1", lambda a, b, c: torch.cat([a, b, c], 1), [rand(2, 3, 4), rand(2, 1, 4), rand(2, 5, 4)])
case("concat_last", lambda a, b: torch.cat([a, b], -1), [rand(2, 3, 2), rand(2, 3, 5)])
case("concat_neg", lambda a, b, c: torch.cat([a, b, c], -2), [rand(2, 2, 3, 4), rand(2, 2, 1, 4), rand(2, 2, 2, 4)])
# six inputs: more than a tape node's inline input slots
case("concat_many", lambda *xs: torch.cat(xs, 0), [rand(k + 1, 3) for k in range(6)])

# slice
case("slice_mid", lambda x: x[:, 1:5, :], [rand(3, 6, 4)])
case("slice_neg", lambda x: x[..., -5:-1], [rand(4, 7)])
case("slice_first", lambda x: x[2:], [rand(5, 2, 3)])

# matmul
case("matmul_2d", torch.matmul, [rand(3, 4), rand(4, 5)])
case("matmul_batched", torch.matmul, [rand(2, 3, 4), rand(2, 4, 5)])
case("matmul_bcast_b", torch.matmul, [rand(2, 3, 4), rand(4, 5)])
case("matmul_bcast_a", torch.matmul, [rand(3, 4), rand(2, 4, 5)])

# linear
case("linear_bias", F.linear, [rand(4, 6), rand(3, 6), rand(3)])
case("linear_nobias", F.linear, [rand(4, 6), rand(3, 6)])
case("linear_3d", F.linear, [rand(2, 3, 6), rand(5, 6), rand(5)])
