"""A dataset as the models see it: uint8 images (or toy vectors) with labels, per split, and the
spec the networks are built from."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from gankit.data.cifar import global_contrast_normalize
from gankit.nets.spec import ModelSpec


@dataclass
class Split:
    """Images as uint8 (N, H*W) with their labels and image shape (C, H, W)."""

    images: torch.Tensor
    labels: torch.Tensor
    shape: tuple[int, int, int]
    transform: str = "unit"  # "unit": pixels / 255 in [0, 1]; "gcn55": global contrast normalisation

    def float(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """The model's view of the images as float32 (N, C*H*W) on device."""
        if self.images.is_floating_point():  # toy data: already the model's values
            return self.images.to(device)
        x = self.images.to(device).float().div_(255.0)
        return global_contrast_normalize(x, 55.0) if self.transform == "gcn55" else x

    def __len__(self) -> int:
        return self.images.shape[0]


@dataclass
class Splits:
    train: Split
    valid: Split
    test: Split
    n_classes: int = 0  # labelled data: the number of classes; 0 when the labels mean nothing
    class_names: list[str] = field(default_factory=list)  # where the data name their classes (folders)
    kind: str = "images"  # or "toy1d" / "toy2d": vectors drawn as a density or over the modes, not as images

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.train.shape

    def model_spec(self, z_dim: int, conditional: bool = False, width: int | None = None) -> ModelSpec:
        """What the networks need to know about these data (the classes only for a conditional model), and the
        width the run chose."""
        return ModelSpec(z_dim, self.image_shape, self.n_classes if conditional else 0, width)
