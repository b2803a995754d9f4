"""The paper's MNIST models (goodfeli/adversarial mnist.yaml): a ReLU MLP G and a maxout MLP D."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def dropout(x: torch.Tensor, keep: float, generator: torch.Generator | None) -> torch.Tensor:
    """Keep each unit with probability keep and scale kept ones by 1/keep (pylearn2 dropout)."""
    if keep >= 1.0:
        return x
    # uniform < keep is a Bernoulli(keep) draw; on the CPU it is about twice as fast as bernoulli_
    mask = torch.empty_like(x).uniform_(generator=generator).lt_(keep).mul_(1.0 / keep)
    return x * mask


def uniform_(tensor: torch.Tensor, bound: float, generator: torch.Generator | None) -> torch.Tensor:
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


class MLPGenerator(nn.Module):
    """z -> ReLU hidden layers -> sigmoid pixels; output biases start at logit(pixel means)."""

    def __init__(
        self,
        z_dim: int = 100,
        hidden: tuple[int, ...] = (1200, 1200),
        out_dim: int = 784,
        init_range: float = 0.05,
        pixel_mean: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        sizes = (z_dim, *hidden, out_dim)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for layer in self.layers:
            uniform_(layer.weight, init_range, generator)
            nn.init.zeros_(layer.bias)
        if pixel_mean is not None:
            with torch.no_grad():
                self.layers[-1].bias.copy_(torch.logit(pixel_mean.float().clamp(1e-7, 1 - 1e-7)))
        self.z_dim = z_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = z
        for layer in self.layers[:-1]:
            h = F.relu(layer(h))
        return torch.sigmoid(self.layers[-1](h))


class MaxoutDiscriminator(nn.Module):
    """Maxout MLP returning the logit of D(x); dropout on every layer's input while training."""

    def __init__(
        self,
        in_dim: int = 784,
        units: tuple[int, ...] = (240, 240),
        pieces: int = 5,
        init_range: float = 0.005,
        input_keep: float = 0.8,
        hidden_keep: float = 0.5,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.pieces = pieces
        sizes = (in_dim, *units)
        self.maxout = nn.ModuleList(nn.Linear(a, b * pieces) for a, b in zip(sizes[:-1], sizes[1:]))
        self.out = nn.Linear(sizes[-1], 1)
        for layer in (*self.maxout, self.out):
            uniform_(layer.weight, init_range, generator)
            nn.init.zeros_(layer.bias)
        self.input_keep = input_keep
        self.hidden_keep = hidden_keep

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Logits of shape (N,); pass the generator that draws the dropout masks."""
        keep = self.input_keep
        h = x
        for layer in self.maxout:
            if self.training:
                h = dropout(h, keep, generator)
            h = layer(h).unflatten(-1, (-1, self.pieces)).amax(-1)
            keep = self.hidden_keep
        if self.training:
            h = dropout(h, keep, generator)
        return self.out(h).squeeze(-1)
