"""The Parzen-window log-likelihood of the paper's Table 1 (goodfeli/adversarial parzen_ll.py).

Each generator sample mu_j is the centre of an isotropic Gaussian of width sigma; for a point x in
d dimensions, log p(x) = log mean_j exp(-||x - mu_j||^2 / (2 sigma^2)) - d log(sigma sqrt(2 pi)).
sigma is chosen from a log-spaced grid by the best mean log-likelihood on validation images, then
the mean test log-likelihood and its standard error (population std / sqrt(n)) are reported.

Distances come from chunked matrix products (||x||^2 + ||mu||^2 - 2 x.mu) after centring both sets,
and one distance chunk serves the whole sigma grid; memory is bounded by chunk x N.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from gankit.metrics.base import Evaluation, Metric

if TYPE_CHECKING:
    from gankit.generator import LoadedGenerator

SIGMA_GRID = tuple(float(s) for s in np.logspace(-1, 0, 10))
# exp() of arguments below about -87 underflows in float32 and is many times slower on the CPU; a
# term clamped there adds at most N * 1.6e-38 relative mass, far below any reported digit.
_EXP_FLOOR = -87.0


def parzen_log_likelihoods(
    x: torch.Tensor,
    samples: torch.Tensor,
    sigmas: tuple[float, ...] | list[float] = SIGMA_GRID,
    chunk: int = 1000,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """log p(x_i) for every sigma: a (len(sigmas), len(x)) tensor, on x's device."""
    x = x.reshape(len(x), -1).to(dtype)
    mu = samples.reshape(len(samples), -1).to(device=x.device, dtype=dtype)
    if x.shape[1] != mu.shape[1]:
        raise ValueError(f"points have {x.shape[1]} dimensions but samples have {mu.shape[1]}")
    centre = torch.cat([x, mu]).mean(0)
    x, mu = x - centre, mu - centre
    mu_sq = mu.pow(2).sum(1)
    n, d = mu.shape
    sig = torch.tensor(sigmas, dtype=dtype, device=x.device)
    const = math.log(n) + d * torch.log(sig * math.sqrt(2 * math.pi))
    out = torch.empty(len(sig), len(x), dtype=dtype, device=x.device)
    for start in range(0, len(x), chunk):
        xc = x[start : start + chunk]
        d2 = (xc.pow(2).sum(1, keepdim=True) + mu_sq).addmm_(xc, mu.T, alpha=-2.0).clamp_min_(0.0)
        d2_min = d2.min(1, keepdim=True).values
        excess = d2 - d2_min  # >= 0; the nearest sample contributes exp(0)
        for k, s in enumerate(sigmas):
            scale = -1.0 / (2.0 * s * s)
            lse = (excess * scale).clamp_min_(_EXP_FLOOR).exp_().sum(1).log_()
            out[k, start : start + chunk] = lse + d2_min.squeeze(1) * scale - const[k]
    return out


@dataclass
class ParzenResult:
    """The estimate with its whole protocol, ready to be logged as JSON."""

    test_ll: float
    test_se: float
    sigma: float
    sigma_grid: list[float]
    valid_ll_per_sigma: list[float]
    n_samples: int
    n_valid: int
    n_test: int

    def to_dict(self) -> dict:
        return asdict(self)


def best_sigma(mean_ll: torch.Tensor, sigmas: tuple[float, ...] | list[float] = SIGMA_GRID) -> tuple[float, float]:
    """(the highest mean log-likelihood, its sigma) from one mean per sigma of the grid."""
    best = int(torch.argmax(mean_ll))
    return float(mean_ll[best]), float(sigmas[best])


def parzen_evaluate(
    samples: torch.Tensor,
    valid: torch.Tensor,
    test: torch.Tensor,
    sigmas: tuple[float, ...] | list[float] = SIGMA_GRID,
    chunk: int = 1000,
    dtype: torch.dtype = torch.float32,
) -> ParzenResult:
    """Choose sigma by mean validation log-likelihood, then report the test mean and standard error."""
    valid_ll = parzen_log_likelihoods(valid, samples, sigmas, chunk, dtype).double().mean(1)
    _, sigma = best_sigma(valid_ll, sigmas)
    test_ll = parzen_log_likelihoods(test, samples, [sigma], chunk, dtype)[0].double()
    return ParzenResult(
        test_ll=float(test_ll.mean()),
        test_se=float(test_ll.std(unbiased=False) / math.sqrt(len(test_ll))),
        sigma=sigma,
        sigma_grid=[float(s) for s in sigmas],
        valid_ll_per_sigma=[float(v) for v in valid_ll],
        n_samples=len(samples),
        n_valid=len(valid),
        n_test=len(test),
    )


def parzen_folds(
    samples: torch.Tensor,
    folds: list[tuple[torch.Tensor, torch.Tensor]],
    sigmas: tuple[float, ...] | list[float] = SIGMA_GRID,
    chunk: int = 1000,
) -> dict:
    """TFD's protocol: per fold, sigma on that fold's validation set and the mean test LL; then the
    mean over folds and the standard error across folds (sample std, ddof 1, / sqrt(folds))."""
    per_fold = [parzen_evaluate(samples, valid, test, sigmas, chunk) for valid, test in folds]
    means = torch.tensor([r.test_ll for r in per_fold], dtype=torch.float64)
    se = float(means.std(unbiased=True) / math.sqrt(len(means))) if len(means) > 1 else float("nan")
    return {"test_ll": float(means.mean()), "test_se": se, "se_over": f"{len(means)} folds (ddof 1)",
            "folds": [r.to_dict() for r in per_fold]}


class ParzenMetric(Metric):
    """Table 1's protocol: sigma chosen on valid[:n_valid], mean test log-likelihood +- standard error.
    TFD (the paper): sigma and mean per fold, standard error across the 5 folds."""

    name = "parzen"

    def compute(self, g: LoadedGenerator, ev: Evaluation) -> dict[str, Any]:
        samples = g.to(ev.device).sample(ev.n_samples, seed=ev.seed).flatten(1).to(ev.device)
        if ev.dataset == "tfd":
            from gankit.data.datasets import load_tfd_splits

            folds = []
            for fold in range(5):
                s = load_tfd_splits(ev.data_dir, fold)
                folds.append((s.valid.float(ev.device), s.test.float(ev.device)))
            return {"metric": "parzen_ll", "valid_split": "each fold's valid", "test_split": "each fold's test",
                    "sigma_grid": list(SIGMA_GRID), **parzen_folds(samples, folds, SIGMA_GRID)}
        splits = ev.data()
        valid = splits.valid.float(ev.device)[: ev.n_valid]
        test = splits.test.float(ev.device)
        result = parzen_evaluate(samples, valid, test, SIGMA_GRID)
        return {"metric": "parzen_ll", "valid_split": f"valid[:{ev.n_valid}]", "test_split": f"test[:{len(test)}]",
                **result.to_dict()}

    monitor_digits = 3

    def monitor(self, samples: torch.Tensor, real: torch.Tensor, ev: Evaluation) -> dict[str, Any]:
        value, sigma = best_sigma(parzen_log_likelihoods(real, samples, SIGMA_GRID).double().mean(1))
        return {"value": value, "sigma": round(sigma, 4), "protocol": f"{len(samples)} samples (fixed z), "
                f"valid[:{len(real)}], sigma picked on the same images"}

    def format(self, row: dict[str, Any]) -> str:
        sigma = f"sigma {row['sigma']:.3f}" if "sigma" in row else "sigma per fold"
        return (f"Parzen log-likelihood on {row['dataset']} {row['test_split']}: {row['test_ll']:.1f} +- "
                f"{row['test_se']:.1f} nats ({sigma} chosen on {row['valid_split']}, "
                f"{row['n_samples']} samples, checkpoint step {row['step']})")
