"""Penalties on D added to its loss: the REGULARIZERS registry, and the spec a run names them by.

A penalty is a function of what D saw in its step (`Seen`). The registry entry says which of D's inputs
it differentiates D with respect to, so that the step asks autograd for that input gradient only when a
penalty needs it. A run lists its penalties as ``name:weight`` with an optional lazy interval
``@N`` (the penalty on every N-th step only, its weight multiplied by N: Karras et al. 2020's lazy
regularization), e.g. ``r1:0.1,r2:0.1`` or ``r1:5@16``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from gankit.errors import ConfigError, shown


@dataclass
class Seen:
    """One D step's inputs and logits; real, or fake, carries a gradient where a penalty asked for it."""

    real: torch.Tensor
    fake: torch.Tensor
    real_logits: torch.Tensor
    fake_logits: torch.Tensor
    logits: Callable[[torch.Tensor], torch.Tensor]  # D (with this step's augmentation, dropout and labels)
    gen: torch.Generator  # this step's draws


def _squared_input_gradient(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """mean over the batch of ||d l / d x||^2, kept differentiable for D's update."""
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    return grad.flatten(1).square().sum(1).mean()


def r1_penalty(seen: Seen) -> torch.Tensor:
    """E ||grad_x D(x)||^2 on real images, zero-centred (Mescheder et al. 2018); R3GAN's weight is gamma/2."""
    return _squared_input_gradient(seen.real_logits, seen.real)


def r2_penalty(seen: Seen) -> torch.Tensor:
    """E ||grad_x D(x)||^2 on generated images (Mescheder et al. 2018; with R1 in R3GAN, Huang et al. 2024)."""
    return _squared_input_gradient(seen.fake_logits, seen.fake)


def gradient_penalty(seen: Seen) -> torch.Tensor:
    """E (||grad D(x^)|| - 1)^2 at x^ = e x + (1 - e) G(z), e ~ U(0, 1) per pair: WGAN-GP's soft Lipschitz
    bound (Gulrajani et al. 2017; its weight is lambda = 10)."""
    real, fake = seen.real.detach(), seen.fake.detach()
    e = torch.rand((len(real),) + (1,) * (real.dim() - 1), generator=seen.gen, device=real.device, dtype=real.dtype)
    mixed = (e * real + (1 - e) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(seen.logits(mixed).sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()


@dataclass(frozen=True)
class Penalty:
    fn: Callable[[Seen], torch.Tensor]
    grad_of: str | None = None  # "real" or "fake": the input D's gradient is taken with respect to


REGULARIZERS: dict[str, Penalty] = {
    "r1": Penalty(r1_penalty, grad_of="real"),
    "r2": Penalty(r2_penalty, grad_of="fake"),
    "gp": Penalty(gradient_penalty),
}


@dataclass(frozen=True)
class Regularizer:
    """A penalty with its weight, applied every `every` steps (weight x every then: lazy regularization)."""

    name: str
    weight: float
    every: int = 1

    @property
    def penalty(self) -> Penalty:
        return REGULARIZERS[self.name]

    def active(self, step: int) -> bool:
        return step % self.every == 0

    def __call__(self, seen: Seen) -> torch.Tensor:
        return (self.weight * self.every) * self.penalty.fn(seen)


def parse(spec: str | None) -> tuple[Regularizer, ...]:
    """The regularizers of a spec such as 'r1:0.1,r2:0.1' or 'r1:5@16'; ConfigError naming a bad entry."""
    if not spec or not spec.strip():
        return ()
    out: list[Regularizer] = []
    for entry in spec.split(","):
        entry = entry.strip()
        name, sep, rest = entry.partition(":")
        name = name.strip()
        if name not in REGULARIZERS:
            raise ConfigError(f"unknown regularizer {shown(name)} in regularizers = {shown(spec)}; choose from "
                              f"{', '.join(REGULARIZERS)} as name:weight[@every], e.g. r1:0.1,r2:0.1.")
        weight_text, at, every_text = rest.partition("@")
        try:
            weight = float(weight_text) if sep else math.nan
            every = int(every_text) if at else 1
        except ValueError:
            raise ConfigError(f"regularizer {shown(entry)} is not name:weight[@every] (e.g. r1:0.1 or r1:5@16)."
                              ) from None
        if not (math.isfinite(weight) and weight > 0):
            raise ConfigError(f"regularizer {name} needs a positive weight, as {name}:0.1; got {shown(entry)}.")
        if every < 1:
            raise ConfigError(f"regularizer {name}'s lazy interval must be at least 1 step, got {every}.")
        if any(r.name == name for r in out):
            raise ConfigError(f"regularizer {name} is listed twice in {shown(spec)}; list it once.")
        out.append(Regularizer(name, weight, every))
    return tuple(out)
