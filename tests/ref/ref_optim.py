"""Fixtures for optim/: torch.optim.SGD/Adam/AdamW over 5 steps with fixed gradients,
torch.optim.lr_scheduler values over 50 steps, and clip_grad_norm_.

The parameters are three tensors of shapes (4, 3), (3), (2, 2, 2), registered in that order
on the C side; every fixture holds their values flattened and concatenated (23 floats).
Hyperparameters are float32-representable so both sides start from the same numbers."""
import os, sys
import numpy as np
import torch
from common import OUT, save

torch.manual_seed(2)
SHAPES = [(4, 3), (3,), (2, 2, 2)]
STEPS = 5


def f32(v):
    return float(np.float32(v))


def flat(ts):
    return torch.cat([t.detach().reshape(-1) for t in ts])


init = [torch.rand(s) * 2 - 1 for s in SHAPES]
grads = [[torch.rand(s) * 2 - 1 for s in SHAPES] for _ in range(STEPS)]
save("optim.init", flat(init))
save("optim.grads", torch.stack([flat(g) for g in grads]))

CONFIGS = {
    "sgd_plain": lambda p: torch.optim.SGD(p, lr=f32(0.1)),
    "sgd_momentum": lambda p: torch.optim.SGD(p, lr=f32(0.1), momentum=f32(0.9)),
    "sgd_nesterov": lambda p: torch.optim.SGD(p, lr=f32(0.1), momentum=f32(0.9), nesterov=True,
                                              weight_decay=f32(0.01)),
    "sgd_wd_damp": lambda p: torch.optim.SGD(p, lr=f32(0.05), momentum=f32(0.8), dampening=f32(0.3),
                                             weight_decay=f32(0.05)),
    "adam": lambda p: torch.optim.Adam(p, lr=f32(0.01), betas=(f32(0.9), f32(0.999)), eps=f32(1e-8)),
    "adam_wd": lambda p: torch.optim.Adam(p, lr=f32(0.01), betas=(f32(0.9), f32(0.999)), eps=f32(1e-8),
                                          weight_decay=f32(0.1)),
    "adamw": lambda p: torch.optim.AdamW(p, lr=f32(0.01), betas=(f32(0.9), f32(0.999)), eps=f32(1e-8),
                                         weight_decay=f32(0.01)),
    "adamw_wd": lambda p: torch.optim.AdamW(p, lr=f32(0.05), betas=(f32(0.8), f32(0.99)), eps=f32(1e-6),
                                            weight_decay=f32(0.1)),
}
for name, make in CONFIGS.items():
    params = [t.clone().requires_grad_(True) for t in init]
    opt = make(params)
    after = []
    for s in range(STEPS):
        for p, g in zip(params, grads[s]):
            p.grad = g.clone()
        opt.step()
        after.append(flat(params))
    save(f"optim.{name}", torch.stack(after))

# ---- schedules: lr used at steps 0..49 ------------------------------------------------------
S = torch.optim.lr_scheduler
N = 50


def sched_values(base, make):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base)
    sch = make(opt)
    out = []
    for _ in range(N):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    return torch.tensor(out, dtype=torch.float64)


SCHEDULES = {
    "step": (0.1, lambda o: S.StepLR(o, step_size=7, gamma=0.5)),
    "multistep": (0.1, lambda o: S.MultiStepLR(o, milestones=[10, 25, 40], gamma=0.2)),
    "cosine": (0.1, lambda o: S.CosineAnnealingLR(o, T_max=50, eta_min=1e-3)),
    "poly": (0.01, lambda o: S.PolynomialLR(o, total_iters=50, power=0.9)),
    "warmup_cosine": (0.1, lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5),
                                                        S.CosineAnnealingLR(o, T_max=45, eta_min=1e-4)],
                                                    milestones=[5])),
    "warmup_poly": (0.01, lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.25, total_iters=8),
                                                       S.PolynomialLR(o, total_iters=42, power=0.9)],
                                                   milestones=[8])),
}
for name, (base, make) in SCHEDULES.items():
    save(f"sched.{name}", sched_values(base, make))

# ---- clip_grad_norm_ ---------------------------------------------------------------------------
for name, max_norm in (("clip_small", 0.5), ("clip_large", 100.0)):
    params = [t.clone().requires_grad_(True) for t in init]
    for p, g in zip(params, grads[0]):
        p.grad = g.clone() * 3
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    save(f"optim.{name}.grads_in", flat(grads[0]) * 3)
    save(f"optim.{name}.norm", norm.reshape(1))
    save(f"optim.{name}.grads_out", flat([p.grad for p in params]))
