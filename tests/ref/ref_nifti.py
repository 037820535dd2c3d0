"""NIfTI reference fixtures from nibabel (Debian's python3-nibabel; run with /usr/bin/python3).

1. For every file listed in ../shared/data/sct/README.md (skipped when absent), tiny
   summaries of what nibabel reads, saved as tests/fixtures/nifti_<dir>_<stem>.<what>.npy:
     shape (3), zooms (3), affine (4, 4), stats [sum, sum of squares] of get_fdata(),
     samples (20, 4): rows (i, j, k, value) at fixed voxels (10 random, 10 non-zero),
     cshape, caffine, csamples: the same after as_closest_canonical.
2. Small synthetic volumes exercising what the real files do not: NIfTI-2, big-endian,
   scl_slope/inter, qform-only, no xform, 4D, int8/uint16/float64. Saved as
   nifti_syn_<name>.nii[.gz] with .data (get_fdata transposed: C order, x fastest),
   .affine, .cdata and .caffine (canonical). The C side (tests/data/test_nifti.c) compares.
"""
import os, re, sys
import numpy as np
import nibabel as nib

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SCT = os.path.join(ROOT, "..", "shared", "data", "sct")


def save(name, arr):
    np.save(os.path.join(OUT, name + ".npy"), np.asarray(arr, dtype=np.float64))


def readme_files(readme):
    """Paths in the first column of the README's table ("| t2/t2.nii.gz | ...")."""
    files = []
    for line in open(readme):
        if not line.startswith("|"):
            continue
        for p in line.split("|")[1].split(","):
            p = p.strip()
            if p.endswith(".nii.gz") or p.endswith(".nii"):
                files.append(p)
    return files


def samples(data, rng):
    """(20, 4) rows i, j, k, value: 10 uniform voxels, 10 non-zero ones (masks are sparse)."""
    idx = [tuple(int(rng.integers(0, n)) for n in data.shape[:3]) for _ in range(10)]
    nz = np.argwhere(data != 0)
    for r in rng.choice(len(nz), size=min(10, len(nz)), replace=False) if len(nz) else []:
        idx.append(tuple(int(v) for v in nz[r][:3]))
    while len(idx) < 20:
        idx.append(idx[len(idx) % 10])
    return np.array([[i, j, k, data[i, j, k]] for i, j, k in idx])


def sct_fixtures():
    readme = os.path.join(SCT, "README.md")
    if not os.path.exists(readme):
        print(f"SKIP: {SCT} absent, no real-data NIfTI fixtures")
        return
    for rel in readme_files(readme):
        img = nib.load(os.path.join(SCT, rel))
        name = "nifti_" + re.sub(r"\.nii(\.gz)?$", "", rel).replace("/", "_")
        data = img.get_fdata()
        rng = np.random.default_rng(0)
        save(name + ".shape", data.shape)
        save(name + ".zooms", img.header.get_zooms()[:3])
        save(name + ".affine", img.affine)
        save(name + ".stats", [data.sum(), (data * data).sum()])
        save(name + ".samples", samples(data, rng))
        can = nib.as_closest_canonical(img)
        cdata = can.get_fdata()
        save(name + ".cshape", cdata.shape)
        save(name + ".caffine", can.affine)
        save(name + ".csamples", samples(cdata, rng))
        print(rel, data.shape, nib.aff2axcodes(img.affine), "->", cdata.shape)


def rot(ax, deg):
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    i, j = [a for a in range(3) if a != ax]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def synthetic(name, data, affine, klass=nib.Nifti1Image, endian="<", qform=1, sform=1,
              slope=None, inter=0.0, zooms=None, ext=".nii"):
    hdr = klass.header_class(endianness=endian)
    hdr.set_data_dtype(data.dtype)  # else the template header's float32 wins
    img = klass(data, affine, header=hdr)
    img.set_qform(affine if qform else None, code=qform)
    img.set_sform(affine if sform else None, code=sform)
    if zooms is not None:
        img.header.set_zooms(zooms)
    if slope is not None:
        img.header.set_slope_inter(slope, inter)
    path = os.path.join(OUT, f"nifti_syn_{name}{ext}")
    nib.save(img, path)
    back = nib.load(path)
    assert back.header.endianness == endian, (name, back.header.endianness)
    d = back.get_fdata()
    save(f"nifti_syn_{name}.data", d.T.reshape(-1))
    save(f"nifti_syn_{name}.affine", back.affine)
    can = nib.as_closest_canonical(back)
    save(f"nifti_syn_{name}.cdata", can.get_fdata().T.reshape(-1))
    save(f"nifti_syn_{name}.cshape", can.shape)
    save(f"nifti_syn_{name}.caffine", can.affine)
    print(name, d.shape, back.header["sizeof_hdr"], back.get_data_dtype(), endian, nib.aff2axcodes(back.affine), "->", can.shape)


def synthetic_fixtures():
    rng = np.random.default_rng(1)
    aff = np.eye(4)
    # NIfTI-2 big-endian int16 with slope/inter, qform only, oblique (rotated 20 deg), PSR-ish
    a = np.eye(4)
    a[:3, :3] = rot(2, 20) @ np.array([[0, 0, -1.5], [-1.0, 0, 0], [0, 2.0, 0]])
    a[:3, 3] = [10, -20, 30]
    synthetic("n2be", rng.integers(-300, 300, (4, 3, 5)).astype(">i2"), a, klass=nib.Nifti2Image,
              endian=">", qform=1, sform=0, slope=0.5, inter=-3.0)
    # NIfTI-1 big-endian float64, sform only, LPI flips, gzip
    a = np.diag([-0.8, -0.9, -2.0, 1.0])
    a[:3, 3] = [5, 6, 7]
    synthetic("n1be_f64", rng.normal(size=(3, 4, 2)).astype(">f8"), a, endian=">", qform=0, sform=2,
              ext=".nii.gz")
    # qform only with a left-handed affine (qfac = pixdim[0] = -1), oblique
    a = np.eye(4)
    a[:3, :3] = rot(0, 15) @ np.diag([-0.7, 1.1, 2.5])
    a[:3, 3] = [-3, 4, -5]
    synthetic("qfac_neg", rng.normal(size=(3, 2, 4)).astype(np.float32), a, qform=2, sform=0)
    # no xform codes: nibabel's base affine (x flipped, centred) from pixdim
    synthetic("noxform", rng.integers(0, 60000, (5, 2, 3)).astype(np.uint16), aff, qform=0, sform=0,
              zooms=(2.0, 3.0, 4.0))
    # 4D int8, qform and sform disagree (sform wins), axes permuted
    a = np.eye(4)
    a[:3, :3] = np.array([[0, 1.0, 0], [0, 0, 1.0], [1.0, 0, 0]])
    synthetic("4d_i8", rng.integers(-128, 127, (2, 3, 4, 2)).astype(np.int8), a, qform=1, sform=1)
    # NIfTI-2 little-endian uint64 / int32 / uint32 / float32 / uint8 / int64
    for dt in ["u8", "i4", "u4", "f4", "u1", "i8"]:
        a = np.diag([1.0, -1.0, 1.0, 1.0])
        synthetic(f"n2_{dt}", rng.integers(0, 100, (2, 3, 2)).astype(dt), a, klass=nib.Nifti2Image,
                  qform=0, sform=1)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    sct_fixtures()
    synthetic_fixtures()
