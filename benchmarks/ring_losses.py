"""Each GAN objective and regularizer on the ring of 8 Gaussians, over seeds: modes covered and the share of
high-quality samples, by the mode-collapse experiment's protocol (toy2d preset, sequential updates, the same
number of G updates for every variant), with Adam (1e-3, betas 0.5, 0.99) for all but WGAN-GP, which keeps
its paper's Adam (1e-4, betas 0.5, 0.9) and five critic steps. Writes benchmarks/results/ring_losses.json and a
figure of samples over training (seed 0).

    python benchmarks/ring_losses.py [--out runs/ring-losses] [--seeds 0,1,2,3,4] [--steps 3000]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from gankit.experiments import mode_collapse

ADAM = {"optimizer": "adam", "lr": 1e-3, "lr_decay": 1.0, "adam_beta1": 0.5, "adam_beta2": 0.99}
RPGAN = {**ADAM, "d_objective": "relativistic", "g_objective": "relativistic"}
VARIANTS = {
    "non-saturating": ADAM,
    "non-saturating + R1 (r1:0.01)": {**ADAM, "regularizers": "r1:0.01"},
    "WGAN-GP (gp:10, k=5)": {"d_objective": "wasserstein", "g_objective": "wasserstein", "regularizers": "gp:10",
                             "d_steps": 5, "d_loss_scale": 1.0, "optimizer": "adam", "lr": 1e-4,
                             "adam_beta1": 0.5, "adam_beta2": 0.9, "lr_decay": 1.0},
    "LSGAN": {**ADAM, "d_objective": "least-squares", "g_objective": "least-squares"},
    "RpGAN": RPGAN,
    "RpGAN + R1 + R2 (0.01 each)": {**RPGAN, "regularizers": "r1:0.01,r2:0.01"},
    "RpGAN + lazy R1 + R2 (0.01 @8)": {**RPGAN, "regularizers": "r1:0.01@8,r2:0.01@8"},
}
REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/ring-losses")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args()
    seeds = tuple(int(s) for s in args.seeds.split(","))
    results = mode_collapse.run(args.out, datasets=("toy2d-ring",), seeds=seeds, steps=args.steps,
                                variants=VARIANTS, log=lambda m: print(m, flush=True))
    results["protocol"]["overrides"] = VARIANTS
    out = REPO / "benchmarks" / "results" / "ring_losses.json"
    out.write_text(json.dumps({k: v for k, v in results.items() if k not in ("figures", "results_path")},
                              indent=2) + "\n")
    shutil.copy(results["figures"][0], REPO / "docs" / "ring-losses-over-training.png")
    print(mode_collapse.format(results))


if __name__ == "__main__":
    main()
