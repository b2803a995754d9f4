"""The paper's MNIST recipe written independently, the way a PyTorch user would, to cross-check gankit.

nn.Sequential models, nn.Dropout, a DataLoader reshuffled every epoch, BCE with logits, the official
code's simultaneous update (D's and G's gradients from one forward, D's loss halved, G's loss
non-saturating through the same dropout masks) and pylearn2's classical momentum with its lr decay
and momentum schedule. It shares no code with gankit's nets, objectives, optimiser or loop.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset


class Maxout(nn.Module):
    def __init__(self, pieces: int) -> None:
        super().__init__()
        self.pieces = pieces

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], -1, self.pieces).max(-1).values


def plain_models(pixel_mean: torch.Tensor) -> tuple[nn.Sequential, nn.Sequential]:
    G = nn.Sequential(nn.Linear(100, 1200), nn.ReLU(), nn.Linear(1200, 1200), nn.ReLU(),
                      nn.Linear(1200, 784), nn.Sigmoid())
    D = nn.Sequential(nn.Dropout(0.2), nn.Linear(784, 1200), Maxout(5), nn.Dropout(0.5),
                      nn.Linear(240, 1200), Maxout(5), nn.Dropout(0.5), nn.Linear(240, 1), nn.Flatten(0))
    with torch.no_grad():
        for net, bound in ((G, 0.05), (D, 0.005)):
            for m in net:
                if isinstance(m, nn.Linear):
                    m.weight.uniform_(-bound, bound)
                    m.bias.zero_()
        G[4].bias.copy_(torch.logit(pixel_mean.clamp(1e-7, 1 - 1e-7)))
    return G, D


def train_plain(x: torch.Tensor, seed: int, epochs: int) -> tuple[nn.Sequential, dict]:
    """Train G and D on x (N, 784) in [0, 1]; return G and the last epoch's mean D(x), D(G(z))."""
    torch.manual_seed(seed)
    G, D = plain_models(x.mean(0))
    params = list(D.parameters()) + list(G.parameters())
    velocity = [torch.zeros_like(p) for p in params]
    loader = DataLoader(TensorDataset(x), batch_size=100, shuffle=True, drop_last=True)
    step = 0
    for epoch in range(1, epochs + 1):
        mu = 0.5 + 0.2 * min((epoch - 1) / 249, 1.0)
        d_real = d_fake = 0.0
        for (real,) in loader:
            lr = max(0.1 / 1.000004**step, 1e-6)
            z = (torch.rand(100, 100) * 2 - 1) * math.sqrt(3)
            real_logits, fake_logits = D(real), D(G(z))
            loss_d = 0.5 * (F.binary_cross_entropy_with_logits(real_logits, torch.ones(100))
                            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros(100)))
            loss_g = F.binary_cross_entropy_with_logits(fake_logits, torch.ones(100))
            grads = (torch.autograd.grad(loss_d, list(D.parameters()), retain_graph=True)
                     + torch.autograd.grad(loss_g, list(G.parameters())))
            with torch.no_grad():
                for p, v, g in zip(params, velocity, grads):
                    v.mul_(mu).sub_(lr * g)
                    p.add_(v)
            step += 1
            d_real += float(torch.sigmoid(real_logits.detach()).mean())
            d_fake += float(torch.sigmoid(fake_logits.detach()).mean())
    n = len(loader)
    return G, {"d_real": d_real / n, "d_fake": d_fake / n}
