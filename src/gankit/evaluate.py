"""`gankit evaluate`: metrics of a trained generator, appended to the run's metrics.jsonl with their protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gankit.data import load_dataset
from gankit.data.datasets import load_tfd_splits
from gankit.generator import LoadedGenerator, load_generator
from gankit.metrics.classifier import class_stats, load_classifier
from gankit.metrics.parzen import SIGMA_GRID, parzen_evaluate, parzen_folds
from gankit.rundir import RunDir
from gankit.runtime import resolve_device


def _loaded(source: str | Path | LoadedGenerator) -> LoadedGenerator:
    return source if isinstance(source, LoadedGenerator) else load_generator(source)


def _protocol(g: LoadedGenerator, dataset: str, seed: int, n_samples: int) -> dict[str, Any]:
    return {"dataset": dataset, "checkpoint": str(g.source), "step": g.step, "epoch": g.epoch, "seed": seed,
            "n_samples": n_samples}


def _log_row(g: LoadedGenerator, row: dict[str, Any], log_to_run: bool) -> None:
    run_dir = RunDir.of(g.source)
    if log_to_run and run_dir is not None:
        run_dir.append_row(row)


def evaluate_parzen(
    source: str | Path | LoadedGenerator,
    dataset: str | None = None,
    data_dir: str | None = None,
    n_samples: int = 10000,
    n_valid: int = 1000,
    seed: int = 0,
    device: str = "cpu",
    log_to_run: bool = True,
) -> dict[str, Any]:
    """The paper's Parzen protocol on one checkpoint; returns (and logs) a metrics row."""
    device = resolve_device(device)
    g = _loaded(source)
    dataset = g.dataset(dataset)
    data_dir = data_dir or g.config.get("data_dir")
    samples = g.to(device).sample(n_samples, seed=seed).flatten(1).to(device)
    common = {"kind": "parzen", "metric": "parzen_ll", **_protocol(g, dataset, seed, n_samples)}
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
    _log_row(g, row, log_to_run)
    return row


def evaluate_classes(
    source: str | Path | LoadedGenerator,
    dataset: str | None = None,
    data_dir: str | None = None,
    n_samples: int = 10000,
    seed: int = 0,
    log_to_run: bool = True,
    cache_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Classes of n_samples generator samples by the cached classifier, beside the same counts on the test set."""
    g = _loaded(source)
    dataset = g.dataset(dataset)
    data_dir = data_dir or g.config.get("data_dir")
    classifier = load_classifier(dataset, data_dir, cache_dir)
    test = load_dataset(dataset, data_dir).test.float()
    row = {"kind": "classes", "metric": "class_histogram", **_protocol(g, dataset, seed, n_samples),
           "classifier": str(classifier.path), "classifier_test_accuracy": classifier.test_accuracy,
           **class_stats(classifier, g.sample(n_samples, seed=seed)),
           "test_set_kl_from_uniform": class_stats(classifier, test)["kl_from_uniform"]}
    _log_row(g, row, log_to_run)
    return row
