"""What a network needs to know about the data, as the data provide it (StyleGAN2-ADA's c_dim and
img_resolution): the noise dimension, the image shape and the number of classes."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    z_dim: int
    image_shape: tuple[int, int, int]  # (C, H, W); toy vectors of dimension d are (1, 1, d)
    n_classes: int = 0  # 0: unconditional
    width: int | None = None  # the base width of a model that takes one (DCGAN's ngf = ndf); None: its own

    @property
    def out_dim(self) -> int:
        """Values in one flattened image."""
        return math.prod(self.image_shape)
