"""`gankit evaluate`: metrics of a trained generator, appended to the run's metrics.jsonl with their protocol."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gankit.data import load_dataset
from gankit.data.datasets import load_tfd_splits
from gankit.errors import ConfigError
from gankit.generate import load_generator
from gankit.metrics.parzen import SIGMA_GRID, parzen_evaluate, parzen_folds


def run_dir_of(source: Path) -> Path | None:
    """The run directory a source belongs to, if any (a run dir, or a checkpoint inside one)."""
    if source.is_dir():
        return source
    if source.parent.name == "checkpoints" and (source.parent.parent / "config.yaml").exists():
        return source.parent.parent
    return None


def evaluate_parzen(
    source: str | Path,
    dataset: str | None = None,
    data_dir: str | None = None,
    n_samples: int = 10000,
    n_valid: int = 1000,
    seed: int = 0,
    device: str = "cpu",
    log_to_run: bool = True,
) -> dict[str, Any]:
    """The paper's Parzen protocol on one checkpoint; returns (and logs) a metrics row."""
    g = load_generator(source)
    config = g.config
    dataset = dataset or config.get("dataset")
    if dataset is None:
        raise ConfigError(f"{g.source} does not record its dataset; pass --dataset.")
    data_dir = data_dir or config.get("data_dir")
    samples = g.sample(n_samples, seed=seed, device=device).flatten(1).to(device)
    common = {"kind": "parzen", "metric": "parzen_ll", "dataset": dataset, "checkpoint": str(g.source),
              "step": g.step, "epoch": g.epoch, "seed": seed, "n_samples": n_samples}
    if dataset == "tfd":  # the paper: sigma and mean LL per fold, standard error across the 5 folds
        folds = []
        for fold in range(5):
            s = load_tfd_splits(data_dir, fold)
            folds.append((s.valid.float(device), s.test.float(device)))
        row = {**common, "valid_split": "each fold's valid", "test_split": "each fold's test",
               "sigma_grid": list(SIGMA_GRID), **parzen_folds(samples, folds, SIGMA_GRID)}
    else:
        splits = load_dataset(dataset, data_dir)
        valid = splits.valid.float(device)[:n_valid]
        test = splits.test.float(device)
        result = parzen_evaluate(samples, valid, test, SIGMA_GRID)
        row = {**common, "valid_split": f"valid[:{n_valid}]", "test_split": f"test[:{len(test)}]",
               **result.to_dict()}
    run_dir = run_dir_of(Path(source))
    if log_to_run and run_dir is not None:
        with open(run_dir / "metrics.jsonl", "a") as handle:
            handle.write(json.dumps(row) + "\n")
    return row

