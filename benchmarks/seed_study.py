"""How the paper's MNIST recipe behaves across seeds: classes covered, largest class, Parzen, dead units.

Trains `paper-mnist` (or another preset) at each seed to each epoch count in turn (a run is
continued, not restarted, from one count to the next), and after each evaluates 10,000 samples:
the class histogram by the cached classifier, the Parzen log-likelihood by the paper's protocol,
the diversity ratio and the fraction of dead ReLUs in each G layer. With --plain it also trains the
same recipe through an independent plain-PyTorch loop (`plain_gan.py`) at the same seeds, to rule
out a bug in gankit's loop. Results are rewritten after every run, so an interrupted study keeps
what it measured. Usage:

    python benchmarks/seed_study.py --seeds 0-7 --epochs 10,30 --out docs/results/seed-study.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from gankit.config import apply_overrides, from_preset  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.generator import load_generator  # noqa: E402
from gankit.health import dead_relu_fraction, diversity_ratio  # noqa: E402
from gankit.metrics.classifier import class_stats, load_classifier  # noqa: E402
from gankit.metrics.parzen import SIGMA_GRID, parzen_evaluate  # noqa: E402
from gankit.nets import sample_noise  # noqa: E402
from gankit.recipe import resume_config  # noqa: E402
from gankit.training import Trainer  # noqa: E402
from plain_gan import train_plain  # noqa: E402


def parse_seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def describe(net: torch.nn.Module, splits, classifier, noise: str = "uniform", n: int = 10000) -> dict:
    """Class histogram, Parzen (paper protocol), diversity and dead ReLUs of a G at seed 0 noise."""
    net.eval()
    with torch.no_grad():
        z = sample_noise(n, 100, noise, torch.Generator().manual_seed(0))
        samples = torch.cat([net(z[i : i + 1000]) for i in range(0, n, 1000)]).float()
    stats = class_stats(classifier, samples)
    counts = torch.tensor(stats["class_counts"])
    parzen = parzen_evaluate(samples, splits.valid.float()[:1000], splits.test.float(), SIGMA_GRID)
    return {
        "classes_covered": stats["classes_covered"], "class_counts": stats["class_counts"],
        "largest_class": int(counts.argmax()), "largest_class_share": float(counts.max()) / n,
        "kl_from_uniform": round(stats["kl_from_uniform"], 4),
        "parzen_ll": round(parzen.test_ll, 1), "parzen_se": round(parzen.test_se, 1),
        "diversity": round(diversity_ratio(samples[:1000], splits.valid.float()[:1000]), 3),
        "dead_relu": [round(f, 4) for f in dead_relu_fraction(net, z[:1000])],
    }


def gankit_run(preset: str, seed: int, epochs: int, root: Path, splits) -> tuple[torch.nn.Module, dict]:
    run_dir = root / f"{preset}-seed{seed}"
    resume = (run_dir / "config.yaml").exists()
    if resume:
        config = resume_config(run_dir, {"epochs": epochs})
    else:
        config = apply_overrides(from_preset(preset), {"seed": seed, "epochs": epochs, "device": "cpu"}, "study")
    trainer = Trainer(config, run_dir, splits, progress_bar=False, log=lambda m: None)
    if trainer.run(resume=resume).stopped_by:
        raise SystemExit(f"{run_dir} was stopped by {trainer.progress.stopped_by}; nothing recorded for it")
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    last = [r for r in rows if r.get("kind") == "train"][-1]
    g = load_generator(run_dir)
    return g.net, {"d_real": last["d_real"], "d_fake": last["d_fake"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="paper-mnist")
    parser.add_argument("--seeds", default="0-7")
    parser.add_argument("--epochs", default="10,30", help="comma-separated epoch counts, increasing")
    parser.add_argument("--plain", action="store_true", help="also the plain-PyTorch loop (first epoch count)")
    parser.add_argument("--only-plain", action="store_true")
    parser.add_argument("--runs", default="runs/seed-study")
    parser.add_argument("--out", default="docs/results/seed-study.json")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    seeds, counts = parse_seeds(args.seeds), [int(e) for e in args.epochs.split(",")]
    out = Path(args.out)
    result = json.loads(out.read_text()) if out.exists() else {"runs": []}
    plain = " and the same recipe in plain PyTorch (benchmarks/plain_gan.py)" if args.preset == "paper-mnist" else ""
    result.update(what=f"{args.preset} (gankit){plain} at several seeds: 10,000 samples (noise seed 0) after "
                  "each epoch count",
                  machine=f"{platform.machine()}, {torch.get_num_threads()} torch threads", torch=torch.__version__)
    splits = load_dataset("mnist")
    classifier = load_classifier("mnist")
    done = {(r["loop"], r["seed"], r["epochs"]) for r in result["runs"]}

    def record(loop: str, seed: int, epochs: int, net, extra: dict, seconds: float) -> None:
        row = {"loop": loop, "seed": seed, "epochs": epochs, **extra, **describe(net, splits, classifier),
               "train_s": round(seconds, 1)}
        if out.exists():  # another study process (e.g. --only-plain) may have added rows meanwhile
            result["runs"] = json.loads(out.read_text())["runs"]
        result["runs"] = [r for r in result["runs"] if (r["loop"], r["seed"], r["epochs"]) != (loop, seed, epochs)]
        result["runs"].append(row)
        result["runs"].sort(key=lambda r: (r["loop"], r["epochs"], r["seed"]))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")
        print(f"{loop} seed {seed} epoch {epochs}: {row['classes_covered']} classes, largest "
              f"{row['largest_class_share']:.0%} ({row['largest_class']}), Parzen {row['parzen_ll']}, "
              f"diversity {row['diversity']}, dead {row['dead_relu']}, D(x) {row['d_real']:.3f} "
              f"D(G(z)) {row['d_fake']:.3f}", flush=True)

    if not args.only_plain:
        for epochs in counts:
            for seed in seeds:
                if (args.preset, seed, epochs) in done:
                    continue
                start = time.perf_counter()
                net, extra = gankit_run(args.preset, seed, epochs, Path(args.runs), splits)
                record(args.preset, seed, epochs, net, extra, time.perf_counter() - start)
    if args.plain or args.only_plain:
        for seed in seeds:
            if ("plain", seed, counts[0]) in done:
                continue
            start = time.perf_counter()
            net, extra = train_plain(splits.train.float(), seed, counts[0])
            record("plain", seed, counts[0], net, extra, time.perf_counter() - start)


if __name__ == "__main__":
    main()
