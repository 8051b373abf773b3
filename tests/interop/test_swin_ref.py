"""Checks of the SwinUNETR of python/glia_torch.py, the PyTorch reference of
MONAI 1.5's SwinUNETR, against facts that do not come from its own code: the trainable
parameter counts of MONAI's model (from the issue), MONAI's state_dict key
names, the relative position index by brute force, the legacy PatchMerging
slice order as written in MONAI 1.5, output shapes, a strict state_dict
round trip and the window partition / reverse round trip.

usage: test_swin_ref.py   (exit 0 when every check passes; one line per check)"""
import io
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import glia_torch  # noqa: E402

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
torch.manual_seed(0)
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def n_trainable(m):
    return sum(p.numel() for p in m.parameters() if p.requires_grad)


t0 = time.time()

# 1. Trainable parameter counts of MONAI's SwinUNETR (authoritative figures).
EXPECTED = [
    (dict(feature_size=48), 62_191_941),
    (dict(feature_size=48, use_v2=True), 72_767_301),
    (dict(feature_size=24), 15_705_621),
]
big = None
for kw, want in EXPECTED:
    m = glia_torch.SwinUNETR(in_channels=4, out_channels=3, **kw)
    got = n_trainable(m)
    check(got == want, f"parameters SwinUNETR(4, 3, {kw}): {got:,} (MONAI {want:,})")
    if kw == dict(feature_size=48, use_v2=True):
        big = m

# 2. MONAI's state_dict names (as MONAI 1.5 builds the module tree) and dtypes.
sd = big.state_dict()
MUST = {
    "swinViT.patch_embed.proj.weight": (48, 4, 2, 2, 2),
    "swinViT.patch_embed.proj.bias": (48,),
    "swinViT.layers1.0.blocks.0.norm1.weight": (48,),
    "swinViT.layers1.0.blocks.0.attn.relative_position_bias_table": (2197, 3),
    "swinViT.layers1.0.blocks.1.attn.relative_position_index": (343, 343),
    "swinViT.layers1.0.blocks.0.attn.qkv.weight": (144, 48),
    "swinViT.layers1.0.blocks.0.attn.qkv.bias": (144,),
    "swinViT.layers1.0.blocks.0.attn.proj.weight": (48, 48),
    "swinViT.layers1.0.blocks.0.mlp.linear1.weight": (192, 48),
    "swinViT.layers1.0.blocks.0.mlp.linear2.bias": (48,),
    "swinViT.layers1.0.downsample.reduction.weight": (96, 384),
    "swinViT.layers1.0.downsample.norm.weight": (384,),
    "swinViT.layers4.0.blocks.1.attn.relative_position_bias_table": (2197, 24),
    "swinViT.layers4.0.downsample.reduction.weight": (768, 3072),
    "swinViT.layers1c.0.layer.conv1.conv.weight": (48, 48, 3, 3, 3),
    "swinViT.layers4c.0.layer.conv2.conv.weight": (384, 384, 3, 3, 3),
    "encoder1.layer.conv1.conv.weight": (48, 4, 3, 3, 3),
    "encoder1.layer.conv2.conv.weight": (48, 48, 3, 3, 3),
    "encoder1.layer.conv3.conv.weight": (48, 4, 1, 1, 1),
    "encoder10.layer.conv1.conv.weight": (768, 768, 3, 3, 3),
    "decoder5.transp_conv.conv.weight": (768, 384, 2, 2, 2),
    "decoder5.conv_block.conv1.conv.weight": (384, 768, 3, 3, 3),
    "decoder5.conv_block.conv3.conv.weight": (384, 768, 1, 1, 1),
    "decoder1.transp_conv.conv.weight": (48, 48, 2, 2, 2),
    "out.conv.conv.weight": (3, 48, 1, 1, 1),
    "out.conv.conv.bias": (3,),
}
bad = [k for k, s in MUST.items() if k not in sd or tuple(sd[k].shape) != s]
check(not bad, f"MONAI key names and shapes present ({len(MUST)} spot checks){': ' + str(bad) if bad else ''}")
# Things MONAI's tree does not have: conv biases in the res blocks, affine
# instance norms, running stats, a patch-embedding norm, encoder2's conv3.
MUST_NOT = ["encoder1.layer.conv1.conv.bias", "encoder1.layer.norm1.weight", "encoder1.layer.norm1.running_mean",
            "decoder5.transp_conv.conv.bias", "swinViT.patch_embed.norm.weight", "encoder2.layer.conv3.conv.weight",
            "swinViT.layers1.0.downsample.reduction.bias"]
extra = [k for k in MUST_NOT if k in sd]
check(not extra, f"no keys MONAI lacks{': ' + str(extra) if extra else ''}")
rpi = [k for k in sd if k.endswith("relative_position_index")]
nonparam = set(sd) - {k for k, _ in big.named_parameters()}
check(len(rpi) == 8 and nonparam == set(rpi),
      f"buffers: exactly the 8 relative_position_index ({len(rpi)} of {len(nonparam)} non-parameter entries)")
check(all(v.dtype == torch.float32 for k, v in sd.items() if k not in rpi), "parameters are float32")
del big, m, sd

# 3. relative_position_index: int64, values in [0, 13^3), and equal to the
# brute-force relative offset index (i - j + 6 per axis, d-major in a 13^3 table).
idx = glia_torch.WindowAttention(24, 3, (7, 7, 7)).relative_position_index
check(idx.dtype == torch.int64 and tuple(idx.shape) == (343, 343), f"relative_position_index dtype {idx.dtype} shape {tuple(idx.shape)}")
check(int(idx.min()) >= 0 and int(idx.max()) < 13 ** 3, f"relative_position_index values in [{int(idx.min())}, {int(idx.max())}] within [0, 2197)")
t = np.arange(343)
cd, ch, cw = t // 49, (t // 7) % 7, t % 7
brute = ((cd[:, None] - cd[None, :] + 6) * 169 + (ch[:, None] - ch[None, :] + 6) * 13 + (cw[:, None] - cw[None, :] + 6))
check(np.array_equal(idx.numpy(), brute), "relative_position_index equals the brute-force offset index")

# 4. Window partition / reverse round trip, and the partition against explicit slicing.
x = torch.randn(2, 14, 21, 7, 5)
ws = (7, 7, 7)
win = glia_torch.window_partition(x, ws)
back = glia_torch.window_reverse(win, ws, (2, 14, 21, 7))
check(torch.equal(back, x), f"window_reverse(window_partition(x)) == x for {tuple(x.shape)}, windows {tuple(win.shape)}")
ok = True
k = 0
for b in range(2):
    for i in range(2):
        for j in range(3):
            ref = x[b, 7 * i:7 * i + 7, 7 * j:7 * j + 7, 0:7, :].reshape(343, 5)
            ok = ok and torch.equal(win[k], ref)
            k += 1
check(ok and k == win.shape[0], "window_partition: window k = the k-th 7^3 block (b, d, h, w order), tokens d-major")
x = torch.randn(1, 6, 4, 10, 3)
ws = (3, 2, 5)
check(torch.equal(glia_torch.window_reverse(glia_torch.window_partition(x, ws), ws, (1, 6, 4, 10)), x),
      "window partition / reverse round trip with an anisotropic window")

# 5. The shifted-window mask: 0 / -100, zero within the unwrapped first window.
mask = glia_torch.compute_mask([14, 14, 14], (7, 7, 7), (3, 3, 3))
vals = set(torch.unique(mask).tolist())
check(tuple(mask.shape) == (8, 343, 343) and vals == {0.0, -100.0} and not mask[0].any()
      and bool(mask[7].any()) and torch.equal(mask, mask.transpose(1, 2)),
      f"shift mask shape {tuple(mask.shape)}, values {sorted(vals)}, window 0 unmasked, symmetric")

# 6. MONAI 1.5's legacy PatchMerging order (as written in swin_unetr.py:
# x0..x7 = [0::2,0::2,0::2], [1,0,0], [0,1,0], [0,0,1], [1,0,1], [0,1,0],
# [0,0,1], [1,1,1]: x5 and x6 repeat x2 and x3) and PatchMergingV2's product order.
MONAI_MERGING = [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (0, 1, 0), (0, 0, 1), (1, 1, 1)]
PRODUCT = [(i, j, k) for i in (0, 1) for j in (0, 1) for k in (0, 1)]
code = torch.zeros(1, 4, 4, 4, 1)
for d in range(4):
    for h in range(4):
        for w in range(4):
            code[0, d, h, w, 0] = 4 * (d % 2) + 2 * (h % 2) + (w % 2)
for cls, want in ((glia_torch.PatchMerging, MONAI_MERGING), (glia_torch.PatchMergingV2, PRODUCT)):
    pm = cls(dim=1)
    with torch.no_grad():
        pm.norm.weight.fill_(1.0)
        pm.norm.bias.zero_()
        captured = {}
        pm.norm.register_forward_hook(lambda mod, inp, out: captured.setdefault("in", inp[0]))
        pm(code)
    got = [tuple(int(c) >> s & 1 for s in (2, 1, 0)) for c in captured["in"][0, 0, 0, 0]]
    check(got == want, f"{cls.__name__} slice order {got}")
check(glia_torch.MERGING_MODE["merging"] is glia_torch.PatchMerging, "downsample 'merging' is the legacy PatchMerging")

# 7. get_window_size: an axis <= the window takes the axis size and no shift.
check(glia_torch.get_window_size((2, 7, 8), (7, 7, 7), (3, 3, 3)) == ((2, 7, 7), (0, 0, 3)),
      "get_window_size((2, 7, 8)) -> window (2, 7, 7), shift (0, 0, 3)")

# 8. Forward shapes, feature_size 12, 1x4x64^3 (v1 and v2).
x = torch.randn(1, 4, 64, 64, 64)
models = {}
for v2 in (False, True):
    m = glia_torch.SwinUNETR(in_channels=4, out_channels=3, feature_size=12, use_v2=v2).eval()
    with torch.no_grad():
        y = m(x)
    check(tuple(y.shape) == (1, 3, 64, 64, 64) and bool(torch.isfinite(y).all()),
          f"forward feature_size 12 use_v2={v2}: {tuple(x.shape)} -> {tuple(y.shape)}, finite")
    models[v2] = (m, y)

# 9. state_dict -> bytes -> load_state_dict(strict=True) into a fresh module
# (itself randomly initialised, so only the load can make the outputs agree).
# The input stays 64^3: at 32^3 the bottleneck is 1^3 and InstanceNorm refuses it.
for v2, (m, y) in models.items():
    buf = io.BytesIO()
    torch.save(m.state_dict(), buf)
    buf.seek(0)
    loaded = torch.load(buf)
    fresh = glia_torch.SwinUNETR(in_channels=4, out_channels=3, feature_size=12, use_v2=v2).eval()
    res = fresh.load_state_dict(loaded, strict=True)
    sd_a, sd_b = m.state_dict(), fresh.state_dict()
    same = list(sd_a) == list(sd_b) and all(
        sd_a[k].dtype == sd_b[k].dtype and torch.equal(sd_a[k], sd_b[k]) for k in sd_a)
    with torch.no_grad():
        same_out = torch.equal(y, fresh(x))
    check(not res.missing_keys and not res.unexpected_keys and same and same_out,
          f"state_dict round trip strict=True use_v2={v2}: {len(sd_a)} entries equal, outputs identical")
try:
    models[False][0].load_state_dict(models[True][0].state_dict(), strict=True)
    check(False, "strict load of a use_v2 state_dict into a v1 module is refused")
except RuntimeError:
    check(True, "strict load of a use_v2 state_dict into a v1 module is refused")

print(f"{'FAILED ' + str(len(failures)) if failures else 'all passed'} ({time.time() - t0:.1f} s)")
sys.exit(1 if failures else 0)
