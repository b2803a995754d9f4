"""The mode-collapse experiment: 2-D mixtures with known modes, several G objectives and D schedules.

Every variant trains with the same loop as the image models (preset `toy2d`), for the same number
of G updates, over several seeds; modes covered and the high-quality rate are measured on 2,500
samples at every checkpoint. Results go to a JSON table and a figure of samples over training.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path

from gankit.data import load_dataset
from gankit.data.toy import TOY_2D
from gankit.errors import ConfigError
from gankit.fileio import atomic_write_bytes
from gankit.generator import load_generator
from gankit.metrics.modes import mode_stats
from gankit.plots import plt, save_figure
from gankit.plots.toy import draw_modes
from gankit.recipe import Recipe
from gankit.rundir import RunDir
from gankit.training import ensure

VARIANTS = {
    "minimax, k=1": {"g_objective": "minimax"},
    "non-saturating, k=1": {},
    "non-saturating, k=5": {"d_steps": 5},
    "non-saturating, unrolled 5": {"unrolled_steps": 5},
}


def slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text).strip("-").replace("--", "-")


def run(out_dir: str | Path, datasets: tuple[str, ...] = ("toy2d-ring", "toy2d-grid"),
        seeds: tuple[int, ...] = (0, 1, 2), steps: int = 3000, lr: float = 0.01,
        variants: dict[str, dict] | None = None, figures: bool = True,
        log: Callable[[str], None] = print) -> dict:
    """Train every (dataset, variant, seed) not yet trained under out_dir, measure, write results.json
    and (figures) one figure of samples over training per dataset."""
    unknown = [d for d in datasets if d not in TOY_2D]
    if unknown or not datasets:
        raise ConfigError(f"--datasets must list some of {', '.join(TOY_2D)}; got {','.join(datasets)!r}.")
    if not seeds or steps < 1:
        raise ConfigError("--seeds and --steps must be at least 1.")
    out_dir = Path(out_dir)
    variants = variants or VARIANTS
    results: dict = {"protocol": {"steps": steps, "lr": lr, "seeds": list(seeds), "samples": 2500,
                                  "covered_if": ">= 25% of n/modes high-quality samples",
                                  "high_quality_if": "within 3 std of the nearest mode"},
                     "table": []}
    for dataset in datasets:
        centres, std = TOY_2D[dataset]
        splits = load_dataset(dataset)
        for name, overrides in variants.items():
            finals = []
            for seed in seeds:
                run_dir = out_dir / dataset / slug(name) / f"seed-{seed}"
                recipe = Recipe("toy2d", overrides={"dataset": dataset, "seed": seed, "lr": lr, "epochs": 10**6,
                                                    **overrides}, source="mode-collapse")
                if not RunDir(run_dir).checkpoints():
                    log(f"training {dataset} / {name} / seed {seed}")
                ensure(run_dir, recipe, {"max_steps": steps}, splits=splits, progress_bar=False, log=lambda m: None)
                samples = load_generator(run_dir).sample(2500).flatten(1)
                finals.append(mode_stats(samples, centres, std))
            covered = [f["modes_covered"] for f in finals]
            quality = [f["high_quality_rate"] for f in finals]
            results["table"].append({
                "dataset": dataset, "variant": name, "modes": len(centres),
                "modes_covered_mean": statistics.mean(covered), "modes_covered_std": statistics.pstdev(covered),
                "high_quality_mean": statistics.mean(quality), "high_quality_std": statistics.pstdev(quality),
                "per_seed": finals,
            })
    atomic_write_bytes(out_dir / "results.json", (json.dumps(results, indent=2) + "\n").encode())
    results["results_path"] = str(out_dir / "results.json")
    if figures:
        results["figures"] = [str(figure_over_training(out_dir, d, out_dir / f"{d}-over-training.png",
                                                       variants=variants)) for d in datasets]
    return results


def format(results: dict) -> str:  # noqa: A001  (every experiment has run and format)
    lines = [f"{'dataset':12s} {'variant':28s} {'modes covered':>16s} {'high quality':>14s}"]
    for r in results["table"]:
        lines.append(f"{r['dataset']:12s} {r['variant']:28s} "
                     f"{r['modes_covered_mean']:5.1f} +- {r['modes_covered_std']:3.1f} / {r['modes']:2d} "
                     f"{100 * r['high_quality_mean']:6.1f}% +- {100 * r['high_quality_std']:4.1f}")
    lines += [f"figure: {path}" for path in results.get("figures", [])]
    if "results_path" in results:
        lines.append(f"results: {results['results_path']}")
    return "\n".join(lines)


def figure_over_training(out_dir: str | Path, dataset: str, path: str | Path, seed: int = 0,
                         columns: int = 5, variants: dict[str, dict] | None = None) -> Path:
    """Rows: variants; columns: evenly spaced checkpoints of one seed; samples (blue) over modes (red)."""
    out_dir = Path(out_dir)
    variants = variants or VARIANTS
    centres, _ = TOY_2D[dataset]
    fig, axes = plt.subplots(len(variants), columns, figsize=(2.2 * columns, 2.2 * len(variants)),
                             squeeze=False)
    for row, name in enumerate(variants):
        paths = RunDir(out_dir / dataset / slug(name) / f"seed-{seed}").checkpoints()
        picks = [paths[round(i * (len(paths) - 1) / (columns - 1))] for i in range(columns)] if paths else []
        for col, p in enumerate(picks):
            g = load_generator(p)
            ax = axes[row][col]
            draw_modes(ax, g.sample(1000).flatten(1), centres)
            ax.set_title(f"step {g.step}", fontsize=8)
            if col == 0:
                ax.set_ylabel(name, fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path, dpi=90)
