"""TensorBoard event files under RUN/tensorboard: each epoch's scalars and sample grid (written during
training with `gankit train --tensorboard`) and each `gankit evaluate` row of a run that has them.
TensorBoard is an optional extra: pip install 'gankit[tensorboard]'."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from gankit.errors import ConfigError
from gankit.rundir import RunDir


def writer(run_dir: str | Path, purge_after: int | None = None) -> Any:
    """A SummaryWriter on RUN/tensorboard; purge_after drops events past that epoch (a resumed run redoes them)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError("--tensorboard needs the tensorboard package; install it with: "
                          "pip install 'gankit[tensorboard]' (or pip install tensorboard).") from None
    purge = None if purge_after is None else purge_after + 1
    return SummaryWriter(log_dir=str(RunDir(run_dir).tensorboard), purge_step=purge)


def scalars(row: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """The numbers of a metrics row, nested fields joined by '/', lists left out."""
    out: dict[str, float] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update(scalars(value, f"{prefix}{key}/"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and key not in ("epoch", "step"):
            out[prefix + key] = float(value)
    return out


def log_epoch(w: Any, row: dict[str, Any], grid: Path | None, hide: tuple[str, ...] = ()) -> None:
    """One training epoch: every scalar under train/ (but those in hide, which the run does not use), and the
    fixed-noise grid as an image."""
    for name, value in scalars({k: v for k, v in row.items() if k not in hide}).items():
        w.add_scalar(f"train/{name}", value, row["epoch"])
    if grid is not None and grid.exists():
        from PIL import Image

        with Image.open(grid) as image:
            w.add_image("samples", np.asarray(image.convert("RGB")), row["epoch"], dataformats="HWC")
    w.flush()


def log_evaluation(run_dir: str | Path, row: dict[str, Any]) -> None:
    """A `gankit evaluate` row, as scalars under evaluate/KIND/ at its epoch, if the run keeps event files."""
    if not RunDir(run_dir).tensorboard.is_dir():
        return
    w = writer(run_dir)
    for name, value in scalars(row).items():
        w.add_scalar(f"evaluate/{row['kind']}/{name}", value, row.get("epoch") or 0)
    w.close()
