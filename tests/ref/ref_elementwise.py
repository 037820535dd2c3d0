"""Fixtures for core/ops_elementwise.c and core/ops_reshape.c."""
import torch
from common import case, rand

case("add_bcast", torch.add, [rand(2, 3, 4), rand(3, 1)])
case("sub_bcast", torch.sub, [rand(4), rand(2, 3, 4)])
case("mul_bcast", torch.mul, [rand(2, 1, 4, 5), rand(3, 1, 5)])
case("div_bcast", torch.div, [rand(2, 3, 4), rand(3, 4, lo=0.5, hi=2.0)])
case("add_scalar", lambda x: x + 2.5, [rand(3, 4)])
case("mul_scalar", lambda x: x * -1.5, [rand(3, 4)])
case("exp", torch.exp, [rand(3, 5)])
case("log", torch.log, [rand(3, 5, lo=0.1, hi=3.0)])
case("pow", lambda x: torch.pow(x, 2.5), [rand(3, 5, lo=0.1, hi=2.0)])
case("sqrt", torch.sqrt, [rand(3, 5, lo=0.1, hi=2.0)])
case("abs", torch.abs, [rand(3, 5)])
case("clamp", lambda x: torch.clamp(x, -0.3, 0.5), [rand(4, 6)])
case("relu", torch.relu, [rand(4, 6)])
case("leaky_relu", lambda x: torch.nn.functional.leaky_relu(x, 0.1), [rand(4, 6)])
case("sigmoid", torch.sigmoid, [rand(4, 6, lo=-6, hi=6)])
case("tanh", torch.tanh, [rand(4, 6, lo=-3, hi=3)])
case("softplus", torch.nn.functional.softplus, [rand(4, 6, lo=-30, hi=30)])
case("reshape", lambda x: x.reshape(4, -1) * 1.0, [rand(2, 3, 4)])
