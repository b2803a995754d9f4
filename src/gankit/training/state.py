"""The training state: G, D, their optimisers, the RNG streams, running statistics and progress.

Everything here goes into a checkpoint and comes back from one, so that a resumed run continues
bit for bit where it stopped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from gankit import checkpoint
from gankit.distributed import Ranks
from gankit.errors import CheckpointError
from gankit.families import family_of, renamed
from gankit.generator import load_stage1_into
from gankit.nets import ModelSpec, build_models, generate, sample_noise
from gankit.optim import make_optimizer
from gankit.runtime import place
from gankit.training.gan_loss import GanLoss

# what TrainState.meta() writes, by the kinds a reader accepts (a resumed value of another kind is refused)
CHECKPOINT_META = {"step": (int,), "epoch": (int,), "batch": (int,), "wall_s": (float, int), "epoch_s": (float, int),
                   "stats_n": (int,), "best_monitor": (float, int, type(None)), "best_epoch": (int, type(None))}


@dataclass
class Progress:
    """Counters that locate the run in its schedule; all saved in checkpoints."""

    step: int = 0  # iterations completed (one G update each); lr decays per iteration
    epoch: int = 0  # epochs completed
    batch: int = 0  # real minibatches consumed in the current epoch
    wall_s: float = 0.0  # training time so far, all sessions
    epoch_s: float = 0.0  # training time spent in the current epoch
    stopped_by: str | None = field(default=None, repr=False)


class TrainState:
    """G and D (a VAE's decoder and encoder) with their optimisers, the noise/dropout and data-order
    generators, the epoch's sums."""

    def __init__(self, model: Any, optim: Any, objective: Any, run: Any, spec: ModelSpec,
                 pixel_mean: torch.Tensor | None, device: torch.device, ranks: Ranks | None = None) -> None:
        """model, optim, objective, run: the configuration's sections (TrainConfig.section), each handed on to the
        parts that read it: the nets, the optimisers, the loss, the seeds and precision."""
        self.ranks = ranks or Ranks()  # torchrun's processes; every rank holds this same state
        self.seed = run.seed
        self.family = family_of(model.model)  # what the two nets are called, what a step reports
        self.G, self.D = build_models(model.model, spec, pixel_mean, run.seed)
        self.loss = GanLoss(objective, spec.image_shape)  # what a GAN step minimises (unused by the elbo step)
        if model.g_init_from:
            load_stage1_into(self.G, model.g_init_from)
        place(self.G, device).train()
        place(self.D, device).train()
        betas = (optim.adam_beta1, optim.adam_beta2)
        self.opt_g = make_optimizer(optim.optimizer, dict(self.G.named_parameters()), betas)
        self.opt_d = make_optimizer(optim.optimizer, dict(self.D.named_parameters()), betas)
        self.max_norm = optim.max_norm  # pylearn2's max_col_norm, applied after each update (None: none)
        # two time-scale rates (--lr-g, --lr-d): each net's rate is the schedule's times its ratio to --lr
        self.g_scale = 1.0 if optim.lr_g is None else optim.lr_g / optim.lr
        self.d_scale = 1.0 if optim.lr_d is None else optim.lr_d / optim.lr
        self.z_dim, self.noise, self.precision = spec.z_dim, model.noise, run.precision
        # Noise and dropout draw from rng; the epoch permutations from data_rng (on the CPU, so the
        # order of examples does not depend on the device).
        self.rng = torch.Generator(device).manual_seed(run.seed + 1)
        self.data_rng = torch.Generator().manual_seed(run.seed + 2)
        self.stat_names = tuple(self.family.stats)  # summed per iteration, averaged per epoch
        self.stats = torch.zeros(len(self.stat_names), device=device, dtype=torch.float64)
        self.stats_n = 0
        self.progress = Progress()
        self.best_monitor: float | None = None  # the best value so far of the monitor named by best_by
        self.best_epoch: int | None = None  # and the epoch it was measured after
        # a few fixed noise vectors (their own stream, so training draws nothing less) to see that G still draws
        self.probe_z = sample_noise(4, spec.z_dim, model.noise, torch.Generator().manual_seed(0)).to(device)
        self.probe_y = torch.arange(4, device=device) % spec.n_classes if spec.n_classes else None

    def lr_g(self, lr: Any) -> Any:
        """G's rate at this step (the schedule's lr, a number or a 0-dim tensor, unchanged without --lr-g)."""
        return lr if self.g_scale == 1.0 else lr * self.g_scale

    def lr_d(self, lr: Any) -> Any:
        return lr if self.d_scale == 1.0 else lr * self.d_scale

    def local_rng(self, draw: int = 0) -> torch.Generator:
        """Where a step's per-example draws come from: rng in a single process, under torchrun the rank's own
        (draw numbers the calls within one step)."""
        return self.ranks.local_generator(self.rng, self.seed, self.progress.step, draw)

    def prefixes(self) -> tuple[str, str, str, str]:
        """The checkpoint names of G, D and their optimisers' state (a VAE's: decoder, encoder, ...)."""
        g, d = self.family.names
        return g, d, f"opt_{g.lower()}", f"opt_{d.lower()}"

    def tensors(self) -> dict[str, torch.Tensor]:
        g, d, opt_g, opt_d = self.prefixes()
        return {
            **checkpoint.with_prefix(self.G.state_dict(), g),
            **checkpoint.with_prefix(self.D.state_dict(), d),
            **checkpoint.with_prefix(self.opt_g.state_tensors(), opt_g),
            **checkpoint.with_prefix(self.opt_d.state_tensors(), opt_d),
            "rng.train": self.rng.get_state(),
            "rng.data": self.data_rng.get_state(),
            "stats": self.stats,
        }

    def layout(self, stored: dict[str, torch.Tensor]) -> checkpoint.Layout:
        """What a checkpoint of this state must hold: the nets, the optimisers' state (which Adam creates at its
        first step, so a file written before it holds none), the RNG states and the epoch's sums."""
        _, _, opt_g, opt_d = self.prefixes()
        out = {k: v for k, v in checkpoint.layout(self.tensors()).items()
               if not k.startswith((opt_g + ".", opt_d + "."))}
        for prefix, opt in ((opt_g, self.opt_g), (opt_d, self.opt_d)):
            fresh = not opt.state_tensors() and not any(k.startswith(prefix + ".") for k in stored)
            if not fresh:
                out.update({f"{prefix}.{k}": v for k, v in opt.layout().items()})
        return out

    def meta(self) -> dict[str, Any]:
        p = self.progress
        return {"step": p.step, "epoch": p.epoch, "batch": p.batch, "wall_s": p.wall_s, "epoch_s": p.epoch_s,
                "stats_n": self.stats_n, "best_monitor": self.best_monitor,
                "best_epoch": self.best_epoch}

    def load(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        """Restore from a checkpoint's tensors and meta; KeyError or RuntimeError if they do not fit."""
        g, d, opt_g, opt_d = self.prefixes()
        tensors = renamed(tensors, self.family)  # a checkpoint written before the family's names
        self.G.load_state_dict(checkpoint.split_prefix(tensors, g))
        self.D.load_state_dict(checkpoint.split_prefix(tensors, d))
        self.opt_g.load_state_tensors(checkpoint.split_prefix(tensors, opt_g))
        self.opt_d.load_state_tensors(checkpoint.split_prefix(tensors, opt_d))
        self.rng.set_state(tensors["rng.train"])
        self.data_rng.set_state(tensors["rng.data"])
        self.stats.copy_(tensors["stats"])
        self.progress = Progress(meta["step"], meta["epoch"], meta["batch"], meta["wall_s"], meta["epoch_s"])
        self.stats_n = meta["stats_n"]
        self.best_monitor = meta.get("best_monitor")
        self.best_epoch = meta.get("best_epoch")

    def is_finite(self) -> bool:
        """Losses, weights and G's images all finite: huge but finite weights can still draw NaN everywhere."""
        stats_ok = all(math.isfinite(v) for v in self.stats.tolist())
        weights_ok = all(bool(torch.isfinite(p).all()) for p in (*self.G.parameters(), *self.D.parameters()))
        return stats_ok and weights_ok and self.draws_finite()

    @torch.no_grad()
    def draws_finite(self) -> bool:
        training = self.G.training
        self.G.eval()  # batch norm uses (and keeps) its running statistics
        try:
            return bool(torch.isfinite(generate(self.G, self.probe_z, self.probe_y)).all())
        finally:
            self.G.train(training)

    def close_epoch(self) -> list[float]:
        """The epoch's mean of each of stat_names; the sums start again."""
        means = (self.stats / max(self.stats_n, 1)).tolist()
        self.stats.zero_()
        self.stats_n = 0
        return means


def check_checkpoint(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any], state: TrainState,
                     n_images: int, per_epoch: int) -> None:
    """Refuse, naming the first difference, a checkpoint that this run would not have written: other tensors,
    shapes or dtypes, metadata of the wrong kinds, or an epoch's data order that is not one of these data."""
    checkpoint.check_meta(meta, CHECKPOINT_META, path)
    if meta.get("data") is not None:
        data = meta["data"] if isinstance(meta["data"], dict) else {}
        checkpoint.check_meta(data, {"train_images": (int,), "crc32": (int,)}, f"{path}'s data fingerprint")
    tensors = renamed(tensors, state.family)
    expected = state.layout(tensors)
    if "perm" in tensors:
        expected["perm"] = ((n_images,), torch.int64)
    checkpoint.check_layout(tensors, expected, path)
    if "perm" in tensors:
        in_order = torch.equal(tensors["perm"].sort().values, torch.arange(n_images))
        if not in_order or meta["batch"] > per_epoch:
            raise CheckpointError(f"{path} records an epoch's data order that does not fit these {n_images} "
                                  "training images; use another checkpoint.")
