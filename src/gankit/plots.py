"""Matplotlib, set up once for files (the Agg backend, no display), and the plots of a run."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

from gankit.fileio import atomic_write_bytes  # noqa: E402
from gankit.rundir import RunDir  # noqa: E402

__all__ = ["figure_png", "plot_parzen_curve", "plt", "save_figure"]


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
