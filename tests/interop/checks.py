"""Shared by the interop tests: one line per check, the failures collected,
the normalised error they compare with, and the loss they train with."""
import os
import subprocess
import time

import numpy as np
import torch
import torch.nn.functional as F

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def rel(a, b, floor=1e-30):
    """||a - b|| / max(||b||, floor) in double precision."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm((a - b).ravel()) / max(np.linalg.norm(b.ravel()), floor))


def state_errors(got, ref):
    """Worst per-tensor error of optimizer state, each tensor's norm floored at
    1e-3 of the norm of all state of its kind: some parameters have a zero
    gradient in exact arithmetic (conv biases that feed batch norm, attention's
    key bias), so their state is rounding noise (~1e-9) that no two
    implementations share."""
    worst = (0.0, "")
    for kind in ("momentum_buffer", "exp_avg", "exp_avg_sq"):
        names = [n for n in ref if n.endswith("." + kind)]
        total = np.sqrt(sum(float(np.sum(np.asarray(ref[n], np.float64) ** 2)) for n in names))
        for n in names:
            worst = max(worst, (rel(got[n], ref[n], 1e-3 * total), n))
    return worst


def run_on_device(args, device, what):
    """Run a glia helper on device; its CompletedProcess if it succeeded, else
    None. Helpers exit 3 when
    the device cannot be opened: a failure only if GLIA_REQUIRE_BACKENDS names
    its backend, otherwise a skip."""
    required = [b for b in os.environ.get("GLIA_REQUIRE_BACKENDS", "cpu").split(",") if b]
    t0 = time.time()
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode == 3:
        check(device.split(":")[0] not in required, f"{device}: no device ({r.stderr.strip()})")
        return None
    check(r.returncode == 0, f"{device}: {what} ran in {time.time() - t0:.1f} s {r.stderr.strip()}")
    return r if r.returncode == 0 else None


def finish():
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


def dice_bce(logits, target, smooth=1e-5):
    """1 - mean over (n, c) of (2 I + s) / (T + P + s) on sigmoid probabilities,
    plus mean BCE-with-logits (MONAI's DiceLoss defaults + BCEWithLogitsLoss)."""
    p = torch.sigmoid(logits)
    axes = tuple(range(2, logits.dim()))
    inter = (p * target).sum(axes)
    dice = (2 * inter + smooth) / (target.sum(axes) + p.sum(axes) + smooth)
    return (1 - dice.mean()) + F.binary_cross_entropy_with_logits(logits, target)
