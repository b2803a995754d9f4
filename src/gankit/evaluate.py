"""`gankit evaluate`: the METRICS registry; metrics of a trained generator appended to its run's
metrics.jsonl, each row with its protocol; and any two image sets compared in Inception features."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gankit import tensorboard
from gankit.data import Splits
from gankit.errors import ConfigError
from gankit.generator import LoadedGenerator, load_generator
from gankit.metrics import inception_score
from gankit.metrics.base import Evaluation, Metric
from gankit.metrics.class_accuracy import ClassAccuracy
from gankit.metrics.classifier import ClassHistogram
from gankit.metrics.likelihood import IWAE
from gankit.metrics.parzen import ParzenMetric
from gankit.metrics.sample_quality import FID, KID, PRDC, InceptionScore
from gankit.rundir import RunDir
from gankit.runtime import resolve_device

# name -> metric; a new metric is one file (see metrics/base.py) plus one line here
METRICS: dict[str, Metric] = {"parzen": ParzenMetric(), "classes": ClassHistogram(), "class-accuracy": ClassAccuracy(),
                              "fid": FID(), "kid": KID(), "prdc": PRDC(), "is": InceptionScore(),
                              "iwae": IWAE()}
SET_METRICS = ("fid", "kid", "prdc", "is")  # those that compare two image sets (all: the first three)


def evaluate(
    source: str | Path | LoadedGenerator,
    metrics: tuple[str, ...] | list[str] = ("all",),
    dataset: str | None = None,
    data_dir: str | None = None,
    n_samples: int = 10000,
    n_valid: int = 1000,
    seed: int = 0,
    device: str = "cpu",
    splits: Splits | None = None,
    log_to_run: bool = True,
    features: str = "domain",
    n_reference: int | None = None,
    importance_samples: int = 1000,
    inception_weights: str | None = None,
) -> list[dict[str, Any]]:
    """Rows of the named metrics ("all": every metric available for the dataset), in METRICS order.

    splits: the dataset's splits if already loaded (else loaded once here, on the first metric that needs them).
    """
    unknown = [m for m in metrics if m != "all" and m not in METRICS]
    if unknown:
        raise ConfigError(f"unknown metric(s) {', '.join(unknown)}; choose from all, {', '.join(METRICS)}.")
    if "is" in metrics:
        inception_score.output_weight(inception_weights)
    g = source if isinstance(source, LoadedGenerator) else load_generator(source)
    ev = Evaluation(g.dataset(dataset), data_dir or g.config.get("data_dir"), n_samples, n_valid, seed,
                    resolve_device(device), splits, g.image_size(), features, n_reference, importance_samples,
                    inception_weights, image_shape=g.image_shape)
    run_dir = RunDir.of(g.source)
    rows = []
    for name, metric in METRICS.items():
        if name in metrics or ("all" in metrics and metric.available(g, ev.dataset)):
            fields = metric.compute(g, ev)
            row = {"kind": name, "metric": fields.pop("metric"), "dataset": ev.dataset, "checkpoint": str(g.source),
                   "step": g.step, "epoch": g.epoch, "seed": seed, "n_samples": n_samples, **fields}
            if log_to_run and run_dir is not None:
                run_dir.append_row(row)
                tensorboard.log_evaluation(run_dir.path, row)
            rows.append(row)
    return rows


def compare_sets(
    samples: str | Path,
    reference: str | Path,
    metrics: tuple[str, ...] | list[str] = ("all",),
    n_samples: int = 10000,
    seed: int = 0,
    device: str = "cpu",
    inception_weights: str | None = None,
) -> list[dict[str, Any]]:
    """FID, KID, precision/recall and IS of `samples` against `reference`, in Inception features; each a folder of
    images, an .npy/.npz array, a gankit run or generator (n_samples drawn), or a statistics file (FID only)."""
    from gankit.metrics import image_sets

    wanted = SET_METRICS[:3] if "all" in metrics else tuple(metrics)
    other = [m for m in wanted if m not in SET_METRICS]
    if other:
        raise ConfigError(f"{', '.join(other)} cannot compare two image sets; with --reference choose from all, "
                          f"{', '.join(SET_METRICS)}.")
    if "is" in wanted:  # a missing weights file is said before minutes of embedding, not after
        inception_score.output_weight(inception_weights)
    dev = resolve_device(device)
    fake, real = (image_sets.load_set(s, n_samples, seed, device) for s in (samples, reference))
    sets: dict[str, Any] = {"protocol": {**image_sets.protocol(), "reference": str(reference)}}
    for key, image_set in (("fake", fake), ("real", real)):
        if image_set.images is None:
            sets[key], sets[f"{key}_stats"] = None, (image_set.stats.mu, image_set.stats.sigma)
        else:
            sets[key] = image_sets.features(image_set, dev)
    ev = Evaluation("", n_samples=len(fake), seed=seed, device=dev, inception_weights=inception_weights,
                    cache={"features": sets})
    rows = []
    for name in SET_METRICS:
        if name in wanted:
            fields = METRICS[name].compute(None, ev)  # type: ignore[arg-type]  # the sets are already embedded
            rows.append({"kind": name, "metric": fields.pop("metric"), "samples": str(samples), "seed": seed,
                         "n_samples": len(fake), "n_reference": len(real), **fields})
    return rows


def format_row(row: dict[str, Any]) -> str:
    return METRICS[row["kind"]].format(row)
