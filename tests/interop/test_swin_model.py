#!/usr/bin/env python3
"""glia's SwinUNETR against the PyTorch reference of MONAI 1.5 (the SwinUNETR
of python/glia_torch.py):
glia builds a small model (in 2, out 3, feature_size 12, seed 1), saves its
weights and runs an input forward; the reference loads those weights (every
parameter and buffer by MONAI's name, the int64 relative_position_index
included, with strict loading) and runs the same input. Then the other way:
the reference's whole state_dict (norms perturbed so that scale and shift
matter), exported as a plain PyTorch safetensors file, is loaded by glia, which
recognises the configuration from the names, and run on cpu, with and without
use_v2. The input is 64^3: at 32^3 the bottleneck is one voxel,
where PyTorch's InstanceNorm refuses to run.

usage: test_swin_model.py GLIA_SWIN WORKDIR
GLIA_REQUIRE_BACKENDS lists the backends whose device must be present
(others are skipped when absent); GLIA_SWIN_DEVICES overrides the devices
tried (default cpu,opencl:0,vulkan:0)."""
import os
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import glia_torch  # noqa: E402
from checks import check, finish, rel, run_on_device  # noqa: E402

HELPER, WORK = sys.argv[1:3]
SIDE = 64
# Normalised error bound: float32 through ~40 layers (attention, norms,
# convolutions) in another summation order; a wrong slice, shift or mask
# gives errors of order 1.
TOL = 1e-4


def reference(weights, x):
    torch.manual_seed(0)
    net = glia_torch.SwinUNETR(in_channels=2, out_channels=3, feature_size=12, use_v2=False).eval()
    arrays, _ = glia_torch.read_safetensors(weights)
    index = {k: v for k, v in arrays.items() if k.endswith("relative_position_index")}
    check(len(index) == 8 and all(v.dtype == np.int64 for v in index.values()),
          f"glia stores the 8 relative_position_index buffers as int64 ({len(index)} found)")
    check(all(np.array_equal(v, net.state_dict()[k].numpy()) for k, v in index.items()),
          "glia's relative_position_index buffers equal MONAI's")
    net.load_state_dict(glia_torch.numpy_to_state(arrays), strict=True)  # raises on any missing or extra key
    with torch.no_grad():
        return net(torch.from_numpy(x)).numpy()


def export_reference(x, use_v2):
    """The reference with its own weights, saved as WORK/ref.safetensors; its output."""
    torch.manual_seed(3)
    net = glia_torch.SwinUNETR(in_channels=2, out_channels=3, feature_size=12, use_v2=use_v2).eval()
    with torch.no_grad():
        for name, p in net.named_parameters():
            if ".norm" in name:
                p.add_(0.2 * torch.randn_like(p))
        y = net(torch.from_numpy(x)).numpy()
    arrays = glia_torch.state_to_numpy(net)
    glia_torch.write_safetensors(os.path.join(WORK, "ref.safetensors"), arrays)
    return y


def check_load(x):
    for use_v2 in (False, True):  # v2: the layers<i>c blocks, recognised by name
        y_ref = export_reference(x, use_v2)
        r = subprocess.run([HELPER, WORK, "cpu", "load"], capture_output=True, text=True)
        check(r.returncode == 0, f"cpu: glia loads the PyTorch export (use_v2 {use_v2}) {r.stderr.strip()}")
        if r.returncode == 0:
            y = np.load(os.path.join(WORK, "y_ref.npy"))
            e = rel(y, y_ref) if y.shape == y_ref.shape else float("inf")
            check(e < TOL, f"cpu: PyTorch's weights in glia (use_v2 {use_v2}): normalised error {e:.2e}")


def main():
    os.makedirs(WORK, exist_ok=True)
    x = np.random.default_rng(5).standard_normal((1, 2, SIDE, SIDE, SIDE)).astype(np.float32)
    np.save(os.path.join(WORK, "x.npy"), x)
    devices = [d for d in os.environ.get("GLIA_SWIN_DEVICES", "cpu,opencl:0,vulkan:0").split(",") if d]
    ran, y_ref = 0, None
    for device in devices:
        for f in ("y.npy", "weights.safetensors"):
            if os.path.exists(os.path.join(WORK, f)):
                os.remove(os.path.join(WORK, f))
        if not run_on_device([HELPER, WORK, device], device, "glia_swin"):
            continue
        ran += 1
        if y_ref is None:  # the same seed gives the same weights on every backend
            t0 = time.time()
            y_ref = reference(os.path.join(WORK, "weights.safetensors"), x)
            print(f"PyTorch forward {time.time() - t0:.1f} s", flush=True)
        y = np.load(os.path.join(WORK, "y.npy"))
        e = rel(y, y_ref) if y.shape == y_ref.shape else float("inf")
        check(e < TOL, f"{device}: forward {y.shape} vs reference {y_ref.shape}: normalised error {e:.2e}")
    check(ran > 0, "at least one device ran")
    check_load(x)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
