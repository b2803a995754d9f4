"""Data-parallel training under torchrun: one process per device, the global batch split across ranks.

Every rank holds the same weights, optimiser state and shared random streams (the epoch's permutation,
the noise), draws the global batch's indices and noise and keeps its own slice, so that the ranks'
slices together are the batch one process would draw. gankit takes gradients with torch.autograd.grad,
which DDP's hooks never see, so `Ranks.average` all-reduces the gradient lists explicitly (one flat
buffer per call), and the paper's hand-written momentum step then moves every rank alike. Dropout masks
(and a VAE's draws) are rank-aware: a rank seeds its own generator from the run's seed, the step and its
rank, so no per-rank state needs saving and a checkpoint written by rank 0 alone resumes every rank
exactly.

Not distributed (WORLD_SIZE unset or 1) every method is the identity and nothing is drawn twice, so a
single-process run is bit for bit what it was before.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist

from gankit.errors import ConfigError


@dataclass
class Ranks:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owns_group: bool = False  # whether from_environment started the process group (and close ends it)
    _local: dict = field(default_factory=dict, repr=False)  # device -> this rank's own generator

    @property
    def main(self) -> bool:
        """Whether this process writes (checkpoints, samples, metrics, the console)."""
        return self.rank == 0

    def shard(self, x: torch.Tensor) -> torch.Tensor:
        """This rank's slice of a global batch (its first dimension)."""
        if self.world == 1:
            return x
        n = len(x) // self.world
        return x[self.rank * n: (self.rank + 1) * n]

    def average(self, grads: tuple[torch.Tensor, ...] | list[torch.Tensor]) -> list[torch.Tensor]:
        """The gradients averaged over ranks: the gradient of the mean loss over the global batch."""
        if self.world == 1:
            return list(grads)
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.world
        out, start = [], 0
        for g in grads:
            out.append(flat[start: start + g.numel()].view_as(g))
            start += g.numel()
        return out

    def sum(self, x: torch.Tensor) -> torch.Tensor:
        if self.world > 1:
            dist.all_reduce(x)
        return x

    def any(self, *flags: bool) -> list[bool]:
        """Each flag true on any rank (a signal one rank caught, a save rank 0 decided): all ranks agree."""
        if self.world == 1:
            return list(flags)
        t = torch.tensor([float(f) for f in flags], device=self._device())
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return [bool(v) for v in t.tolist()]

    def local_generator(self, shared: torch.Generator, *key: int) -> torch.Generator:
        """The generator of per-example draws (dropout masks, a VAE's eps and binarisation): the shared one in
        a single process; under torchrun the rank's own, seeded from key (the run's seed, the step, the
        draw's place in the step) and the rank, so that it takes nothing from the shared streams."""
        if self.world == 1:
            return shared
        digest = hashlib.blake2b(repr((*key, self.rank)).encode(), digest_size=8).digest()
        gen = self._local.setdefault(str(shared.device), torch.Generator(shared.device))
        return gen.manual_seed(int.from_bytes(digest, "little") >> 1)

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()

    def close(self) -> None:
        """Wait for every rank, then end the process group this module started (a gloo group left open
        when the interpreter exits can abort the process after the run has finished)."""
        if self.owns_group and dist.is_initialized():
            dist.barrier()
            dist.destroy_process_group()
            self.owns_group = False

    def _device(self) -> torch.device:
        return torch.device("cuda", self.local_rank) if dist.get_backend() == "nccl" else torch.device("cpu")


def from_environment(device: torch.device) -> Ranks:
    """The ranks torchrun describes in WORLD_SIZE, RANK and LOCAL_RANK (the process group started here:
    NCCL on CUDA, gloo on the CPU), or a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Ranks()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    owns = not dist.is_initialized()
    if owns:
        if device.type == "cuda":
            torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Ranks(rank, world, local_rank, owns)


def rank_device(device: torch.device, ranks: Ranks) -> torch.device:
    """Under torchrun each process trains on its own GPU (cuda:LOCAL_RANK); the CPU is shared."""
    if ranks.world == 1 or device.type != "cuda":
        return device
    if ranks.local_rank >= torch.cuda.device_count():
        raise ConfigError(f"rank {ranks.rank} wants GPU {ranks.local_rank}, but this machine has "
                          f"{torch.cuda.device_count()}; lower --nproc_per_node.")
    return torch.device("cuda", ranks.local_rank)
