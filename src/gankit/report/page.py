"""`gankit report`: one self-contained HTML page of one run or several side by side. Every image is
embedded as a data URI and the page loads nothing from the network, so it opens from an e-mail
attachment or a USB stick."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from gankit.errors import ConfigError
from gankit.families import FAMILIES, family_of
from gankit.fileio import atomic_write_bytes
from gankit.nets import MODELS, is_conditional
from gankit.outputs import check_output
from gankit.report import charts
from gankit.report.record import RunRecord, load_record
from gankit.rundir import REPORT, RunDir

MAX_SLIDER_GRIDS = 120  # a longer run shows this many grids, evenly spaced, first and last included
STRIP_GRIDS = 6


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _spread(items: list[int], n: int) -> list[int]:
    """n items evenly spaced through items, first and last included."""
    if len(items) <= n:
        return items
    return sorted({items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)})


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4g}"


def _main_fields(row: dict[str, Any]) -> list[tuple[str, str]]:
    """The headline numbers of an evaluation row; the rest of it is its protocol."""
    keys = ["test_ll", "test_se", "sigma", "mean", "min", "min_class", "classes_covered", "classes",
            "kl_from_uniform", "largest_class_share", "fid", "fid_ci95", "kid", "kid_se", "precision", "recall",
            "density", "coverage", "iwae_ll", "iwae_se", "elbo"]
    return [(k, "[" + ", ".join(_number(v) for v in row[k]) + "]" if isinstance(row[k], list) else _number(row[k]))
            for k in keys if k in row and not isinstance(row[k], dict)]


def _protocol(row: dict[str, Any]) -> list[tuple[str, str]]:
    shown = {k for k, _ in _main_fields(row)} | {"kind", "metric", "per_class", "per_class_samples", "folds"}
    return [(k, v if isinstance(v, str) else str(v)) for k, v in row.items() if k not in shown]


def _run_view(record: RunRecord) -> dict[str, Any]:
    """What the template shows of one run, with the images already encoded."""
    epochs = sorted(record.grids)
    strip, slider = _spread(epochs, STRIP_GRIDS), _spread(epochs, MAX_SLIDER_GRIDS)
    uris = {e: data_uri(record.grids[e].read_bytes()) for e in {*strip, *slider}}  # each grid read once
    last = record.last
    best = record.best_epoch()
    evaluations = []
    for row in record.evaluations:
        per_class = None
        if isinstance(row.get("per_class"), list):
            per_class = [(i, f"{share:.1%}") for i, share in enumerate(row["per_class"])]
        histogram = None
        if isinstance(row.get("class_counts"), list):
            histogram = data_uri(charts.class_histogram(row["class_counts"], title=f"{row.get('n_samples')} samples"))
        evaluations.append({"kind": row.get("kind"), "metric": row.get("metric", row.get("kind")),
                            "epoch": row.get("epoch"), "step": row.get("step"), "main": _main_fields(row),
                            "protocol": _protocol(row), "per_class": per_class, "histogram": histogram})
    counts = (last.get("health") or {}).get("class_counts")
    monitors = [k for k in last if k.endswith("_monitor")]
    model = record.config.get("model")
    stats = family_of(model).stats if model in MODELS else [k for f in FAMILIES.values() for k in f.stats]
    return {
        "name": record.name, "path": str(record.path.resolve()), "preset": record.preset,
        "config": [(k, str(v)) for k, v in record.config.items()],
        "epochs_done": last.get("epoch", 0), "epochs_planned": record.config.get("epochs"),
        "steps": last.get("step", 0), "wall_s": last.get("wall_s", 0.0),
        "conditional": record.config.get("model") in MODELS and is_conditional(record.config["model"]),
        "toy": str(record.config.get("dataset", "")).startswith("toy"),  # its "grids" are plots, not images
        "last": [(k, _number(last[k])) for k in (*stats, "images_per_s", *monitors) if k in last],
        "verdict": (last.get("health") or {}).get("verdict"),
        "health": [(r["epoch"], r["health"].get("verdict", "")) for r in record.epochs if "health" in r],
        "warned": [r["epoch"] for r in record.warnings()],
        "best": None if best is None else {"epoch": best["epoch"], "value": _number(best[record.monitor]),
                                           "unit": "nats" if record.monitor == "parzen_monitor" else
                                           record.monitor.removesuffix("_monitor").upper()},
        "strip": [(e, uris[e]) for e in strip],
        "grid_count": len(epochs),
        "slider": [(e, uris[e]) for e in slider],
        "histogram": None if not counts else data_uri(charts.class_histogram(
            counts, title=f"classes of the fixed-noise samples, epoch {last['epoch']}")),
        "figures": [(f.name, data_uri(f.read_bytes())) for f in record.figures],
        "evaluations": evaluations,
        "checkpoints": [(p.name, f"{p.stat().st_size / 1e6:.1f} MB") for p in record.checkpoints],
        "best_checkpoint": None if record.best is None else record.best.name,
        "torn_lines": record.torn_lines,
    }


def _differences(records: list[RunRecord]) -> list[tuple[str, list[str]]]:
    """Configuration fields whose values differ between the runs compared."""
    keys = list(dict.fromkeys(k for r in records for k in r.config))
    return [(k, [str(r.config.get(k, "-")) for r in records]) for k in keys
            if len({str(r.config.get(k, "-")) for r in records}) > 1]


def render(records: list[RunRecord]) -> str:
    env = jinja2.Environment(loader=jinja2.PackageLoader("gankit", "report"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("template.html").render(
        runs=[_run_view(r) for r in records], compare=len(records) > 1,
        curves=data_uri(charts.curves(records)) if any(r.epochs for r in records) else None,
        differences=_differences(records) if len(records) > 1 else [],
        made=time.strftime("%Y-%m-%d %H:%M:%S"),
    )


def default_out(runs: list[Path]) -> Path:
    return RunDir(runs[0]).report if len(runs) == 1 else Path(REPORT)


def write_report(runs: list[str | Path], out: str | Path | None = None,
                 warn: Callable[[str], None] = lambda m: None) -> Path:
    """Write the report of one run (default RUN/report.html) or a comparison of several (default ./report.html)."""
    if not runs:
        raise ConfigError("give at least one run directory to report on.")
    records = [load_record(r, warn) for r in runs]
    empty = [r.name for r in records if not r.epochs and not r.evaluations]
    if len(empty) == len(records):
        raise ConfigError(f"{records[0].path} has no finished epoch yet, so there is nothing to report; "
                          "report again after its first epoch.")
    for name in empty:
        warn(f"gankit: {name} has no finished epoch yet; it appears with its configuration only")
    target = check_output(out if out else default_out([r.path for r in records]), (".html",), "the report")
    html = render(records).encode()
    try:
        atomic_write_bytes(target, html)
    except OSError as exc:
        raise ConfigError(f"cannot write {target} ({exc.strerror}); choose a writable --out.") from None
    return target
