#!/usr/bin/env python3
"""NIfTI interop with nibabel (label interop).

Files written by nibabel (every datatype glia reads, NIfTI-1 and -2, plain and
gzip, with scaling and a rotated, flipped affine) are read by `glia convert` to
.npy and must equal nibabel's get_fdata(); .npy -> NIfTI with --like must give
a file nibabel reads with the reference's affine, qform and sform; phantoms
from `glia synth` must load in nibabel with matching grids.

usage: nibabel_check.py GLIA_CLI WORKDIR
"""
import os
import shutil
import subprocess
import sys

import nibabel as nib
import numpy as np

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(cli, *args):
    r = subprocess.run([cli, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"glia {' '.join(args)} failed: {r.stderr.strip()}")
    return r.stdout


def affine():
    c, s = np.cos(0.3), np.sin(0.3)
    return np.array([[-0.9 * c, 0, 1.2 * s, 90.5], [0, 1.1, 0, -126.25], [0.9 * s, 0, 1.2 * c, -72.0], [0, 0, 0, 1]])


def main():
    cli, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    rng = np.random.default_rng(0)
    dtypes = [np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64, np.float32, np.float64]
    for klass in (nib.Nifti1Image, nib.Nifti2Image):
        for dt in dtypes:
            for shape in ((7, 5, 4), (6, 5, 3, 2)):
                for ext in (".nii", ".nii.gz"):
                    info = np.iinfo(dt) if np.issubdtype(dt, np.integer) else None
                    lo, hi = (max(info.min, -30000), min(info.max, 30000)) if info else (-1000, 1000)
                    data = rng.uniform(lo, hi, size=shape).astype(dt)
                    img = klass(data, affine(), dtype=dt)
                    if dt in (np.int16, np.uint8):
                        img.header.set_slope_inter(0.25, -3.0)  # stored scaling
                    name = f"{klass.__name__}_{np.dtype(dt).name}_{len(shape)}d{ext}"
                    src = os.path.join(work, name)
                    nib.save(img, src)
                    out = src + ".npy"
                    run(cli, "convert", src, out)
                    want = nib.load(src).get_fdata().astype(np.float32)
                    got = np.load(out)
                    check(got.shape == want.shape and np.array_equal(got, want), f"read {name} == get_fdata()")
    # .npy -> NIfTI with --like keeps the reference's geometry exactly
    ref = os.path.join(work, "Nifti1Image_int16_3d.nii.gz")
    arr = (np.arange(7 * 5 * 4, dtype=np.float32).reshape(7, 5, 4) % 3).astype(np.float32)
    np.save(os.path.join(work, "mask.npy"), arr)
    mask = os.path.join(work, "mask.nii.gz")
    run(cli, "convert", os.path.join(work, "mask.npy"), mask, "--like", ref, "--dtype", "uint8")
    m, r = nib.load(mask), nib.load(ref)
    check(np.array_equal(m.get_fdata(), arr), "mask values")
    check(np.allclose(m.affine, r.affine, atol=1e-6), "mask affine == reference affine")
    check(np.allclose(m.header.get_qform(), r.header.get_qform(), atol=1e-6)
          and np.allclose(m.header.get_sform(), r.header.get_sform(), atol=1e-6)
          and int(m.header["qform_code"]) == int(r.header["qform_code"])
          and int(m.header["sform_code"]) == int(r.header["sform_code"]), "mask qform/sform == reference's")
    check(m.get_data_dtype() == np.uint8, "mask stored as uint8")
    # phantoms load in nibabel, every modality on the label's grid
    syn = os.path.join(work, "synth")
    run(cli, "synth", "--cases", "2", "--size", "40x40x24", "--seed", "3", "-o", syn)
    case = os.path.join(syn, "BraTS2021_00000", "BraTS2021_00000_")
    seg = nib.load(case + "seg.nii.gz")
    labels = set(np.unique(np.asarray(seg.dataobj)).tolist())
    check(labels <= {0, 1, 2, 4} and len(labels) > 1, f"phantom labels {sorted(labels)}")
    for mod in ("t1", "t1ce", "t2", "flair"):
        v = nib.load(case + mod + ".nii.gz")
        check(v.shape == seg.shape and np.allclose(v.affine, seg.affine), f"phantom {mod} on the seg's grid")
    # a real T1 template (Debian's mricron-data ships Colin27) as the anatomy
    colin = "/usr/share/mricron/templates/ch2better.nii.gz"
    if os.path.exists(colin):
        tpl = os.path.join(work, "template")
        run(cli, "synth", "--cases", "1", "--size", "96x96x60", "--template", colin, "-o", tpl)
        t1 = nib.load(os.path.join(tpl, "BraTS2021_00000", "BraTS2021_00000_t1.nii.gz")).get_fdata()
        brain = (t1 > 0).mean()
        check(0.1 < brain < 0.7, f"template phantom: {brain:.2f} of the grid is brain")
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
