"""`gankit reproduce table1`: train the paper's preset, pick the epoch by validation, report beside Table 1."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gankit.baselines import kmeans_mixture_samples
from gankit.config import apply_overrides, from_preset, load_yaml, resume_config
from gankit.data import load_dataset
from gankit.errors import ConfigError, TrainingStopped
from gankit.evaluate import evaluate_classes, evaluate_parzen
from gankit.figures import save_figure
from gankit.fileio import atomic_write_bytes
from gankit.metrics.classifier import LABELLED_DATASETS
from gankit.metrics.parzen import parzen_evaluate
from gankit.rundir import RunDir
from gankit.training import Progress, Trainer

# (model, MNIST mean, MNIST +-, TFD mean, TFD +-): the paper's Table 1, quoted there from each source.
PAPER_TABLE1 = [
    ("DBN [Bengio et al. 2013a]", 138, 2, 1909, 66),
    ("Stacked CAE [Bengio et al. 2013a]", 121, 1.6, 2110, 50),
    ("Deep GSN [Bengio et al. 2014]", 214, 1.1, 1890, 29),
    ("Adversarial nets (paper)", 225, 2, 2057, 26),
]
PRESET_FOR = {"mnist": "paper-mnist", "fashion-mnist": "paper-fashion-mnist", "idx": "paper-mnist"}


def train_or_resume(dataset: str, out: Path, epochs: int, data_dir: str | None, progress_bar: bool,
                    log: Callable[[str], None]) -> Progress:
    """Train the dataset's paper preset into out, or continue the run already there up to epochs."""
    overrides: dict[str, Any] = {"epochs": epochs}
    if dataset == "idx":
        overrides["dataset"] = "idx"
    if data_dir:
        overrides["data_dir"] = data_dir
    resume = bool(RunDir(out).checkpoints())
    if resume:
        config = resume_config(out, overrides)
    else:
        config = apply_overrides(from_preset(PRESET_FOR[dataset]), overrides, "reproduce")
    return Trainer(config, out, progress_bar=progress_bar, log=log).run(resume=resume)


def baseline_rows(dataset: str, data_dir: str | None = None, n: int = 10000, seed: int = 0) -> list[dict]:
    """Held-out real images and a k-means mixture, under the same Parzen protocol as the GAN."""
    splits = load_dataset(dataset, data_dir)
    valid, test = splits.valid.float()[:1000], splits.test.float()
    train = splits.train.float()
    rows = []
    for name, samples in (
        ("real training images 0..9,999 as samples (ceiling)", train[:n]),
        ("k-means mixture, 100 diagonal Gaussians", kmeans_mixture_samples(train, n, 100, seed)),
    ):
        result = parzen_evaluate(samples, valid, test)
        rows.append({"model": name, **result.to_dict()})
    return rows


def reproduce_table1(dataset: str, out: str | Path, epochs: int, data_dir: str | None = None,
                     baselines: bool = True, progress_bar: bool = True,
                     log: Callable[[str], None] = print) -> dict[str, Any]:
    if dataset not in PRESET_FOR:
        raise ConfigError(f"table1 is reproduced for mnist, fashion-mnist or your own idx data; got {dataset!r}.")
    out = Path(out)
    progress = train_or_resume(dataset, out, epochs, data_dir, progress_bar, log)
    if progress.stopped_by:  # Ctrl-C stops the whole command; evaluating a half-trained run was not asked for
        raise TrainingStopped(f"training stopped by {progress.stopped_by} at epoch {progress.epoch} and nothing was "
                              "evaluated; run the same command again to continue and evaluate.")
    chosen = RunDir(out).best_or_latest()
    row = evaluate_parzen(chosen, dataset, data_dir)
    n_monitor = load_yaml(out / "config.yaml").monitor_parzen
    result = {"dataset": dataset, "gankit": row,
              "selection": f"highest Parzen monitor ({n_monitor} samples, fixed z) on valid[:{n_monitor}]",
              "baselines": baseline_rows(dataset, data_dir) if baselines else []}
    if dataset in LABELLED_DATASETS:  # which classes the chosen G draws (mode collapse on real data)
        result["classes"] = evaluate_classes(chosen, dataset, data_dir)
    atomic_write_bytes(out / "table1.json", (json.dumps(result, indent=2) + "\n").encode())
    plot_parzen_curve(out, out / "parzen-curve.png")
    return result


def format_table(result: dict[str, Any]) -> str:
    ds = result["dataset"]
    lines = [f"Parzen window log-likelihood on {ds} test (nats; higher is better)",
             f"{'model':58s} {'LL':>8s} {'+-':>6s}"]
    if ds == "mnist":
        lines += [f"{name:58s} {m:8.0f} {s:6.1f}" for name, m, s, _, _ in PAPER_TABLE1]
    g = result["gankit"]
    lines.append(f"{'gankit paper-' + ds + ' (epoch ' + str(g['epoch']) + ')':58s} "
                 f"{g['test_ll']:8.1f} {g['test_se']:6.1f}")
    for b in result["baselines"]:
        lines.append(f"{b['model']:58s} {b['test_ll']:8.1f} {b['test_se']:6.1f}")
    if "classes" in result:
        c = result["classes"]
        lines.append(f"classes of G's samples: {c['class_counts']}, {c['classes_covered']} of {c['classes']} covered, "
                     f"KL from uniform {c['kl_from_uniform']:.4f} nats (test set {c['test_set_kl_from_uniform']:.4f})")
    return "\n".join(lines)


def plot_parzen_curve(run_dir: str | Path, path: str | Path) -> Path:
    """The per-epoch Parzen monitor and every full-protocol evaluation of a run, against epoch.

    The paper's 225 is drawn for MNIST runs only: it is the paper's figure for no other data set.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = RunDir(run_dir).rows()
    monitors: dict[str, list[tuple[int, float]]] = {}  # one line per monitor size (a run may change it on resume)
    for r in rows:
        if r.get("kind") == "train" and "parzen_monitor" in r:
            size = r.get("parzen_monitor_protocol", "").split(" samples")[0]
            monitors.setdefault(size, []).append((r["epoch"], r["parzen_monitor"]))
    full = sorted({(r["epoch"], r["test_ll"], r["test_se"]) for r in rows if r.get("kind") == "parzen"})
    fig, ax = plt.subplots(figsize=(7, 4))
    for (size, points), colour in zip(monitors.items(), ("tab:blue", "tab:orange", "tab:purple", "tab:brown")):
        n = f"{int(size):,}" if size.isdigit() else size
        ax.plot(*zip(*points), color=colour, lw=1, label=f"monitor: {n} samples on valid[:{n}] (ranks epochs)")
    if full:
        ax.errorbar([f[0] for f in full], [f[1] for f in full], yerr=[f[2] for f in full], fmt="o",
                    color="tab:green", label="paper protocol: 10,000 samples, test set")
    if any(r.get("dataset") == "mnist" for r in rows if r.get("kind") == "parzen"):
        ax.axhline(225, color="black", ls=":", lw=1, label="paper, Table 1: 225 +- 2")
    ax.set_xlabel("epoch")
    ax.set_ylabel("Parzen log-likelihood (nats)")
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)
