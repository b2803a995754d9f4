"""Real-batch sources. Today one: the whole training split on the device as one float tensor, drawn
by a permutation per epoch (no host synchronisation, no loader workers). Streaming or uint8 sources
for image folders, and DDP shards, belong here."""

from __future__ import annotations

import torch

from gankit.data import Split
from gankit.training.state import Progress


class PermutationBatches:
    """Minibatches in the order of one random permutation per epoch, drawn on the CPU."""

    def __init__(self, split: Split, batch_size: int, device: torch.device) -> None:
        self.data = split.float(device)
        self.batch_size = batch_size
        self.device = device
        self.per_epoch = len(self.data) // batch_size
        self.perm: torch.Tensor | None = None  # this epoch's order, drawn at its first batch

    def next(self, progress: Progress, rng: torch.Generator) -> torch.Tensor:
        """The epoch's next batch (progress.batch counts them)."""
        m = self.batch_size
        if self.perm is None:
            self.perm = torch.randperm(len(self.data), generator=rng).to(self.device)
        idx = self.perm[progress.batch * m : (progress.batch + 1) * m]
        progress.batch += 1
        return self.data.index_select(0, idx)

    def random(self, n: int, rng: torch.Generator) -> torch.Tensor:
        """n examples drawn with replacement from rng (on the device), outside the epoch's order."""
        return self.data[torch.randint(len(self.data), (n,), generator=rng, device=self.device)]

    def new_epoch(self) -> None:
        self.perm = None

    def tensors(self) -> dict[str, torch.Tensor]:
        return {} if self.perm is None else {"perm": self.perm}

    def load(self, tensors: dict[str, torch.Tensor]) -> None:
        self.perm = tensors["perm"].to(self.device) if "perm" in tensors else None
