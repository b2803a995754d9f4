"""The per-epoch pictures of the toy runs: a Figure 1 panel for 1-D data (p_data, p_g, D and D*, and the
mapping x = G(z)), and G's samples over the modes for 2-D mixtures. The training hooks draw them each epoch;
experiments/figure1.py and mode_collapse.py assemble them into figures."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from gankit.data.toy import TOY_1D, TOY_2D, density_1d
from gankit.metrics.modes import mode_stats
from gankit.nets import generate, sample_noise
from gankit.objectives import optimal_discriminator
from gankit.plots import figure_png, plt


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


def figure1_panel(g: torch.nn.Module, d: torch.nn.Module, dataset: str, noise: str, label: str) -> bytes:
    """One Figure 1 panel of a toy1d run's current G and D (the run's per-epoch picture)."""
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    draw_panel(ax, snapshot(g, d, dataset, noise, label, n=5000))
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return figure_png(fig, dpi=90)


def draw_modes(ax: plt.Axes, samples: torch.Tensor, centres: np.ndarray) -> None:
    """G's samples (blue) over the mixture's modes (red crosses)."""
    ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, color="tab:blue")
    ax.scatter(centres[:, 0], centres[:, 1], s=12, marker="x", color="red")
    ax.set_xlim(-6, 6)
    ax.set_ylim(-6, 6)
    ax.set_xticks([])
    ax.set_yticks([])


def modes_picture(g: torch.nn.Module, dataset: str, noise: str, z_dim: int, label: str) -> bytes:
    """A toy2d run's samples over the modes, with how many modes they cover (the run's per-epoch picture)."""
    centres, std = TOY_2D[dataset]
    z = sample_noise(2000, z_dim, noise, torch.Generator().manual_seed(0)).to(next(g.parameters()).device)
    samples = generate(g, z).float().cpu()
    stats = mode_stats(samples, centres, std)
    fig, ax = plt.subplots(figsize=(3.8, 3.8))
    draw_modes(ax, samples, centres)
    ax.set_title(f"{label}: {stats['modes_covered']} of {stats['modes']} modes covered", fontsize=9)
    fig.tight_layout()
    return figure_png(fig, dpi=90)


def epoch_picture(kind: str, g: torch.nn.Module, d: torch.nn.Module, dataset: str, noise: str, z_dim: int,
                  label: str) -> bytes:
    """The picture of a toy run of this kind (toy1d or toy2d) at its current G and D."""
    if kind == "toy1d":
        return figure1_panel(g, d, dataset, noise, label)
    return modes_picture(g, dataset, noise, z_dim, label)
