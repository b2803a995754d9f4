"""DCGAN (Radford et al., 2016) at 32, 64 or 128 px, grey or colour, and its conditional form.

G: z (joined to a one-hot class for a conditional G) -> a 4 x 4 map by a transposed convolution, then
log2(size) - 3 doublings (transposed convolution, batch norm, ReLU), then one more to the image, tanh;
pixels are returned in [0, 1], like the data. D: the image mapped to [-1, 1], strided convolutions with
LeakyReLU(0.2) (batch norm after all but the first, or spectral norm on every layer) down to 4 x 4,
then one linear unit; a conditional D adds the projection <embed(y), phi(x)> (Miyato & Koyama 2018).
Weights N(0, 0.02) and batch-norm scales N(1, 0.02), all drawn from the seeded generator.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gankit.errors import ConfigError
from gankit.nets.conditional import OneHotConditioned
from gankit.nets.spec import ModelSpec

WIDTH = 64  # ngf = ndf, as pytorch/examples' DCGAN


def _blocks(spec: ModelSpec) -> int:
    c, h, w = spec.image_shape
    if h != w or h not in (32, 64, 128) or c not in (1, 3):
        raise ConfigError(f"the DCGAN models draw square 32, 64 or 128 px grey or RGB images, but the data are "
                          f"{c}x{h}x{w}; pass --image-size 32, 64 or 128.")
    return int(math.log2(h)) - 2


def _init_(module: nn.Module, generator: torch.Generator | None) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)):
            weight = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            with torch.no_grad():
                weight.normal_(0.0, 0.02, generator=generator)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.normal_(1.0, 0.02, generator=generator)
            nn.init.zeros_(m.bias)
    for m in module.modules():  # spectral norm's power-iteration vectors, from the same generator
        if hasattr(m, "parametrizations"):
            sn = m.parametrizations.weight[0]
            with torch.no_grad():
                sn._u.copy_(F.normalize(torch.randn(sn._u.shape, generator=generator), dim=0))
                sn._v.copy_(F.normalize(torch.randn(sn._v.shape, generator=generator), dim=0))


class DCGANGenerator(nn.Module):
    def __init__(self, spec: ModelSpec, in_dim: int, generator: torch.Generator | None, width: int = WIDTH) -> None:
        super().__init__()
        n = _blocks(spec)
        ch = width * 2 ** (n - 1)
        layers: list[nn.Module] = [nn.ConvTranspose2d(in_dim, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU()]
        for _ in range(n - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU()]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, spec.image_shape[0], 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        _init_(self, generator)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None]).add(1.0).mul(0.5).flatten(1)


class DCGANDiscriminator(nn.Module):
    def __init__(self, spec: ModelSpec, generator: torch.Generator | None, spectral: bool = False,
                 width: int = WIDTH) -> None:
        super().__init__()
        self.shape = spec.image_shape
        n = _blocks(spec)
        wrap = nn.utils.parametrizations.spectral_norm if spectral else (lambda m: m)
        ch = width
        layers: list[nn.Module] = [wrap(nn.Conv2d(spec.image_shape[0], ch, 4, 2, 1)), nn.LeakyReLU(0.2)]
        for _ in range(n - 1):
            layers += [wrap(nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=spectral))]
            layers += [nn.LeakyReLU(0.2)] if spectral else [nn.BatchNorm2d(ch * 2), nn.LeakyReLU(0.2)]
            ch *= 2
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.out = wrap(nn.Linear(ch * 16, 1))  # the 4 x 4 map to one logit (DCGAN's last 4x4 convolution)
        self.embed = nn.Embedding(spec.n_classes, ch * 16) if spec.n_classes else None
        _init_(self, generator)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None,
                y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.features(x.view(-1, *self.shape) * 2.0 - 1.0)
        logits = self.out(h).squeeze(-1)
        return logits if self.embed is None else logits + (self.embed(y) * h).sum(1)


def dcgan_g(spec: ModelSpec, pixel_mean: torch.Tensor | None, gen: torch.Generator | None) -> nn.Module:
    return DCGANGenerator(spec, spec.z_dim, gen, spec.width or WIDTH)


def dcgan_d(spec: ModelSpec, gen: torch.Generator | None) -> nn.Module:
    return DCGANDiscriminator(spec, gen, width=spec.width or WIDTH)


def dcgan_sn_d(spec: ModelSpec, gen: torch.Generator | None) -> nn.Module:
    return DCGANDiscriminator(spec, gen, spectral=True, width=spec.width or WIDTH)


def cdcgan_g(spec: ModelSpec, pixel_mean: torch.Tensor | None, gen: torch.Generator | None) -> nn.Module:
    return OneHotConditioned(DCGANGenerator(spec, spec.z_dim + spec.n_classes, gen, spec.width or WIDTH),
                             spec.n_classes)


def cdcgan_d(spec: ModelSpec, gen: torch.Generator | None) -> nn.Module:
    """The projection discriminator, with spectral norm as in Miyato & Koyama."""
    return DCGANDiscriminator(spec, gen, spectral=True, width=spec.width or WIDTH)
