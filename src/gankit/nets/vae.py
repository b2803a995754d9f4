"""The variational autoencoder (Kingma & Welling 2014), the seeds' other model family, trained by the same toolkit.

The decoder p(x | z) with the prior z ~ N(0, I) is a generator like any G: called on z it returns the
mean image in [0, 1], so sampling, grids, export and every sample metric treat it as a G. The encoder
q(z | x) = N(mu, diag(exp(logvar))) takes D's place in the training state and the checkpoint. The
likelihood is Bernoulli (the data binarized, each pixel's grey level its probability of being on) or
Gaussian with a learned per-pixel scale of at least SIGMA_MIN (a density on [0, 1]^D in nats, the same
space Parzen estimates live in). Also here: the ELBO one training step maximises and the importance-
weighted bound (Burda et al. 2016) that estimates log p(x).
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from gankit.nets.dcgan import _blocks
from gankit.nets.spec import ModelSpec

LIKELIHOODS = ("bernoulli", "gaussian")
SIGMA_MIN = 0.01  # the Gaussian's smallest scale, so the density cannot collapse onto the exact zeros of a background
HIDDEN = 512  # the MLP's two hidden layers
WIDTH = 32  # the convolutional nets' first channel count (DCGAN's 64 halved: a VAE step runs both nets once)


class Encoder(nn.Module):
    """q(z | x): a body from flat images to features, then a linear map to (mu, logvar)."""

    def __init__(self, body: nn.Module, features: int, z_dim: int) -> None:
        super().__init__()
        self.body, self.out = body, nn.Linear(features, 2 * z_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.out(self.body(x)).chunk(2, dim=1)
        return mu, logvar


class Decoder(nn.Module):
    """p(x | z): a body from z to one logit per pixel. Called on z, the mean image (flat, in [0, 1])."""

    def __init__(self, body: nn.Module, out_dim: int, likelihood: str) -> None:
        super().__init__()
        self.body, self.likelihood = body, likelihood
        # the Gaussian's per-pixel scale SIGMA_MIN + softplus(raw_scale), starting at 0.1
        self.raw_scale = nn.Parameter(torch.full((out_dim,), math.log(math.expm1(0.1 - SIGMA_MIN)))) \
            if likelihood == "gaussian" else None

    def logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z).flatten(1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(z))

    def scale(self) -> torch.Tensor:
        return SIGMA_MIN + F.softplus(self.raw_scale)

    def log_prob(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """log p(x_i | z_i) in nats, one per row of x (N, D) and z (N, z_dim)."""
        logits = self.logits(z)
        if self.likelihood == "bernoulli":
            return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        scale = self.scale()
        return (-0.5 * ((x - torch.sigmoid(logits)) / scale) ** 2 - scale.log() - 0.5 * math.log(2 * math.pi)).sum(1)

    def observe(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """The data this likelihood models: x binarized (pixel ~ Bernoulli(grey level)) or x itself."""
        return torch.bernoulli(x, generator=generator) if self.likelihood == "bernoulli" else x


def kl_to_prior(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per row, in closed form."""
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar).sum(1)


def elbo_terms(encoder: nn.Module, decoder: Decoder, x: torch.Tensor,
               generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(log p(x | z) at one z ~ q(z | x) by reparameterisation, KL(q || prior)) per image; ELBO = first - second."""
    mu, logvar = encoder(x)
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return decoder.log_prob(x, mu + (0.5 * logvar).exp() * eps), kl_to_prior(mu, logvar)


@torch.no_grad()
def iwae_bound(encoder: nn.Module, decoder: nn.Module, x: torch.Tensor, k: int, generator: torch.Generator | None,
               budget: int = 1 << 16) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image, log (1/k sum_i w_i) with w_i = p(x, z_i) / q(z_i | x), z_i ~ q(z | x) (Burda et al. 2016): a
    lower bound on log p(x) that rises with k to it; and the mean of log w_i, an estimate of the ELBO from
    the same draws. decoder needs log_prob(x, z); budget bounds images x k per chunk."""
    bounds, elbos = [], []
    per_chunk = max(1, budget // k)
    for start in range(0, len(x), per_chunk):
        xs = x[start: start + per_chunk]
        mu, logvar = encoder(xs)
        std = (0.5 * logvar).exp()
        eps = torch.randn((k, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + std * eps
        log_q = (-0.5 * eps.square() - std.log() - 0.5 * math.log(2 * math.pi)).sum(-1)
        log_prior = (-0.5 * z.square() - 0.5 * math.log(2 * math.pi)).sum(-1)
        n = len(xs)
        log_px = decoder.log_prob(xs.expand(k, *xs.shape).reshape(k * n, -1), z.reshape(k * n, -1)).view(k, n)
        log_w = log_px + log_prior - log_q
        bounds.append(torch.logsumexp(log_w, dim=0) - math.log(k))
        elbos.append(log_w.mean(0))
    return torch.cat(bounds), torch.cat(elbos)


@contextlib.contextmanager
def _seeded_init(generator: torch.Generator | None):
    """PyTorch's default initialisation, its draws taken from a seed drawn from generator (reproducible)."""
    if generator is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(2**62, (1,), generator=generator)))
        yield


def mlp_decoder(spec: ModelSpec, pixel_mean: torch.Tensor | None, gen: torch.Generator | None,
                 likelihood: str) -> Decoder:
    with _seeded_init(gen):
        last = nn.Linear(HIDDEN, spec.out_dim)
        body = nn.Sequential(nn.Linear(spec.z_dim, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), last)
        if pixel_mean is not None:  # start at the mean image, as the paper's G starts its output bias
            with torch.no_grad():
                last.bias.copy_(torch.logit(pixel_mean.flatten().clamp(1e-3, 1 - 1e-3)))
        return Decoder(body, spec.out_dim, likelihood)


def mlp_encoder(spec: ModelSpec, gen: torch.Generator | None) -> Encoder:
    with _seeded_init(gen):
        body = nn.Sequential(nn.Linear(spec.out_dim, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU())
        return Encoder(body, HIDDEN, spec.z_dim)


def conv_decoder(spec: ModelSpec, pixel_mean: torch.Tensor | None, gen: torch.Generator | None,
                  likelihood: str) -> Decoder:
    """z -> a 4 x 4 map (linear), then doublings by transposed convolutions (ReLU) to the image's logits."""
    n = _blocks(spec)
    ch = WIDTH * 2 ** (n - 1)
    with _seeded_init(gen):
        layers: list[nn.Module] = [nn.Linear(spec.z_dim, ch * 16), nn.Unflatten(1, (ch, 4, 4)), nn.ReLU()]
        for _ in range(n - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1), nn.ReLU()]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, spec.image_shape[0], 4, 2, 1)]
        return Decoder(nn.Sequential(*layers), spec.out_dim, likelihood)


def conv_encoder(spec: ModelSpec, gen: torch.Generator | None) -> Encoder:
    """The image halved by strided convolutions (LeakyReLU 0.2) down to 4 x 4, as DCGAN's D without batch norm."""
    n = _blocks(spec)
    ch = WIDTH
    with _seeded_init(gen):
        layers: list[nn.Module] = [nn.Unflatten(1, spec.image_shape), nn.Conv2d(spec.image_shape[0], ch, 4, 2, 1),
                                   nn.LeakyReLU(0.2)]
        for _ in range(n - 1):
            layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1), nn.LeakyReLU(0.2)]
            ch *= 2
        return Encoder(nn.Sequential(*layers, nn.Flatten()), ch * 16, spec.z_dim)
