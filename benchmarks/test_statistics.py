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

from gankit.config import apply_overrides, from_preset
from gankit.data.toy import sample_toy
from gankit.nets import sample_noise
from gankit.train import Trainer


def toy1d(seed: int, order: str, root: Path) -> dict:
    """The toy1d preset (Figure 1): KS distance of G's samples to the data and max |D - 1/2| over the bulk."""
    overrides = {"seed": seed, "device": "cpu", "keep_checkpoints": 1}
    if order == "simultaneous":
        overrides["update_order"] = "simultaneous"
    config = apply_overrides(from_preset("toy1d"), overrides, "spread")
    t = Trainer(config, root / f"toy1d-{order}-{seed}", progress_bar=False, log=lambda m: None)
    t.run()
    g, d = t.G.eval(), t.D.eval()
    with torch.no_grad():
        fake = g(sample_noise(1000, 1, "uniform", torch.Generator().manual_seed(5))).squeeze(1).numpy()
        real = sample_toy("toy1d-gaussian", 1000, torch.Generator().manual_seed(6)).squeeze(1).numpy()
        bulk = torch.linspace(0.5 - 0.6 * 1.28, 0.5 + 0.6 * 1.28, 101).unsqueeze(1)
        d_bulk = torch.sigmoid(d(bulk))
    ks = ks_2samp(fake, real)
    return {"seed": seed, "order": order, "ks_statistic": round(float(ks.statistic), 4),
            "ks_pvalue": float(ks.pvalue), "max_abs_d_minus_half": round(float((d_bulk - 0.5).abs().max()), 4),
            "g_mean": round(float(fake.mean()), 4), "g_std": round(float(fake.std()), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--orders", default="sequential,simultaneous")
    parser.add_argument("--out", default="docs/results/test-statistics.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for order in args.orders.split(","):
            for seed in range(args.seeds):
                rows.append(toy1d(seed, order, Path(tmp)))
                print(json.dumps(rows[-1]), flush=True)
    summary = {}
    for order in args.orders.split(","):
        part = [r for r in rows if r["order"] == order]
        for key in ("ks_statistic", "ks_pvalue", "max_abs_d_minus_half", "g_mean", "g_std"):
            values = [r[key] for r in part]
            summary[f"toy1d {order} {key}"] = {"min": min(values), "max": max(values)}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"what": "toy1d preset at seeds 0..N-1, both update orders (tests/test_toy1d.py)",
                               "torch": torch.__version__, "threads": torch.get_num_threads(),
                               "summary": summary, "runs": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
