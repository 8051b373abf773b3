"""PyTorch reference modules of glia's models, written from the specification
(not from glia's code), and a small safetensors reader/writer (numpy, struct,
json), so the interop test needs nothing beyond torch and numpy."""
import json
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---- safetensors -----------------------------------------------------------
_DTYPES = {"F32": np.dtype("<f4"), "I64": np.dtype("<i8"), "F64": np.dtype("<f8")}


def st_read(path):
    """Return ({name: numpy array}, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        arr = np.frombuffer(data[base + begin:base + end], dtype=_DTYPES[e["dtype"]])
        out[name] = arr.reshape(e["shape"]).copy()
    return out, meta


def st_write(path, tensors, meta=None):
    """tensors: {name: numpy array (float32 or int64)}; data in the given order."""
    header, blobs, off = {}, [], 0
    if meta:
        header["__metadata__"] = {k: str(v) for k, v in meta.items()}
    for name, arr in tensors.items():
        arr = np.array(arr, order="C")  # (ascontiguousarray would make a 0-d counter 1-d)
        dtype = "I64" if arr.dtype.kind in "iu" else "F32"
        blob = arr.astype(_DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def state_to_numpy(module):
    return {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}


def numpy_to_state(arrays):
    return {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}


# ---- models ------------------------------------------------------------------
def _layers(nd):
    if nd == 2:
        return nn.Conv2d, nn.BatchNorm2d, nn.ConvTranspose2d, F.max_pool2d
    return nn.Conv3d, nn.BatchNorm3d, nn.ConvTranspose3d, F.max_pool3d


class DoubleConv(nn.Module):
    def __init__(self, cin, cout, bn, nd):
        super().__init__()
        Conv, BN, _, _ = _layers(nd)
        self.conv1 = Conv(cin, cout, 3, padding=1)
        self.bn1 = BN(cout) if bn else None
        self.conv2 = Conv(cout, cout, 3, padding=1)
        self.bn2 = BN(cout) if bn else None

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(self.bn1(x) if self.bn1 is not None else x)
        x = self.conv2(x)
        return F.relu(self.bn2(x) if self.bn2 is not None else x)


class UNet(nn.Module):
    """unet2d (nd=2) and unet3d (nd=3)."""

    def __init__(self, in_channels, out_channels, features, batchnorm=True, nd=2):
        super().__init__()
        Conv, _, ConvT, self._pool = _layers(nd)
        self.enc = nn.ModuleList()
        c = in_channels
        for f in features:
            self.enc.append(DoubleConv(c, f, batchnorm, nd))
            c = f
        self.bottleneck = DoubleConv(c, 2 * c, batchnorm, nd)
        c *= 2
        self.up, self.dec = nn.ModuleList(), nn.ModuleList()
        for f in reversed(features):
            self.up.append(ConvT(c, f, 2, stride=2))
            self.dec.append(DoubleConv(2 * f, f, batchnorm, nd))
            c = f
        self.head = Conv(features[0], out_channels, 1)

    def forward(self, x):
        skips = []
        for block in self.enc:
            x = block(x)
            skips.append(x)
            x = self._pool(x, 2)
        x = self.bottleneck(x)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
            x = dec(torch.cat([skip, up(x)], dim=1))
        return self.head(x)


class Recurrent(nn.Module):
    def __init__(self, c, t):
        super().__init__()
        self.t = t
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        f = lambda z: F.relu(self.bn(self.conv(z)))
        x1 = f(x)
        for _ in range(self.t):
            x1 = f(x + x1)
        return x1


class RRCNN(nn.Module):
    def __init__(self, cin, cout, t):
        super().__init__()
        self.proj = nn.Conv2d(cin, cout, 1)
        self.rec1 = Recurrent(cout, t)
        self.rec2 = Recurrent(cout, t)

    def forward(self, x):
        y = self.proj(x)
        return y + self.rec2(self.rec1(y))


class UpConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))))


class R2UNet(nn.Module):
    def __init__(self, in_channels, out_channels, features, t=2):
        super().__init__()
        self.enc = nn.ModuleList()
        c = in_channels
        for f in features:
            self.enc.append(RRCNN(c, f, t))
            c = f
        self.up, self.dec = nn.ModuleList(), nn.ModuleList()
        for f in reversed(features[:-1]):
            self.up.append(UpConv(c, f))
            self.dec.append(RRCNN(2 * f, f, t))
            c = f
        self.head = nn.Conv2d(features[0], out_channels, 1)

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.enc):
            if i:
                x = F.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        for up, dec, skip in zip(self.up, self.dec, reversed(skips[:-1])):
            x = dec(torch.cat([skip, up(x)], dim=1))
        return self.head(x)


def build(model, cfg):
    """A module from glia's model name and configuration (a dict as in the checkpoint)."""
    if model == "r2unet":
        return R2UNet(cfg["in_channels"], cfg["out_channels"], cfg["features"], cfg.get("t", 2))
    nd = 3 if model == "unet3d" else 2
    return UNet(cfg["in_channels"], cfg["out_channels"], cfg["features"], cfg.get("batchnorm", True), nd)


# ---- losses --------------------------------------------------------------------
def dice_bce(logits, target, smooth=1e-5):
    """1 - mean over (n, c) of (2 I + s) / (T + P + s) on sigmoid probabilities,
    plus mean BCE-with-logits (MONAI's DiceLoss defaults + BCEWithLogitsLoss)."""
    p = torch.sigmoid(logits)
    axes = tuple(range(2, logits.dim()))
    inter = (p * target).sum(axes)
    dice = (2 * inter + smooth) / (target.sum(axes) + p.sum(axes) + smooth)
    return (1 - dice.mean()) + F.binary_cross_entropy_with_logits(logits, target)
