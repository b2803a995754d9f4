"""Images out: sample grids as PNG (Pillow, no torchvision), and the paper's Figure 2 and 3 layouts."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from gankit.data import Split
from gankit.errors import ConfigError
from gankit.fileio import atomic_write_bytes

if TYPE_CHECKING:
    from gankit.generator import LoadedGenerator


def make_grid(images: torch.Tensor, nrow: int | None = None, pad: int = 2, fill: float = 1.0) -> np.ndarray:
    """Tile (N, C, H, W) images into one uint8 (H', W', C) array, nrow per row.

    Images in [0, 1] are shown as they are; others are mapped to [0, 1] by their largest |value|
    (the paper's display of CIFAR-10 samples).
    """
    images = images.detach().float().cpu()
    if images.min() < 0 or images.max() > 1:  # e.g. GCN-space CIFAR: divide by the largest |value|
        images = (images / images.abs().max().clamp_min(1e-12) + 1) / 2
    n, c, h, w = images.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    grid = torch.full((c, rows * (h + pad) + pad, nrow * (w + pad) + pad), fill)
    for i in range(n):
        r, col = divmod(i, nrow)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[:, top : top + h, left : left + w] = images[i]
    return (grid.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


def save_png(array: np.ndarray, path: str | Path, scale: int = 1) -> Path:
    """Write a uint8 (H, W, C) array as PNG, optionally enlarged by an integer factor."""
    mode = "L" if array.shape[2] == 1 else "RGB"
    image = Image.fromarray(array[:, :, 0] if mode == "L" else array, mode=mode)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def save_grid(images: torch.Tensor, path: str | Path, nrow: int | None = None, scale: int = 2) -> Path:
    return save_png(make_grid(images, nrow), path, scale)


def figure_samples(samples: torch.Tensor, neighbours: torch.Tensor, path: str | Path, scale: int = 3) -> Path:
    """The paper's Figure 2: rows of fair samples, then (framed in yellow) each row's nearest training image.

    samples: (rows, cols, C, H, W); neighbours: (rows, C, H, W), nearest to each row's last sample.
    """
    rows, cols = samples.shape[:2]
    h, w = samples.shape[-2:]
    tiles = torch.cat([samples, neighbours[:, None]], 1).flatten(0, 1)
    grid = make_grid(tiles, nrow=cols + 1, pad=2)
    if grid.shape[2] == 1:
        grid = np.repeat(grid, 3, axis=2)
    left = cols * (w + 2)
    for r in range(rows):
        top = r * (h + 2)
        box = grid[top : top + h + 4, left : left + w + 4]
        for edge in (box[:2], box[-2:], box[:, :2], box[:, -2:]):
            edge[...] = (255, 200, 0)
    return save_png(grid, path, scale)


def interpolation_path(z_points: torch.Tensor, steps: int, spherical: bool = False) -> torch.Tensor:
    """Points from z_points[0] through each later point, steps per segment (endpoints included once)."""
    out = [z_points[:1]]
    t = torch.linspace(0, 1, steps + 1, dtype=z_points.dtype)[1:, None]
    for a, b in zip(z_points[:-1], z_points[1:]):
        if spherical:
            omega = torch.arccos((a / a.norm()).dot(b / b.norm()).clamp(-1 + 1e-7, 1 - 1e-7))
            seg = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
        else:
            seg = (1 - t) * a + t * b
        out.append(seg)
    return torch.cat(out)


def figure2(g: LoadedGenerator, train: Split, rows: int, cols: int, seed: int, out: str | Path) -> Path:
    """The paper's Figure 2 for a trained G: rows x cols fair samples, then each row's nearest training image
    (squared Euclidean distance over the whole training split) to its last sample."""
    from gankit.metrics.neighbours import nearest

    if min(rows, cols) < 1:
        raise ConfigError("--rows and --cols must be at least 1.")
    samples = g.sample(rows * cols, seed=seed).view(rows, cols, *g.image_shape)
    real = train.float()
    idx, _ = nearest(samples[:, -1], real)
    return figure_samples(samples, real[idx].view(rows, *g.image_shape), out)


def figure3(g: LoadedGenerator, rows: int, steps: int, endpoints: int, spherical: bool, seed: int,
            out: str | Path) -> Path:
    """The paper's Figure 3 for a trained G: each row walks through `endpoints` random points of z space."""
    from gankit.nets import sample_noise

    if min(rows, steps) < 1 or endpoints < 2:
        raise ConfigError("--rows and --steps must be at least 1, --endpoints at least 2.")
    gen = torch.Generator().manual_seed(seed)
    paths = [interpolation_path(sample_noise(endpoints, g.z_dim, g.noise, gen), steps, spherical) for _ in range(rows)]
    y = torch.arange(rows).repeat_interleave(len(paths[0])) % g.n_classes if g.n_classes else None  # a class a row
    return save_grid(g.decode(torch.cat(paths), y), out, nrow=len(paths[0]), scale=2)
