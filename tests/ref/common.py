"""Shared helpers for the PyTorch reference fixtures (run with Debian's /usr/bin/python3).

A case `name` is saved as tests/fixtures/<name>.x0.npy ... (inputs), <name>.y.npy (output),
<name>.gy.npy (upstream gradient) and <name>.g0.npy ... (input gradients). The C side
(tests/util/fixture.c, vt_check_fixture) runs the same op and compares."""
import os, sys
import numpy as np
import torch

torch.manual_seed(0)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures")
os.makedirs(OUT, exist_ok=True)


def save(name, arr):
    a = arr.detach().cpu().numpy() if torch.is_tensor(arr) else np.asarray(arr)
    np.save(os.path.join(OUT, name + ".npy"), a.astype(np.float32))


def case(name, fn, inputs, grads=None, seed=0):
    """inputs: list of tensors; grads: list of bools (which inputs get .g files; default all
    floating inputs). Saves inputs, output, a random upstream gradient and input grads."""
    grads = grads if grads is not None else [True] * len(inputs)
    xs = []
    for i, (x, g) in enumerate(zip(inputs, grads)):
        x = x.detach().clone().float().requires_grad_(g)
        save(f"{name}.x{i}", x)
        xs.append(x)
    y = fn(*xs)
    save(f"{name}.y", y)
    if y.requires_grad:
        gen = torch.Generator().manual_seed(seed + 1)
        gy = torch.rand(y.shape, generator=gen) * 2 - 1
        save(f"{name}.gy", gy)
        y.backward(gy)
        for i, x in enumerate(xs):
            if grads[i]:
                save(f"{name}.g{i}", x.grad if x.grad is not None else torch.zeros_like(x))


def rand(*shape, lo=-1.0, hi=1.0):
    return torch.rand(*shape) * (hi - lo) + lo
