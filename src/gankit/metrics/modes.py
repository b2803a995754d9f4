"""Mode collapse on mixtures with known modes: modes covered and the rate of high-quality samples.

A sample is high quality when it lies within 3 standard deviations of its nearest mode; a mode is
covered when at least `min_fraction` of the count it would get under perfect coverage
(n / modes) of high-quality samples land on it.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def mode_stats(samples: torch.Tensor, centres: np.ndarray, std: float, min_fraction: float = 0.25) -> dict:
    x = samples.double()
    c = torch.as_tensor(centres, dtype=torch.float64)
    dist, nearest = torch.cdist(x, c).min(1)
    good = dist < 3 * std
    counts = torch.bincount(nearest[good], minlength=len(c))
    threshold = max(1, math.ceil(min_fraction * len(x) / len(c)))
    covered = int((counts >= threshold).sum())
    hist = counts.double() / counts.sum().clamp_min(1)
    uniform = 1.0 / len(c)
    kl = float((hist[hist > 0] * torch.log(hist[hist > 0] / uniform)).sum()) if counts.sum() else float("inf")
    return {"modes_covered": covered, "modes": len(c), "high_quality_rate": float(good.double().mean()),
            "kl_from_uniform": kl, "threshold": threshold}
