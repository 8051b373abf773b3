#!/usr/bin/env python3
"""The workloads of `glia bench` in PyTorch, on the same machine (CPU, CUDA or
ROCm), written as the same JSON report (see include/glia/bench.h), so that
`glia bench --compare torch.json glia.json` shows glia beside PyTorch.

Models (the default suite): the training step (train mode, forward,
BCE-with-logits, backward, Adam, gradients cleared) and inference (eval mode,
no autograd) of unet2d, r2unet (batch 4, 3x256x256), unet3d and swinunetr
(batch 1, 4x128x128x128; swinunetr: feature_size 48, sides multiples of 32),
with the model definitions of python/glia_torch.py.
FLOPs as glia counts them: convolutions, and swinunetr's attention and linear
layers (models/swin_flops.c).
Ops: square and convolution-shaped GEMMs and every convolution of unet2d and
unet3d (forward, backward-data, backward-weight), named as glia names them.

  python3 tools/bench_torch.py --threads 2 --json torch.json
  glia bench --threads 2 --suite models --json glia.json
  glia bench --compare torch.json glia.json --png chart.png
"""
import argparse
import fnmatch
import json
import os
import platform
import socket
import statistics
import sys
import time

import torch
import torch.nn.functional as F

# glia computes in fp32: compare with fp32, not TF32 (cuDNN allows TF32 by default).
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import glia_torch  # noqa: E402  (the PyTorch modules of glia's models)

# glia bench runs the models at glia's defaults; nd: their spatial dimensions
DEFAULTS = {name: dict(cfg, nd=3 if name in ("unet3d", "swinunetr") else 2)
            for name, cfg in glia_torch.DEFAULTS.items()}


# ---- the convolutions of a model (as glia's src/bench/bench_shapes.c lists them) ----
def model_convs(name, batch, size):
    """[(n, cin, cout, side, k, stride, nd, uses, needs_dx)] of the primitive:
    a transposed conv is listed from its large side (cin, cout swapped), a
    strided one (a patch embedding) from its input side."""
    cfg = DEFAULTS[name]
    nd, out = cfg["nd"], []

    def add(cin, cout, side, k, transposed=False, uses=1, needs_dx=True, strided=False):
        if transposed:
            out.append((batch, cout, cin, side, k, k, nd, uses, needs_dx))
        else:
            out.append((batch, cin, cout, side, k, k if strided else 1, nd, uses, needs_dx))

    if name == "swinunetr":
        swin_convs(cfg, size, add)
        return out
    feats, ch = cfg["features"], cfg["in_channels"]
    if name == "r2unet":
        t = cfg["t"]

        def rrcnn(cin, f, side, needs_dx=True):
            add(cin, f, side, 1, needs_dx=needs_dx)
            add(f, f, side, 3, uses=t + 1)
            add(f, f, side, 3, uses=t + 1)

        for i, f in enumerate(feats):
            rrcnn(ch, f, size >> i, i > 0)
            ch = f
        L = len(feats)
        for i in range(L - 1):
            lvl = L - 2 - i
            f = feats[lvl]
            add(ch, f, size >> lvl, 3)
            rrcnn(2 * f, f, size >> lvl)
            ch = f
    else:
        side = size
        for i, f in enumerate(feats):
            add(ch, f, side, 3, needs_dx=i > 0)
            add(f, f, side, 3)
            ch = f
            side //= 2
        add(ch, 2 * ch, side, 3)
        add(2 * ch, 2 * ch, side, 3)
        ch *= 2
        for f in reversed(feats):
            side *= 2
            add(ch, f, side, 2, transposed=True)
            add(2 * f, f, side, 3)
            add(f, f, side, 3)
            ch = f
    add(feats[0], cfg["out_channels"], size, 1)
    return out


def swin_convs(cfg, size, add):
    """models/swinunetr.c's swin_conv_layers: the patch embedding (k2 s2, from
    the image), the v2 blocks, the encoder's and decoder's UnetResBlocks."""
    fs = cfg["feature_size"]

    def res(cin, cout, side, needs_dx=True):
        add(cin, cout, side, 3, needs_dx=needs_dx)
        add(cout, cout, side, 3)
        if cin != cout:
            add(cin, cout, side, 1, needs_dx=needs_dx)

    add(cfg["in_channels"], fs, size, 2, strided=True, needs_dx=False)
    for i in range(4 if cfg["use_v2"] else 0):
        res(fs << i, fs << i, size >> (i + 1))
    res(cfg["in_channels"], fs, size, needs_dx=False)
    for i in range(3):
        res(fs << i, fs << i, size >> (i + 1))
    res(16 * fs, 16 * fs, size >> 5)
    for i, (cin, cout) in enumerate(zip((16, 8, 4, 2, 1), (8, 4, 2, 1, 1))):
        add(cin * fs, cout * fs, size >> (4 - i), 2, transposed=True)
        res(2 * cout * fs, cout * fs, size >> (4 - i))
    add(fs, cfg["out_channels"], size, 1)


def swin_matmul_flops(cfg, batch, size):
    """models/swin_flops.c: qkv, proj, q k^T and a v on the zero-padded window
    tokens, the MLP on the tokens, the patch merging's reduction."""
    flops = 0.0
    for i in range(4):
        side, ch = size >> (i + 1), cfg["feature_size"] << i
        ws = side if side <= 7 else 7
        padded = -(-side // ws) * ws
        t, tw, n = batch * side ** 3, batch * padded ** 3, ws ** 3
        block = 2 * tw * ch * 3 * ch + 2 * tw * ch * ch + 2 * (2 * tw * n * ch) + 2 * (2 * t * ch * 4 * ch)
        flops += 2 * block + 2 * (t / 8) * (8 * ch) * (2 * ch)
    return flops


def conv_flops(n, cin, cout, side, k, stride, nd):
    return 2.0 * n * cin * cout * (side // stride) ** nd * k ** nd


def model_flops(name, batch, size):
    """(inference, training step) FLOPs of a model as glia counts them."""
    convs = model_convs(name, batch, size)
    # every operand of the matrix products needs a gradient: training is 3x forward
    mm = swin_matmul_flops(DEFAULTS[name], batch, size) if name == "swinunetr" else 0.0
    return (mm + sum(conv_flops(*c[:7]) * c[7] for c in convs),
            3 * mm + sum(conv_flops(*c[:7]) * c[7] * (3 if c[8] else 2) for c in convs))


# ---- benchmarks ------------------------------------------------------------------
class Bench:
    def __init__(self, name, setup, flops=0.0, nbytes=0.0, items=0.0, unit=""):
        self.name, self.setup, self.flops, self.bytes, self.items, self.unit = name, setup, flops, nbytes, items, unit


def model_benches(args, dev):
    out = []
    for name in ("unet2d", "r2unet", "unet3d", "swinunetr"):
        cfg = DEFAULTS[name]
        three = cfg["nd"] == 3
        batch = args.batch or (1 if three else 4)
        size = args.size or (128 if three else 256)
        fi, ft = model_flops(name, batch, size)

        def setup(train, name=name, cfg=cfg, batch=batch, size=size):
            torch.manual_seed(0)
            model = glia_torch.build(name, {k: v for k, v in cfg.items() if k != "nd"}).to(dev)
            shape = (batch, cfg["in_channels"]) + (size,) * cfg["nd"]
            tshape = (batch, cfg["out_channels"]) + (size,) * cfg["nd"]
            x = torch.randn(shape, device=dev)
            target = (torch.rand(tshape, device=dev) > 0.75).float()
            if train:
                model.train()
                opt = torch.optim.Adam(model.parameters(), lr=1e-4)

                def run():
                    opt.zero_grad(set_to_none=True)
                    loss = F.binary_cross_entropy_with_logits(model(x), target)
                    loss.backward()
                    opt.step()
            else:
                model.eval()

                def run():
                    with torch.no_grad():
                        model(x)
            return run

        unit = "volumes" if three else "images"
        out.append(Bench("model.%s.train_step" % name, lambda s=setup: s(True), ft, 0, batch, unit))
        out.append(Bench("model.%s.infer" % name, lambda s=setup: s(False), fi, 0, batch, unit))
    return out


def op_benches(dev):
    out = []

    def gemm(m, n, k):
        def setup():
            a, b = torch.rand(m, k, device=dev), torch.rand(k, n, device=dev)
            c = torch.empty(m, n, device=dev)
            return lambda: torch.mm(a, b, out=c)
        out.append(Bench("op.gemm.%dx%dx%d" % (m, n, k), setup, 2.0 * m * n * k, 4.0 * (m * k + k * n + m * n)))

    for s in (1024, 2048, 4096):
        gemm(s, s, s)
    for m, n, k in ((64, 65536, 576), (128, 16384, 1152), (256, 4096, 2304), (512, 1024, 4608), (1024, 256, 9216),
                    (8, 2097152, 216), (64, 4096, 1728)):
        gemm(m, n, k)
    seen = set()
    for model, batch, size in (("unet2d", 4, 256), ("unet3d", 1, 128)):
        for c in model_convs(model, batch, size):
            n, cin, cout, side, k, stride, nd = c[:7]
            if (n, cin, cout, side, k, stride, nd) in seen:
                continue
            seen.add((n, cin, cout, side, k, stride, nd))
            dims = "x".join([str(side)] * nd)
            shape = "n%dc%dk%d.%s.k%d" % (n, cin, cout, dims, k) + ("s%d" % stride if stride > 1 else "")
            conv = F.conv2d if nd == 2 else F.conv3d
            gin = torch.nn.grad.conv2d_input if nd == 2 else torch.nn.grad.conv3d_input
            gw = torch.nn.grad.conv2d_weight if nd == 2 else torch.nn.grad.conv3d_weight
            pad = k // 2 if stride == 1 else 0
            xs, ws = (n, cin) + (side,) * nd, (cout, cin) + (k,) * nd
            ys = (n, cout) + (side // stride,) * nd
            fl = conv_flops(n, cin, cout, side, k, stride, nd)
            nb = 4.0 * (n * cin * side ** nd + cout * cin * k ** nd + n * cout * (side // stride) ** nd)

            def fwd(xs=xs, ws=ws, conv=conv, stride=stride, pad=pad):
                x, w = torch.rand(xs, device=dev), torch.rand(ws, device=dev)
                return lambda: conv(x, w, stride=stride, padding=pad)

            def data(xs=xs, ws=ws, ys=ys, gin=gin, stride=stride, pad=pad):
                w, dy = torch.rand(ws, device=dev), torch.rand(ys, device=dev)
                return lambda: gin(xs, w, dy, stride=stride, padding=pad)

            def weight(xs=xs, ws=ws, ys=ys, gw=gw, stride=stride, pad=pad):
                x, dy = torch.rand(xs, device=dev), torch.rand(ys, device=dev)
                return lambda: gw(x, ws, dy, stride=stride, padding=pad)

            for d, setup in (("fwd", fwd), ("bwd_data", data), ("bwd_weight", weight)):
                out.append(Bench("op.conv%dd.%s.%s" % (nd, d, shape), setup, fl, nb))
    n = 4 * 64 * 256 * 256

    def add():
        x, y, z = (torch.rand(n, device=dev) for _ in range(3))
        return lambda: torch.add(x, y, out=z)
    out.append(Bench("op.add.%d" % n, add, 0, 12.0 * n))
    return out


# ---- running -------------------------------------------------------------------------
def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def rss_reset():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def rss_peak():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def new_result(name, flops, nbytes, items, unit):
    """A row of the report before its runs: what finish() completes."""
    return {"name": name, "median_s": 0, "min_s": 0, "runs": 0, "flops": flops, "bytes": nbytes,
            "peak_mem_bytes": 0, "peak_rss_bytes": 0, "items": items, "unit": unit}


def run_bench(b, dev, repeat, warmup):
    rss_reset()
    if dev.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    r = new_result(b.name, b.flops, b.bytes, b.items, b.unit)
    try:
        fn = b.setup()
        times = []
        for i in range(warmup + repeat):
            t0 = time.perf_counter()
            fn()
            sync(dev)
            if i >= warmup:
                times.append(time.perf_counter() - t0)
        del fn
        r.update(median_s=statistics.median(times), min_s=min(times), runs=len(times))
        if dev.type == "cuda":
            r["peak_mem_bytes"] = torch.cuda.max_memory_allocated()
    except (RuntimeError, ValueError) as e:  # out of memory, a shape torch refuses: recorded, the others still run
        r["error"] = str(e).splitlines()[0][:180]
    r["peak_rss_bytes"] = rss_peak()
    return r


def peak(dev):
    """A lower bound of the peak from the library's own kernels (as glia does on GPUs)."""
    n, big = 2048, 1 << 25
    a, b, c = torch.rand(n, n, device=dev), torch.rand(n, n, device=dev), torch.empty(n, n, device=dev)
    best = min(_time(lambda: torch.mm(a, b, out=c), dev) for _ in range(4))
    x, y, z = (torch.rand(big, device=dev) for _ in range(3))
    bbest = min(_time(lambda: torch.add(x, y, out=z), dev) for _ in range(5))
    return {"flops_per_s": 2.0 * n ** 3 / best, "flops_method": "measured: torch.mm 2048^3 (a lower bound)",
            "bytes_per_s": 12.0 * big / bbest, "bytes_method": "measured: torch.add over 3 x 128 MiB", "note": ""}


def _time(fn, dev):
    t0 = time.perf_counter()
    fn()
    sync(dev)
    return time.perf_counter() - t0


TABLE_HEAD = "%-46s %10s %10s %4s %9s %9s %9s" % ("name", "median_s", "min_s", "runs", "GFLOP/s", "items/s", "rss_MB")


def finish(r, pk):
    """r (a result with its times, flops, bytes and items) with the rates added, printed as a row of the table."""
    t = r["median_s"]
    for key, num in (("items_per_s", "items"), ("flops_per_s", "flops"), ("bytes_per_s", "bytes")):
        r[key] = r[num] / t if t > 0 and r[num] else 0
    r["frac_peak_flops"] = r["flops_per_s"] / pk["flops_per_s"] if pk["flops_per_s"] else 0
    r["frac_peak_bytes"] = r["bytes_per_s"] / pk["bytes_per_s"] if pk["bytes_per_s"] else 0
    if "error" in r:
        print("%-46s failed: %s" % (r["name"], r["error"]))
    else:
        print("%-46s %10.6f %10.6f %4d %9.1f %9.3f %9.0f" % (r["name"], t, r["min_s"], r["runs"], r["flops_per_s"] * 1e-9,
                                                          r["items_per_s"], r["peak_rss_bytes"] / 1e6))
    sys.stdout.flush()
    return r


def write_report(report, path):
    """Writes the report to path (if any) whole or not at all; the exit status: 1 when a row failed."""
    if path:
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    return 1 if any("error" in r for r in report["results"]) else 0


def matcher(filt):
    """Whether a name matches --filter: comma-separated substrings or globs; empty matches all."""
    pats = [p for p in filt.split(",") if p]
    return lambda name: not pats or any(fnmatch.fnmatch(name, p) if any(ch in p for ch in "*?[") else p in name
                                        for p in pats)


def machine():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    try:
        mem = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        pass
    u = platform.uname()
    return {"hostname": socket.gethostname(), "os": "%s %s %s" % (u.system, u.release, u.machine), "cpu": cpu,
            "cores": os.cpu_count() or 0, "memory_bytes": mem, "loadavg": [round(v, 2) for v in os.getloadavg()]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (ROCm builds use cuda too)")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (torch.set_num_threads); 0 = all cores")
    ap.add_argument("--suite", default="models", choices=("models", "ops", "all"))
    ap.add_argument("--filter", default="", help="comma-separated substrings or globs")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--batch", type=int, default=0, help="models' batch; 0 = 4 for 2-D models, 1 for 3-D")
    ap.add_argument("--size", type=int, default=0,
                    help="models' spatial side; 0 = 256 for 2-D, 128 for 3-D (swinunetr: a multiple of 32, and "
                         "at least 64: PyTorch's instance norm refuses its 1^3 bottleneck at 32)")
    ap.add_argument("--no-peak", action="store_true")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    dev = torch.device(args.device)
    threads = args.threads or os.cpu_count() or 1
    if dev.type == "cpu":
        torch.set_num_threads(threads)
    benches = []
    if args.suite in ("models", "all"):
        benches += model_benches(args, dev)
    if args.suite in ("ops", "all"):
        benches += op_benches(dev)
    benches = [b for b in benches if matcher(args.filter)(b.name)]
    if args.list:
        print("\n".join(b.name for b in benches))
        return 0
    if not benches:
        print("bench_torch: no benchmark matches %r" % args.filter, file=sys.stderr)
        return 2

    if dev.type == "cuda":
        name = torch.cuda.get_device_name(dev)
        backend = "torch-rocm" if getattr(torch.version, "hip", None) else "torch-cuda"
        driver = "PyTorch %s, %s %s" % (torch.__version__, "HIP" if backend == "torch-rocm" else "CUDA",
                                         torch.version.hip if backend == "torch-rocm" else torch.version.cuda)
    else:
        name, backend = machine()["cpu"], "torch-cpu"
        driver = "PyTorch %s (%s)" % (torch.__version__, "mkldnn" if torch.backends.mkldnn.is_available() else "no mkldnn")
    report = {"schema": "glia-bench-1", "glia_version": "torch-" + torch.__version__,
              "command": " ".join(["python3"] + sys.argv), "machine": machine(), "device": name, "backend": backend,
              "driver": driver, "device_spec": str(dev), "threads": threads if dev.type == "cpu" else 0,
              "peak": {"flops_per_s": 0, "flops_method": "", "bytes_per_s": 0, "bytes_method": "", "note": ""}}
    if not args.no_peak:
        report["peak"] = peak(dev)
    pk = report["peak"]
    print("device %s  %s  (%s), %d threads" % (backend, name, driver, report["threads"]))
    print(TABLE_HEAD)
    report["results"] = [finish(run_bench(b, dev, args.repeat, args.warmup), pk) for b in benches]
    return write_report(report, args.json)


if __name__ == "__main__":
    sys.exit(main())
