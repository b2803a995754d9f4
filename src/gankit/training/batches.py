"""Real-batch sources. Today one: the whole training split on the device, drawn by a permutation per
epoch (no host synchronisation, no loader workers). Images stored as uint8 stay uint8 there (a quarter
of float32's memory) and become floats one batch at a time; a conditional model gets each image's
class with it. Streaming sources for sets larger than the device, and DDP shards, belong here."""

from __future__ import annotations

import torch

from gankit.data import Split
from gankit.training.state import Progress

Batch = tuple[torch.Tensor, torch.Tensor | None]  # (images (N, C*H*W) as the model sees them, classes or None)


class PermutationBatches:
    """Minibatches in the order of one random permutation per epoch, drawn on the CPU."""

    def __init__(self, split: Split, batch_size: int, device: torch.device, labels: bool = False) -> None:
        self.uint8 = split.images.dtype == torch.uint8 and split.transform == "unit"
        self.images = split.images.to(device) if self.uint8 else split.float(device)
        self.labels = split.labels.to(device) if labels else None
        self.batch_size = batch_size
        self.device = device
        self.per_epoch = len(self.images) // batch_size
        self.perm: torch.Tensor | None = None  # this epoch's order, drawn at its first batch

    def __len__(self) -> int:
        return len(self.images)

    def _take(self, idx: torch.Tensor) -> Batch:
        x = self.images.index_select(0, idx)
        if self.uint8:
            x = x.float().div_(255.0)  # the same values as Split.float, one batch at a time
        return x, None if self.labels is None else self.labels.index_select(0, idx)

    def next(self, progress: Progress, rng: torch.Generator) -> Batch:
        """The epoch's next batch (progress.batch counts them)."""
        m = self.batch_size
        if self.perm is None:
            self.perm = torch.randperm(len(self.images), generator=rng).to(self.device)
        idx = self.perm[progress.batch * m : (progress.batch + 1) * m]
        progress.batch += 1
        return self._take(idx)

    def random(self, n: int, rng: torch.Generator) -> Batch:
        """n examples drawn with replacement from rng (on the device), outside the epoch's order."""
        return self._take(torch.randint(len(self.images), (n,), generator=rng, device=self.device))

    def new_epoch(self) -> None:
        self.perm = None

    def tensors(self) -> dict[str, torch.Tensor]:
        return {} if self.perm is None else {"perm": self.perm}

    def load(self, tensors: dict[str, torch.Tensor]) -> None:
        self.perm = tensors["perm"].to(self.device) if "perm" in tensors else None
