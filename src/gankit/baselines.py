"""Reference "generators" for the Parzen table, evaluated with exactly the same protocol as a GAN.

* held-out real images: training images used as samples (a ceiling for what samples can score);
* a k-means mixture: k diagonal Gaussians fitted by Lloyd's algorithm on the training split
  (hard-assignment EM), sampled in proportion to cluster sizes and clipped to [0, 1].
"""

from __future__ import annotations

import torch

from gankit.metrics.neighbours import nearest


def kmeans(x: torch.Tensor, k: int, iters: int = 20, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's algorithm from k random points; returns (centroids (k, d), assignment (n,))."""
    gen = torch.Generator().manual_seed(seed)
    x = x.double()
    centroids = x[torch.randperm(len(x), generator=gen)[:k]].clone()
    assign = torch.zeros(len(x), dtype=torch.long)
    for _ in range(iters):
        assign, _ = nearest(x, centroids)
        counts = torch.bincount(assign, minlength=k).clamp_min(1).unsqueeze(1).double()
        sums = torch.zeros_like(centroids).index_add_(0, assign, x)
        empty = torch.bincount(assign, minlength=k) == 0
        centroids = torch.where(empty.unsqueeze(1), centroids, sums / counts)
    return centroids, assign


def kmeans_mixture_samples(train: torch.Tensor, n: int, k: int = 100, seed: int = 0) -> torch.Tensor:
    """n samples from a diagonal-Gaussian mixture fitted by k-means to train (pixels in [0, 1])."""
    centroids, assign = kmeans(train, k, seed=seed)
    x = train.double()
    counts = torch.bincount(assign, minlength=k).double()
    var = torch.zeros_like(centroids).index_add_(0, assign, (x - centroids[assign]) ** 2)
    std = (var / counts.clamp_min(1).unsqueeze(1)).sqrt()
    gen = torch.Generator().manual_seed(seed + 1)
    which = torch.multinomial(counts / counts.sum(), n, replacement=True, generator=gen)
    noise = torch.randn(n, x.shape[1], generator=gen, dtype=torch.float64)
    return (centroids[which] + std[which] * noise).clamp(0, 1).float()
