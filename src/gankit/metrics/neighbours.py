"""Nearest training images by squared Euclidean distance, in chunks so memory stays bounded."""

from __future__ import annotations

import torch


def nearest(queries: torch.Tensor, data: torch.Tensor, chunk: int = 10000) -> tuple[torch.Tensor, torch.Tensor]:
    """For each query, the index of the closest row of data and its squared distance (float64)."""
    q = queries.reshape(len(queries), -1).double()
    q_sq = q.pow(2).sum(1, keepdim=True)
    best_d = torch.full((len(q),), float("inf"), dtype=torch.float64)
    best_i = torch.zeros(len(q), dtype=torch.long)
    for start in range(0, len(data), chunk):
        block = data[start : start + chunk].reshape(-1, q.shape[1]).double()
        d2 = (q_sq + block.pow(2).sum(1)).addmm_(q, block.T, alpha=-2.0).clamp_min_(0)
        d, i = d2.min(1)
        better = d < best_d
        best_d = torch.where(better, d, best_d)
        best_i = torch.where(better, i + start, best_i)
    return best_i, best_d
