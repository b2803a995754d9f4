"""Figure 1 of the paper, drawn from the checkpoints of a real 1-D run instead of by hand.

Each panel: p_data (black, dotted), p_g (green, solid; a kernel density estimate of G's samples),
D (blue, dashed), the optimal D* = p_data / (p_data + p_g) for the estimated p_g (thin, purple),
and arrows from the z line below to the x line, showing how x = G(z) maps uniform z onto p_g.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from gankit import checkpoint
from gankit.data.toy import TOY_1D
from gankit.errors import CheckpointError, ConfigError
from gankit.fileio import atomic_write_bytes
from gankit.generator import initial_pair, load_pair
from gankit.plots import figure_png, plt
from gankit.plots.toy import Snapshot, draw_panel, snapshot
from gankit.rundir import RunDir


def run_snapshots(run_dir: str | Path) -> list[Snapshot]:
    """The initial state (rebuilt from the run's seed) and every checkpoint of a toy1d run."""
    paths = RunDir(run_dir).checkpoints()
    if not paths:
        raise CheckpointError(f"{run_dir} has no checkpoints; train it first (gankit train --preset toy1d).")
    _, meta = checkpoint.read(paths[0])
    cfg = meta["config"]
    if cfg["dataset"] not in TOY_1D:
        raise CheckpointError(f"{run_dir} is a {cfg['dataset']} run; Figure 1 needs a 1-D toy run (--preset toy1d).")
    g, d = initial_pair(meta)
    shots = [snapshot(g, d, cfg["dataset"], cfg["noise"], "start (step 0)")]
    for path in paths:
        g, d, meta = load_pair(path)
        shots.append(snapshot(g, d, cfg["dataset"], cfg["noise"], f"epoch {meta['epoch']} (step {meta['step']})"))
    return shots


def render(shots: list[Snapshot], path: str | Path | None = None, dpi: int = 110) -> bytes:
    """Four panels (start, two intermediate states, end) side by side; returns PNG bytes."""
    picks = [shots[0], shots[1], shots[len(shots) // 2], shots[-1]] if len(shots) >= 4 else shots
    fig, axes = plt.subplots(1, len(picks), figsize=(4.2 * len(picks), 3.6), sharey=True)
    for ax, shot, letter in zip(np.atleast_1d(axes), picks, "abcd"):
        draw_panel(ax, shot, letter)
    np.atleast_1d(axes)[0].legend(loc="upper left", fontsize=7, frameon=False)
    fig.tight_layout()
    png = figure_png(fig, dpi)
    if path is not None:
        atomic_write_bytes(path, png)
    return png


def render_gif(shots: list[Snapshot], path: str | Path, ms_per_frame: int = 400) -> Path:
    """One frame per checkpoint, the whole run."""
    frames = []
    for shot in shots:
        fig, ax = plt.subplots(figsize=(5, 3.6))
        draw_panel(ax, shot)
        ax.legend(loc="upper left", fontsize=7, frameon=False)
        fig.tight_layout()
        frames.append(Image.open(io.BytesIO(figure_png(fig, 80))).convert("P", palette=Image.ADAPTIVE))
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=ms_per_frame, loop=0)
    atomic_write_bytes(path, out.getvalue())
    return Path(path)


def run(run_dir: str | Path | None = None, dataset: str = "toy1d-gaussian", seed: int = 0,
        out: str | Path | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Figure 1 (PNG) and the whole run as a GIF from a toy1d run; trains (or finishes) the run first."""
    from gankit.recipe import Recipe
    from gankit.training import ensure

    if dataset not in TOY_1D:
        raise ConfigError(f"--dataset must be one of {', '.join(TOY_1D)}, got {dataset!r}.")
    run_dir = RunDir(run_dir or f"runs/{dataset}")
    recipe = Recipe("toy1d", overrides={"dataset": dataset, "seed": seed}, source="figure")
    if not run_dir.checkpoints():
        log(f"training {run_dir} (toy1d preset, {recipe.resolve().epochs} epochs) ...")
    ensure(run_dir.path, recipe, progress_bar=False, log=lambda m: None)
    shots = run_snapshots(run_dir.path)
    png = Path(out) if out else run_dir.figure("figure1.png")
    png.parent.mkdir(parents=True, exist_ok=True)
    render(shots, png)
    return {"png": str(png), "gif": str(render_gif(shots, png.with_suffix(".gif"))), "snapshots": len(shots)}


def format(result: dict[str, Any]) -> str:  # noqa: A001  (every experiment has run and format)
    return f"figure written to {result['png']} and {result['gif']}"
