"""Where each epoch's row goes: metrics.jsonl, the console and TensorBoard."""

from __future__ import annotations

from typing import Any

from gankit.families import describe
from gankit.optim import uses_momentum
from gankit.training.hooks.base import Hook, Run


class MetricsLog(Hook):
    def epoch_end(self, trainer: Run, row: dict[str, Any]) -> None:
        trainer.rundir.append_row(row)


class ConsoleLog(Hook):
    def epoch_end(self, trainer: Run, row: dict[str, Any]) -> None:
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

    def start(self, trainer: Run, fresh: bool) -> None:
        from gankit import tensorboard

        self.writer = tensorboard.writer(trainer.run_dir, None if fresh else trainer.progress.epoch)

    def epoch_end(self, trainer: Run, row: dict[str, Any]) -> None:
        from gankit import tensorboard

        hide = () if uses_momentum(trainer.config.optimizer) else ("momentum",)
        tensorboard.log_epoch(self.writer, row, trainer.rundir.sample_grid(row["epoch"]), hide)
