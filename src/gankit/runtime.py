"""Where and how computations run: the device (checked), the memory layout and the precision, alike for training,
evaluation and sampling (torchrun: distributed.py; the CUDA-graph step: training/captured.py)."""

from __future__ import annotations

import contextlib
import os

import torch

from gankit.errors import ConfigError


def resolve_device(name: str) -> torch.device:
    """'auto' is $GANKIT_DEVICE if set, else CUDA when available, else the CPU; a CUDA device that is
    not there is a ConfigError."""
    if name == "auto" and os.environ.get("GANKIT_DEVICE"):
        name = os.environ["GANKIT_DEVICE"]
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


def place(module: torch.nn.Module, device: torch.device | str) -> torch.nn.Module:
    """Move module to device, its 4-D (convolution) weights channels-last: oneDNN and cuDNN run
    convolutions faster so (DCGAN 32 px on this CPU: benchmarks/results/dcgan_speed.json). Models
    without convolutions are untouched; the values are the same, only the memory layout differs."""
    return module.to(device, memory_format=torch.channels_last)


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """bf16 autocast on the device for precision 'bf16'; nothing for 'fp32'. Without autocast's cache of
    cast weights, which a CUDA graph cannot hold across replays (PyTorch's CUDA-graph notes)."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=False)
    return contextlib.nullcontext()


def stream_of_its_own(device: torch.device) -> contextlib.AbstractContextManager:
    """On CUDA, make a new stream this thread's current one: the work of runs trained side by side in one
    process (gankit sweep --in-process) then overlaps on the GPU. Nothing on the CPU."""
    if device.type == "cuda":
        return torch.cuda.stream(torch.cuda.Stream(device))
    return contextlib.nullcontext()


def wait_for(device: torch.device) -> None:
    """Wait until this thread's work on the device (its current stream) is done, not that of other threads."""
    if device.type == "cuda":
        torch.cuda.current_stream(device).synchronize()
