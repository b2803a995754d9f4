"""The fixed-noise sample grid of each epoch (for toy data, a picture of G: plots/toy.py)."""

from __future__ import annotations

import threading
from typing import Any

import torch

from gankit.config import TrainConfig
from gankit.figures import save_grid
from gankit.fileio import atomic_write_bytes
from gankit.nets import ModelSpec, evaluating, generate
from gankit.plots.toy import epoch_picture
from gankit.training.hooks.base import Hook, Run, fixed_noise

_PYPLOT = threading.Lock()  # pyplot's figures are global: runs in threads of one process draw one at a time

class SampleGrid(Hook):
    """samples/epoch-NNNN.png from the same noise every time, so that grids compare across epochs."""

    def __init__(self, c: TrainConfig, spec: ModelSpec, device: torch.device, kind: str = "images") -> None:
        self.image_shape, self.kind = spec.image_shape, kind
        self.y, self.nrow = None, None
        if spec.n_classes:  # a conditional model: one row per class
            self.nrow = max(1, c.grid_size // spec.n_classes)
            self.y = torch.arange(spec.n_classes, device=device).repeat_interleave(self.nrow)
        self.z = fixed_noise(c.grid_size if self.y is None else len(self.y), c, 3, device)

    @torch.no_grad()
    def write(self, trainer: Run, epoch: int) -> None:
        if self.kind != "images":  # toy vectors: a Figure 1 panel or samples over the modes
            return self.write_toy(trainer, epoch)
        with evaluating(trainer.state.G) as g:
            images = generate(g, self.z, self.y).float().view(-1, *self.image_shape)
        save_grid(images, trainer.rundir.sample_grid(epoch), nrow=self.nrow)

    def write_toy(self, trainer: Run, epoch: int) -> None:
        c, label = trainer.config, f"epoch {epoch} (step {trainer.progress.step})"
        with _PYPLOT, evaluating(trainer.state.G) as g, evaluating(trainer.state.D) as d:
            png = epoch_picture(self.kind, g, d, c.dataset, c.noise, c.z_dim, label)
        atomic_write_bytes(trainer.rundir.sample_grid(epoch), png)

    def start(self, trainer: Run, fresh: bool) -> None:
        if fresh:
            self.write(trainer, 0)

    def epoch_end(self, trainer: Run, row: dict[str, Any]) -> None:
        if row["epoch"] % trainer.config.sample_every == 0 or trainer.finished():
            self.write(trainer, row["epoch"])
