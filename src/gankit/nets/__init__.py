"""The MODELS registry (G and D builders by name, built from a ModelSpec) and the NOISES registry (priors).

A new architecture is one file of builders (see nets/paper_models.py) plus one line in MODELS.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from functools import partial
from typing import NamedTuple

import torch
from torch import nn

from gankit.errors import ConfigError
from gankit.nets import conditional, dcgan, vae
from gankit.nets import paper_models as paper
from gankit.nets.paper import ConvMaxoutDiscriminator, DeconvGenerator, MaxoutDiscriminator, MLPGenerator, max_norm_
from gankit.nets.spec import ModelSpec

__all__ = [
    "MODELS", "NOISES", "ConvMaxoutDiscriminator", "DeconvGenerator", "MLPGenerator", "MaxoutDiscriminator",
    "Model", "ModelSpec", "build_discriminator", "build_generator", "build_models", "discriminate", "evaluating",
    "generate", "is_conditional", "is_vae", "max_norm_", "sample_noise",
]


class Model(NamedTuple):
    """G and D builders. A conditional model's G is called G(z, y) and its D D(x, generator, y), with y
    the class indices; an unconditional one's G(z) and D(x, generator). A VAE's "G" is its decoder and its
    "D" its encoder (nets/vae.py), trained by the elbo step."""

    generator: Callable[[ModelSpec, torch.Tensor | None, torch.Generator | None], nn.Module]
    discriminator: Callable[[ModelSpec, torch.Generator | None], nn.Module]
    conditional: bool = False
    vae: bool = False
    takes_width: bool = False  # builds at ModelSpec.width (--width) instead of fixed layer sizes


MODELS: dict[str, Model] = {
    "paper-mnist": Model(paper.mnist_g, paper.mnist_d),
    "mlp-bn": Model(paper.mnist_bn_g, paper.mnist_d),
    "paper-tfd": Model(paper.tfd_g, paper.tfd_d),
    "paper-tfd-stage2": Model(paper.tfd_stage2_g, paper.tfd_d),
    "paper-cifar10-fc": Model(paper.cifar10_fc_g, paper.cifar10_fc_d),
    "paper-cifar10-conv": Model(paper.cifar10_conv_g, paper.cifar10_conv_d),
    "toy-mlp": Model(paper.toy_g, paper.toy_d),
    "cgan-mlp": Model(conditional.cgan_mlp_g, conditional.cgan_mlp_d, conditional=True),
    "dcgan": Model(dcgan.dcgan_g, dcgan.dcgan_d, takes_width=True),
    "dcgan-sn": Model(dcgan.dcgan_g, dcgan.dcgan_sn_d, takes_width=True),
    "cdcgan": Model(dcgan.cdcgan_g, dcgan.cdcgan_d, conditional=True, takes_width=True),
    "vae-mlp-gaussian": Model(partial(vae.mlp_decoder, likelihood="gaussian"), vae.mlp_encoder, vae=True),
    "vae-mlp-bernoulli": Model(partial(vae.mlp_decoder, likelihood="bernoulli"), vae.mlp_encoder, vae=True),
    "vae-conv-gaussian": Model(partial(vae.conv_decoder, likelihood="gaussian"), vae.conv_encoder, vae=True),
    "vae-conv-bernoulli": Model(partial(vae.conv_decoder, likelihood="bernoulli"), vae.conv_encoder, vae=True),
}


def takes_width(model: str) -> bool:
    return _model(model).takes_width


def is_conditional(model: str) -> bool:
    return _model(model).conditional


def is_vae(model: str) -> bool:
    return _model(model).vae


def generate(g: nn.Module, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """G's images for noise z (and, for a conditional G, classes y)."""
    return g(z) if y is None else g(z, y)


def discriminate(d: nn.Module, x: torch.Tensor, generator: torch.Generator | None = None,
                 y: torch.Tensor | None = None) -> torch.Tensor:
    """D's logits for images x (and, for a conditional D, classes y); generator draws the dropout masks."""
    return d(x, generator) if y is None else d(x, generator, y)


def _model(name: str) -> Model:
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; available: {', '.join(MODELS)}.")
    return MODELS[name]


def build_generator(model: str, spec: ModelSpec, pixel_mean: torch.Tensor | None = None,
                    generator: torch.Generator | None = None) -> nn.Module:
    return _model(model).generator(spec, pixel_mean, generator)


def build_discriminator(model: str, spec: ModelSpec, generator: torch.Generator | None = None) -> nn.Module:
    return _model(model).discriminator(spec, generator)


def build_models(model: str, spec: ModelSpec, pixel_mean: torch.Tensor | None = None,
                 seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """Build (G, D) with weights drawn, G first, from one generator seeded by seed."""
    gen = torch.Generator().manual_seed(seed)
    return build_generator(model, spec, pixel_mean, gen), build_discriminator(model, spec, gen)


def _uniform(n: int, z_dim: int, generator: torch.Generator | None, device: torch.device | str) -> torch.Tensor:
    """U(-sqrt 3, sqrt 3): unit variance."""
    z = torch.empty(n, z_dim, device=device).uniform_(-1.0, 1.0, generator=generator)
    return z.mul_(math.sqrt(3.0))


def _gaussian(n: int, z_dim: int, generator: torch.Generator | None, device: torch.device | str) -> torch.Tensor:
    return torch.randn(n, z_dim, device=device, generator=generator)


NOISES = {"uniform": _uniform, "gaussian": _gaussian}


def sample_noise(n: int, z_dim: int, kind: str, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """Draw n noise vectors from the prior named kind (a key of NOISES)."""
    if kind not in NOISES:
        raise ConfigError(f"unknown noise {kind!r}; choose one of: {', '.join(NOISES)}.")
    return NOISES[kind](n, z_dim, generator, device)


@contextlib.contextmanager
def evaluating(net: nn.Module) -> Iterator[nn.Module]:
    """net in eval mode (no dropout, batch norm on running statistics) inside the block, its mode after."""
    was_training = net.training
    net.eval()
    try:
        yield net
    finally:
        net.train(was_training)
