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


def sparse_(weight: torch.Tensor, nonzero: int, generator: torch.Generator | None) -> torch.Tensor:
    """pylearn2 sparse_init: each unit gets `nonzero` incoming N(0, 1) weights, the rest zero."""
    out_dim, in_dim = weight.shape
    with torch.no_grad():
        weight.zero_()
        for row in range(out_dim):
            idx = torch.randperm(in_dim, generator=generator)[:nonzero]
            weight[row, idx] = torch.randn(len(idx), generator=generator)
    return weight


_ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "linear": lambda h: h}


class MLPGenerator(nn.Module):
    """z -> a stack of fully-connected layers; each layer has its activation, init and bias.

    init: a float r for U(-r, r) or ("sparse", k) for pylearn2's sparse init. The last layer's
    biases may start at logit(pixel means) (init_sigmoid_bias_from_marginals).
    """

    def __init__(
        self,
        z_dim: int = 100,
        hidden: tuple[int, ...] = (1200, 1200),
        out_dim: int = 784,
        init_range: float | tuple = 0.05,
        pixel_mean: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
        activations: tuple[str, ...] | None = None,
        biases: tuple[float, ...] | None = None,
        batchnorm: bool = False,
    ) -> None:
        super().__init__()
        sizes = (z_dim, *hidden, out_dim)
        n = len(sizes) - 1
        self.activations = activations or ("relu",) * (n - 1) + ("sigmoid",)
        inits = init_range if isinstance(init_range, tuple) and init_range[0] != "sparse" else (init_range,) * n
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for layer, init, bias in zip(self.layers, inits, biases or (0.0,) * n):
            if isinstance(init, tuple):
                sparse_(layer.weight, init[1], generator)
            else:
                uniform_(layer.weight, init, generator)
            nn.init.constant_(layer.bias, bias)
        if pixel_mean is not None:
            with torch.no_grad():
                self.layers[-1].bias.copy_(torch.logit(pixel_mean.float().clamp(1e-7, 1 - 1e-7)))
        # batch normalisation before each hidden activation (not the paper's; the demo recipe's, after
        # DCGAN: it keeps G from mapping every z to one image early in training)
        self.norms = nn.ModuleList(nn.BatchNorm1d(b) if batchnorm else nn.Identity() for b in sizes[1:-1])

    def layer_outputs(self, z: torch.Tensor) -> list[torch.Tensor]:
        """The output of every layer after its activation; the last one is G(z)."""
        outputs = []
        h = z
        for i, (layer, act) in enumerate(zip(self.layers, self.activations)):
            h = layer(h)
            if i < len(self.norms):
                h = self.norms[i](h)
            h = _ACTIVATIONS[act](h)
            outputs.append(h)
        return outputs

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layer_outputs(z)[-1]


class MaxoutDiscriminator(nn.Module):
    """Maxout MLP returning the logit of D(x); dropout on every layer's input while training."""

    def __init__(
        self,
        in_dim: int = 784,
        units: tuple[int, ...] = (240, 240),
        pieces: int = 5,
        init_range: float | tuple[float, ...] = 0.005,
        input_keep: float = 0.8,
        hidden_keep: float = 0.5,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.pieces = pieces
        sizes = (in_dim, *units)
        self.maxout = nn.ModuleList(nn.Linear(a, b * pieces) for a, b in zip(sizes[:-1], sizes[1:]))
        self.out = nn.Linear(sizes[-1], 1)
        layers = (*self.maxout, self.out)
        ranges = init_range if isinstance(init_range, tuple) else (init_range,) * len(layers)
        for layer, r in zip(layers, ranges):
            uniform_(layer.weight, r, generator)
            nn.init.zeros_(layer.bias)
        self.input_keep = input_keep
        self.hidden_keep = hidden_keep

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Logits of shape (N,); pass the generator that draws the dropout masks."""
        return self.out(self.features(x, generator)).squeeze(-1)

    def features(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The last hidden layer (after its dropout): what the output unit reads."""
        keep = self.input_keep
        h = x
        for layer in self.maxout:
            if self.training:
                h = dropout(h, keep, generator)
            h = layer(h).unflatten(-1, (-1, self.pieces)).amax(-1)
            keep = self.hidden_keep
        if self.training:
            h = dropout(h, keep, generator)
        return h


class DeconvGenerator(nn.Module):
    """The paper's CIFAR-10 "deconvolutional" G: MLP to 80 x 10 x 10, then a 5x5 stride-3 transposed
    convolution to 3 x 32 x 32 with untied (per-position) biases and a linear output."""

    def __init__(self, z_dim: int = 100, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.mlp = MLPGenerator(z_dim, (8000,), 8000, 0.05, None, generator, ("relu", "sigmoid"))
        self.deconv = nn.ConvTranspose2d(80, 3, 5, stride=3, bias=False)
        uniform_(self.deconv.weight, 0.05, generator)
        self.bias = nn.Parameter(torch.zeros(3, 32, 32))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.mlp(z).view(-1, 80, 10, 10)
        return (self.deconv(h) + self.bias).flatten(1)


class ConvMaxoutDiscriminator(nn.Module):
    """The paper's CIFAR-10 D: three maxout convolution layers (cuda-convnet pooling, ceil mode),
    a maxout 500 x 5 layer and a sigmoid unit; dropout on every layer's input while training."""

    def __init__(self, generator: torch.Generator | None = None, input_keep: float = 0.8,
                 hidden_keep: float = 0.5) -> None:
        super().__init__()
        # (in channels, out channels, pieces, kernel, padding, pool size, pool stride)
        self.spec = ((3, 32, 2, 8, 4, 4, 2), (32, 32, 2, 8, 3, 4, 2), (32, 192, 2, 5, 3, 2, 2))
        self.convs = nn.ModuleList(nn.Conv2d(i, o * p, k, padding=pad) for i, o, p, k, pad, _, _ in self.spec)
        self.fc = nn.Linear(192 * 5 * 5, 500 * 5)
        self.out = nn.Linear(500, 1)
        for layer in (*self.convs, self.fc, self.out):
            uniform_(layer.weight, 0.005, generator)
            nn.init.zeros_(layer.bias)
        self.input_keep, self.hidden_keep = input_keep, hidden_keep

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        h = x.view(-1, 3, 32, 32)
        keep = self.input_keep
        for conv, (_, out, pieces, _, _, pool, stride) in zip(self.convs, self.spec):
            if self.training:
                h = dropout(h, keep, generator)
            h = conv(h)
            h = h.view(h.shape[0], out, pieces, *h.shape[2:]).amax(2)
            h = F.max_pool2d(h, pool, stride, ceil_mode=True)
            keep = self.hidden_keep
        h = h.flatten(1)
        if self.training:
            h = dropout(h, keep, generator)
        h = self.fc(h).unflatten(-1, (500, 5)).amax(-1)
        if self.training:
            h = dropout(h, keep, generator)
        return self.out(h).squeeze(-1)


@torch.no_grad()
def max_norm_(modules: list[nn.Module], limit: float) -> None:
    """pylearn2 max_col_norm: rescale each unit's incoming weight vector to L2 norm <= limit."""
    for module in modules:
        for layer in module.modules():
            if isinstance(layer, nn.Linear):
                layer.weight.copy_(torch.renorm(layer.weight, 2, 0, limit))
