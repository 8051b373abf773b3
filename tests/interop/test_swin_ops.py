#!/usr/bin/env python3
"""SwinUNETR's building blocks in glia against PyTorch, as MONAI writes them:
exact GELU, LeakyReLU, LayerNorm, InstanceNorm, softmax over the last axis,
nn.Linear, the shifted-window mask addition, the cyclic shift with MONAI's
window_partition, the relative position bias lookup with MONAI's
relative_position_index, patch merging's strided slices and the padding to
window multiples; forward values
and the gradients of sum(y * dy) for every input, on every device present.

usage: test_swin_ops.py GLIA_OPS WORKDIR
GLIA_OPS is the helper built from glia_ops.c. GLIA_REQUIRE_BACKENDS lists the
backends whose device must be present (others are skipped when absent)."""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import check, finish, rel, run_on_device  # noqa: E402

OPS, WORK = sys.argv[1:3]
WS = 2  # window side, as glia_ops.c
# Normalised error bound for computed results: float32 rounding of sums over at
# most a few hundred terms (~1e-7 each) with room, far below a wrong term or
# the tanh-approximate GELU (9e-5 from the exact one on these inputs). Pure
# data movement must match exactly.
TOL = 1e-5
EXACT = {"windows", "merge", "bias", "pad"}


def window_partition(x):
    b, d, h, w, c = x.shape
    x = x.view(b, d // WS, WS, h // WS, WS, w // WS, WS, c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).contiguous().view(-1, WS * WS * WS, c)


def relative_position_index():
    coords = torch.stack(torch.meshgrid(torch.arange(WS), torch.arange(WS), torch.arange(WS), indexing="ij"))
    flat = torch.flatten(coords, 1)
    rc = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
    rc += WS - 1
    rc[:, :, 0] *= (2 * WS - 1) * (2 * WS - 1)
    rc[:, :, 1] *= 2 * WS - 1
    return rc.sum(-1)


def t_windows(x):
    return window_partition(torch.roll(x, shifts=(-(WS // 2),) * 3, dims=(1, 2, 3)))


def t_bias(table):
    n = WS ** 3
    return table[relative_position_index().reshape(-1)].reshape(n, n, -1).permute(2, 0, 1)


def t_merge(x):  # PatchMergingV2's order (the default "merging" differs: python/glia_torch.py)
    parts = [x[:, pd::2, ph::2, pw::2, :] for pd in (0, 1) for ph in (0, 1) for pw in (0, 1)]
    return torch.cat(parts, -1)


n = WS ** 3
# name: (torch function, input shapes, input scales)
CASES = {
    "gelu": (F.gelu, [(3, 5, 7)], [3.0]),
    "leaky": (lambda x: F.leaky_relu(x, 0.01), [(4, 33)], [1.0]),
    "layernorm": (lambda x, g, b: F.layer_norm(x, (x.shape[-1],), g, b, 1e-5), [(2, 5, 24), (24,), (24,)], [2.0, 1.0, 1.0]),
    "instnorm": (lambda x: F.instance_norm(x, eps=1e-5), [(2, 3, 4, 5, 6)], [2.0]),
    "softmax": (lambda x: torch.softmax(x, -1), [(2, 3, n, n)], [3.0]),
    "linear": (F.linear, [(2, 3, 4, 12), (20, 12), (20,)], [1.0, 0.3, 1.0]),
    "mask": (lambda x, m: x + m, [(2, 3, 4, n, n), (1, 3, 1, n, n)], [1.0, 50.0]),
    "windows": (t_windows, [(2, 4, 6, 4, 3)], [1.0]),
    "bias": (t_bias, [((2 * WS - 1) ** 3, 3)], [1.0]),
    "merge": (t_merge, [(2, 4, 6, 2, 3)], [1.0]),
    "pad": (lambda x: F.pad(x, (0, 0, 0, 2, 0, 0, 0, 1)), [(2, 3, 2, 3, 4)], [1.0]),
}


def torch_case(fn, inputs, dy):
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    y = fn(*ts)
    (y * torch.tensor(dy)).sum().backward()
    return y.detach().numpy(), [t.grad.numpy() for t in ts]


def main():
    os.makedirs(WORK, exist_ok=True)
    rng = np.random.default_rng(11)
    refs = {}
    for name, (fn, shapes, scales) in CASES.items():
        inputs = [(s * rng.standard_normal(shape)).astype(np.float32) for shape, s in zip(shapes, scales)]
        with torch.no_grad():
            yshape = fn(*[torch.tensor(a) for a in inputs]).shape
        dy = rng.standard_normal(tuple(yshape)).astype(np.float32)
        for k, a in enumerate(inputs):
            np.save(os.path.join(WORK, f"{name}_in{k}.npy"), a)
        np.save(os.path.join(WORK, f"{name}_dy.npy"), dy)
        refs[name] = torch_case(fn, inputs, dy)
    ran = 0
    for device in ("cpu", "opencl:0", "vulkan:0"):
        for f in os.listdir(WORK):
            if f.endswith(("_y.npy",)) or "_g" in f:
                os.remove(os.path.join(WORK, f))
        if not run_on_device([OPS, device, WORK], device, "glia_ops"):
            continue
        ran += 1
        for name, (y_ref, g_ref) in refs.items():
            y = np.load(os.path.join(WORK, f"{name}_y.npy"))
            if name in EXACT:
                check(y.shape == y_ref.shape and np.array_equal(y, y_ref), f"{device}: {name} forward exact")
            else:
                e = rel(y, y_ref)
                check(y.shape == y_ref.shape and e < TOL, f"{device}: {name} forward rel. error {e:.2e}")
            for k, g in enumerate(g_ref):
                got = np.load(os.path.join(WORK, f"{name}_g{k}.npy"))
                e = rel(got, g)
                check(got.shape == g.shape and e < TOL, f"{device}: {name} d/d input {k} rel. error {e:.2e}")
    check(ran > 0, "at least one device ran")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
