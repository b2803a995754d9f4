"""Where computations run: the device named in a config or on the command line, checked."""

from __future__ import annotations

import torch

from gankit.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """'auto' is CUDA when available, else the CPU; a CUDA device that is not there is a ConfigError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"device {name!r} is not valid; use auto, cpu or cuda[:N].") from None
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"device {name!r} is not supported; use auto, cpu or cuda[:N].")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name} was asked for but CUDA is not available; use --device cpu.")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ConfigError(f"device {name} does not exist; this machine has {torch.cuda.device_count()} GPU(s).")
    return device
