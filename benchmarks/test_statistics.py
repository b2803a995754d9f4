"""The spread over seeds of the statistics that training-outcome tests assert, to set their thresholds.

A fixed-seed test of a GAN's outcome is only as good as its threshold: between what a broken
implementation gives and what an unlucky seed (or another CPU's rounding) gives. This script trains
the runs those tests train, at seeds 0..N-1 and both update orders, and writes each statistic's
values, so every threshold in the tests can quote a measured spread. Usage:

    python benchmarks/test_statistics.py --seeds 10 --out docs/results/test-statistics.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch
from scipy.stats import ks_2samp

from gankit.config import TrainConfig, apply_overrides, from_preset
from gankit.data import load_dataset
from gankit.data.toy import sample_toy
from gankit.experiments import saturation
from gankit.nets import sample_noise
from gankit.training import Trainer


def toy1d(seed: int, order: str, root: Path) -> dict:
    """The toy1d preset (Figure 1): KS distance of G's samples to the data and max |D - 1/2| over the bulk."""
    overrides = {"seed": seed, "device": "cpu", "keep_checkpoints": 1}
    if order == "simultaneous":
        overrides["update_order"] = "simultaneous"
    config = apply_overrides(from_preset("toy1d"), overrides, "spread")
    t = Trainer(config, root / f"toy1d-{order}-{seed}", progress_bar=False, log=lambda m: None)
    t.run()
    g, d = t.state.G.eval(), t.state.D.eval()
    with torch.no_grad():
        fake = g(sample_noise(1000, 1, "uniform", torch.Generator().manual_seed(5))).squeeze(1).numpy()
        real = sample_toy("toy1d-gaussian", 1000, torch.Generator().manual_seed(6)).squeeze(1).numpy()
        bulk = torch.linspace(0.5 - 0.6 * 1.28, 0.5 + 0.6 * 1.28, 101).unsqueeze(1)
        d_bulk = torch.sigmoid(d(bulk))
    ks = ks_2samp(fake, real)
    return {"seed": seed, "order": order, "ks_statistic": round(float(ks.statistic), 4),
            "ks_pvalue": float(ks.pvalue), "max_abs_d_minus_half": round(float((d_bulk - 0.5).abs().max()), 4),
            "g_mean": round(float(fake.mean()), 4), "g_std": round(float(fake.std()), 4)}


def short_mnist(seed: int, splits, root: Path) -> dict:
    """tests/test_train.py's 1,000 steps on real MNIST: how far samples move, their spread, dark pixels."""
    config = apply_overrides(TrainConfig(), {"dataset": "idx", "batch_size": 100, "epochs": 100, "max_steps": 1000,
                                             "grid_size": 64, "seed": seed, "device": "cpu"}, "spread")
    t = Trainer(config, root / f"mnist-{seed}", splits, progress_bar=False, log=lambda m: None)
    with torch.no_grad():
        t.state.G.eval()
        before = t.state.G(t.samples.z).clone()
    t.run()
    with torch.no_grad():
        t.state.G.eval()
        after = t.state.G(t.samples.z)
    data = splits.train.float()[:5000]
    dark = lambda x: float((x < 0.1).float().mean())  # noqa: E731
    return {"seed": seed, "mean_abs_change": round(float((after - before).abs().mean()), 4),
            "std_growth": round(float(after.std(0).mean()) / float(before.std(0).mean()), 2),
            "dark_gap_ratio": round(abs(dark(after) - dark(data)) / abs(dark(before) - dark(data)), 3)}


def saturation_run(seed: int, splits, data_dir: str) -> dict:
    """tests/test_saturation.py on its fixture: the smallest mean D(G(z)) reached in 200 steps."""
    result = saturation.run(steps=200, splits=splits, dataset="idx", data_dir=data_dir, seed=seed, batch_size=50)
    rows = [r for rs in result["runs"].values() for r in rs]
    rejected = [r for r in rows if r["d_fake"] < 0.2]
    return {"seed": seed, "min_d_fake": round(min(r["d_fake"] for r in rows), 4), "rejected_steps": len(rejected),
            "minimax_below_ns_when_rejected": all(r["minimax"] < r["non-saturating"] for r in rejected)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--orders", default="sequential,simultaneous")
    parser.add_argument("--out", default="docs/results/test-statistics.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rows, others = [], {"short_mnist": [], "saturation": []}
    with tempfile.TemporaryDirectory() as tmp:
        mnist = load_dataset("mnist")
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.conftest import write_fixture

        fixture = write_fixture(Path(tmp) / "fixture")
        fixture_splits = load_dataset("idx", fixture)
        for seed in range(args.seeds):
            others["saturation"].append(saturation_run(seed, fixture_splits, str(fixture)))
            print(json.dumps(others["saturation"][-1]), flush=True)
        for seed in range(args.seeds):
            others["short_mnist"].append(short_mnist(seed, mnist, Path(tmp)))
            print(json.dumps(others["short_mnist"][-1]), flush=True)
        for order in [o for o in args.orders.split(",") if o]:
            for seed in range(args.seeds):
                rows.append(toy1d(seed, order, Path(tmp)))
                print(json.dumps(rows[-1]), flush=True)
    summary = {}
    for name, part in others.items():
        for key in part[0]:
            if key != "seed":
                values = [r[key] for r in part]
                summary[f"{name} {key}"] = {"min": min(values), "max": max(values)}
    for order in [o for o in args.orders.split(",") if o]:
        part = [r for r in rows if r["order"] == order]
        for key in ("ks_statistic", "ks_pvalue", "max_abs_d_minus_half", "g_mean", "g_std"):
            values = [r[key] for r in part]
            summary[f"toy1d {order} {key}"] = {"min": min(values), "max": max(values)}
    out = Path(args.out)
    old = json.loads(out.read_text()) if out.exists() else {}
    old_runs = old.get("runs", {})
    old_toy = old_runs if isinstance(old_runs, list) else old_runs.get("toy1d", [])
    runs = {"toy1d": rows or old_toy, **others}
    summary = {**{k: v for k, v in old.get("summary", {}).items() if not rows or not k.startswith("toy1d")}, **summary}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"what": "the statistics training-outcome tests assert, at seeds 0..N-1: toy1d (both "
                               "update orders), tests/test_train.py's 1,000 MNIST steps, tests/test_saturation.py",
                               "torch": torch.__version__, "threads": torch.get_num_threads(),
                               "summary": summary, "runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    main()
