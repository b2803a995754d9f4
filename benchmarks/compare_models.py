"""Every model family through the same metrics on one dataset: Parzen LL (Table 1's protocol), FID and
KID, precision, recall, density and coverage (the domain classifier's features), classes covered, and
for a VAE its own IWAE bound on log p(x) (importance samples and test images recorded).

Sources are exported generators, run directories, or two baselines built here: real training images
(the ceiling) and a k-means mixture of 100 diagonal Gaussians. 10,000 samples each, seed 0, against
the test split. Usage:

    python benchmarks/compare_models.py --dataset mnist --out docs/results/compare-mnist.json \\
        "paper GAN=docs/models/paper-mnist-G.safetensors" "VAE=runs/vae-mnist"

A VAE must be given as its run directory or training checkpoint (the IWAE bound needs its encoder).
--grid FILE draws each model's first 36 samples side by side (--grid-only: that alone, no metrics).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from gankit.data import load_dataset
from gankit.evaluate import evaluate
from gankit.experiments.table1 import kmeans_mixture_samples
from gankit.figures import make_grid
from gankit.generator import load_generator
from gankit.metrics import distances
from gankit.metrics.classifier import as_28, class_stats, load_classifier
from gankit.metrics.parzen import parzen_evaluate
from gankit.metrics.sample_quality import domain_features
from gankit.nets import is_vae
from gankit.plots import plt, save_figure


def row(name: str, samples: torch.Tensor, splits, classifier, real_features) -> dict:
    valid, test = splits.valid.float()[:1000], splits.test.float()
    samples = as_28(samples)  # a 32-px G is compared at 28 px: its 2-px frame dropped, as the data were framed
    parzen = parzen_evaluate(samples, valid, test)
    fake = domain_features(classifier, samples)
    kid, kid_se = distances.kid(fake, real_features)
    fid, low, high = distances.fid_bootstrap(fake, real_features)
    classes = class_stats(classifier, samples)
    out = {"model": name, "parzen_ll": round(parzen.test_ll, 1), "parzen_se": round(parzen.test_se, 1),
           "fid": round(fid, 2), "fid_ci95": [round(low, 2), round(high, 2)],
           "kid": round(kid, 4), "kid_se": round(kid_se, 4),
           **{k: round(v, 3) for k, v in distances.prdc(fake, real_features).items()},
           "classes_covered": classes["classes_covered"], "kl_from_uniform": round(classes["kl_from_uniform"], 4)}
    print(json.dumps({k: v for k, v in out.items() if not k.endswith("_se")}))
    return out


def draw_grids(named: list[tuple[str, torch.Tensor]], path: str) -> None:
    """Each model's first 36 samples as a 6 x 6 grid, side by side, titled."""
    fig, axes = plt.subplots(1, len(named), figsize=(2.0 * len(named), 2.35))
    for ax, (name, samples) in zip(axes, named):
        grid = make_grid(as_28(samples[:36]).view(-1, 1, 28, 28), 6)
        ax.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=255)
        ax.set_title(name, fontsize=7)
        ax.axis("off")
    fig.tight_layout(pad=0.3)
    save_figure(fig, path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="*", help="NAME=PATH of an exported G, checkpoint or run directory")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--n-samples", type=int, default=10000)
    parser.add_argument("--importance-samples", type=int, default=1000, help="k of a VAE's IWAE bound")
    parser.add_argument("--iwae-test", type=int, default=None, help="test images of the IWAE bound (default all)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--grid", default=None, help="also draw every model's samples side by side into this PNG")
    parser.add_argument("--grid-only", action="store_true", help="draw --grid and compute nothing else")
    args = parser.parse_args()
    if args.grid_only:
        splits = load_dataset(args.dataset, log=lambda m: None)
        named = [("real test images", splits.test.float()[:36])]
        for source in args.sources:
            name, _, path = source.partition("=")
            named.append((name, load_generator(path).sample(36, seed=0)))
        draw_grids(named, args.grid)
        return
    splits = load_dataset(args.dataset, log=lambda m: None)
    classifier = load_classifier(args.dataset, splits=splits, log=lambda m: None)
    real_features = domain_features(classifier, splits.test.float())
    train = splits.train.float()
    rows = [row("real training images (ceiling)", train[: args.n_samples], splits, classifier, real_features),
            row("k-means mixture, 100 diagonal Gaussians", kmeans_mixture_samples(train, args.n_samples, 100, 0),
                splits, classifier, real_features)]
    for source in args.sources:
        name, _, path = source.partition("=")
        g = load_generator(path)
        rows.append({**row(name, g.sample(args.n_samples, seed=0), splits, classifier, real_features),
                     "source": path, "epoch": g.epoch})
        if is_vae(g.model):
            (iwae,) = evaluate(g, ["iwae"], n_reference=args.iwae_test,  # its test images at its own size
                               importance_samples=args.importance_samples, log_to_run=False)
            rows[-1].update({k: iwae[k] for k in ("iwae_ll", "iwae_se", "elbo", "importance_samples", "n_test",
                                                   "likelihood", "data")})
            print(json.dumps({k: rows[-1][k] for k in ("model", "iwae_ll", "elbo", "importance_samples")}))
    result = {"dataset": args.dataset, "n_samples": args.n_samples, "seed": 0, "reference": "test split",
              "features": "domain classifier, penultimate layer (128)", "classifier_test_accuracy":
              classifier.test_accuracy, "rows": rows}
    if args.grid:
        draw_grids([("real test images", splits.test.float()[:36])] +
                   [(s.partition("=")[0], load_generator(s.partition("=")[2]).sample(36, seed=0))
                    for s in args.sources], args.grid)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
