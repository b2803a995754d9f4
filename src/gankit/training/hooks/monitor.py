"""The training monitors: any monitorable METRICS entry run after each epoch on the live G's fixed-noise
samples against the first n validation images (--monitor kid:1000; --monitor-parzen N and --monitor-fid N
set the two classic ones), and the best checkpoint picked by one of them (best_by).

A monitor's noise has its own stream (seed + a fixed offset per metric), so monitors never change what is
trained, and the same epoch measures the same way after a resume.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import torch

from gankit import checkpoint
from gankit.config import TrainConfig
from gankit.data import Splits
from gankit.errors import ConfigError
from gankit.evaluate import METRICS
from gankit.metrics.base import Evaluation, Metric
from gankit.nets import ModelSpec, evaluating, generate
from gankit.rundir import RunDir
from gankit.training.hooks.base import Hook, Run, cycled_classes, fixed_noise

NOISE_OFFSETS = {"parzen": 4, "fid": 6}  # the streams these two have always drawn from (seed + offset)


def monitored_metric(name: str, dataset: str) -> Metric:
    """The METRICS entry a monitor or best_by names; ConfigError if it cannot watch a run on this dataset."""
    watchable = [k for k, m in METRICS.items() if m.monitorable]
    if name not in watchable:
        raise ConfigError(f"cannot monitor {name!r} during training; choose from {', '.join(watchable)}.")
    if not METRICS[name].available(None, dataset):  # type: ignore[arg-type]  # decided by the dataset alone
        raise ConfigError(f"the {name} monitor needs a dataset with a domain classifier (mnist, fashion-mnist); "
                          f"{dataset} has none: set --monitor {name}:0.")
    return METRICS[name]


class MetricMonitor(Hook):
    """One metric of the live G each epoch: row[NAME_monitor], its protocol and extra fields."""

    def __init__(self, name: str, n: int, c: TrainConfig, splits: Splits, spec: ModelSpec,
                 device: torch.device) -> None:
        self.name, self.metric = name, monitored_metric(name, c.dataset)
        self.n = min(n, len(splits.valid))
        self.real = splits.valid.float(device)[: self.n]
        offset = NOISE_OFFSETS.get(name, 100 + zlib.crc32(name.encode()) % 1000)
        self.z = fixed_noise(self.n, c, offset, device)
        self.y = cycled_classes(self.n, spec, device)
        self.ev = Evaluation(c.dataset, c.data_dir, splits=splits, device=device)
        self.value: float | None = None  # this epoch's, unrounded

    @torch.no_grad()
    def measure(self, g: torch.nn.Module) -> dict[str, Any]:
        with evaluating(g):
            samples = generate(g, self.z, self.y).float()
        return self.metric.monitor(samples, self.real, self.ev)

    def start(self, trainer: Run, fresh: bool) -> None:
        self.ev.log = trainer.log

    def epoch_end(self, trainer: Run, row: dict[str, Any]) -> None:
        if not self.n:
            return
        fields = self.measure(trainer.state.G)
        self.value = fields.pop("value")
        protocol = fields.pop("protocol")
        row[f"{self.name}_monitor"] = round(self.value, self.metric.monitor_digits)
        row.update({f"{self.name}_monitor_{k}": v for k, v in fields.items()})
        row[f"{self.name}_monitor_protocol"] = protocol


class BestCheckpoint(Hook):
    """checkpoints/best.safetensors whenever the chosen monitor (best_by) improves; written before the
    epoch's step checkpoint, so that "best" is never older than the state says."""

    def __init__(self, monitor: MetricMonitor) -> None:
        self.monitor = monitor

    def epoch_end(self, trainer: Run, row: dict[str, Any]) -> None:
        value, best = self.monitor.value, trainer.state.best_monitor
        if value is None:
            return
        if best is None or (value > best if self.monitor.metric.higher_is_better else value < best):
            trainer.state.best_monitor, trainer.state.best_epoch = value, row["epoch"]
            trainer.write_checkpoint(trainer.rundir.best)


def plateau(c: TrainConfig, state: Any) -> str | None:
    """Why the run has reached its plateau (patience epochs without a better best_by monitor), or None."""
    best, epoch = state.best_epoch, state.progress.epoch
    if c.patience is None or best is None or epoch - best < c.patience:
        return None
    return (f"the {c.best_by} monitor has not improved for {epoch - best} epoch{'s' * (epoch - best != 1)} "
            f"(patience {c.patience}; best {state.best_monitor:.3f} after epoch {best})")


def restore_best(state: Any, stored: dict[str, Any], config: TrainConfig, rundir: RunDir,
                 log: Callable[[str], None]) -> None:
    """After a resume: forget the best value when the best_by monitor changed size (values of monitors of
    different sizes are not comparable, so the best starts again); read the best epoch from best.safetensors
    when the checkpoint was written before it kept one."""
    by = config.best_by
    was = TrainConfig(**{k: v for k, v in stored.items() if k in ("monitor_parzen", "monitor_fid", "monitor")})
    size = config.monitor_sizes().get(by, 0)
    if was.monitor_sizes().get(by, 0) != size and state.best_monitor is not None:
        log(f"{by} monitor size changed to {size}; best.safetensors will hold the best epoch under the new monitor")
        state.best_monitor = state.best_epoch = None
    if state.best_monitor is not None and state.best_epoch is None and rundir.best.exists():
        state.best_epoch = checkpoint.read(rundir.best)[1]["epoch"]


def monitors_and_best(c: TrainConfig, splits: Splits, spec: ModelSpec, device: torch.device) -> list[Hook]:
    """The run's monitors (those with samples), then the hook that keeps the best_by one's best checkpoint."""
    monitored_metric(c.best_by, c.dataset)  # a best_by that names no metric is refused even while it is off
    monitors = {name: MetricMonitor(name, n, c, splits, spec, device) for name, n in c.monitor_sizes().items() if n}
    return [*monitors.values(), *([BestCheckpoint(monitors[c.best_by])] if c.best_by in monitors else [])]
