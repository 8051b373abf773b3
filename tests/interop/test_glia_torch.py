#!/usr/bin/env python3
"""python/glia_torch.py, both ways, against glia itself:
- a checkpoint from `glia init` (its batch-norm statistics and counters made
  non-trivial) -> glia_torch.load -> the module holds every tensor of the file
  and its eval forward equals `glia forward` on the same input;
- a module from glia_torch.build with random weights and statistics ->
  glia_torch.save (from the module, and from a bare state_dict with the
  configuration spelled out) -> `glia info` reads the model, its configuration
  and parameter count, `glia forward` gives the PyTorch output, and
  glia_torch.load gives the same tensors back;
- glia_torch.DEFAULTS are the defaults `glia init` writes; wrong input is refused.

usage: test_glia_torch.py GLIA WORKDIR"""
import json
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from checks import check, finish, rel  # noqa: E402
import glia_torch  # noqa: E402

GLIA, WORK = sys.argv[1:3]
os.makedirs(WORK, exist_ok=True)
torch.set_num_threads(2)
# float32 rounding (eps 1.2e-7) accumulated over sums of up to ~300 products in
# each of ~20 layers, in another order than PyTorch's: a normalised error of a
# few 1e-6 is expected, 1000 eps leaves room for batch norm's and attention's
# amplification. A wrong weight, statistic or layer gives errors of order 1.
TOL = 1000 * float(np.finfo(np.float32).eps)

# model, configuration (what differs from the defaults), input shape, input scale.
# Without batch norm PyTorch's initialisation shrinks the signal ~2.4x per conv +
# ReLU: a large input keeps the output from being the bias alone.
CASES = [
    ("unet2d", {"in_channels": 2, "out_channels": 2, "features": [4, 8]}, (2, 2, 16, 16), 1),
    ("unet2d", {"features": [3, 5], "batchnorm": False}, (2, 3, 8, 8), 100),
    ("r2unet", {"in_channels": 2, "features": [4, 6], "t": 1}, (2, 2, 8, 8), 1),
    ("unet3d", {"features": [4, 6]}, (1, 4, 8, 8, 8), 1),
    ("swinunetr", {"in_channels": 2, "out_channels": 2, "feature_size": 12, "use_v2": True}, (1, 2, 64, 64, 64), 1),
]
FLAGS = {"use_v2": "v2"}  # glia init's flag where it is not the key


def run(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def init_args(cfg):
    out = []
    for k, v in cfg.items():
        flag = FLAGS.get(k, k.replace("_", "-"))
        if isinstance(v, bool):
            out.append(f"--{flag}" if v else f"--no-{flag}")
        else:
            out += [f"--{flag}", ",".join(map(str, v)) if isinstance(v, list) else str(v)]
    return out


def glia_forward(weights, x, tag):
    xin, out = os.path.join(WORK, f"{tag}_x.npy"), os.path.join(WORK, f"{tag}_y.npy")
    np.save(xin, x)
    run(GLIA, "forward", "--device", "cpu", "--threads", "2", "--weights", weights, xin, out)
    return np.load(out)


def torch_forward(module, x):
    with torch.no_grad():
        return module.eval()(torch.from_numpy(x)).numpy()


def same_tensors(state, arrays):
    """Every tensor equal, bit for bit, dtype and shape included."""
    state = glia_torch.state_to_numpy(state)
    return set(state) == set(arrays) and all(
        state[k].dtype == arrays[k].dtype and state[k].shape == arrays[k].shape and np.array_equal(state[k], arrays[k])
        for k in state)


def randomise(module, rng):
    """Batch-norm statistics, counters and affine parameters (LayerNorm's for
    SwinUNETR) away from their initial 0/1, so that eval mode depends on them."""
    with torch.no_grad():
        for mod in module.modules():
            if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
                mod.running_mean.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, mod.num_features)))
                mod.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, mod.num_features)))
                mod.num_batches_tracked.fill_(int(rng.integers(1, 100)))
            if isinstance(mod, (torch.nn.modules.batchnorm._BatchNorm, torch.nn.LayerNorm)):
                mod.weight.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, mod.weight.shape)))
                mod.bias.copy_(torch.from_numpy(rng.uniform(-0.2, 0.2, mod.bias.shape)))


def glia_to_torch(tag, model, cfg, x, rng):
    init = os.path.join(WORK, f"{tag}_init.safetensors")
    run(GLIA, "init", model, *init_args(cfg), "--seed", 7, "-o", init)
    # glia's fresh statistics (0, 1, counter 0) would hide a statistic left
    # unloaded: the file gets random ones, with glia's metadata unchanged
    arrays, meta = glia_torch.read_safetensors(init)
    for k in arrays:
        if k.endswith("running_mean") or k.endswith("running_var"):
            arrays[k] = rng.uniform(0.5 if k.endswith("var") else -0.5, 1.5, arrays[k].shape).astype(np.float32)
        elif k.endswith("num_batches_tracked"):
            arrays[k] = np.array(int(rng.integers(1, 100)), np.int64)
    ckpt = os.path.join(WORK, f"{tag}_glia.safetensors")
    glia_torch.write_safetensors(ckpt, arrays, meta)

    module, got_meta = glia_torch.load(ckpt)
    want_cfg = json.loads(meta["config"])  # as glia wrote it
    check(got_meta == meta and module.glia_model == model and module.glia_config == want_cfg,
          f"{tag}: load builds {type(module).__name__} with glia's configuration {want_cfg}")
    check(not module.training, f"{tag}: load returns the module in eval mode")
    check(same_tensors(module, arrays), f"{tag}: the module holds every tensor of the file "
                                        f"({len(arrays)}, statistics and int64 counters included), bit for bit")
    ref = torch_forward(module, x)
    e = rel(glia_forward(ckpt, x, tag + "_g2t"), ref)
    check(e < TOL and ref.std() > 0.01, f"{tag}: PyTorch forward of the loaded module vs glia forward, "
                                        f"rel. error {e:.2e} (output std {ref.std():.3f})")


def torch_to_glia(tag, model, cfg, x, rng):
    torch.manual_seed(11)
    module = glia_torch.build(model, cfg)
    randomise(module, rng)
    ref = torch_forward(module, x)
    nparams = sum(p.numel() for p in module.parameters())
    from_module = os.path.join(WORK, f"{tag}_module.safetensors")
    from_state = os.path.join(WORK, f"{tag}_state.safetensors")
    glia_torch.save(module, from_module)
    glia_torch.save(module.state_dict(), from_state, model=model, **cfg)
    for f, how in ((from_module, "module"), (from_state, "state_dict")):
        _, meta = glia_torch.read_safetensors(f)
        check(meta.get("model") == model and json.loads(meta["config"]) == module.glia_config,
              f"{tag}: saved from a {how}: metadata model {meta.get('model')}, config {meta.get('config')}")
        info = run(GLIA, "info", f)
        shown = [line for line in info.splitlines() if line.startswith(("model:", "config:", "parameters:"))]
        size = (f"features {','.join(map(str, cfg['features']))}" if "features" in cfg
                else f"feature_size {cfg['feature_size']}")
        check(shown[0].startswith(f"model: {model}") and size in shown[1] and
              shown[2] == f"parameters: {nparams} trainable",
              f"{tag}: glia info reads the file saved from a {how}: {'; '.join(shown)}")
        e = rel(glia_forward(f, x, f"{tag}_t2g"), ref)
        check(e < TOL and ref.std() > 0.01, f"{tag}: glia forward of the file saved from a {how} vs PyTorch, "
                                            f"rel. error {e:.2e} (output std {ref.std():.3f})")
    back, _ = glia_torch.load(from_state)
    check(same_tensors(back, glia_torch.state_to_numpy(module)), f"{tag}: save then load gives every tensor back")


def refused(what, fn):
    try:
        fn()
    except ValueError as e:
        check(True, f"refused: {what} ({e})")
        return
    check(False, f"refused: {what} (accepted)")


def check_defaults():
    """glia_torch.DEFAULTS against `glia init` at glia's defaults; only the
    size option is given (small), the full-size files would be ~0.5 GB."""
    small = {"features": [4, 8], "feature_size": 12}
    for model, defaults in glia_torch.DEFAULTS.items():
        size = {k: v for k, v in small.items() if k in defaults}
        f = os.path.join(WORK, f"defaults_{model}.safetensors")
        run(GLIA, "init", model, *init_args(size), "-o", f)
        _, meta = glia_torch.read_safetensors(f)
        got = json.loads(meta["config"])
        check(got == {**defaults, **size}, f"{model}: DEFAULTS {defaults} agree with glia's {got} (size aside)")


def check_refusals():
    m = glia_torch.build("unet2d", features=[4, 8])
    bad = os.path.join(WORK, "refused.safetensors")
    refused("a state_dict saved as another configuration",
            lambda: glia_torch.save(m.state_dict(), bad, model="unet2d", features=[4, 6]))
    refused("a state_dict saved without a model", lambda: glia_torch.save(m.state_dict(), bad))
    check(not os.path.exists(bad), "nothing is written when save refuses")
    refused("an option the model lacks", lambda: glia_torch.build("unet2d", feature_size=12))
    refused("an unknown model", lambda: glia_torch.build("unet4d"))
    bare = os.path.join(WORK, "bare.safetensors")
    glia_torch.write_safetensors(bare, glia_torch.state_to_numpy(m))
    refused("load of a file without 'model' metadata", lambda: glia_torch.load(bare))


def main():
    rng = np.random.default_rng(5)
    for i, (model, cfg, shape, scale) in enumerate(CASES):
        tag = f"{i}_{model}"
        x = (scale * rng.standard_normal(shape)).astype(np.float32)
        glia_to_torch(tag, model, cfg, x, rng)
        torch_to_glia(tag, model, cfg, x, rng)
    check_defaults()
    check_refusals()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
