"""Measure a trained run against issue 11's quality bars and write the figures as JSON.

    python benchmarks/quality_bars.py RUN --out docs/results/NAME.json

Every metric gankit has for the run's G and data (Parzen, class histogram, and for a conditional G the
share of samples drawn as the class asked for), plus the health monitor's last verdict and the config.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gankit.evaluate import evaluate
from gankit.generator import load_generator
from gankit.rundir import RunDir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="run directory")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--n-samples", type=int, default=10000)
    args = parser.parse_args()
    g = load_generator(args.run)
    rows = evaluate(g, ("all",), n_samples=args.n_samples, log_to_run=False)
    train_rows = [r for r in RunDir(args.run).rows() if r.get("kind") == "train"]
    last = train_rows[-1] if train_rows else {}
    result = {"run": Path(args.run).name, "config": g.config, "epoch": g.epoch, "step": g.step,
              "metrics": {row["kind"]: row for row in rows},
              "last_epoch": {k: last.get(k) for k in ("epoch", "d_loss", "g_loss", "d_real", "d_fake", "health")}}
    for row in rows:
        row.pop("checkpoint", None)
        row.pop("classifier", None)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: {m: r.get(m) for m in ("test_ll", "classes_covered", "kl_from_uniform", "min", "mean")}
                      for k, r in result["metrics"].items()}, indent=1))


if __name__ == "__main__":
    main()
