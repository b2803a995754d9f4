"""What a training step reports, by name (StyleGAN2-ADA's training_stats.report habit): a step calls
report(name, value) for each statistic its family declares (families.py), and hands the loop one stacked
device tensor, which it sums over the epoch. One tensor, so that a CUDA graph replays it and nothing is read
on the host inside a step."""

from __future__ import annotations

import torch

from gankit.families import Family


class StepStats:
    def __init__(self, family: Family) -> None:
        self.names = tuple(family.stats)
        self.values: dict[str, torch.Tensor] = {}

    def report(self, name: str, value: torch.Tensor) -> None:
        if name not in self.names:
            raise KeyError(f"statistic {name!r} is not one of the family's {self.names}; declare it in families.py")
        self.values[name] = value.detach()

    def tensor(self) -> torch.Tensor:
        """The step's statistics in the family's order, as float64."""
        return torch.stack([self.values[name] for name in self.names]).double()
