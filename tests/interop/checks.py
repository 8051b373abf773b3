"""Shared by the interop tests: one line per check, the failures collected,
and the normalised error they compare with."""
import numpy as np

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def rel(a, b):
    """||a - b|| / ||b|| in double precision."""
    return float(np.linalg.norm(a.astype(np.float64) - b) / max(np.linalg.norm(b.astype(np.float64)), 1e-30))


def finish():
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0
