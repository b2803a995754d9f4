"""A GAN's losses for one batch, as the update orders (steps.py) call them: the adversarial objective
(objectives.py), D's regularizers (regularizers.py) and the augmentation of every image D sees (augment.py).

The update orders only decide when D and G step; how D looks at images and what each net minimises is
decided here, once (StyleGAN2-ADA's training/loss.py habit), so a new loss, penalty or augmentation never
adds an `if` to a step.
"""

from __future__ import annotations

from typing import Any

import torch

from gankit.augment import AUGMENTS
from gankit.nets import discriminate
from gankit.objectives import d_loss, g_loss, g_needs_real
from gankit.regularizers import Seen, parse


class GanLoss:
    def __init__(self, objective: Any, image_shape: tuple[int, int, int]) -> None:
        """objective: the configuration's objective section (TrainConfig.section("objective"))."""
        self.d_objective, self.g_objective = objective.d_objective, objective.g_objective
        self.scale = objective.d_loss_scale
        self.regularizers = parse(objective.regularizers)
        self.augment = AUGMENTS[objective.augment]
        self.image_shape = image_shape
        self.g_needs_real = g_needs_real(objective.g_objective)  # G's step then shows D a real batch too

    @property
    def lazy(self) -> bool:
        """Whether a step's work depends on the step number (a regularizer applied every N > 1 steps)."""
        return any(r.every > 1 for r in self.regularizers)

    def logits(self, D: torch.nn.Module, x: torch.Tensor, gen: torch.Generator,
               y: torch.Tensor | None) -> torch.Tensor:
        """D's logits for x as D sees it: augmented, with gen's dropout masks, and classes y if conditional."""
        return discriminate(D, self.augment(x, self.image_shape, gen), gen, y)

    def d_loss(self, D: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None,
               gen: torch.Generator, step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """D's loss (with the penalties due at this step) and its logits on real and fake."""
        active = [r for r in self.regularizers if r.active(step)]
        wants = {r.penalty.grad_of for r in active}
        if "real" in wants:
            real = real.detach().requires_grad_(True)
        if "fake" in wants and not fake.requires_grad:
            fake = fake.detach().requires_grad_(True)
        real_logits = self.logits(D, real, gen, y)
        fake_logits = self.logits(D, fake, gen, y)
        loss = d_loss(real_logits, fake_logits, self.scale, self.d_objective)
        if active:
            seen = Seen(real, fake, real_logits, fake_logits, lambda x: self.logits(D, x, gen, y), gen)
            for regularizer in active:
                loss = loss + regularizer(seen)
        return loss, real_logits, fake_logits

    def g_loss(self, fake_logits: torch.Tensor, real_logits: torch.Tensor | None = None) -> torch.Tensor:
        return g_loss(fake_logits, self.g_objective, real_logits)
