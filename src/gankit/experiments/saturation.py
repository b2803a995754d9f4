"""Paper section 3's saturation argument, measured: G's gradient norm under both objectives early on.

Two paper-mnist runs (Algorithm 1 order) start from the same weights, one trained with each G
objective. After every iteration a probe batch (its own noise, D without dropout) measures the
norm of G's gradient of both the minimax loss log(1 - D(G(z))) and the non-saturating loss
-log D(G(z)); the probe does not touch the training state.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import torch

from gankit.config import apply_overrides, from_preset
from gankit.data import Splits, load_dataset
from gankit.errors import ConfigError
from gankit.fileio import atomic_write_bytes
from gankit.nets import evaluating, sample_noise
from gankit.objectives import g_loss
from gankit.plots import plt, save_figure
from gankit.training import Trainer

OBJECTIVES = ("minimax", "non-saturating")  # the keys of G_LOSSES, in the order the figure shows them


def gradient_norms(trainer: Trainer, z: torch.Tensor) -> dict[str, float]:
    g_params = list(trainer.state.G.parameters())
    with evaluating(trainer.state.D) as d:
        logits = d(trainer.state.G(z.to(trainer.device)))
    norms = {}
    for objective in OBJECTIVES:
        grads = torch.autograd.grad(g_loss(logits, objective), g_params, retain_graph=True)
        norms[objective] = float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads)))
    norms["d_fake"] = float(torch.sigmoid(logits.detach()).mean())
    return norms


def run(steps: int = 300, splits: Splits | None = None, dataset: str = "mnist", data_dir: str | None = None,
        seed: int = 0, batch_size: int = 100, out_dir: str | Path | None = None) -> dict:
    """Both training objectives for `steps` iterations; per step, both gradient norms. With out_dir,
    saturation.json and saturation.png are written there."""
    if steps < 1:
        raise ConfigError("--steps must be at least 1.")
    splits = splits if splits is not None else load_dataset(dataset, data_dir)
    out: dict = {"steps": steps, "dataset": dataset, "seed": seed, "runs": {}}
    for trained_with in OBJECTIVES:
        config = apply_overrides(from_preset("paper-mnist"), {
            "dataset": dataset, "data_dir": data_dir, "seed": seed, "max_steps": steps, "epochs": 10**6,
            "update_order": "sequential", "g_objective": trained_with, "d_loss_scale": 1.0,
            "batch_size": batch_size, "monitor_parzen": 0}, "saturation")
        probe_z = sample_noise(batch_size, config.z_dim, config.noise, torch.Generator().manual_seed(seed + 99))
        rows = []
        with tempfile.TemporaryDirectory() as tmp:
            trainer = Trainer(config, Path(tmp) / "run", splits, progress_bar=False, log=lambda m: None)
            rows.append({"step": 0, **gradient_norms(trainer, probe_z)})
            trainer.run(on_iteration=lambda t, rows=rows, z=probe_z: rows.append(
                {"step": t.progress.step, **gradient_norms(t, z)}))
        out["runs"][trained_with] = rows
    if out_dir is not None:
        json_path, png = save(out, out_dir)
        return {**out, "json": str(json_path), "png": str(png)}
    return out


def format(result: dict) -> str:  # noqa: A001  (every experiment has run and format)
    lines = []
    for name, rows in result["runs"].items():
        first, last = rows[1], rows[-1]
        lines.append(f"trained with {name}: |grad G| minimax {first['minimax']:.2e} -> {last['minimax']:.2e}, "
                     f"non-saturating {first['non-saturating']:.2e} -> {last['non-saturating']:.2e}, "
                     f"D(G(z)) {first['d_fake']:.3f} -> {last['d_fake']:.3f}")
    if "png" in result:
        lines.append(f"figure: {result['png']}\nresults: {result['json']}")
    return "\n".join(lines)


def plot(result: dict, path: str | Path) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, (trained_with, rows) in zip(axes, result["runs"].items()):
        steps = [r["step"] for r in rows]
        ax.semilogy(steps, [r["minimax"] for r in rows], color="tab:red", label="minimax: log(1 - D(G(z)))")
        ax.semilogy(steps, [r["non-saturating"] for r in rows], color="tab:green",
                    label="non-saturating: -log D(G(z))")
        twin = ax.twinx()
        twin.plot(steps, [r["d_fake"] for r in rows], color="0.5", lw=0.8, ls="--")
        twin.set_ylim(0, 1)
        twin.set_ylabel("mean D(G(z))", color="0.4", fontsize=8)
        ax.set_title(f"G trained with the {trained_with} loss", fontsize=10)
        ax.set_xlabel("iteration")
    axes[0].set_ylabel("norm of G's gradient")
    axes[0].legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return save_figure(fig, path, dpi=100)


def save(result: dict, out_dir: str | Path) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    atomic_write_bytes(out_dir / "saturation.json", (json.dumps(result, indent=1) + "\n").encode())
    return out_dir / "saturation.json", plot(result, out_dir / "saturation.png")
