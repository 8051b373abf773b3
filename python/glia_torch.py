"""glia checkpoints in PyTorch, and PyTorch weights as glia checkpoints.

A glia checkpoint is a safetensors file: the model's tensors under PyTorch's
state_dict names, and string metadata "model" (unet2d, r2unet, unet3d,
swinunetr) and "config" (JSON: in_channels, out_channels and the
architecture's options) that say which module they belong to. This module
holds those modules (written from the architectures' descriptions, not from
glia's C code; SwinUNETR follows MONAI 1.5, see the SwinUNETR section), reads
and writes safetensors by hand (no `safetensors` package needed), and joins
the two:

    import sys
    sys.path.insert(0, "/path/to/glia/python")   # this folder; nothing to install
    import torch
    import glia_torch

    # glia init unet2d --features 8,16 -o u.safetensors   (or a trained last.safetensors)
    model, meta = glia_torch.load("u.safetensors")        # eval mode; meta: the file's metadata
    with torch.no_grad():
        logits = model(torch.randn(1, 3, 64, 64))         # as `glia forward` gives them

    # ... fine-tune in PyTorch, then hand the weights back to glia:
    glia_torch.save(model, "tuned.safetensors", metadata=meta)
    # glia info tuned.safetensors; glia infer --weights tuned.safetensors ...;
    # glia train --init tuned.safetensors ...

    # any state_dict of these architectures, with the configuration spelled out:
    net = glia_torch.build("unet3d", in_channels=4, out_channels=3, features=[8, 16, 32, 64])
    glia_torch.save(net.state_dict(), "mine.safetensors", model="unet3d",
                    in_channels=4, out_channels=3, features=[8, 16, 32, 64])

Requires Python 3, torch and numpy only.
"""
import itertools
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    "load", "save", "build", "DEFAULTS", "read_safetensors", "write_safetensors", "state_to_numpy",
    "numpy_to_state", "UNet", "R2UNet", "SwinUNETR",
]

# ---- safetensors -----------------------------------------------------------------
# The format: an 8-byte little-endian header length, a JSON header mapping each
# tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into
# the data that follows the header) plus an optional "__metadata__" object of
# string values, then the raw little-endian data.
_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_NAMES = {d: n for n, d in _DTYPES.items()}


def _bf16_to_f32(raw):
    # bfloat16 is the top half of a float32; numpy has no such type
    return (np.frombuffer(raw, np.dtype("<u2")).astype(np.uint32) << 16).view(np.float32)


def read_safetensors(path):
    """({name: numpy array}, {metadata key: string}) of a safetensors file.
    BF16 tensors come back as float32 (numpy has no bfloat16)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", None) or {}
    base = 8 + n
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        if not 0 <= begin <= end <= len(data) - base:
            raise ValueError(f"{path}: the data of '{name}' lies outside the file")
        raw = data[base + begin:base + end]
        if e["dtype"] == "BF16":
            arr = _bf16_to_f32(raw)
        elif e["dtype"] in _DTYPES:
            arr = np.frombuffer(raw, dtype=_DTYPES[e["dtype"]])
        else:
            raise ValueError(f"{path}: '{name}' has dtype {e['dtype']}, which this reader does not know")
        out[name] = arr.reshape(e["shape"]).copy()  # copy: writable, and not a view of the whole file
    return out, meta


def write_safetensors(path, tensors, meta=None):
    """Write {name: numpy array or torch tensor} in the given order, each in its
    own dtype, and meta's values as strings. The file appears whole or not at
    all (written aside, then renamed)."""
    header, blobs, off = {}, [], 0
    if meta:
        header["__metadata__"] = {str(k): str(v) for k, v in meta.items()}
    for name, arr in tensors.items():
        if torch.is_tensor(arr):
            arr = arr.detach().cpu().numpy()
        arr = np.asarray(arr)
        dtype = _NAMES.get(arr.dtype.newbyteorder("<"))
        if dtype is None:
            raise ValueError(f"'{name}': numpy dtype {arr.dtype} has no safetensors name here")
        blob = np.array(arr, dtype=_DTYPES[dtype], order="C").tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(text)))
            f.write(text)
            for b in blobs:
                f.write(b)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def state_to_numpy(module_or_state):
    """{name: numpy array} of a module's state_dict (or of a state_dict)."""
    state = module_or_state.state_dict() if isinstance(module_or_state, nn.Module) else module_or_state
    return {k: v.detach().cpu().numpy() for k, v in state.items()}


def numpy_to_state(arrays):
    """{name: torch tensor} of {name: numpy array}, for load_state_dict."""
    return {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}


# ---- U-Net (2-D and 3-D) and R2U-Net ---------------------------------------------------
# Module and parameter names are glia's (include/glia/model.h describes them),
# so state_dict() and a glia checkpoint hold the same names, shapes and dtypes.
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



# ---- SwinUNETR ---------------------------------------------------------------------
# A self-contained PyTorch reference of MONAI 1.5's SwinUNETR (3-D only).
#
# Written from reading MONAI 1.5's monai/networks/nets/swin_unetr.py and the
# blocks it uses (blocks/patchembedding.py PatchEmbed, blocks/mlp.py MLPBlock,
# blocks/unetr_block.py UnetrBasicBlock/UnetrUpBlock, blocks/dynunet_block.py
# UnetResBlock/UnetOutBlock/get_conv_layer). It depends on torch and numpy only
# (no MONAI, no einops) and reproduces:
#
#   * the module tree, so parameter and buffer names, shapes and dtypes are
#     MONAI's: a state_dict saved from monai.networks.nets.SwinUNETR loads into
#     this module with strict=True and vice versa;
#   * the forward computation, including MONAI's quirks (marked "MONAI quirk"
#     below): the duplicated slices of the legacy 3-D PatchMerging, the
#     relative position index sliced to [:n, :n] when the window shrinks, the
#     "<=" in get_window_size, the -100 shifted-window mask built per stage.
#
# Sources read: Project-MONAI/MONAI swin_unetr.py (commit c49788f9, the
# MERGING_MODE/PatchMergingV2 version) plus the use_v2 additions as they stand in
# the 1.5-era code (layers1c..layers4c, SwinUNETR without img_size,
# _check_input_size), and the blocks at Project-MONAI/MONAI 06b28e5b.
#
# Only spatial_dims=3 is implemented; dropout / drop-path / checkpointing are
# left out (SwinUNETR's defaults make them identities and they own no state).
#
# Layout notes: the transformer works on (B, D, H, W, C); the conv parts on
# (B, C, D, H, W).

# --------------------------------------------------------------------------
# Convolution blocks (dynunet_block.py / unetr_block.py)
# --------------------------------------------------------------------------

class ConvOnly(nn.Sequential):
    """MONAI's get_conv_layer returns a monai Convolution, an nn.Sequential whose
    convolution child is named "conv" (and which adds an "adn" child only when
    act/norm/dropout are given, never here). Hence parameter names such as
    encoder1.layer.conv1.conv.weight: the extra ".conv" level comes from here."""

    def __init__(self, in_ch, out_ch, kernel_size, stride=1, bias=False, transposed=False):
        super().__init__()
        if transposed:
            # get_padding(k=2, s=2) = (2 - 2 + 1) // 2 = 0; output_padding = 2*0 + 2 - 2 = 0
            pad = (kernel_size - stride + 1) // 2
            out_pad = 2 * pad + stride - kernel_size
            self.add_module("conv", nn.ConvTranspose3d(in_ch, out_ch, kernel_size, stride, padding=pad,
                                                       output_padding=out_pad, bias=bias))
        else:
            pad = (kernel_size - stride + 1) // 2  # MONAI get_padding: 3 -> 1, 1 -> 0
            self.add_module("conv", nn.Conv3d(in_ch, out_ch, kernel_size, stride, padding=pad, bias=bias))


def instance_norm(channels):
    # MONAI "instance" -> nn.InstanceNorm3d(channels): affine=False and
    # track_running_stats=False, so it owns neither parameters nor buffers.
    return nn.InstanceNorm3d(channels)


class UnetResBlock(nn.Module):
    """conv1 (3^3, no bias) -> norm1 -> lrelu -> conv2 (3^3, no bias) -> norm2,
    plus a residual that goes through conv3 (1^3, no bias) -> norm3 when the
    channel count changes (or stride != 1), then lrelu. LeakyReLU slope 0.01."""

    def __init__(self, in_ch, out_ch, kernel_size=3, stride=1):
        super().__init__()
        self.conv1 = ConvOnly(in_ch, out_ch, kernel_size, stride)
        self.conv2 = ConvOnly(out_ch, out_ch, kernel_size, 1)
        self.lrelu = nn.LeakyReLU(negative_slope=0.01, inplace=True)
        self.norm1 = instance_norm(out_ch)
        self.norm2 = instance_norm(out_ch)
        # MONAI stores a plain bool attribute named "downsample" here.
        self.downsample = in_ch != out_ch or stride != 1
        if self.downsample:
            self.conv3 = ConvOnly(in_ch, out_ch, 1, stride)
            self.norm3 = instance_norm(out_ch)

    def forward(self, inp):
        out = self.lrelu(self.norm1(self.conv1(inp)))
        out = self.norm2(self.conv2(out))
        residual = inp
        if self.downsample:
            residual = self.norm3(self.conv3(residual))
        out = out + residual
        return self.lrelu(out)


class UnetrBasicBlock(nn.Module):
    """UnetrBasicBlock(res_block=True): just a UnetResBlock held as "layer"."""

    def __init__(self, in_ch, out_ch, kernel_size=3, stride=1):
        super().__init__()
        self.layer = UnetResBlock(in_ch, out_ch, kernel_size, stride)

    def forward(self, x):
        return self.layer(x)


class UnetrUpBlock(nn.Module):
    """transp_conv (k=s=2, no bias) -> cat((up, skip), dim=1) -> UnetResBlock(2*out -> out)."""

    def __init__(self, in_ch, out_ch, kernel_size=3, upsample_kernel_size=2):
        super().__init__()
        self.transp_conv = ConvOnly(in_ch, out_ch, upsample_kernel_size, upsample_kernel_size, transposed=True)
        self.conv_block = UnetResBlock(out_ch + out_ch, out_ch, kernel_size, 1)

    def forward(self, inp, skip):
        out = self.transp_conv(inp)
        return self.conv_block(torch.cat((out, skip), dim=1))


class UnetOutBlock(nn.Module):
    """1^3 convolution, the only conv in the network with a bias."""

    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.conv = ConvOnly(in_ch, out_ch, 1, 1, bias=True)

    def forward(self, x):
        return self.conv(x)


# --------------------------------------------------------------------------
# Transformer pieces (patchembedding.py, mlp.py, swin_unetr.py)
# --------------------------------------------------------------------------

class PatchEmbed(nn.Module):
    """Conv3d(in, embed, kernel=stride=patch, bias) after zero-padding the
    trailing end of each spatial axis up to a multiple of the patch. With
    patch_norm=False (SwinUNETR's default) there is no norm."""

    def __init__(self, patch_size, in_chans, embed_dim):
        super().__init__()
        self.patch_size = tuple(patch_size)
        self.embed_dim = embed_dim
        self.proj = nn.Conv3d(in_chans, embed_dim, kernel_size=self.patch_size, stride=self.patch_size)
        self.norm = None

    def forward(self, x):
        _, _, d, h, w = x.shape
        p = self.patch_size
        if w % p[2] != 0:
            x = F.pad(x, (0, p[2] - w % p[2]))
        if h % p[1] != 0:
            x = F.pad(x, (0, 0, 0, p[1] - h % p[1]))
        if d % p[0] != 0:
            x = F.pad(x, (0, 0, 0, 0, 0, p[0] - d % p[0]))
        return self.proj(x)


class MLPBlock(nn.Module):
    """linear1 -> exact GELU -> linear2 (MONAI names linear1/linear2/fn; the
    dropouts are identities here and own no state)."""

    def __init__(self, hidden_size, mlp_dim):
        super().__init__()
        self.linear1 = nn.Linear(hidden_size, mlp_dim)
        self.linear2 = nn.Linear(mlp_dim, hidden_size)
        self.fn = nn.GELU()  # approximate="none"

    def forward(self, x):
        return self.linear2(self.fn(self.linear1(x)))


def window_partition(x, window_size):
    """(B, D, H, W, C) -> (B * nWindows, wd*wh*ww, C); windows ordered d-major,
    tokens inside a window ordered d-major too."""
    b, d, h, w, c = x.shape
    wd, wh, ww = window_size
    x = x.view(b, d // wd, wd, h // wh, wh, w // ww, ww, c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).contiguous().view(-1, wd * wh * ww, c)


def window_reverse(windows, window_size, dims):
    """Inverse of window_partition; dims = (B, D, H, W)."""
    b, d, h, w = dims
    wd, wh, ww = window_size
    x = windows.view(b, d // wd, h // wh, w // ww, wd, wh, ww, -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).contiguous().view(b, d, h, w, -1)


def get_window_size(x_size, window_size, shift_size=None):
    """MONAI quirk: an axis whose size is <= the window (note "<=", so a size
    equal to the window too) uses the whole axis as window and is not shifted."""
    use_window = list(window_size)
    use_shift = list(shift_size) if shift_size is not None else None
    for i in range(len(x_size)):
        if x_size[i] <= window_size[i]:
            use_window[i] = x_size[i]
            if use_shift is not None:
                use_shift[i] = 0
    if shift_size is None:
        return tuple(use_window)
    return tuple(use_window), tuple(use_shift)


def relative_position_index(window_size):
    """int64 (N, N), N = wd*wh*ww: index into the ((2wd-1)(2wh-1)(2ww-1), heads)
    bias table of the relative offset between tokens i and j (coords i - j)."""
    wd, wh, ww = window_size
    coords = torch.stack(torch.meshgrid(torch.arange(wd), torch.arange(wh), torch.arange(ww), indexing="ij"))
    flat = torch.flatten(coords, 1)  # (3, N)
    rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
    rel[:, :, 0] += wd - 1
    rel[:, :, 1] += wh - 1
    rel[:, :, 2] += ww - 1
    rel[:, :, 0] *= (2 * wh - 1) * (2 * ww - 1)
    rel[:, :, 1] *= 2 * ww - 1
    return rel.sum(-1)


def compute_mask(dims, window_size, shift_size, device=None):
    """Shifted-window attention mask, (nWindows, N, N) with 0 where two tokens
    come from the same region of the rolled volume and -100 elsewhere. dims are
    the padded (D, H, W). Regions are the three slices per axis
    [:-ws], [-ws:-shift], [-shift:] (with shift 0 the last is the whole axis,
    as in MONAI)."""
    d, h, w = dims
    img_mask = torch.zeros((1, d, h, w, 1), device=device)
    cnt = 0
    def regions(i):
        return (slice(-window_size[i]), slice(-window_size[i], -shift_size[i]), slice(-shift_size[i], None))
    for sd in regions(0):
        for sh in regions(1):
            for sw in regions(2):
                img_mask[:, sd, sh, sw, :] = cnt
                cnt += 1
    mw = window_partition(img_mask, window_size).squeeze(-1)
    attn_mask = mw.unsqueeze(1) - mw.unsqueeze(2)
    return attn_mask.masked_fill(attn_mask != 0, -100.0).masked_fill(attn_mask == 0, 0.0)


class WindowAttention(nn.Module):
    def __init__(self, dim, num_heads, window_size, qkv_bias=True):
        super().__init__()
        self.dim = dim
        self.window_size = tuple(window_size)
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        wd, wh, ww = self.window_size
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * wd - 1) * (2 * wh - 1) * (2 * ww - 1), num_heads))
        # Registered persistent (MONAI's register_buffer default), so it is in
        # the state_dict as ...attn.relative_position_index, int64 (N, N).
        self.register_buffer("relative_position_index", relative_position_index(self.window_size))
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x, mask):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * self.scale) @ k.transpose(-2, -1)
        # MONAI quirk: when the window shrank (a small stage, n < 343) the index
        # of the full 7^3 window is sliced to its top-left [:n, :n] block rather
        # than recomputed for the smaller window.
        idx = self.relative_position_index.clone()[:n, :n].reshape(-1)
        bias = self.relative_position_bias_table[idx].reshape(n, n, -1).permute(2, 0, 1).contiguous()
        attn = attn + bias.unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(b // nw, nw, self.num_heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.num_heads, n, n)
        attn = self.softmax(attn)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class SwinTransformerBlock(nn.Module):
    def __init__(self, dim, num_heads, window_size, shift_size, mlp_ratio=4.0, qkv_bias=True):
        super().__init__()
        self.dim = dim
        self.num_heads = num_heads
        self.window_size = tuple(window_size)
        self.shift_size = tuple(shift_size)
        self.norm1 = nn.LayerNorm(dim)  # eps 1e-5
        self.attn = WindowAttention(dim, num_heads, self.window_size, qkv_bias)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLPBlock(dim, int(dim * mlp_ratio))

    def forward_part1(self, x, mask_matrix):
        b, d, h, w, c = x.shape
        x = self.norm1(x)
        window_size, shift_size = get_window_size((d, h, w), self.window_size, self.shift_size)
        # zero-pad the far end of each axis to a window multiple (after norm1)
        pad_d1 = (window_size[0] - d % window_size[0]) % window_size[0]
        pad_b = (window_size[1] - h % window_size[1]) % window_size[1]
        pad_r = (window_size[2] - w % window_size[2]) % window_size[2]
        x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b, 0, pad_d1))
        _, dp, hp, wp, _ = x.shape
        shifted = any(s > 0 for s in shift_size)
        if shifted:
            x = torch.roll(x, shifts=(-shift_size[0], -shift_size[1], -shift_size[2]), dims=(1, 2, 3))
            attn_mask = mask_matrix
        else:
            attn_mask = None
        windows = self.attn(window_partition(x, window_size), mask=attn_mask)
        windows = windows.view(-1, *(window_size + (c,)))
        x = window_reverse(windows, window_size, (b, dp, hp, wp))
        if shifted:
            x = torch.roll(x, shifts=shift_size, dims=(1, 2, 3))
        if pad_d1 > 0 or pad_r > 0 or pad_b > 0:
            x = x[:, :d, :h, :w, :].contiguous()
        return x

    def forward_part2(self, x):
        return self.mlp(self.norm2(x))

    def forward(self, x, mask_matrix):
        x = x + self.forward_part1(x, mask_matrix)
        return x + self.forward_part2(x)


class PatchMergingV2(nn.Module):
    """LayerNorm(8C) then Linear(8C -> 2C, no bias) over the 8 voxels of each
    2x2x2 cell, concatenated in itertools.product order (d, h, w offsets
    000, 001, 010, 011, 100, ...). Odd sizes are zero-padded first."""

    def __init__(self, dim, norm_layer=nn.LayerNorm, spatial_dims=3):
        super().__init__()
        self.dim = dim
        self.reduction = nn.Linear(8 * dim, 2 * dim, bias=False)
        self.norm = norm_layer(8 * dim)

    @staticmethod
    def _pad(x):
        _, d, h, w, _ = x.shape
        if d % 2 or h % 2 or w % 2:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2, 0, d % 2))
        return x

    def forward(self, x):
        x = self._pad(x)
        x = torch.cat([x[:, i::2, j::2, k::2, :] for i, j, k in itertools.product(range(2), range(2), range(2))], -1)
        return self.reduction(self.norm(x))


# MONAI quirk (legacy "merging", the SwinUNETR default): the eight (d, h, w)
# offsets that MONAI 1.5's PatchMerging concatenates. Entries 5 and 6 repeat
# entries 2 and 3, so offsets (1,1,0) and (0,1,1) never reach the reduction.
# Kept from v0.9.0 for compatibility with the published pretrained weights.
# (Read in Project-MONAI/MONAI swin_unetr.py at c49788f9 and in the use_v2-era
# copies; a 2026 AMD fork, AMD-Ecosystem/MONAI 1d8e2afc, "fixes" entries 4..6 to
# (1,1,0), (1,0,1), (0,1,1); that is not MONAI 1.5.)
PATCH_MERGING_OFFSETS = (
    (0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1),
    (1, 0, 1), (0, 1, 0), (0, 0, 1), (1, 1, 1),
)


class PatchMerging(PatchMergingV2):
    """MONAI 1.5's legacy PatchMerging: same parameters as V2, but the 3-D
    slices follow PATCH_MERGING_OFFSETS (with its duplicated entries)."""

    def forward(self, x):
        x = self._pad(x)
        x = torch.cat([x[:, i::2, j::2, k::2, :] for i, j, k in PATCH_MERGING_OFFSETS], -1)
        return self.reduction(self.norm(x))


MERGING_MODE = {"merging": PatchMerging, "mergingv2": PatchMergingV2}


class BasicLayer(nn.Module):
    """One Swin stage: `depth` blocks alternating unshifted / shifted by
    window//2 (3 for window 7), then the downsample (patch merging).
    Input and output are (B, C, D, H, W)."""

    def __init__(self, dim, depth, num_heads, window_size, mlp_ratio=4.0, qkv_bias=True, downsample=None):
        super().__init__()
        self.window_size = tuple(window_size)
        self.shift_size = tuple(i // 2 for i in window_size)
        self.no_shift = tuple(0 for _ in window_size)
        self.depth = depth
        self.blocks = nn.ModuleList([
            SwinTransformerBlock(dim, num_heads, self.window_size,
                                 self.no_shift if i % 2 == 0 else self.shift_size, mlp_ratio, qkv_bias)
            for i in range(depth)
        ])
        self.downsample = downsample(dim=dim, norm_layer=nn.LayerNorm, spatial_dims=3) if downsample else None

    def forward(self, x):
        b, c, d, h, w = x.shape
        window_size, shift_size = get_window_size((d, h, w), self.window_size, self.shift_size)
        x = x.permute(0, 2, 3, 4, 1)  # b c d h w -> b d h w c (einops rearrange in MONAI)
        dp = int(np.ceil(d / window_size[0])) * window_size[0]
        hp = int(np.ceil(h / window_size[1])) * window_size[1]
        wp = int(np.ceil(w / window_size[2])) * window_size[2]
        attn_mask = compute_mask([dp, hp, wp], window_size, shift_size, x.device)
        for blk in self.blocks:
            x = blk(x, attn_mask)
        x = x.reshape(b, d, h, w, -1)
        if self.downsample is not None:
            x = self.downsample(x)
        return x.permute(0, 4, 1, 2, 3)  # b d h w c -> b c d h w


class SwinTransformer(nn.Module):
    """MONAI names the four stages layers1..layers4, each an nn.ModuleList
    holding one BasicLayer (hence "layers1.0." in the keys); use_v2 adds
    layers1c..layers4c, each a ModuleList with one UnetrBasicBlock(C -> C)
    run before the stage."""

    def __init__(self, in_chans, embed_dim, window_size, patch_size, depths, num_heads, mlp_ratio=4.0,
                 qkv_bias=True, downsample="merging", use_v2=False):
        super().__init__()
        self.num_layers = len(depths)
        self.embed_dim = embed_dim
        self.window_size = tuple(window_size)
        self.patch_size = tuple(patch_size)
        self.patch_embed = PatchEmbed(self.patch_size, in_chans, embed_dim)
        self.pos_drop = nn.Dropout(p=0.0)
        self.use_v2 = use_v2
        down = MERGING_MODE[downsample] if isinstance(downsample, str) else downsample
        for i in range(self.num_layers):
            dim = int(embed_dim * 2 ** i)
            setattr(self, f"layers{i + 1}", nn.ModuleList([
                BasicLayer(dim, depths[i], num_heads[i], self.window_size, mlp_ratio, qkv_bias, down)]))
        if use_v2:
            for i in range(self.num_layers):
                dim = embed_dim * 2 ** i
                setattr(self, f"layers{i + 1}c", nn.ModuleList([UnetrBasicBlock(dim, dim, 3, 1)]))
        self.num_features = int(embed_dim * 2 ** (self.num_layers - 1))

    @staticmethod
    def proj_out(x, normalize=False):
        """Parameter-free LayerNorm over the channel axis (eps 1e-5) of a
        (B, C, D, H, W) skip feature."""
        if normalize:
            ch = int(x.shape[1])
            x = F.layer_norm(x.permute(0, 2, 3, 4, 1), [ch]).permute(0, 4, 1, 2, 3)
        return x

    def forward(self, x, normalize=True):
        x0 = self.pos_drop(self.patch_embed(x))
        outs = [self.proj_out(x0, normalize)]
        xi = x0
        for i in range(self.num_layers):
            if self.use_v2:
                xi = getattr(self, f"layers{i + 1}c")[0](xi.contiguous())
            xi = getattr(self, f"layers{i + 1}")[0](xi.contiguous())
            outs.append(self.proj_out(xi, normalize))
        return outs


class SwinUNETR(nn.Module):
    """MONAI 1.5 SwinUNETR, 3-D. Output (B, out_channels, D, H, W); every
    spatial size must be divisible by 32 (patch 2 and four 2x merges)."""

    def __init__(self, in_channels, out_channels, patch_size=2, depths=(2, 2, 2, 2), num_heads=(3, 6, 12, 24),
                 window_size=7, qkv_bias=True, mlp_ratio=4.0, feature_size=24, normalize=True,
                 spatial_dims=3, downsample="merging", use_v2=False):
        super().__init__()
        if spatial_dims != 3:
            raise ValueError("this reference implements spatial_dims=3 only")
        if feature_size % 12 != 0:
            raise ValueError("feature_size should be divisible by 12.")
        self.patch_size = patch_size
        self.normalize = normalize
        ws = (window_size,) * 3 if isinstance(window_size, int) else tuple(window_size)
        fs = feature_size
        self.swinViT = SwinTransformer(in_channels, fs, ws, (patch_size,) * 3, depths, num_heads, mlp_ratio,
                                       qkv_bias, downsample, use_v2)
        self.encoder1 = UnetrBasicBlock(in_channels, fs)
        self.encoder2 = UnetrBasicBlock(fs, fs)
        self.encoder3 = UnetrBasicBlock(2 * fs, 2 * fs)
        self.encoder4 = UnetrBasicBlock(4 * fs, 4 * fs)
        self.encoder10 = UnetrBasicBlock(16 * fs, 16 * fs)
        self.decoder5 = UnetrUpBlock(16 * fs, 8 * fs)
        self.decoder4 = UnetrUpBlock(8 * fs, 4 * fs)
        self.decoder3 = UnetrUpBlock(4 * fs, 2 * fs)
        self.decoder2 = UnetrUpBlock(2 * fs, fs)
        self.decoder1 = UnetrUpBlock(fs, fs)
        self.out = UnetOutBlock(fs, out_channels)

    def _check_input_size(self, spatial_shape):
        bad = [i + 2 for i, s in enumerate(spatial_shape) if s % (self.patch_size ** 5)]
        if bad:
            raise ValueError(f"spatial dimensions {bad} of input image (spatial shape: {tuple(spatial_shape)})"
                             f" must be divisible by {self.patch_size}**5.")

    def forward(self, x_in):
        self._check_input_size(x_in.shape[2:])
        hs = self.swinViT(x_in, self.normalize)
        # MONAI quirk worth noting: encoder4's output (stage 3) is a skip, but
        # the skip of decoder5 is hs[3] directly, with no encoder block.
        enc0 = self.encoder1(x_in)
        enc1 = self.encoder2(hs[0])
        enc2 = self.encoder3(hs[1])
        enc3 = self.encoder4(hs[2])
        dec4 = self.encoder10(hs[4])
        dec3 = self.decoder5(dec4, hs[3])
        dec2 = self.decoder4(dec3, enc3)
        dec1 = self.decoder3(dec2, enc2)
        dec0 = self.decoder2(dec1, enc1)
        out = self.decoder1(dec0, enc0)
        return self.out(out)


# ---- glia's models by name ----------------------------------------------------------
# glia's defaults (glia help init): what a configuration leaves out takes these
# values, as glia_model_config_from_json does. Keys in glia's order.
DEFAULTS = {
    "unet2d": {"in_channels": 3, "out_channels": 1, "features": [64, 128, 256, 512], "batchnorm": True},
    "r2unet": {"in_channels": 3, "out_channels": 1, "features": [64, 128, 256, 512, 1024], "t": 2},
    "unet3d": {"in_channels": 4, "out_channels": 3, "features": [8, 16, 32, 64], "batchnorm": True},
    "swinunetr": {"in_channels": 4, "out_channels": 3, "feature_size": 48, "use_v2": False},
}


def _config(model, config):
    """The whole configuration: DEFAULTS[model] with config's keys over it.
    A key the architecture does not have is an error (a misspelt option would
    otherwise silently take its default)."""
    if model not in DEFAULTS:
        raise ValueError(f"unknown model '{model}' (glia's models: {', '.join(DEFAULTS)})")
    cfg = dict(DEFAULTS[model])
    for k, v in config.items():
        k = k.replace("-", "_")  # glia reads either
        if k not in cfg:
            raise ValueError(f"{model} has no option '{k}' (its options: {', '.join(cfg)})")
        cfg[k] = _value(model, k, v, cfg[k])
    return cfg


def _value(model, key, v, default):
    if isinstance(default, list):
        return [int(f) for f in v]
    if isinstance(default, bool) and v not in (True, False):  # also 0 and 1; bool("false") would be True
        raise ValueError(f"{model}: {key} is true or false, not {v!r}")
    return type(default)(v)


def build(model, config=None, **options):
    """A freshly initialised module of glia's model `model` ("unet2d", "r2unet",
    "unet3d", "swinunetr") with configuration config (a dict, as a
    checkpoint's "config" metadata holds it) and options over it; what both
    leave out takes glia's defaults. The module carries glia_model and
    glia_config (the whole configuration), which save() reads."""
    cfg = _config(model, {**(config or {}), **options})
    if model == "r2unet":
        m = R2UNet(cfg["in_channels"], cfg["out_channels"], cfg["features"], cfg["t"])
    elif model == "swinunetr":
        m = SwinUNETR(cfg["in_channels"], cfg["out_channels"], feature_size=cfg["feature_size"],
                      use_v2=cfg["use_v2"])
    else:
        m = UNet(cfg["in_channels"], cfg["out_channels"], cfg["features"], cfg["batchnorm"],
                 3 if model == "unet3d" else 2)
    m.glia_model, m.glia_config = model, cfg
    return m


# Tensors under this prefix are a training checkpoint's optimizer state, not the model's.
OPTIMIZER_PREFIX = "optimizer."


def load(path):
    """(module, metadata) of a glia checkpoint: the module its "model" and
    "config" metadata describe, holding every tensor of the file (batch-norm
    running statistics and counters too; a missing, extra or misshapen tensor
    is an error, as in load_state_dict(strict=True)), in eval mode. Optimizer
    state of a training checkpoint is skipped. metadata is the file's
    {key: string}, e.g. "labels" and "preprocess" of a trained model, which
    save(..., metadata=meta) carries over."""
    arrays, meta = read_safetensors(path)
    if "model" not in meta:
        raise ValueError(f"{path} has no 'model' metadata (not written by glia or glia_torch.save): build the "
                         f"module yourself and load read_safetensors' arrays into it")
    module = build(meta["model"], json.loads(meta.get("config", "{}")))
    module.load_state_dict(numpy_to_state({k: v for k, v in arrays.items() if not k.startswith(OPTIMIZER_PREFIX)}),
                           strict=True)
    return module.eval(), meta


# Metadata about what glia wrote (its version, its optimizer state) that would
# be false of a file written here.
_NOT_CARRIED = ("glia_version", "optimizer", "optimizer_steps")


def save(module_or_state_dict, path, model=None, metadata=None, **config):
    """Write a module's (or a state_dict's) tensors as a glia checkpoint:
    floating-point tensors as float32 (glia computes in float32), integer ones
    (num_batches_tracked, relative_position_index) as int64, with the
    metadata glia reads ("model", "config" with the whole configuration,
    "format": "pt").

    model and config default to those of a module from build() or load();
    a plain state_dict needs model=, and config for what differs from glia's
    defaults. The tensors must fit that configuration exactly (checked here
    by loading them strictly into a module built from it), so glia will load
    the file. metadata: further string keys to keep, e.g. load()'s (glia's
    version and optimizer keys are not carried over)."""
    if isinstance(module_or_state_dict, nn.Module):
        state = module_or_state_dict.state_dict()
        model = model or getattr(module_or_state_dict, "glia_model", None)
        config = {**getattr(module_or_state_dict, "glia_config", {}), **config}
    else:
        state = module_or_state_dict
    if model is None:
        raise ValueError("save: which model? pass model= (unet2d, r2unet, unet3d or swinunetr)")
    check = build(model, config)
    try:
        check.load_state_dict(state, strict=True)
    except RuntimeError as e:  # its message lists every mismatch, one per line after the first
        lines = [line.strip() for line in str(e).splitlines()[1:]] or [str(e)]
        more = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
        raise ValueError(f"save: the tensors do not fit {model} {check.glia_config}: "
                         f"{'; '.join(lines[:3])}{more}") from None
    tensors = {}
    for name, t in state.items():
        t = t.detach().cpu()
        tensors[name] = t.to(torch.float32 if t.is_floating_point() else torch.int64).numpy()
    meta = {k: v for k, v in (metadata or {}).items() if k not in _NOT_CARRIED}
    meta.update({"format": "pt", "model": model, "config": json.dumps(check.glia_config)})
    write_safetensors(path, tensors, meta)
