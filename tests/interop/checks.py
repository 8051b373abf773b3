"""Shared by the interop tests: one line per check, the failures collected,
and the normalised error they compare with."""
import os
import subprocess
import time

import numpy as np

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def rel(a, b):
    """||a - b|| / ||b|| in double precision."""
    return float(np.linalg.norm(a.astype(np.float64) - b) / max(np.linalg.norm(b.astype(np.float64)), 1e-30))


def run_on_device(args, device, what):
    """Run a glia helper on device; True if it succeeded. Helpers exit 3 when
    the device cannot be opened: a failure only if GLIA_REQUIRE_BACKENDS names
    its backend, otherwise a skip."""
    required = [b for b in os.environ.get("GLIA_REQUIRE_BACKENDS", "cpu").split(",") if b]
    t0 = time.time()
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode == 3:
        check(device.split(":")[0] not in required, f"{device}: no device ({r.stderr.strip()})")
        return False
    check(r.returncode == 0, f"{device}: {what} ran in {time.time() - t0:.1f} s {r.stderr.strip()}")
    return r.returncode == 0


def finish():
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0
