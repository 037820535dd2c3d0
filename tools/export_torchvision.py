#!/usr/bin/python3
"""Write a torchvision model's state dict as a .safetensors file that vertebra loads
(vt_params_load_safetensors; see docs/weights.md). Pure Python (struct + json): the
`safetensors` package is not in Debian.

  tools/export_torchvision.py resnet18                          # random init (weights=None)
  tools/export_torchvision.py resnet18 --state-dict resnet18-f37072fd.pth
  tools/export_torchvision.py densenet121 --out dn121.safetensors --seed 1

Without internet torchvision cannot download pretrained weights: fetch the .pth elsewhere
and pass it with --state-dict (a plain state dict, or a checkpoint dict holding one under
"state_dict" or "model"; a "module." prefix from DataParallel is removed). The state dict
is written as is: names are torchvision's, dtypes kept (vertebra converts on load)."""
import argparse, json, struct, sys

import torch

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
          torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
          torch.uint8: "U8", torch.bool: "BOOL"}


def tensor_bytes(t):
    t = t.detach().cpu().contiguous().reshape(-1)
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: same bits as int16
        t = t.view(torch.int16)
    if t.dtype == torch.bool:
        t = t.to(torch.uint8)
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def save_safetensors(tensors, path, metadata=None):
    """tensors: name -> torch.Tensor. Sorted by name, data in the same order, no gaps."""
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        t = tensors[name]
        b = tensor_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # data 8-byte aligned, as the reference writer
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load_state_dict(path):
    sd = torch.load(path, map_location="cpu")
    for key in ("state_dict", "model"):
        if isinstance(sd, dict) and isinstance(sd.get(key), dict):
            sd = sd[key]
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in sd.items() if torch.is_tensor(v)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="torchvision.models name: resnet18, vgg16_bn, densenet121, ...")
    ap.add_argument("--state-dict", help="local .pth to export instead of a random init")
    ap.add_argument("--out", help="output path (default MODEL.safetensors)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random init")
    a = ap.parse_args()
    if a.state_dict:
        sd = load_state_dict(a.state_dict)
    else:
        import torchvision
        torch.manual_seed(a.seed)
        if not hasattr(torchvision.models, a.model):
            sys.exit(f"export_torchvision: no torchvision model '{a.model}'")
        sd = getattr(torchvision.models, a.model)(weights=None).state_dict()
    out = a.out or a.model + ".safetensors"
    save_safetensors(sd, out, {"format": "pt", "arch": a.model,
                               "source": a.state_dict or f"torchvision random init, seed {a.seed}"})
    print(f"{out}: {len(sd)} tensors, {sum(t.numel() for t in sd.values())} values")


if __name__ == "__main__":
    main()
