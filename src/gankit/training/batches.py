"""Real-batch sources. Today one: the training split drawn by a permutation per epoch (no loader
workers). Images stored as uint8 stay uint8 (a quarter of float32's memory) and become floats one
batch at a time; a conditional model gets each image's class with it. A split that fits in half the
device's free memory lives there (no host synchronisation); a larger one stays in (pinned) host memory
and each batch is copied over as it is drawn, with the same batches either way. Under torchrun each
rank draws the same global batch of indices and keeps its own slice."""

from __future__ import annotations

import math

import torch

from gankit.config import TrainConfig
from gankit.data import Split, Splits
from gankit.distributed import Ranks
from gankit.errors import ConfigError
from gankit.training.state import Progress

Batch = tuple[torch.Tensor, torch.Tensor | None]  # (images (N, C*H*W) as the model sees them, classes or None)


def resident_budget(device: torch.device) -> float:
    """Bytes of training data to keep on the device: all of them on the CPU, half the free memory on a GPU."""
    if device.type != "cuda":
        return math.inf
    free, _ = torch.cuda.mem_get_info(device)
    return free / 2


def check_fit(c: TrainConfig, splits: Splits, conditional: bool, world: int) -> None:
    """Refuse, before anything is written, data and batches that cannot train: a batch that does not split over
    the processes, fewer images than one iteration takes, a conditional model on unlabelled data."""
    if c.batch_size % world:
        raise ConfigError(f"batch_size {c.batch_size} does not split evenly over {world} processes; choose a batch "
                          "size divisible by --nproc_per_node.")
    if conditional and splits.n_classes < 2:
        raise ConfigError(f"model {c.model} is conditional and needs labelled data, but {c.dataset} has no classes; "
                          "give the images class sub-folders or choose an unconditional model.")
    if len(splits.train) < c.batch_size * c.d_steps:
        raise ConfigError(f"the training split has {len(splits.train)} images, fewer than one iteration needs "
                          f"({c.batch_size} x {c.d_steps}); lower --batch-size.")


class PermutationBatches:
    """Minibatches in the order of one random permutation per epoch, drawn on the CPU."""

    def __init__(self, split: Split, batch_size: int, device: torch.device, labels: bool = False,
                 budget: float | None = None, ranks: Ranks | None = None) -> None:
        """batch_size: the global batch, all ranks together."""
        self.ranks = ranks or Ranks()
        self.uint8 = split.images.dtype == torch.uint8 and split.transform == "unit"
        images = split.images if self.uint8 else split.float()
        budget = resident_budget(device) if budget is None else budget
        self.resident = images.numel() * images.element_size() <= budget
        home = device if self.resident else torch.device("cpu")  # where the images and the order live
        if not self.resident and device.type == "cuda":
            images = images.pin_memory()  # so each batch's copy can overlap the step before it
        self.images = images.to(home)
        self.labels = split.labels.to(home) if labels else None
        self.home = home
        self.batch_size = batch_size
        self.device = device
        self.per_epoch = len(self.images) // batch_size
        self.perm: torch.Tensor | None = None  # this epoch's order, drawn at its first batch

    def __len__(self) -> int:
        return len(self.images)

    def _take(self, idx: torch.Tensor) -> Batch:
        idx = idx.to(self.home)
        x = self.images.index_select(0, idx).to(self.device, non_blocking=True)
        if self.uint8:
            x = x.float().div_(255.0)  # the same values as Split.float, one batch at a time
        y = None if self.labels is None else self.labels.index_select(0, idx).to(self.device, non_blocking=True)
        return x, y

    def next(self, progress: Progress, rng: torch.Generator) -> Batch:
        """The epoch's next batch (progress.batch counts them)."""
        m = self.batch_size
        if self.perm is None:
            self.perm = torch.randperm(len(self.images), generator=rng).to(self.home)
        idx = self.ranks.shard(self.perm[progress.batch * m : (progress.batch + 1) * m])
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
        self.perm = tensors["perm"].to(self.home) if "perm" in tensors else None
