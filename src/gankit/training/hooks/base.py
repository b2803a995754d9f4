"""The hook protocol: its three moments, what a hook sees of the run, and fixed noise for the monitors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import torch

from gankit.config import TrainConfig
from gankit.errors import GankitError
from gankit.nets import ModelSpec, sample_noise
from gankit.rundir import RunDir


class Run(Protocol):
    """What a hook sees of the trainer running it."""

    config: TrainConfig
    state: Any  # training.state.TrainState
    rundir: RunDir
    run_dir: Path
    log: Callable[[str], None]

    @property
    def progress(self) -> Any: ...

    def finished(self) -> bool: ...

    def write_checkpoint(self, path: Path) -> Path: ...

    def stop_after_epoch(self, error: Callable[[Path], GankitError]) -> None: ...


def fixed_noise(n: int, c: TrainConfig, offset: int, device: torch.device) -> torch.Tensor:
    """Noise that stays the same all run, from its own seed (seed + offset)."""
    return sample_noise(n, c.z_dim, c.noise, torch.Generator().manual_seed(c.seed + offset)).to(device)


def cycled_classes(n: int, spec: ModelSpec, device: torch.device) -> torch.Tensor | None:
    """Classes 0, 1, ..., k-1, 0, 1, ... for a conditional model's n fixed samples; None otherwise."""
    return torch.arange(n, device=device) % spec.n_classes if spec.n_classes else None


class Hook:
    def start(self, trainer: Run, fresh: bool) -> None:
        pass

    def epoch_end(self, trainer: Run, row: dict[str, Any]) -> None:
        pass

    def epoch_saved(self, trainer: Run) -> None:
        pass
