"""Mode collapse on mixtures with known modes: modes covered and the rate of high-quality samples.

A sample is high quality when it lies within 3 standard deviations of its nearest mode; a mode is
covered when at least `min_fraction` of the count it would get under perfect coverage
(n / modes) of high-quality samples land on it. histogram_stats is shared with the class counts
of image generators (metrics.classifier).
"""

from __future__ import annotations

import math

import numpy as np
import torch


def histogram_stats(counts: torch.Tensor, min_fraction: float = 0.25, n: int | None = None) -> dict:
    """Coverage and KL(histogram || uniform) in nats of per-mode (or per-class) counts.

    A mode is covered when it holds at least min_fraction of the share n / modes it would get if
    n samples (default: the counted ones) were spread evenly; KL is inf when nothing was counted.
    """
    counts = counts.long()
    total = int(counts.sum())
    n = total if n is None else n
    threshold = max(1, math.ceil(min_fraction * n / len(counts)))
    hist = counts.double() / max(total, 1)
    kl = float((hist[hist > 0] * torch.log(hist[hist > 0] * len(counts))).sum()) if total else float("inf")
    return {"modes_covered": int((counts >= threshold).sum()), "modes": len(counts), "kl_from_uniform": kl,
            "threshold": threshold}


def mode_stats(samples: torch.Tensor, centres: np.ndarray, std: float, min_fraction: float = 0.25) -> dict:
    x = samples.double()
    c = torch.as_tensor(centres, dtype=torch.float64)
    dist, nearest = torch.cdist(x, c).min(1)
    good = dist < 3 * std
    counts = torch.bincount(nearest[good], minlength=len(c))
    # the share is of all samples, so a generator with few high-quality samples covers few modes
    return {**histogram_stats(counts, min_fraction, n=len(x)), "high_quality_rate": float(good.double().mean())}
