"""PNG reader fixtures: small PNG files written chunk by chunk here (numpy + zlib, no image
library), one per colour type / bit depth / filter / interlace variant, each with the
expected (C, H, W) array as vertebra's vt_png_load returns it with raw = 1:
  tests/fixtures/png_<case>.png and png_<case>.npy
Grey below 8 bits is expanded as PIL does (1-bit 0/255, 2-bit x85, 4-bit x17); palette is
expanded to RGB; alpha dropped. png_rgb8_L.npy is PIL's convert('L') of png_rgb8.png and
png_palette8_L.npy of png_palette8.png (the grey option must match PIL exactly).
Where PIL can decode a case losslessly (8-bit and below), the files are also checked
against PIL here, so the hand-written encoder is itself tested.
Run: /usr/bin/python3 tests/ref/ref_png.py tests/fixtures"""
import os, struct, sys, warnings, zlib
import numpy as np

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(0)
warnings.filterwarnings("ignore", "Palette images with Transparency")  # PIL, on the tRNS case

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """One scanline of integer samples (already interleaved) at `depth` bits."""
    if depth == 16:
        return samples.astype(">u2").tobytes()
    if depth == 8:
        return samples.astype(np.uint8).tobytes()
    per = 8 // depth
    padded = np.zeros(-(-len(samples) // per) * per, np.uint8)
    padded[: len(samples)] = samples
    out = np.zeros(len(padded) // per, np.uint8)
    for k in range(per):
        out |= padded[k::per] << (8 - depth * (k + 1))
    return out.tobytes()


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filter_row(ftype, row, prev, bpp):
    """PNG filter types 0..4 applied to one row of bytes (prev: previous raw row)."""
    out = bytearray(len(row))
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i] if prev else 0
        c = prev[i - bpp] if prev and i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ftype]
        out[i] = (x - pred) & 0xFF
    return bytes([ftype]) + bytes(out)


def image_data(pix, depth, channels, interlace):
    """pix: (H, W, channels) integer samples -> filtered, compressed IDAT payload."""
    bpp = max(1, channels * depth // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    raw = b""
    fcount = 0
    for x0, y0, dx, dy in passes:
        sub = pix[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        prev = None
        for r in sub:
            row = pack_row(r.reshape(-1), depth)
            raw += filter_row(fcount % 5, row, prev, bpp)  # cycle through all five filters
            fcount += 1
            prev = row
    return zlib.compress(raw, 9)


def write_png(path, pix, depth, color_type, interlace=0, palette=None, trns=None, split_idat=False):
    h, w, channels = pix.shape
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, interlace))
    out += chunk(b"tEXt", b"Comment\x00vertebra test fixture")
    if palette is not None:
        out += chunk(b"PLTE", palette.astype(np.uint8).tobytes())
    if trns is not None:
        out += chunk(b"tRNS", trns)
    data = image_data(pix, depth, channels, interlace)
    if split_idat:  # several IDAT chunks, as large encoders write
        for i in range(0, len(data), 7):
            out += chunk(b"IDAT", data[i:i + 7])
    else:
        out += chunk(b"IDAT", data)
    out += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(out)


def case(name, pix, depth, color_type, expected, **kw):
    path = os.path.join(OUT, f"png_{name}.png")
    write_png(path, pix, depth, color_type, **kw)
    np.save(os.path.join(OUT, f"png_{name}.npy"), expected.astype(np.float32))
    return path


def chw(a):
    return np.transpose(a, (2, 0, 1))


def check_pil(path, expected_chw, mode):
    try:
        from PIL import Image
    except ImportError:
        return
    got = np.asarray(Image.open(path).convert(mode), dtype=np.float32)
    got = got[None] if got.ndim == 2 else chw(got)
    assert np.array_equal(got, expected_chw), (path, got, expected_chw)


H, W = 5, 7
g8 = rng.integers(0, 256, (H, W, 1))
check_pil(case("grey8", g8, 8, 0, chw(g8)), chw(g8), "L")
g16 = rng.integers(0, 65536, (H, W, 1))
case("grey16", g16, 16, 0, chw(g16))
for depth, mul in ((1, 255), (2, 85), (4, 17)):
    g = rng.integers(0, 1 << depth, (3, 13, 1))  # width 13: rows end mid-byte
    check_pil(case(f"grey{depth}", g, depth, 0, chw(g) * mul), chw(g) * mul, "L")
ga = rng.integers(0, 256, (H, W, 2))
check_pil(case("greyalpha8", ga, 8, 4, chw(ga[..., :1])), chw(ga[..., :1]), "L")
ga16 = rng.integers(0, 65536, (H, W, 2))
case("greyalpha16", ga16, 16, 4, chw(ga16[..., :1]))
rgb = rng.integers(0, 256, (H, W, 3))
p = case("rgb8", rgb, 8, 2, chw(rgb))
check_pil(p, chw(rgb), "RGB")
from_pil = None
try:
    from PIL import Image
    np.save(os.path.join(OUT, "png_rgb8_L.npy"), np.asarray(Image.open(p).convert("L"), np.float32)[None])
except ImportError:  # same formula as PIL's L24 macro
    l = (rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16
    np.save(os.path.join(OUT, "png_rgb8_L.npy"), l[None].astype(np.float32))
rgb16 = rng.integers(0, 65536, (H, W, 3))
case("rgb16", rgb16, 16, 2, chw(rgb16))
rgba = rng.integers(0, 256, (H, W, 4))
check_pil(case("rgba8", rgba, 8, 6, chw(rgba[..., :3])), chw(rgba[..., :3]), "RGB")
rgba16 = rng.integers(0, 65536, (H, W, 4))
case("rgba16", rgba16, 16, 6, chw(rgba16[..., :3]), split_idat=True)
pal = rng.integers(0, 256, (6, 3))
idx = rng.integers(0, 6, (H, W, 1))
p = case("palette8", idx, 8, 3, chw(pal[idx[..., 0]]), palette=pal, trns=bytes([0, 128]))
check_pil(p, chw(pal[idx[..., 0]]), "RGB")
try:
    from PIL import Image
    np.save(os.path.join(OUT, "png_palette8_L.npy"), np.asarray(Image.open(p).convert("RGB").convert("L"), np.float32)[None])
except ImportError:
    pass
idx4 = rng.integers(0, 6, (3, 9, 1))
check_pil(case("palette4", idx4, 4, 3, chw(pal[idx4[..., 0]]), palette=pal), chw(pal[idx4[..., 0]]), "RGB")
rgbi = rng.integers(0, 256, (11, 10, 3))  # Adam7: every pass non-empty
check_pil(case("rgb8_interlaced", rgbi, 8, 2, chw(rgbi), interlace=1), chw(rgbi), "RGB")
gi = rng.integers(0, 2, (9, 11, 1))
check_pil(case("grey1_interlaced", gi, 1, 0, chw(gi) * 255, interlace=1), chw(gi) * 255, "L")
print("png fixtures written to", OUT)
