"""Fixtures for tests/layers/test_models.c: whole-model parity with torchvision / the bench UNet.

Weights are not stored (ResNet-50 or VGG-16 would be hundreds of MB): both sides fill every
parameter and buffer from the same closed formula of its name and index (formula_fill below,
layers tests/layers/tests/util/model_formula.c), so only inputs and outputs are committed. Per model:
  models/<arch>.x.npy        input
  models/<arch>.y_eval.npy   output in eval mode
  models/<arch>.y_train.npy  output in train mode (batch statistics), computed in float64
  models/<arch>.g.<param>.npy gradient of mean(y_train^2) (MSE against zeros, the parity
                              command's training step) for a few parameters, float64
  models/<arch>.f32err.npy    PyTorch float32's own relative error on each of those
  models/<arch>.rm.<bn>.npy   a BN running_mean after that train-mode forward"""
import copy, math, os, sys
import numpy as np
import torch, torch.nn as nn, torchvision

sys.path.insert(0, os.path.dirname(__file__))
from common import OUT

D = os.path.join(OUT, "models")
os.makedirs(D, exist_ok=True)


def fnv1a(name):
    h = 2166136261
    for c in name.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h


def uniform(name, n):
    """n values in [-1, 1) from an integer hash of (name, index): exact in C and numpy"""
    i = np.arange(n, dtype=np.uint64)
    h = (i * np.uint64(0x9E3779B9) + np.uint64(fnv1a(name))) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(16); h = (h * np.uint64(0x85EBCA6B)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(13); h = (h * np.uint64(0xC2B2AE35)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(16)
    return h.astype(np.float64) / 4294967296.0 * 2.0 - 1.0


def formula(name, shape):
    """the values of parameter/buffer `name` (see tests/util/model_formula.c)"""
    n = int(np.prod(shape)) if len(shape) else 1
    s = uniform(name, n)
    if name.endswith("running_mean"):
        v = 0.1 * s
    elif name.endswith("running_var"):
        v = 1.0 + 0.25 * (1.0 + s)
    elif len(shape) >= 2:  # kaiming-uniform-like: variance 2 / fan_in
        fan_in = int(np.prod(shape[1:]))
        v = math.sqrt(6.0 / fan_in) * s
    elif name.endswith("weight"):
        v = 1.0 + 0.1 * s
    else:
        v = 0.1 * s
    return torch.tensor(v.astype(np.float32).reshape(shape))


def formula_fill(m):
    with torch.no_grad():
        for k, t in m.state_dict().items():
            if k.endswith("num_batches_tracked"):
                continue
            t.copy_(formula(k, tuple(t.shape)))


def one_ch(conv):
    return nn.Conv2d(1, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=conv.bias is not None)


def save(name, t):
    np.save(os.path.join(D, name + ".npy"), t.detach().numpy().astype(np.float32))


def train_step(m, x, grads):
    m.train()
    y = m(x)
    (y ** 2).mean().backward()
    params = dict(m.named_parameters())
    return y.detach(), [params[g].grad.detach() for g in grads]


def rel_err(a, b):
    """relative L2 error ||a - b|| / ||b||"""
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


def run(arch, m, x, grads, bns):
    """m: a freshly built module; also runs a float64 copy to measure how well float32 itself
    can reproduce each value (deep nets in train mode lose digits through many batch norms)."""
    m64 = copy.deepcopy(m).double()
    formula_fill(m)
    formula_fill(m64)
    save(arch + ".x", x)
    m.eval()
    with torch.no_grad():
        save(arch + ".y_eval", m(x))
    y, gs = train_step(m, x, grads)
    y64, gs64 = train_step(m64, x.double(), grads)
    # references from the float64 run: PyTorch's float32 gradients of the early layers are
    # themselves off by up to 1e-2 (rounding amplified through the batch norms), vertebra's
    # (double accumulation in batch norm) land much closer to float64
    save(arch + ".y_train", y64)
    tol = [rel_err(y, y64)]
    for g, t, t64 in zip(grads, gs, gs64):
        save(f"{arch}.g.{g}", t64)
        tol.append(rel_err(t, t64))
    # PyTorch float32's own relative L2 error for y_train and each gradient, in order
    np.save(os.path.join(D, arch + ".f32err.npy"), np.array(tol, dtype=np.float32))
    bufs = dict(m.named_buffers())
    for b in bns:
        save(f"{arch}.rm.{b}", bufs[b + ".running_mean"])


torch.manual_seed(0)
# 4 x 64 x 64: the last stages still have 16 values per channel for batch norm (with 2 x 32 x 32
# they have 2, and train mode is too ill-conditioned to compare even float32 with float64)
x2d = torch.rand(4, 1, 64, 64) * 2 - 1

m = torchvision.models.resnet18(num_classes=3); m.conv1 = one_ch(m.conv1)
run("resnet18", m, x2d, ["conv1.weight", "layer2.0.downsample.0.weight", "layer3.1.bn2.weight", "fc.weight", "fc.bias"], ["bn1", "layer4.1.bn2"])

m = torchvision.models.resnet50(num_classes=3); m.conv1 = one_ch(m.conv1)
run("resnet50", m, x2d, ["conv1.weight", "layer1.0.conv3.weight", "layer4.2.bn3.bias", "fc.weight"], ["layer2.0.downsample.1"])

m = torchvision.models.densenet121(num_classes=3); m.features.conv0 = one_ch(m.features.conv0)
run("densenet121", m, x2d, ["features.conv0.weight", "features.denseblock1.denselayer1.norm1.weight",
    "features.denseblock2.denselayer5.conv1.weight", "features.transition1.conv.weight", "features.norm5.bias",
    "classifier.weight"], ["features.denseblock3.denselayer24.norm1"])

m = torchvision.models.vgg16_bn(num_classes=3); m.features[0] = one_ch(m.features[0])
m.classifier[2].p = 0.0; m.classifier[5].p = 0.0  # dropout off: train-mode outputs are comparable
run("vgg16_bn", m, x2d, ["features.0.weight", "features.41.bias", "classifier.6.weight"], ["features.1"])

# the UNet of the bench peer, without running its main()
PEER = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "peer", "torch_bench.py")
peer = {"__name__": "torch_bench_module"}
exec(open(PEER).read().replace("\nmain()", "\n"), peer)
UNet = peer["UNet"]
m = UNet(widths=(8, 16, 32), bottom=64)
run("unet2d", m, x2d, ["down.0.0.weight", "mid.4.weight", "up.0.weight", "up.2.bias", "dec.2.3.weight", "head.weight", "head.bias"], ["down.1.1"])

m = UNet(widths=(4, 8), bottom=16, d3=True)
run("unet3d", m, torch.rand(2, 1, 8, 8, 8) * 2 - 1, ["down.0.0.weight", "up.0.weight", "dec.1.0.weight", "head.bias"], ["mid.1"])
print("model fixtures written to", D)
