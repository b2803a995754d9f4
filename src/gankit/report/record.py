"""What a report shows of one run, read from its directory once: configuration, epoch rows, evaluation
rows, sample grids, figures and checkpoints. Reading never writes to the run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gankit import strict_yaml
from gankit.config import RUN_LENGTH, TrainConfig
from gankit.errors import ConfigError
from gankit.presets import PRESETS
from gankit.rundir import CONFIG, RunDir


@dataclass
class RunRecord:
    path: Path
    config: dict[str, Any]
    epochs: list[dict[str, Any]]  # "train" rows, one per finished epoch, in order
    evaluations: list[dict[str, Any]]  # every other row (gankit evaluate), in order
    grids: dict[int, Path]  # epoch -> fixed-noise sample grid
    figures: list[Path]
    checkpoints: list[Path]
    best: Path | None
    torn_lines: list[int] = field(default_factory=list)  # line numbers of metrics.jsonl that did not parse

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def preset(self) -> str:
        return matching_preset(self.config)

    @property
    def last(self) -> dict[str, Any]:
        return self.epochs[-1] if self.epochs else {}

    @property
    def monitor(self) -> str:
        """The row field that picks best.safetensors: the best_by metric's (parzen_monitor, fid_monitor, ...)."""
        return f"{self.config.get('best_by', 'parzen')}_monitor"

    def best_epoch(self) -> dict[str, Any] | None:
        """The epoch row whose monitor was best (the one best.safetensors holds), if monitored."""
        scored = [r for r in self.epochs if self.monitor in r]
        if not scored:
            return None
        from gankit.evaluate import METRICS

        metric = METRICS.get(self.config.get("best_by", "parzen"))
        pick = max if metric is None or metric.higher_is_better else min
        return pick(scored, key=lambda r: r[self.monitor])

    def warnings(self) -> list[dict[str, Any]]:
        """Epoch rows whose health verdict was not 'healthy'."""
        return [r for r in self.epochs if healthy(r) is False]


def healthy(row: dict[str, Any]) -> bool | None:
    """Whether an epoch row's health verdict was healthy; None when the health monitor did not judge it."""
    verdict = (row.get("health") or {}).get("verdict")
    return None if verdict is None else "healthy" in verdict


def load_record(path: str | Path, warn: Callable[[str], None] = lambda m: None) -> RunRecord:
    """Read a run directory; a folder that is not a run is a ConfigError, a torn metrics line a warning."""
    run = RunDir(path)
    if not run.path.is_dir():
        raise ConfigError(f"{run.path} does not exist or is not a folder; give a run directory made by gankit train.")
    if not run.config.exists():
        raise ConfigError(f"{run.path} is not a gankit run directory (no config.yaml); give a folder made by "
                          "gankit train, or list the runs under it with: gankit runs " + str(run.path))
    try:
        config = strict_yaml.load(run.config.read_bytes().decode("utf-8", errors="replace")) or {}
    except yaml.YAMLError:
        raise ConfigError(f"{run.config} is not valid YAML; the run's configuration cannot be shown.") from None
    rows, torn = run.read_rows()
    for number in torn:
        warn(f"gankit: skipped line {number} of {run.metrics}: not a complete JSON row of gankit's kinds (a write cut "
             "short, or an edit?)")
    grids = {}
    for png in sorted(run.samples.glob("epoch-*.png")):
        try:
            grids[int(png.stem.split("-")[1])] = png
        except ValueError:
            continue
    figures = sorted((run.path / "figures").glob("*.png")) if (run.path / "figures").is_dir() else []
    return RunRecord(run.path, config if isinstance(config, dict) else {},
                     [r for r in rows if r.get("kind") == "train"], [r for r in rows if r.get("kind") != "train"],
                     grids, figures, run.checkpoints(), run.best if run.best.exists() else None, torn)


def find_runs(folder: str | Path) -> list[Path]:
    """Run directories at or under folder (any depth), sorted by path."""
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"{root} does not exist or is not a folder; give a folder that holds gankit runs.")
    return sorted(p.parent for p in root.rglob(CONFIG) if RunDir(p.parent).is_run())




def matching_preset(config: dict[str, Any]) -> str:
    """The preset this configuration started from (stored since presets became files); for older runs the preset
    it is apart from run length, seed and outputs, else 'custom'."""
    if config.get("preset"):
        return config["preset"]
    defaults = TrainConfig().to_dict()
    for name, fields in PRESETS.items():
        expected = {**defaults, **fields}
        if all(config.get(k) == v for k, v in expected.items() if k not in RUN_LENGTH and k in config):
            return name
    return "custom"
