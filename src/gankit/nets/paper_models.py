"""The paper's G and D for each of its experiments (goodfeli/adversarial configs; paper.md section 3),
as builders for the MODELS registry: G from (spec, pixel means, generator), D from (spec, generator)."""

from __future__ import annotations

import math

import torch
from torch import nn

from gankit.errors import ConfigError
from gankit.nets.paper import ConvMaxoutDiscriminator, DeconvGenerator, MaxoutDiscriminator, MLPGenerator
from gankit.nets.spec import ModelSpec

Gen = torch.Generator | None


def mnist_g(spec: ModelSpec, pixel_mean: torch.Tensor | None, gen: Gen) -> nn.Module:
    return MLPGenerator(spec.z_dim, (1200, 1200), spec.out_dim, 0.05, pixel_mean, gen)


def mnist_bn_g(spec: ModelSpec, pixel_mean: torch.Tensor | None, gen: Gen) -> nn.Module:
    """The demo's G: the paper's MNIST G with batch normalisation."""
    return MLPGenerator(spec.z_dim, (1200, 1200), spec.out_dim, 0.05, pixel_mean, gen, batchnorm=True)


def mnist_d(spec: ModelSpec, gen: Gen) -> nn.Module:
    return MaxoutDiscriminator(spec.out_dim, (240, 240), 5, 0.005, 0.8, 0.5, gen)


def tfd_g(spec: ModelSpec, pixel_mean: torch.Tensor | None, gen: Gen) -> nn.Module:
    return MLPGenerator(spec.z_dim, (8000, 8000), spec.out_dim, (0.05, 0.05, ("sparse", 100)), pixel_mean, gen,
                        ("relu", "sigmoid", "sigmoid"), (0.0, -2.0, 0.0))


def tfd_stage2_g(spec: ModelSpec, pixel_mean: torch.Tensor | None, gen: Gen) -> nn.Module:
    """Two new bottom layers, then the three layers of the stage-1 G (copied in by load_stage1_into)."""
    return MLPGenerator(spec.z_dim, (8000, 100, 8000, 8000), spec.out_dim,
                        (0.05, 0.05, 0.05, 0.05, ("sparse", 100)), pixel_mean, gen,
                        ("relu", "sigmoid", "relu", "sigmoid", "sigmoid"), (0.0, -2.0, 0.0, -2.0, 0.0))


def tfd_d(spec: ModelSpec, gen: Gen) -> nn.Module:
    return MaxoutDiscriminator(spec.out_dim, (1200, 1200), 5, 0.005, 0.8, 0.5, gen)


def cifar10_fc_g(spec: ModelSpec, pixel_mean: torch.Tensor | None, gen: Gen) -> nn.Module:
    return MLPGenerator(spec.z_dim, (8000, 8000), spec.out_dim, (0.05, 0.05, 0.5), None, gen,
                        ("relu", "sigmoid", "linear"))


def cifar10_fc_d(spec: ModelSpec, gen: Gen) -> nn.Module:
    return MaxoutDiscriminator(spec.out_dim, (1600, 1600), 5, 0.005, 0.8, 0.5, gen)


def _needs_cifar_shape(spec: ModelSpec) -> None:
    if spec.image_shape != (3, 32, 32):
        raise ConfigError(f"model paper-cifar10-conv draws 3x32x32 images, but the data are "
                          f"{'x'.join(map(str, spec.image_shape))}; choose another --model.")


def cifar10_conv_g(spec: ModelSpec, pixel_mean: torch.Tensor | None, gen: Gen) -> nn.Module:
    _needs_cifar_shape(spec)
    return DeconvGenerator(spec.z_dim, gen)


def cifar10_conv_d(spec: ModelSpec, gen: Gen) -> nn.Module:
    _needs_cifar_shape(spec)
    return ConvMaxoutDiscriminator(gen)


def toy_g(spec: ModelSpec, pixel_mean: torch.Tensor | None, gen: Gen) -> nn.Module:
    first = 1.0 / math.sqrt(spec.z_dim)
    return MLPGenerator(spec.z_dim, (128, 128), spec.out_dim, (first, 0.09, 0.09), None, gen,
                        ("relu", "relu", "linear"))


def toy_d(spec: ModelSpec, gen: Gen) -> nn.Module:
    """Maxout without dropout."""
    return MaxoutDiscriminator(spec.out_dim, (128, 128), 2, (1.0 / math.sqrt(spec.out_dim), 0.09, 0.09), 1.0, 1.0,
                               gen)
