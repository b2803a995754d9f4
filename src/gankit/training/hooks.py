"""What happens around the training steps, one class per concern: sample grids, the health monitor,
metrics.jsonl, the console, TensorBoard and the HTML report (the metric monitors: monitor.py).

A hook has three moments: ``start`` (the run directory is ready; ``fresh`` when no checkpoint was
restored), ``epoch_end`` (an epoch finished; ``row`` is its metrics row, which a hook may extend) and
``epoch_saved`` (after the epoch's checkpoint, if one was due, was written).
Hooks draw no random numbers from the training streams, so they never change what is trained.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from gankit.config import TrainConfig
from gankit.data import Splits
from gankit.families import describe
from gankit.figures import save_grid
from gankit.fileio import atomic_write_bytes
from gankit.health import Verdict, describe_health, health_stats, judge, mean_pairwise_distance
from gankit.nets import ModelSpec, evaluating, generate, is_vae, sample_noise
from gankit.optim import uses_momentum
from gankit.plots.toy import epoch_picture

if TYPE_CHECKING:
    from gankit.training.loop import Trainer

HEALTH_SAMPLES = 1000  # fixed-noise samples the health monitor judges each epoch
_PYPLOT = threading.Lock()  # pyplot's figures are global: runs in threads of one process draw one at a time


def fixed_noise(n: int, c: TrainConfig, offset: int, device: torch.device) -> torch.Tensor:
    """Noise that stays the same all run, from its own seed (seed + offset)."""
    return sample_noise(n, c.z_dim, c.noise, torch.Generator().manual_seed(c.seed + offset)).to(device)


def cycled_classes(n: int, spec: ModelSpec, device: torch.device) -> torch.Tensor | None:
    """Classes 0, 1, ..., k-1, 0, 1, ... for a conditional model's n fixed samples; None otherwise."""
    return torch.arange(n, device=device) % spec.n_classes if spec.n_classes else None


class Hook:
    def start(self, trainer: Trainer, fresh: bool) -> None:
        pass

    def epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        pass

    def epoch_saved(self, trainer: Trainer) -> None:
        pass


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
    def write(self, trainer: Trainer, epoch: int) -> None:
        if self.kind != "images":  # toy vectors: a Figure 1 panel or samples over the modes
            return self.write_toy(trainer, epoch)
        with evaluating(trainer.state.G) as g:
            images = generate(g, self.z, self.y).float().view(-1, *self.image_shape)
        save_grid(images, trainer.rundir.sample_grid(epoch), nrow=self.nrow)

    def write_toy(self, trainer: Trainer, epoch: int) -> None:
        c, label = trainer.config, f"epoch {epoch} (step {trainer.progress.step})"
        with _PYPLOT, evaluating(trainer.state.G) as g, evaluating(trainer.state.D) as d:
            png = epoch_picture(self.kind, g, d, c.dataset, c.noise, c.z_dim, label)
        atomic_write_bytes(trainer.rundir.sample_grid(epoch), png)

    def start(self, trainer: Trainer, fresh: bool) -> None:
        if fresh:
            self.write(trainer, 0)

    def epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        if row["epoch"] % trainer.config.sample_every == 0 or trainer.finished():
            self.write(trainer, row["epoch"])


class HealthMonitor(Hook):
    """Collapse and D-overwhelms-G alarms each epoch (gankit.health); one line when the verdict changes;
    with health: stop, the run ends after the epoch's checkpoint."""

    def __init__(self, c: TrainConfig, splits: Splits, spec: ModelSpec, device: torch.device) -> None:
        self.config = c
        self.splits = splits  # the classifier, when it must be trained, learns from these (no second load)
        self.image_shape = splits.image_shape
        self.z = fixed_noise(HEALTH_SAMPLES, c, 5, device)
        self.y = cycled_classes(HEALTH_SAMPLES, spec, device)
        real = splits.valid.float(device)[:HEALTH_SAMPLES]
        self.real_spread = mean_pairwise_distance(real) if len(real) > 1 else 0.0  # once per run
        self.verdict: Verdict | None = None  # the latest verdict
        self.stats: dict[str, Any] | None = None  # and the statistics it was read from
        self._classify: Callable[[torch.Tensor], torch.Tensor] | None = None

    def classifier(self, log: Callable[[str], None]) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """The cached classifier of a labelled dataset (trained on first use), else None."""
        from gankit.metrics.classifier import LABELLED_DATASETS, load_classifier, predict

        c = self.config
        if self._classify is None and c.dataset in LABELLED_DATASETS and self.image_shape in ((1, 28, 28), (1, 32, 32)):
            net = load_classifier(c.dataset, c.data_dir, log=log, splits=self.splits).net
            self._classify = lambda images: predict(net, images)
        return self._classify

    def epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        if self.config.health == "off" or self.splits.kind != "images" or not self.real_spread:
            return
        start = time.perf_counter()
        stats = health_stats(trainer.state.G, self.z, self.real_spread, self.image_shape,
                             self.classifier(trainer.log), self.y)
        verdict = judge({**stats, "d_real": row.get("d_real"), "d_fake": row.get("d_fake")}, row["epoch"],
                        blurred=is_vae(self.config.model))
        row["health"] = {**stats, "verdict": verdict.message, "seconds": round(time.perf_counter() - start, 3)}
        before = (False, False) if self.verdict is None else (self.verdict.collapsed, self.verdict.d_overwhelms)
        if (verdict.collapsed, verdict.d_overwhelms) != before:  # the run falls ill, changes illness, or recovers
            trainer.log(f"gankit: {verdict.message}" if not verdict.healthy else
                        f"gankit: recovered at epoch {row['epoch']}: {describe_health(row['health'])}")
        self.verdict, self.stats = verdict, row["health"]
        if self.config.health == "stop" and verdict.collapsed:
            from gankit.errors import RunCollapsed

            trainer.stop_after_epoch(lambda path: RunCollapsed(
                f"{verdict.message}; stopped (health: stop) with checkpoint {path}; "
                f"continue anyway with: gankit train --resume {trainer.run_dir} --health warn"))

    def summary(self, epoch: int) -> str | None:
        """The closing line for the console, or None when the monitor did not run."""
        if self.verdict is None:
            return None
        if self.verdict.healthy:
            return f"health: healthy at epoch {epoch} ({describe_health(self.stats)})"
        return f"health: {self.verdict.message}"


class MetricsLog(Hook):
    def epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        trainer.rundir.append_row(row)


class ConsoleLog(Hook):
    def epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        family = trainer.state.family
        momentum = f"  momentum {row['momentum']:.3f}" if uses_momentum(trainer.config.optimizer) else ""
        trainer.log(
            f"epoch {row['epoch']}: {describe(family, {n: row[n] for n in family.stats})}  lr {row['lr']:.5f}"
            f"{momentum}  {row['images_per_s']:.0f} img/s  {row['epoch_s']:.1f} s"
            + (f"  Parzen monitor {row['parzen_monitor']:.1f}" if "parzen_monitor" in row else "")
            + (f"  FID monitor {row['fid_monitor']:.2f}" if "fid_monitor" in row else "")
        )


class TensorBoardLog(Hook):
    """Each epoch's scalars and sample grid as TensorBoard events under RUN/tensorboard."""

    def __init__(self) -> None:
        self.writer = None

    def start(self, trainer: Trainer, fresh: bool) -> None:
        from gankit import tensorboard

        self.writer = tensorboard.writer(trainer.run_dir, None if fresh else trainer.progress.epoch)

    def epoch_end(self, trainer: Trainer, row: dict[str, Any]) -> None:
        from gankit import tensorboard

        hide = () if uses_momentum(trainer.config.optimizer) else ("momentum",)
        tensorboard.log_epoch(self.writer, row, trainer.rundir.sample_grid(row["epoch"]), hide)


class HtmlReport(Hook):
    """RUN/report.html rewritten after an epoch's checkpoint: after every epoch, unless that would cost
    more than 5% of the training time (short toy epochs), then as often as 5% allows, and always at the end."""

    BUDGET = 0.05

    def __init__(self) -> None:
        self.seconds = 0.0  # what the last rewrite cost
        self.due = 0.0  # when the next rewrite may start (time.perf_counter)

    def epoch_saved(self, trainer: Trainer) -> None:
        from gankit.report import write_report

        now = time.perf_counter()
        if now < self.due and not trainer.finished():
            return
        write_report([trainer.run_dir], warn=trainer.log)
        self.seconds = time.perf_counter() - now
        self.due = now + self.seconds / self.BUDGET
