"""The report's plots, drawn by matplotlib as PNG: training curves per epoch for one run or several
overlaid, with the epochs the health monitor warned about shaded, and a class histogram."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from matplotlib.ticker import MaxNLocator

from gankit.optim import uses_momentum
from gankit.plots import figure_png, plt
from gankit.report.record import RunRecord

Series = tuple[str, Callable[[dict[str, Any]], float | None]]


def _get(*keys: str) -> Callable[[dict[str, Any]], float | None]:
    def read(row: dict[str, Any]) -> float | None:
        value: Any = row
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return float(value) if isinstance(value, (int, float)) else None

    return read


# panel title -> the series drawn in it (label, how to read it from an epoch row)
PANELS: dict[str, list[Series]] = {
    "losses": [("D loss", _get("d_loss")), ("G loss", _get("g_loss"))],
    "discriminator outputs": [("mean D(x)", _get("d_real")), ("mean D(G(z))", _get("d_fake"))],
    "VAE objective (nats per image)": [("-ELBO", _get("neg_elbo")), ("-log p(x|z)", _get("reconstruction")),
                                       ("KL(q || prior)", _get("kl"))],
    "learning rate": [("lr", _get("lr"))],
    "momentum": [("momentum", _get("momentum"))],
    "speed (images/s)": [("images/s", _get("images_per_s"))],
    "Parzen monitor (nats)": [("Parzen LL", _get("parzen_monitor"))],
    "FID monitor (domain features)": [("FID", _get("fid_monitor"))],
    "diversity (samples / real)": [("diversity", _get("health", "diversity"))],
    "classes (health monitor)": [("classes covered", _get("health", "classes_covered")),
                                 ("KL from uniform x 10", lambda r: _scaled(r, 10))],
}


def _scaled(row: dict[str, Any], k: float) -> float | None:
    value = _get("health", "kl_from_uniform")(row)
    return None if value is None else value * k


def _points(rows: list[dict[str, Any]], read: Callable[[dict[str, Any]], float | None]) -> tuple[list, list]:
    pairs = [(r["epoch"], read(r)) for r in rows]
    pairs = [(e, v) for e, v in pairs if v is not None]
    return [e for e, _ in pairs], [v for _, v in pairs]


def _shown(title: str, record: RunRecord) -> bool:
    """Whether the run uses what the panel shows (momentum is recorded for every run, used by one optimiser)."""
    return title != "momentum" or uses_momentum(record.config.get("optimizer", "momentum"))


def panels_drawn(records: list[RunRecord]) -> list[str]:
    """The panels with at least one value in at least one run that uses it."""
    return [title for title, series in PANELS.items()
            if any(_points(r.epochs, read)[0] for r in records if _shown(title, r) for _, read in series)]


def literal(text: str) -> str:
    """Text that matplotlib draws as written: a run or class name with $...$ is not TeX to it, and a lone
    surrogate (a file name that is not UTF-8) is shown as a replacement character."""
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text.replace("$", r"\$").lstrip("_") or "?"


def curves(records: list[RunRecord]) -> bytes:
    """All panels with data, two per row; several runs share each panel, one colour per run."""
    titles = panels_drawn(records)
    rows = max(1, (len(titles) + 1) // 2)
    fig, axes = plt.subplots(rows, 2, figsize=(11, 2.9 * rows), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ["-", "--", ":", "-."]
    for ax, title in zip(axes.flat, titles):
        for i, record in enumerate(records):
            for j, (label, read) in enumerate(PANELS[title]):
                x, y = _points(record.epochs, read)
                if not x:
                    continue
                name = literal(label if len(records) == 1 else f"{record.name}: {label}")
                colour = colours[(j if len(records) == 1 else i) % len(colours)]
                ax.plot(x, y, styles[j % len(styles)], color=colour, marker="o" if len(x) < 30 else None,
                        markersize=3, label=name)
            for row in record.warnings():  # epochs the health monitor warned about
                ax.axvspan(row["epoch"] - 0.5, row["epoch"] + 0.5, color="tab:red", alpha=0.12, lw=0)
        ax.set_title(title, fontsize=10)
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.set_xlabel("epoch", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for ax in list(axes.flat)[len(titles):]:
        ax.axis("off")
    fig.tight_layout()
    return figure_png(fig, dpi=90)


def class_histogram(counts: list[int], names: list[str] | None = None, title: str = "") -> bytes:
    """Bars of how many samples fell in each class, with the uniform share marked."""
    fig, ax = plt.subplots(figsize=(5.5, 2.6))
    numbers = [str(i) for i in range(len(counts))]
    labels = [literal(n) for n in names] if names and len(names) == len(counts) else numbers
    ax.bar(range(len(counts)), counts, color="tab:blue")
    ax.axhline(sum(counts) / max(len(counts), 1), color="tab:gray", ls="--", lw=1, label="uniform")
    ax.set_xticks(range(len(counts)), labels, fontsize=7, rotation=30 if names else 0)
    ax.set_ylabel("samples", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return figure_png(fig, dpi=90)
