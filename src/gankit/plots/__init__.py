"""Matplotlib, set up once for files (the Agg backend, no display), and the plots of a run."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

from gankit.fileio import atomic_write_bytes  # noqa: E402
from gankit.rundir import RunDir  # noqa: E402

__all__ = ["figure_png", "monitor_curve", "plot_parzen_curve", "plot_seed_curves", "plt", "save_figure"]


def figure_png(fig: plt.Figure, dpi: int = 100) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def save_figure(fig: plt.Figure, path: str | Path, dpi: int = 100) -> Path:
    """Write a matplotlib figure as PNG, atomically; the figure is closed."""
    atomic_write_bytes(path, figure_png(fig, dpi))
    return Path(path)


def plot_parzen_curve(run_dir: str | Path, path: str | Path) -> Path:
    """The per-epoch Parzen monitor and every full-protocol evaluation of a run, against epoch.

    The paper's 225 is drawn for MNIST runs only: it is the paper's figure for no other data set.
    """
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


def monitor_curve(run_dir: str | Path) -> list[tuple[int, float]]:
    """(epoch, Parzen monitor) of every epoch row of a run measured with its latest monitor size."""
    rows = [r for r in RunDir(run_dir).rows() if r.get("kind") == "train" and "parzen_monitor" in r]
    if not rows:
        return []
    latest = rows[-1].get("parzen_monitor_protocol")
    return [(r["epoch"], r["parzen_monitor"]) for r in rows if r.get("parzen_monitor_protocol") == latest]


def plot_seed_curves(runs: dict[str, Path], evaluated: dict[str, tuple[int, float, float]], path: str | Path,
                     paper: bool) -> Path:
    """One Parzen-monitor line per seed's run (label -> run folder), each with the paper-protocol test LL
    of its chosen epoch (label -> (epoch, LL, se)); the paper's 225 where paper (MNIST). The axis is drawn
    for the seeds that learned (test LL above 0); a collapsed seed far below says so in the legend."""
    fig, ax = plt.subplots(figsize=(9, 4))
    learned = [ll for _, ll, _ in evaluated.values() if ll > 0]
    low = min(learned) - 40 if learned else None
    for (label, run), colour in zip(runs.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4):
        points = monitor_curve(run)
        epoch, ll, se = evaluated.get(label, (None, None, None))
        below = low is not None and ll is not None and ll < low
        ax.plot(*zip(*points) if points else ([], []), color=colour, lw=1,
                label=f"{label}: monitor" + (f" (test LL {ll:.1f}, below the axis)" if below else ""))
        if epoch is not None and not below:
            ax.errorbar([epoch], [ll], yerr=[se], fmt="o", color=colour, label=f"{label}: test LL at its best epoch")
    if paper:
        ax.axhline(225, color="black", ls=":", lw=1, label="paper, Table 1: 225 +- 2")
    if low is not None:
        ax.set_ylim(low, max(max(learned), 225 if paper else 0) + 15)
    ax.set_xlabel("epoch")
    ax.set_ylabel("Parzen log-likelihood (nats)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)
