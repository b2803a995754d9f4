"""Figure 1 of the paper, drawn from the checkpoints of a real 1-D run instead of by hand.

Each panel: p_data (black, dotted), p_g (green, solid; a kernel density estimate of G's samples),
D (blue, dashed), the optimal D* = p_data / (p_data + p_g) for the estimated p_g (thin, purple),
and arrows from the z line below to the x line, showing how x = G(z) maps uniform z onto p_g.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from gankit import checkpoint
from gankit.data.toy import TOY_1D, density_1d
from gankit.errors import CheckpointError, ConfigError
from gankit.experiments.theory import optimal_discriminator
from gankit.fileio import atomic_write_bytes
from gankit.generator import initial_pair, load_pair
from gankit.nets import sample_noise
from gankit.plots import figure_png, plt
from gankit.rundir import RunDir


@dataclass
class Snapshot:
    """What one panel needs, computed from one state of G and D."""

    label: str
    x: np.ndarray
    p_data: np.ndarray
    p_g: np.ndarray
    d: np.ndarray
    d_star: np.ndarray
    z: np.ndarray
    gz: np.ndarray


def kde(samples: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gaussian kernel density estimate with Silverman's bandwidth."""
    n = len(samples)
    iqr = np.subtract(*np.percentile(samples, [75, 25]))
    h = 0.9 * min(samples.std(), iqr / 1.34) * n ** (-0.2)
    h = max(h, 1e-3)
    out = np.zeros_like(x)
    for start in range(0, n, 2000):
        u = (x[None, :] - samples[start : start + 2000, None]) / h
        out += np.exp(-0.5 * u * u).sum(0)
    return out / (n * h * math.sqrt(2 * math.pi))


def domain(dataset: str) -> tuple[float, float]:
    _, means, stds = TOY_1D[dataset]
    return min(m - 4.5 * s for m, s in zip(means, stds)), max(m + 4.5 * s for m, s in zip(means, stds))


@torch.no_grad()
def snapshot(g: torch.nn.Module, d: torch.nn.Module, dataset: str, noise: str, label: str,
             n: int = 20000, seed: int = 0) -> Snapshot:
    g.eval()
    d.eval()
    lo, hi = domain(dataset)
    x = np.linspace(lo, hi, 600)
    device = next(g.parameters()).device  # a run trained on a GPU draws its picture there

    def column(values: np.ndarray) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.float32, device=device).unsqueeze(1)

    z_draw = sample_noise(n, 1, noise, torch.Generator().manual_seed(seed)).to(device)
    samples = g(z_draw).squeeze(1).double().cpu().numpy()
    p_g = kde(samples, x)
    p_data = density_1d(dataset, x)
    d_x = torch.sigmoid(d(column(x))).double().cpu().numpy()
    z = np.linspace(-math.sqrt(3), math.sqrt(3), 17) * 0.98
    gz = g(column(z)).squeeze(1).double().cpu().numpy()
    return Snapshot(label, x, p_data, p_g, d_x, optimal_discriminator(p_data, p_g), z, gz)


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


def draw_panel(ax: plt.Axes, s: Snapshot, letter: str = "") -> None:
    lo, hi = s.x[0], s.x[-1]
    top = max(1.05, float(max(s.p_data.max(), s.p_g.max())) * 1.1)
    x_line, z_line = -0.08, -0.42
    ax.plot(s.x, s.p_data, ":", color="black", lw=2, label="p_data")
    ax.plot(s.x, s.p_g, "-", color="green", lw=2, label="p_g (KDE of G's samples)")
    ax.plot(s.x, s.d, "--", color="blue", lw=2, label="D(x)")
    ax.plot(s.x, s.d_star, "-", color="purple", lw=0.8, alpha=0.7, label="D* for this p_g")
    ax.axhline(x_line, color="black", lw=1)
    z_disp = lo + (s.z + math.sqrt(3)) / (2 * math.sqrt(3)) * (hi - lo)
    ax.plot([lo, hi], [z_line, z_line], color="black", lw=1)
    for zd, gx in zip(z_disp, s.gz):
        if lo <= gx <= hi:
            ax.annotate("", xy=(gx, x_line), xytext=(zd, z_line),
                        arrowprops={"arrowstyle": "->", "color": "0.35", "lw": 0.8})
    ax.text(lo, z_line - 0.1, "z", fontsize=9)
    ax.text(lo, x_line + 0.03, "x", fontsize=9)
    ax.set_xlim(lo, hi)
    ax.set_ylim(z_line - 0.15, top)
    ax.set_yticks([0, 0.5, 1.0])
    ax.set_title(f"({letter}) {s.label}" if letter else s.label, fontsize=10)


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
    """Figure 1 (PNG) and the whole run as a GIF from a toy1d run; trains the run first if it has no checkpoint."""
    from gankit.config import apply_overrides, from_preset
    from gankit.training import Trainer

    if dataset not in TOY_1D:
        raise ConfigError(f"--dataset must be one of {', '.join(TOY_1D)}, got {dataset!r}.")
    run_dir = RunDir(run_dir or f"runs/{dataset}")
    if not run_dir.checkpoints():
        config = apply_overrides(from_preset("toy1d"), {"dataset": dataset, "seed": seed}, "figure")
        log(f"training {run_dir} (toy1d preset, {config.epochs} epochs) ...")
        Trainer(config, run_dir.path, progress_bar=False, log=lambda m: None).run()
    shots = run_snapshots(run_dir.path)
    png = Path(out) if out else run_dir.figure("figure1.png")
    png.parent.mkdir(parents=True, exist_ok=True)
    render(shots, png)
    return {"png": str(png), "gif": str(render_gif(shots, png.with_suffix(".gif"))), "snapshots": len(shots)}


def format(result: dict[str, Any]) -> str:  # noqa: A001  (every experiment has run and format)
    return f"figure written to {result['png']} and {result['gif']}"


def epoch_picture(g: torch.nn.Module, d: torch.nn.Module, dataset: str, noise: str, label: str) -> bytes:
    """One Figure 1 panel of a toy1d run's current G and D (the run's per-epoch picture)."""
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    draw_panel(ax, snapshot(g, d, dataset, noise, label, n=5000))
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return figure_png(fig, dpi=90)
