"""How long `gankit evaluate` takes on 10,000 samples, per metric and for all of them at once.

Each metric is timed alone (its own evaluation: sampling, the classifier's features, the data already
cached on disk), then every metric together, where FID, KID and precision/recall share one feature
extraction. Usage:

    python benchmarks/evaluate_speed.py [G] [--dataset mnist] [--n-samples 10000] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from gankit.data import load_dataset
from gankit.evaluate import evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", nargs="?", default="docs/models/cgan-mnist-G.safetensors")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--n-samples", type=int, default=10000)
    parser.add_argument("--out", default="benchmarks/results/evaluate_speed.json")
    args = parser.parse_args()
    splits = load_dataset(args.dataset, log=lambda m: None)
    evaluate(args.source, ["classes"], args.dataset, n_samples=100, splits=splits, log_to_run=False)  # warm caches
    seconds, rows = {}, {}
    groups = [["parzen"], ["classes"], ["class-accuracy"], ["fid"], ["kid"], ["prdc"],
              ["parzen", "classes", "class-accuracy", "fid", "kid", "prdc"]]
    for names in groups:
        start = time.perf_counter()
        out = evaluate(args.source, names, args.dataset, n_samples=args.n_samples, splits=splits, log_to_run=False)
        key = ",".join(names) if len(names) < 6 else "all together"
        seconds[key] = round(time.perf_counter() - start, 2)
        rows.update({r["kind"]: {k: v for k, v in r.items() if not isinstance(v, (list, dict))} for r in out})
        print(f"{key}: {seconds[key]:.1f} s")
    result = {"what": f"seconds of gankit evaluate on {args.n_samples} samples of {args.source}",
              "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
                         f"torch {torch.__version__}", "seconds": seconds, "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
