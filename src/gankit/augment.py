"""Augmentations applied to every image D sees, real and generated alike: the AUGMENTS registry.

An augmentation is a differentiable function of a batch (N, C*H*W or N, C, H, W), the image shape and the
step's generator (so a resumed run draws the same transforms). G's gradient flows through it, as
DiffAugment and ADA require (Zhao et al. 2020; Karras et al. 2020).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Augment = Callable[[torch.Tensor, tuple[int, int, int], torch.Generator], torch.Tensor]


def no_augment(x: torch.Tensor, shape: tuple[int, int, int], gen: torch.Generator) -> torch.Tensor:
    """D sees the images as they are (and nothing is drawn)."""
    return x


AUGMENTS: dict[str, Augment] = {"none": no_augment}
