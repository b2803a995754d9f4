"""Toy distributions with known densities: 1-D for Figure 1, 2-D mixtures for mode collapse."""

from __future__ import annotations

import math

import numpy as np
import torch

from gankit.errors import DataError

# name -> (weights, means, stds) of a 1-D Gaussian mixture
TOY_1D = {
    "toy1d-gaussian": ((1.0,), (0.5,), (0.6,)),
    "toy1d-mixture": ((0.5, 0.5), (-1.5, 1.5), (0.45, 0.45)),
}


def ring_modes(n: int = 8, radius: float = 2.0) -> np.ndarray:
    angles = 2 * math.pi * np.arange(n) / n
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], 1)


def grid_modes(k: int = 5, spacing: float = 2.0) -> np.ndarray:
    axis = (np.arange(k) - (k - 1) / 2) * spacing
    return np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)


# name -> (mode centres, std of each mode)
TOY_2D = {"toy2d-ring": (ring_modes(8, 2.0), 0.05), "toy2d-grid": (grid_modes(5, 2.0), 0.05)}


def density_1d(name: str, x: np.ndarray) -> np.ndarray:
    weights, means, stds = TOY_1D[name]
    return sum(w * np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
               for w, m, s in zip(weights, means, stds))


def sample_toy(name: str, n: int, generator: torch.Generator) -> torch.Tensor:
    """n float32 samples of shape (n, d) from a named toy distribution."""
    if name in TOY_1D:
        weights, means, stds = (torch.tensor(v, dtype=torch.float64) for v in TOY_1D[name])
    elif name in TOY_2D:
        centres, std = TOY_2D[name]
        means = torch.tensor(centres, dtype=torch.float64)
        weights = torch.full((len(means),), 1.0 / len(means), dtype=torch.float64)
        stds = torch.full((len(means),), std, dtype=torch.float64)
    else:
        raise DataError(f"unknown toy distribution {name!r}; choose one of: {', '.join([*TOY_1D, *TOY_2D])}.")
    which = torch.multinomial(weights, n, replacement=True, generator=generator)
    dim = 1 if means.ndim == 1 else means.shape[1]
    noise = torch.randn(n, dim, generator=generator, dtype=torch.float64)
    mu = means[which].reshape(n, dim)
    return (mu + stds[which].unsqueeze(1) * noise).float()
