#!/usr/bin/env python3
"""glia's model workloads in ONNX Runtime (CPU), written as the same JSON report
as `glia bench` and tools/bench_torch.py, so that
`glia bench --compare torch.json ort.json glia.json` shows the three together.

The models of python/glia_torch.py (glia's defaults, random weights, eval mode)
are exported with torch.onnx.export (opset 13) and run by onnxruntime-node
(tools/onnx/bench_onnx.mjs, one node process per row: its peak RSS is the
row's). Rows: inference of unet2d, r2unet (batch 4, 3x256x256), unet3d and
swinunetr (batch 1, 4x128^3), FLOPs as bench_torch counts them; and
model.unet3d.infer_volume, the sliding-window inference of a BraTS-sized volume
(4x155x240x240, 128^3 windows, overlap 0.5, Gaussian blending as glia's
src/infer/predict.c), the whole window loop timed.

  npm install --ignore-scripts --prefix tools/onnx     # once: onnxruntime-node 1.31.1
  python3 tools/bench_onnx.py --threads 2 --json ort.json
  python3 tools/bench_onnx.py --check                  # ORT's outputs against torch's
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch import (DEFAULTS, TABLE_HEAD, finish, glia_torch, machine, matcher, model_flops,  # noqa: E402
                         new_result, peak, write_report)

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "onnx", "bench_onnx.mjs")
ORT_VERSION = "1.31.1"
# torch 1.13's exporter warns about constants it cannot type; the --check shows the graphs are right
warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.onnx")
warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)  # swinunetr's shape checks, fixed shapes anyway
BRATS = (155, 240, 240)  # D, H, W of a BraTS volume
OVERLAP = 0.5


def ort_modules():
    """node_modules holding onnxruntime-node, or exit 2 saying how to install it."""
    mods = os.environ.get("GLIA_ORT_MODULES") or os.path.join(HERE, "onnx", "node_modules")
    if not shutil.which("node") or not os.path.isfile(os.path.join(mods, "onnxruntime-node", "package.json")):
        print("bench_onnx: needs node and onnxruntime-node %s in %s; install them with\n"
              "  apt-get install nodejs npm\n"
              "  npm install --ignore-scripts --prefix tools/onnx\n"
              "(or point $GLIA_ORT_MODULES at a node_modules holding onnxruntime-node)" % (ORT_VERSION, mods),
              file=sys.stderr)
        sys.exit(2)
    return os.path.abspath(mods)


def model(name):
    torch.manual_seed(0)
    m = glia_torch.build(name, {k: v for k, v in DEFAULTS[name].items() if k != "nd"})
    return m.eval()


def export(name, shape, folder):
    """The path of name's ONNX graph for inputs of shape (fixed: ORT plans for it)."""
    path = os.path.join(folder, "%s-%s.onnx" % (name, "x".join(map(str, shape))))
    if not os.path.exists(path):
        with torch.no_grad():
            torch.onnx.export(model(name), torch.zeros(shape), path, opset_version=13,
                              input_names=["x"], output_names=["y"])
    return path


def node(job, threads, repeat, warmup, folder, mods):
    """Runs one job in its own node process; its {"times", "max_rss_bytes", "windows"} or {"error"}."""
    jf, of = os.path.join(folder, "job.json"), os.path.join(folder, "out.json")
    with open(jf, "w") as f:
        json.dump({"threads": threads, "repeat": repeat, "warmup": warmup, "job": job}, f)
    if os.path.exists(of):
        os.remove(of)
    p = subprocess.run(["node", SCRIPT, jf, of], env=dict(os.environ, GLIA_ORT_MODULES=mods),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with open(of) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"error": "node exited %d: %s" % (p.returncode, (p.stdout.strip().splitlines() or [""])[-1][:160])}


def volume_dims(size):
    """(C, D, H, W) of the volume at window side size: BraTS's at 128, scaled with it."""
    return (DEFAULTS["unet3d"]["in_channels"],) + tuple(-(-s * size // 128) for s in BRATS)


def window_starts(size, win, overlap):
    """predict.c's window_starts (nnU-Net's)."""
    if size <= win:
        return [0]
    step = max(1, int(win * (1 - overlap)))
    count = -(-(size - win) // step) + 1
    return [int(math.floor((size - win) / (count - 1) * i + 0.5)) for i in range(count)]


def rows(args):
    """[(name, job without the model path, export (name, shape), flops, items, unit)]."""
    out = []
    for name in ("unet2d", "r2unet", "unet3d", "swinunetr"):
        three = DEFAULTS[name]["nd"] == 3
        batch, size = args.batch or (1 if three else 4), args.size or (128 if three else 256)
        shape = (batch, DEFAULTS[name]["in_channels"]) + (size,) * DEFAULTS[name]["nd"]
        out.append(("model.%s.infer" % name, {"shape": shape}, (name, shape), model_flops(name, batch, size)[0],
                    batch, "volumes" if three else "images"))
    win = args.size or 128
    dims = volume_dims(win)
    windows = math.prod(len(window_starts(max(d, win), win, OVERLAP)) for d in dims[1:])
    out.append(("model.unet3d.infer_volume", {"volume": dims, "window": win, "overlap": OVERLAP, "seed": 1,
                                              "out_channels": DEFAULTS["unet3d"]["out_channels"]},
                ("unet3d", (1, dims[0], win, win, win)), windows * model_flops("unet3d", 1, win)[0], 1, "volumes"))
    return out


# ---- --check: ORT against torch ------------------------------------------------------
def blend_reference(net, vol, win):
    """predict.c's sliding window in numpy, torch as the model: the JS loop's reference."""
    C, D, H, W = vol.shape
    P = [max(d, win) for d in (D, H, W)]
    padded = np.zeros((C,) + tuple(P), np.float32)
    padded[:, :D, :H, :W] = vol
    d = np.arange(win) - win // 2
    e = d[:, None, None] ** 2 + d[None, :, None] ** 2 + d[None, None, :] ** 2
    g = np.maximum(np.exp(-e / (2 * (win * 0.125) ** 2)), 1e-8)
    acc, wsum = None, np.zeros(P)
    for z in window_starts(P[0], win, OVERLAP):
        for y in window_starts(P[1], win, OVERLAP):
            for x in window_starts(P[2], win, OVERLAP):
                with torch.no_grad():
                    p = torch.sigmoid(net(torch.from_numpy(padded[None, :, z:z + win, y:y + win, x:x + win].copy())))
                if acc is None:
                    acc = np.zeros((p.shape[1],) + tuple(P))
                acc[:, z:z + win, y:y + win, x:x + win] += p[0].double().numpy() * g
                wsum[z:z + win, y:y + win, x:x + win] += g
    return (acc / wsum)[:, :D, :H, :W]


def check(mods, folder):
    """ORT's outputs of the exported unet2d, r2unet, unet3d against torch's at small sizes, and the JS
    sliding window against blend_reference; 0 when all agree within 1e-4 relative."""
    rng, bad = np.random.default_rng(0), 0
    cases = [("unet2d", (1, 3, 32, 32), None), ("r2unet", (1, 3, 32, 32), None), ("unet3d", (1, 4, 16, 16, 16), None),
             ("unet3d", (1, 4, 32, 32, 32), (4, 40, 70, 70))]
    for name, shape, vol in cases:
        x = rng.standard_normal(vol or shape).astype(np.float32)
        if vol:
            ref = blend_reference(model(name), x, shape[-1])
            job = {"volume": vol, "window": shape[-1], "overlap": OVERLAP, "out_channels": ref.shape[0]}
        else:
            with torch.no_grad():
                ref = model(name)(torch.from_numpy(x)).numpy()
            job = {"shape": shape}
        inp, outp = os.path.join(folder, "in.raw"), os.path.join(folder, "out.raw")
        x.tofile(inp)
        r = node(dict(job, model=export(name, shape, folder), input=inp, output=outp), 1, 1, 0, folder, mods)
        if "error" in r:
            print("check %-8s %-22s failed: %s" % (name, "x".join(map(str, vol or shape)), r["error"]))
            bad += 1
            continue
        got = np.fromfile(outp, np.float32).reshape(ref.shape)
        err = float(np.max(np.abs(got - ref)) / max(float(np.max(np.abs(ref))), 1e-30))
        ok = err <= 1e-4
        bad += not ok
        print("check %-8s %-22s %s  max |ort - torch| / max |torch| = %.2e" %
              (name, ("volume " if vol else "") + "x".join(map(str, vol or shape)), "ok  " if ok else "FAIL", err))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=0, help="ORT's intra-op threads; 0 = all cores")
    ap.add_argument("--filter", default="", help="comma-separated substrings or globs")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--batch", type=int, default=0, help="models' batch; 0 = 4 for 2-D models, 1 for 3-D")
    ap.add_argument("--size", type=int, default=0,
                    help="models' spatial side; 0 = 256 for 2-D, 128 for 3-D; infer_volume's window side "
                         "(its volume is BraTS's 155x240x240 scaled by size/128)")
    ap.add_argument("--no-peak", action="store_true", help="no torch.mm peak measurement")
    ap.add_argument("--check", action="store_true", help="compare ORT's outputs with torch's (small sizes) and exit")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    todo = [r for r in rows(args) if matcher(args.filter)(r[0])]
    if args.list:
        print("\n".join(r[0] for r in todo))
        return 0
    mods = ort_modules()
    threads = args.threads or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench_onnx.") as folder:
        if args.check:
            return check(mods, folder)
        if not todo:
            print("bench_onnx: no benchmark matches %r" % args.filter, file=sys.stderr)
            return 2
        torch.set_num_threads(threads)
        with open(os.path.join(mods, "onnxruntime-node", "package.json")) as f:
            version = json.load(f)["version"]  # the one installed, whatever package.json pins
        driver = "ONNX Runtime %s (onnxruntime-node)" % version
        report = {"schema": "glia-bench-1", "glia_version": "onnxruntime-" + version,
                  "command": " ".join(["python3"] + sys.argv), "machine": machine(), "device": machine()["cpu"],
                  "backend": "onnxruntime-cpu", "driver": driver, "device_spec": "cpu", "threads": threads,
                  "peak": {"flops_per_s": 0, "flops_method": "", "bytes_per_s": 0, "bytes_method": "", "note": ""}}
        if not args.no_peak:
            report["peak"] = dict(peak(torch.device("cpu")), note="through torch's kernels, not ORT's")
        pk = report["peak"]
        print("device %s  %s  (%s; models from torch %s, opset 13), %d threads" %
              (report["backend"], report["device"], driver, torch.__version__, threads))
        print(TABLE_HEAD)
        results = []
        for name, job, (mname, shape), flops, items, unit in todo:
            r = new_result(name, flops, 0, items, unit)
            try:
                out = node(dict(job, model=export(mname, shape, folder)), threads, args.repeat, args.warmup,
                           folder, mods)
            except (RuntimeError, ValueError, torch.onnx.errors.OnnxExporterError) as e:  # recorded, the rest run
                out = {"error": "export: " + (str(e).splitlines() or [""])[0][:170]}
            if "error" in out:
                r["error"] = out["error"]
            elif out["times"]:
                t = out["times"]
                r.update(median_s=statistics.median(t), min_s=min(t), runs=len(t), peak_rss_bytes=out["max_rss_bytes"])
            results.append(finish(r, pk))
        report["results"] = results
        return write_report(report, args.json)


if __name__ == "__main__":
    sys.exit(main())
