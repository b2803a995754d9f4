"""`gankit reproduce table1`: train the paper's preset, pick the epoch by validation, report beside Table 1
and beside baselines evaluated with exactly the same protocol:

* held-out real images: training images used as samples (a ceiling for what samples can score);
* a k-means mixture: k diagonal Gaussians fitted by Lloyd's algorithm on the training split
  (hard-assignment EM), sampled in proportion to cluster sizes and clipped to [0, 1].

The dataset is loaded once and handed to training, evaluation, the classifier and the baselines.

With seeds (run_seeds), the paper's recipe is trained once per seed by `gankit sweep` and each seed's best
epoch evaluated alike: every seed is reported, with the mean and standard deviation over all seeds and
over those the health monitor found healthy (the paper reports one run).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from gankit.config import load_yaml
from gankit.data import Splits, load_dataset
from gankit.errors import ConfigError, TrainingStopped
from gankit.evaluate import evaluate
from gankit.fileio import atomic_write_bytes
from gankit.metrics.neighbours import nearest
from gankit.metrics.parzen import parzen_evaluate
from gankit.plots import plot_parzen_curve, plot_seed_curves
from gankit.recipe import Recipe
from gankit.rundir import RunDir
from gankit.sweep import mean_std, run_sweep
from gankit.training import Progress, ensure

# (model, MNIST mean, MNIST +-, TFD mean, TFD +-): the paper's Table 1, quoted there from each source.
PAPER_TABLE1 = [
    ("DBN [Bengio et al. 2013a]", 138, 2, 1909, 66),
    ("Stacked CAE [Bengio et al. 2013a]", 121, 1.6, 2110, 50),
    ("Deep GSN [Bengio et al. 2014]", 214, 1.1, 1890, 29),
    ("Adversarial nets (paper)", 225, 2, 2057, 26),
]
PRESET_FOR = {"mnist": "paper-mnist", "fashion-mnist": "paper-fashion-mnist", "idx": "paper-mnist"}


def kmeans(x: torch.Tensor, k: int, iters: int = 20, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's algorithm from k random points; returns (centroids (k, d), assignment (n,))."""
    gen = torch.Generator().manual_seed(seed)
    x = x.double()
    centroids = x[torch.randperm(len(x), generator=gen)[:k]].clone()
    assign = torch.zeros(len(x), dtype=torch.long)
    for _ in range(iters):
        assign, _ = nearest(x, centroids)
        counts = torch.bincount(assign, minlength=k).clamp_min(1).unsqueeze(1).double()
        sums = torch.zeros_like(centroids).index_add_(0, assign, x)
        empty = torch.bincount(assign, minlength=k) == 0
        centroids = torch.where(empty.unsqueeze(1), centroids, sums / counts)
    return centroids, assign


def kmeans_mixture_samples(train: torch.Tensor, n: int, k: int = 100, seed: int = 0) -> torch.Tensor:
    """n samples from a diagonal-Gaussian mixture fitted by k-means to train (pixels in [0, 1])."""
    centroids, assign = kmeans(train, k, seed=seed)
    x = train.double()
    counts = torch.bincount(assign, minlength=k).double()
    var = torch.zeros_like(centroids).index_add_(0, assign, (x - centroids[assign]) ** 2)
    std = (var / counts.clamp_min(1).unsqueeze(1)).sqrt()
    gen = torch.Generator().manual_seed(seed + 1)
    which = torch.multinomial(counts / counts.sum(), n, replacement=True, generator=gen)
    noise = torch.randn(n, x.shape[1], generator=gen, dtype=torch.float64)
    return (centroids[which] + std[which] * noise).clamp(0, 1).float()


def baseline_rows(splits: Splits, n: int = 10000, seed: int = 0) -> list[dict]:
    """Held-out real images and a k-means mixture, under the same Parzen protocol as the GAN."""
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


def train_or_resume(dataset: str, splits: Splits, out: Path, epochs: int, data_dir: str | None, progress_bar: bool,
                    log: Callable[[str], None], patience: int | None = None) -> Progress:
    """Train the dataset's paper preset into out, or continue the run already there up to epochs (or until
    the monitor's plateau, with patience)."""
    until: dict[str, Any] = {"epochs": epochs, **({"patience": patience} if patience else {}),
                             **({"data_dir": data_dir} if data_dir else {})}
    recipe = Recipe(PRESET_FOR[dataset], overrides={"dataset": "idx"} if dataset == "idx" else {}, source="table1")
    return ensure(out, recipe, until, splits=splits, progress_bar=progress_bar, log=log)


def run(dataset: str, out: str | Path, epochs: int, data_dir: str | None = None, baselines: bool = True,
        progress_bar: bool = True, log: Callable[[str], None] = print, patience: int | None = None) -> dict[str, Any]:
    """Train (or continue), evaluate the best epoch with the paper's protocol, write table1.json and the curve."""
    if dataset not in PRESET_FOR:
        raise ConfigError(f"table1 is reproduced for mnist, fashion-mnist or your own idx data; got {dataset!r}.")
    out = Path(out)
    splits = load_dataset(dataset, data_dir)
    progress = train_or_resume(dataset, splits, out, epochs, data_dir, progress_bar, log, patience)
    if progress.stopped_by:  # Ctrl-C stops the whole command; evaluating a half-trained run was not asked for
        raise TrainingStopped(f"training stopped by {progress.stopped_by} at epoch {progress.epoch} and nothing was "
                              "evaluated; run the same command again to continue and evaluate.")
    chosen = RunDir(out).best_or_latest()
    rows = evaluate(chosen, ("all",), dataset, data_dir, splits=splits)
    n_monitor = load_yaml(RunDir(out).config).monitor_parzen
    result = {"dataset": dataset, "gankit": rows[0],
              "selection": f"highest Parzen monitor ({n_monitor} samples, fixed z) on valid[:{n_monitor}]",
              "baselines": baseline_rows(splits) if baselines else []}
    if len(rows) > 1:  # labelled data: which classes the chosen G draws (mode collapse on real data)
        result["classes"] = rows[1]
    atomic_write_bytes(out / "table1.json", (json.dumps(result, indent=2) + "\n").encode())
    plot_parzen_curve(out, out / "parzen-curve.png")
    return result


def run_seeds(dataset: str, out: str | Path, seeds: list[int], epochs: int, data_dir: str | None = None,
              parallel: int = 1, log: Callable[[str], None] = print, patience: int | None = None,
              in_process: bool = False) -> dict[str, Any]:
    """Train (or continue) OUT/seed-N for each seed, `parallel` at a time (threads of this process if
    in_process), each with the 10,000-sample Parzen monitor (the 1,000-sample one ranks late epochs poorly),
    to `epochs` or, with patience, to the monitor's plateau; evaluate each seed's best epoch with the paper's
    protocol; write OUT/table1-seeds.json."""
    if dataset not in PRESET_FOR:
        raise ConfigError(f"table1 is reproduced for mnist, fashion-mnist or your own idx data; got {dataset!r}.")
    out = Path(out)
    overrides = {"monitor_parzen": 10000, **({"dataset": "idx"} if dataset == "idx" else {}),
                 **({"data_dir": data_dir} if data_dir else {}), **({"patience": patience} if patience else {})}
    recipe = Recipe(PRESET_FOR[dataset], overrides={**overrides, "epochs": epochs}, source="table1")
    swept = run_sweep(out, seeds, recipe, parallel=parallel, log=log, in_process=in_process)
    if "stopped_by" in swept:
        raise TrainingStopped(f"training stopped by {swept['stopped_by']} and nothing was evaluated; run the same "
                              "command again to continue and evaluate.")
    if swept["failed"]:
        seed, why = next(iter(swept["failed"].items()))
        raise TrainingStopped(f"seed {seed} did not finish ({why}) and nothing was evaluated; run the same command "
                              "again to continue and evaluate.")
    splits = load_dataset(dataset, data_dir)
    rows = []
    for swept_row in swept["seeds"]:
        chosen = RunDir(out / f"seed-{swept_row['seed']}").best_or_latest()
        row = evaluate(chosen, ("parzen",), dataset, data_dir, splits=splits)[0]
        rows.append({"seed": swept_row["seed"], "epochs": swept_row["epochs"], "best_epoch": row["epoch"],
                     "epochs_since_best": swept_row["epochs"] - row["epoch"],
                     "test_ll": row["test_ll"], "test_se": row["test_se"], "sigma": row["sigma"],
                     "healthy": swept_row["healthy"], "verdict": swept_row["verdict"], "checkpoint": row["checkpoint"]})
    result = {"dataset": dataset, "seeds": rows,
              "all": mean_std([r["test_ll"] for r in rows]),
              "healthy": mean_std([r["test_ll"] for r in rows if r["healthy"] is not False]),
              "selection": "each seed's highest Parzen monitor (10000 samples, fixed z) on valid[:10000]",
              "protocol": "10000 samples, sigma from the 10-value grid by valid[:1000], mean over test[:10000]"}
    atomic_write_bytes(out / "table1-seeds.json", (json.dumps(result, indent=2) + "\n").encode())
    plot_seed_curves({f"seed {r['seed']}": out / f"seed-{r['seed']}" for r in rows},
                     {f"seed {r['seed']}": (r["best_epoch"], r["test_ll"], r["test_se"]) for r in rows},
                     out / "parzen-curves.png", paper=dataset == "mnist")
    return result


def format_seeds(result: dict[str, Any]) -> str:
    lines = [f"Parzen window log-likelihood on {result['dataset']} test, every seed (nats; higher is better)",
             f"{'seed':>5} {'epochs':>6} {'best epoch':>10} {'since':>5} {'LL':>8} {'+-':>5}  health"]
    for r in result["seeds"]:
        since = r.get("epochs_since_best", r["epochs"] - r["best_epoch"])
        lines.append(f"{r['seed']:>5} {r['epochs']:>6} {r['best_epoch']:>10} {since:>5} {r['test_ll']:8.1f} "
                     f"{r['test_se']:5.1f}  "
                     f"{r['verdict'] or '-'}")
    for group in ("all", "healthy"):
        m = result[group]
        if m["n"]:
            lines.append(f"mean over {group} seeds ({m['n']}): {m['mean']:.1f} +- {m['std']:.1f} (standard deviation)")
    if result["dataset"] == "mnist":
        lines.append("Adversarial nets (paper's Table 1, one run): 225 +- 2")
    return "\n".join(lines)


def format(result: dict[str, Any]) -> str:  # noqa: A001  (every experiment has run and format)
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
