"""safetensors fixtures for tests/core/test_safetensors.c (run with /usr/bin/python3).

Written in pure Python (struct + json) by tools/export_torchvision.py's writer, since the
`safetensors` package is not in Debian; expected values as f32 .npy:

1. st_dtypes.safetensors: one tensor per dtype (F32 F16 BF16 F64 I64 I32 I16 I8 U8 BOOL),
   a 0-d I64 scalar, an empty (0, 3) tensor and a name with a JSON \\u escape; data laid
   out in the reverse of the header order (readers must follow data_offsets), metadata
   {"format": "pt", "note": ...}. Expected: st_dtypes.<name>.npy (the value converted to
   f32 by torch, exactly what a reader must produce).
2. st_tv.safetensors: the state dict of a tiny ResNet-like module with torchvision names
   (conv1, bn1 with num_batches_tracked, layer1.0.conv1, fc), F32 as torch saves it.
   Expected: st_tv.<name>.npy, and st_tv.conv1_grey.npy = conv1.weight.sum(1, keepdim=True)
   (the RGB -> grey rule).
"""
import importlib.util, json, os, struct, sys

import numpy as np
import torch

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures")
os.makedirs(OUT, exist_ok=True)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
spec = importlib.util.spec_from_file_location("export_torchvision", os.path.join(ROOT, "tools", "export_torchvision.py"))
exporter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(exporter)

torch.manual_seed(0)


def expect(prefix, name, t):
    np.save(os.path.join(OUT, f"{prefix}.{name}.npy"), t.detach().to(torch.float64).numpy().astype(np.float32))


# 1. every dtype, hand-laid-out header (reverse data order, escaped name)
dt = {
    "f32": torch.tensor([[1.5, -2.25, 3.0e-38], [1e30, -0.0, 7.0]], dtype=torch.float32),
    "f16": torch.tensor([1.0, -2.5, 6.0e-8, 65504.0, -float("inf"), 0.333], dtype=torch.float16),
    "bf16": torch.tensor([[1.0, -3.140625], [1e20, 2.0 ** -130], [0.1, -0.0]], dtype=torch.bfloat16),
    "f64": torch.tensor([[0.1, -1e-300], [123456.789, 2.0]], dtype=torch.float64),
    "i64": torch.tensor([0, -1, 2 ** 40, -(2 ** 20), 7], dtype=torch.int64),
    "i32": torch.tensor([-2147483648, 5, 99], dtype=torch.int32),
    "i16": torch.tensor([[-32768, 32767], [-1, 0]], dtype=torch.int16),
    "i8": torch.tensor([-128, 127, -3], dtype=torch.int8),
    "u8": torch.tensor([0, 255, 17], dtype=torch.uint8),
    "bool": torch.tensor([True, False, True, True]),
    "scalar": torch.tensor(12345, dtype=torch.int64),
    "empty": torch.zeros(0, 3),
    "caf\u00e9.w": torch.tensor([4.0, 5.0]),
}
header, blobs, off = {"__metadata__": {"format": "pt", "note": "tab\there \"quoted\""}}, [], 0
for name in reversed(list(dt)):
    b = exporter.tensor_bytes(dt[name])
    blobs.append((name, off, off + len(b), b))
    off += len(b)
offsets = {name: [b0, b1] for name, b0, b1, _ in blobs}
for name, t in dt.items():
    header[name] = {"shape": list(t.shape), "data_offsets": offsets[name], "dtype": exporter.DTYPES[t.dtype]}
h = json.dumps(header, indent=1).encode()  # ensure_ascii: the name becomes caf\u00e9.w
with open(os.path.join(OUT, "st_dtypes.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(b for *_, b in blobs))
for name, t in dt.items():
    expect("st_dtypes", "cafe_w" if name.startswith("caf") else name, t.reshape(-1) if t.dim() == 0 else t)


# 2. a tiny torchvision-like state dict
class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(c)


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 4, 3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(4)
        self.layer1 = torch.nn.Sequential(Block(4))
        self.fc = torch.nn.Linear(4, 5)


net = TinyNet()
net.train()
with torch.no_grad():  # non-trivial running stats and a counter, as after training
    for bn in (net.bn1, net.layer1[0].bn1):
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
        bn.num_batches_tracked.fill_(17)
sd = net.state_dict()
exporter.save_safetensors(sd, os.path.join(OUT, "st_tv.safetensors"), {"format": "pt", "arch": "tinynet"})
for name, t in sd.items():
    if not name.endswith("num_batches_tracked"):
        expect("st_tv", name, t)
expect("st_tv", "conv1_grey", sd["conv1.weight"].sum(1, keepdim=True))
print("wrote st_dtypes and st_tv safetensors fixtures to", OUT)
