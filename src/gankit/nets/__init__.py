"""G and D builders by model name, and the noise prior."""

from __future__ import annotations

import math

import torch
from torch import nn

from gankit.errors import ConfigError
from gankit.nets.paper import MaxoutDiscriminator, MLPGenerator

__all__ = ["MLPGenerator", "MaxoutDiscriminator", "build_generator", "build_models", "sample_noise"]


def build_generator(model: str, z_dim: int, out_dim: int, pixel_mean: torch.Tensor | None = None,
                    generator: torch.Generator | None = None) -> nn.Module:
    if model == "paper-mnist":
        return MLPGenerator(z_dim, (1200, 1200), out_dim, 0.05, pixel_mean, generator)
    raise ConfigError(f"unknown model {model!r}; available: paper-mnist.")


def build_models(model: str, z_dim: int, out_dim: int, pixel_mean: torch.Tensor | None = None,
                 seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """Build (G, D) with weights drawn from a generator seeded by seed."""
    gen = torch.Generator().manual_seed(seed)
    g = build_generator(model, z_dim, out_dim, pixel_mean, gen)
    d = MaxoutDiscriminator(out_dim, (240, 240), 5, 0.005, 0.8, 0.5, gen)
    return g, d


def sample_noise(n: int, z_dim: int, kind: str, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """Draw n noise vectors: 'uniform' is U(-sqrt 3, sqrt 3) (unit variance), 'gaussian' N(0, I)."""
    if kind == "uniform":
        z = torch.empty(n, z_dim, device=device).uniform_(-1.0, 1.0, generator=generator)
        return z.mul_(math.sqrt(3.0))
    if kind == "gaussian":
        return torch.randn(n, z_dim, device=device, generator=generator)
    raise ConfigError(f"unknown noise {kind!r}; choose uniform or gaussian.")
