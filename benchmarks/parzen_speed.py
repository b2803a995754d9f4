"""Time the Parzen-window evaluation: gankit against plain numpy and scikit-learn's KernelDensity.

The task is the paper's: 10,000 "samples" (here the MNIST validation images, so the run needs no
trained model), 10,000 MNIST test images in 784 dimensions, log p(x) for every sigma of the
10-value grid. gankit does the whole task. The two references are far slower, so each is timed on
the first --subset test images at one sigma and scaled linearly to the whole task (stated in the
result); their answers on that subset are checked against gankit's float64 result.

    python benchmarks/parzen_speed.py [--subset 500] [--out benchmarks/results/parzen_speed.json]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from scipy.special import logsumexp

from gankit.data import load_dataset
from gankit.metrics.parzen import SIGMA_GRID, parzen_log_likelihoods


def numpy_parzen(x: np.ndarray, mu: np.ndarray, sigma: float, batch: int = 10) -> np.ndarray:
    """parzen_ll.py's method in numpy: explicit differences, a batch of test points at a time."""
    out = []
    d = x.shape[1]
    for start in range(0, len(x), batch):
        a = (x[start : start + batch, None, :] - mu[None, :, :]) / sigma
        e = -0.5 * (a**2).sum(2)
        out.append(logsumexp(e, axis=1) - math.log(len(mu)) - d * math.log(sigma * math.sqrt(2 * math.pi)))
    return np.concatenate(out)


def sklearn_parzen(x: np.ndarray, mu: np.ndarray, sigma: float) -> tuple[np.ndarray, float, float]:
    """scikit-learn's KernelDensity (default tree algorithm, Gaussian kernel); returns (ll, fit s, query s)."""
    from sklearn.neighbors import KernelDensity

    start = time.perf_counter()
    kde = KernelDensity(kernel="gaussian", bandwidth=sigma).fit(mu)
    fit = time.perf_counter() - start
    start = time.perf_counter()
    ll = kde.score_samples(x)
    return ll, fit, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=500)
    parser.add_argument("--sigma-index", type=int, default=3, help="grid index timed for the references")
    parser.add_argument("--out", default="benchmarks/results/parzen_speed.json")
    args = parser.parse_args()
    splits = load_dataset("mnist")
    mu, x = splits.valid.float(), splits.test.float()
    sigma = SIGMA_GRID[args.sigma_index]

    parzen_log_likelihoods(x[:100], mu[:100])  # warm-up
    start = time.perf_counter()
    ll32 = parzen_log_likelihoods(x, mu, SIGMA_GRID)
    gankit_s = time.perf_counter() - start
    start = time.perf_counter()
    ll64 = parzen_log_likelihoods(x, mu, SIGMA_GRID, dtype=torch.float64)
    gankit64_s = time.perf_counter() - start

    xs, mus = x[: args.subset].double().numpy(), mu.double().numpy()
    start = time.perf_counter()
    ll_np = numpy_parzen(xs, mus, sigma)
    numpy_s = time.perf_counter() - start
    ll_sk, sk_fit, sk_query = sklearn_parzen(xs, mus, sigma)

    exact = ll64[args.sigma_index, : args.subset].numpy()
    scale = (len(x) / args.subset) * len(SIGMA_GRID)
    numpy_full = numpy_s * scale
    sklearn_full = sk_fit * len(SIGMA_GRID) + sk_query * scale
    result = {
        "task": "log p(x) of 10,000 MNIST test images under 10,000 Parzen centres (the validation images), "
                "784 dims, all 10 sigmas of the grid 0.1..1",
        "torch": torch.__version__, "threads": torch.get_num_threads(),
        "seconds": {
            "gankit_float32": round(gankit_s, 3),
            "gankit_float64": round(gankit64_s, 3),
            "numpy_explicit_differences_estimated": round(numpy_full, 1),
            "sklearn_kerneldensity_estimated": round(sklearn_full, 1),
        },
        "reference_timings_measured": {
            "subset_test_points": args.subset, "sigma": sigma,
            "numpy_s": round(numpy_s, 3), "sklearn_fit_s": round(sk_fit, 3), "sklearn_query_s": round(sk_query, 3),
            "scaled_by": f"x{len(x) / args.subset:g} test points, x{len(SIGMA_GRID)} sigmas (fit once per sigma)",
        },
        "speedup_gankit_float32": {
            "vs_numpy": round(numpy_full / gankit_s, 1), "vs_sklearn": round(sklearn_full / gankit_s, 1),
        },
        "accuracy_vs_float64_on_subset_nats": {
            "gankit_float32_max_abs": float(np.abs(ll32[args.sigma_index, : args.subset].double().numpy()
                                                   - exact).max()),
            "gankit_float32_mean_ll_diff_all": float((ll32.double() - ll64).mean(1).abs().max()),
            "numpy_max_abs": float(np.abs(ll_np - exact).max()),
            "sklearn_max_abs": float(np.abs(ll_sk - exact).max()),
            "sklearn_mean_diff": float((ll_sk - exact).mean()),
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
