"""Resampling references from scipy.ndimage (run with Debian's /usr/bin/python3 + python3-scipy).

Grid convention matched (nibabel.processing.resample_from_to): voxel indices are voxel
centres, output voxel o samples the input at inv(A_in) @ A_out @ o; outside the input the
edge value is used (scipy mode='nearest'). Arrays are (z, y, x) = (D, H, W), affines act on
(x, y, z), so the matrix handed to scipy is the (x, y, z) one with its axes reversed.
Saves tests/fixtures/resample_<case>.{x,a_in,a_out,y}.npy (y shape = output shape)."""
import os, sys
import numpy as np
from scipy import ndimage

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(0)


def save(name, a):
    np.save(os.path.join(OUT, name + ".npy"), np.asarray(a, dtype=np.float32))


def rot(ax, deg):
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    r = np.eye(3)
    i, j = [a for a in range(3) if a != ax]
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def affine(R, spacing, origin):
    a = np.eye(4)
    a[:3, :3] = R @ np.diag(spacing)
    a[:3, 3] = origin
    return a


def resample(vol, a_in, a_out, out_dhw, order):
    m = np.linalg.inv(a_in) @ a_out        # output voxel (x,y,z) -> input voxel (x,y,z)
    mz = m[:3, :3][::-1, ::-1]             # same map on (z, y, x) indices
    tz = m[:3, 3][::-1]
    return ndimage.affine_transform(vol.astype(np.float64), mz, offset=tz, output_shape=out_dhw,
                                    order=order, mode="nearest")


def case(name, vol, a_in, a_out, out_dhw, order):
    save(f"resample_{name}.x", vol)
    save(f"resample_{name}.a_in", a_in)
    save(f"resample_{name}.a_out", a_out)
    save(f"resample_{name}.y", resample(vol, a_in, a_out, out_dhw, order))


# 1. oblique grids, trilinear: rotated input, differently rotated and scaled output
vol = rng.uniform(-1, 2, size=(5, 6, 7))
a_in = affine(rot(2, 20) @ rot(0, 10), [0.9, 1.1, 1.7], [-3.0, 2.0, 5.0])
a_out = affine(rot(2, 35), [1.3, 0.8, 1.2], [-2.5, 1.0, 6.0])
case("oblique_linear", vol, a_in, a_out, (4, 6, 6), 1)
# 2. same grids, nearest on a label volume
lab = rng.integers(0, 4, size=(5, 6, 7)).astype(np.float64)
case("oblique_nearest", lab, a_in, a_out, (4, 6, 6), 0)
# 3. spacing change, centres aligned: n voxels of s -> m = round(n s / s') of s', centred
vol = rng.uniform(0, 1, size=(6, 8, 10))
sp_in, sp_out = np.array([0.8, 1.0, 2.5]), np.array([1.3, 0.7, 1.1])
a_in = affine(rot(1, 15), sp_in, [10.0, -4.0, 3.0])
n = np.array(vol.shape[::-1])
m = np.maximum(1, np.floor(n * sp_in / sp_out + 0.5)).astype(int)
g = np.eye(4)
g[:3, :3] = np.diag(sp_out / sp_in)
g[:3, 3] = (n - 1) / 2 - sp_out / sp_in * (m - 1) / 2
case("spacing_linear", vol, a_in, a_in @ g, tuple(m[::-1]), 1)
