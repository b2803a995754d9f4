"""G and D builders by model name, and the noise prior."""

from __future__ import annotations

import math

import torch
from torch import nn

from gankit.config import MODELS
from gankit.errors import ConfigError
from gankit.nets.paper import ConvMaxoutDiscriminator, DeconvGenerator, MaxoutDiscriminator, MLPGenerator, max_norm_

__all__ = [
    "ConvMaxoutDiscriminator", "DeconvGenerator", "MLPGenerator", "MaxoutDiscriminator", "build_discriminator",
    "build_generator", "build_models", "max_norm_", "sample_noise",
]


def build_generator(model: str, z_dim: int, out_dim: int, pixel_mean: torch.Tensor | None = None,
                    generator: torch.Generator | None = None) -> nn.Module:
    """The paper's G for each model name (goodfeli/adversarial configs; see paper.md section 3)."""
    if model == "paper-mnist":
        return MLPGenerator(z_dim, (1200, 1200), out_dim, 0.05, pixel_mean, generator)
    if model == "mlp-bn":  # the demo's G: the paper's MNIST G with batch normalisation
        return MLPGenerator(z_dim, (1200, 1200), out_dim, 0.05, pixel_mean, generator, batchnorm=True)
    if model == "paper-tfd":
        return MLPGenerator(z_dim, (8000, 8000), out_dim, (0.05, 0.05, ("sparse", 100)), pixel_mean, generator,
                            ("relu", "sigmoid", "sigmoid"), (0.0, -2.0, 0.0))
    if model == "paper-tfd-stage2":
        # two new bottom layers, then the three layers of the stage-1 G (loaded by the trainer)
        return MLPGenerator(z_dim, (8000, 100, 8000, 8000), out_dim,
                            (0.05, 0.05, 0.05, 0.05, ("sparse", 100)), pixel_mean, generator,
                            ("relu", "sigmoid", "relu", "sigmoid", "sigmoid"), (0.0, -2.0, 0.0, -2.0, 0.0))
    if model == "paper-cifar10-fc":
        return MLPGenerator(z_dim, (8000, 8000), out_dim, (0.05, 0.05, 0.5), None, generator,
                            ("relu", "sigmoid", "linear"))
    if model == "paper-cifar10-conv":
        return DeconvGenerator(z_dim, generator)
    if model == "toy-mlp":
        first = 1.0 / math.sqrt(z_dim)
        return MLPGenerator(z_dim, (128, 128), out_dim, (first, 0.09, 0.09), None, generator,
                            ("relu", "relu", "linear"))
    raise ConfigError(f"unknown model {model!r}; available: {', '.join(MODELS)}.")


def build_discriminator(model: str, in_dim: int, generator: torch.Generator | None = None) -> nn.Module:
    if model in ("paper-mnist", "mlp-bn"):
        return MaxoutDiscriminator(in_dim, (240, 240), 5, 0.005, 0.8, 0.5, generator)
    if model in ("paper-tfd", "paper-tfd-stage2"):
        return MaxoutDiscriminator(in_dim, (1200, 1200), 5, 0.005, 0.8, 0.5, generator)
    if model == "paper-cifar10-fc":
        return MaxoutDiscriminator(in_dim, (1600, 1600), 5, 0.005, 0.8, 0.5, generator)
    if model == "paper-cifar10-conv":
        return ConvMaxoutDiscriminator(generator)
    if model == "toy-mlp":  # maxout without dropout
        return MaxoutDiscriminator(in_dim, (128, 128), 2, (1.0 / math.sqrt(in_dim), 0.09, 0.09), 1.0, 1.0, generator)
    raise ConfigError(f"unknown model {model!r}; available: {', '.join(MODELS)}.")


def build_models(model: str, z_dim: int, out_dim: int, pixel_mean: torch.Tensor | None = None,
                 seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """Build (G, D) with weights drawn from a generator seeded by seed."""
    gen = torch.Generator().manual_seed(seed)
    return build_generator(model, z_dim, out_dim, pixel_mean, gen), build_discriminator(model, out_dim, gen)


def sample_noise(n: int, z_dim: int, kind: str, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """Draw n noise vectors: 'uniform' is U(-sqrt 3, sqrt 3) (unit variance), 'gaussian' N(0, I)."""
    if kind == "uniform":
        z = torch.empty(n, z_dim, device=device).uniform_(-1.0, 1.0, generator=generator)
        return z.mul_(math.sqrt(3.0))
    if kind == "gaussian":
        return torch.randn(n, z_dim, device=device, generator=generator)
    raise ConfigError(f"unknown noise {kind!r}; choose uniform or gaussian.")
