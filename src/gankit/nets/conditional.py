"""Conditional GANs, p(x | c): G draws the class it is given, D judges an image as an image of that class.

* G: the class as a one-hot vector joined to z (Mirza & Osindero, 2014), then any G of gankit's.
* D: the projection discriminator (Miyato & Koyama, 2018): logit = psi(phi(x)) + <embed(y), phi(x)>,
  with phi the network's last hidden layer and psi its output unit.

`cgan-mlp` is the paper's MNIST G (with batch norm, as the demo recipe) and maxout D, conditioned so.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gankit.nets.paper import MaxoutDiscriminator, MLPGenerator, uniform_
from gankit.nets.spec import ModelSpec


class OneHotConditioned(nn.Module):
    """G(z, y) = net([z, one_hot(y)]) for a net built for z_dim + n_classes inputs."""

    def __init__(self, net: nn.Module, n_classes: int) -> None:
        super().__init__()
        self.net, self.n_classes = net, n_classes

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, F.one_hot(y, self.n_classes).to(z.dtype)], 1))


class ProjectionMaxoutDiscriminator(MaxoutDiscriminator):
    """The paper's maxout D with a class projection on its last hidden layer."""

    def __init__(self, spec: ModelSpec, units: tuple[int, ...], generator: torch.Generator | None) -> None:
        super().__init__(spec.out_dim, units, 5, 0.005, 0.8, 0.5, generator)
        self.embed = nn.Embedding(spec.n_classes, units[-1])
        uniform_(self.embed.weight, 0.005, generator)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None,
                y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(x, generator)
        return self.out(h).squeeze(-1) + (self.embed(y) * h).sum(1)


def _needs_classes(spec: ModelSpec) -> None:
    if spec.n_classes < 2:
        raise ValueError("a conditional model needs a ModelSpec with n_classes >= 2")


def cgan_mlp_g(spec: ModelSpec, pixel_mean: torch.Tensor | None, gen: torch.Generator | None) -> nn.Module:
    _needs_classes(spec)
    net = MLPGenerator(spec.z_dim + spec.n_classes, (1200, 1200), spec.out_dim, 0.05, pixel_mean, gen, batchnorm=True)
    return OneHotConditioned(net, spec.n_classes)


def cgan_mlp_d(spec: ModelSpec, gen: torch.Generator | None) -> nn.Module:
    _needs_classes(spec)
    return ProjectionMaxoutDiscriminator(spec, (240, 240), gen)
