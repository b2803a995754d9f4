"""The training-health monitor as a hook: collapse and D-overwhelms-G alarms after each epoch."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from gankit.config import TrainConfig
from gankit.data import Splits
from gankit.health import Verdict, describe_health, health_stats, judge, mean_pairwise_distance
from gankit.nets import ModelSpec, is_vae
from gankit.training.hooks.base import Hook, Run, cycled_classes, fixed_noise

HEALTH_SAMPLES = 1000  # fixed-noise samples the health monitor judges each epoch

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

    def epoch_end(self, trainer: Run, row: dict[str, Any]) -> None:
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
