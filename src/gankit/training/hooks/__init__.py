"""What happens around the training steps, one file per concern, built for a run from the HOOKS registry:
the metric monitors and the best checkpoint (monitor.py), the health monitor (health.py), metrics.jsonl, the
console and TensorBoard (logs.py), the sample grids (samples.py) and the HTML report (report.py).

A hook has three moments (base.py): ``start`` (the run directory is ready; ``fresh`` when no checkpoint was
restored), ``epoch_end`` (an epoch finished; ``row`` is its metrics row, which a hook may extend) and
``epoch_saved`` (after the epoch's checkpoint, if one was due, was written). Hooks draw no random numbers from
the training streams, so they never change what is trained. A new hook is one file plus one HOOKS line.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from gankit.config import TrainConfig
from gankit.data import Splits
from gankit.nets import ModelSpec
from gankit.training.hooks.base import Hook, Run, cycled_classes, fixed_noise
from gankit.training.hooks.health import HealthMonitor
from gankit.training.hooks.logs import ConsoleLog, MetricsLog, TensorBoardLog
from gankit.training.hooks.monitor import monitors_and_best
from gankit.training.hooks.report import HtmlReport
from gankit.training.hooks.samples import SampleGrid

Factory = Callable[[TrainConfig, Splits, ModelSpec, torch.device], list[Hook]]
# name -> what the hook makes of a run's configuration (none, when the run does not ask for it), in the order
# the hooks act on an epoch: the monitors measure before the row is logged and before the best is kept
HOOKS: dict[str, Factory] = {
    "monitors": monitors_and_best,
    "health": lambda c, splits, spec, device: [HealthMonitor(c, splits, spec, device)],
    "metrics": lambda c, splits, spec, device: [MetricsLog()],
    "console": lambda c, splits, spec, device: [ConsoleLog()],
    "samples": lambda c, splits, spec, device: [SampleGrid(c, spec, device, splits.kind)],
    "tensorboard": lambda c, splits, spec, device: [TensorBoardLog()] if c.tensorboard else [],
    "report": lambda c, splits, spec, device: [HtmlReport()] if c.report else [],
}


def build_hooks(c: TrainConfig, splits: Splits, spec: ModelSpec, device: torch.device) -> list[Hook]:
    """The run's hooks: what each HOOKS entry makes of this configuration, in order."""
    return [hook for make in HOOKS.values() for hook in make(c, splits, spec, device)]


__all__ = ["HOOKS", "Hook", "Run", "build_hooks", "cycled_classes", "fixed_noise"]
