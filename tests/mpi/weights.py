#!/usr/bin/env python3
"""Compare the float32 tensors two checkpoints share (training state names
excluded): the largest element difference and the difference relative to
how far training moved the weights from a third, the starting weights.

usage: weights.py A.safetensors B.safetensors [--start W0.safetensors] [--tol T]
Exits 1 when ||A - B|| > T * ||A - W0|| (or, without W0, > T * ||A||)."""
import json
import struct
import sys

import numpy as np


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] != "F32" or name.startswith("optim."):
            continue
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(body[a:b], dtype="<f4").astype(np.float64).reshape(info["shape"])
    return out


def main(argv):
    args, start, tol = [], None, 1e-3
    i = 0
    while i < len(argv):
        if argv[i] == "--start":
            start, i = argv[i + 1], i + 2
        elif argv[i] == "--tol":
            tol, i = float(argv[i + 1]), i + 2
        else:
            args.append(argv[i])
            i += 1
    a, b = load(args[0]), load(args[1])
    w0 = load(start) if start else None
    names = sorted(set(a) & set(b))
    if not names or set(a) != set(b):
        print("the checkpoints hold different tensors: %s" % sorted(set(a) ^ set(b)))
        return 1
    diff = sum(float(np.sum((a[k] - b[k]) ** 2)) for k in names) ** 0.5
    if w0 is not None:
        ref = sum(float(np.sum((a[k] - w0[k]) ** 2)) for k in names if k in w0) ** 0.5
        what = "the training update ||A - W0||"
    else:
        ref = sum(float(np.sum(a[k] ** 2)) for k in names) ** 0.5
        what = "||A||"
    worst = max(names, key=lambda k: float(np.max(np.abs(a[k] - b[k]))) if a[k].size else 0.0)
    rel = diff / ref if ref > 0 else float("inf")
    print("%d tensors: ||A - B|| = %.3g, %s = %.3g, ratio %.3g (tolerance %.3g); largest element difference %.3g in %s"
          % (len(names), diff, what, ref, rel, tol, float(np.max(np.abs(a[worst] - b[worst]))), worst))
    return 0 if rel <= tol else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
