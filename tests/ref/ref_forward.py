"""Fixtures for tests/tools/test_forward.c: the parity command `vertebra forward` against PyTorch.

The bench peer's UNet (../shared/peer/torch_bench.py, whose state-dict names vertebra's unet2d /
unet3d register) with widths (4, 8), bottom 16: random weights (torch.manual_seed), random BN
affine parameters and running stats, written as safetensors (tools/export_torchvision.py's
writer; num_batches_tracked included, as in any state dict: the loader ignores it). Per model,
in forward/:
  <arch>.safetensors      the weights (a few thousand floats)
  <arch>.x.npy            input
  <arch>.y_eval.npy       eval-mode output
  <arch>.y_train.npy      train-mode output (batch statistics), float64 run
  <arch>.w.<name>.npy     parameter / buffer <name> after one SGD step (lr 0.1, no momentum)
                          on mean(y_train^2), running stats updated by that forward; float64 run
ResNet-18 is not stored here (45 MB): the test writes its weights from tests/util/model_formula.c
and compares with the models/resnet18.* fixtures of ref_models.py."""
import copy, os, sys
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from common import OUT
from export_torchvision import save_safetensors

D = os.path.join(OUT, "forward")
os.makedirs(D, exist_ok=True)
LR = 0.1

# the UNet of the bench peer, without running its main()
PEER = os.path.join(HERE, "..", "..", "..", "shared", "peer", "torch_bench.py")
peer = {"__name__": "torch_bench_module"}
exec(open(PEER).read().replace("\nmain()", "\n"), peer)
UNet = peer["UNet"]


def save(name, t):
    np.save(os.path.join(D, name + ".npy"), t.detach().numpy().astype(np.float32))


def randomise_bn(m):
    """BN affine and running stats away from their defaults, so loading them is tested"""
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
                mod.num_batches_tracked.fill_(7)


def run(arch, m, x, names):
    randomise_bn(m)
    save_safetensors(m.state_dict(), os.path.join(D, arch + ".safetensors"),
                     {"format": "pt", "source": "tests/ref/ref_forward.py"})
    save(arch + ".x", x)
    m.eval()
    with torch.no_grad():
        save(arch + ".y_eval", m(x))
    # train step in float64: the reference a float32 implementation should land near
    m64 = copy.deepcopy(m).double()
    m64.train()
    opt = torch.optim.SGD(m64.parameters(), lr=LR)
    y = m64(x.double())
    (y ** 2).mean().backward()
    opt.step()
    save(arch + ".y_train", y)
    sd = m64.state_dict()
    for n in names:
        save(f"{arch}.w.{n}", sd[n])


torch.manual_seed(0)
run("unet2d", UNet(widths=(4, 8), bottom=16), torch.rand(4, 1, 16, 16) * 2 - 1,
    ["down.0.0.weight", "down.0.1.weight", "down.1.4.bias", "mid.3.weight", "up.0.weight", "up.1.bias",
     "dec.1.3.weight", "head.weight", "head.bias", "down.0.1.running_mean", "mid.1.running_var"])
run("unet3d", UNet(widths=(4, 8), bottom=16, d3=True), torch.rand(2, 1, 8, 8, 8) * 2 - 1,
    ["down.0.0.weight", "mid.4.bias", "up.1.weight", "dec.0.0.weight", "head.bias", "dec.1.1.running_var"])
print("forward fixtures written to", D)
