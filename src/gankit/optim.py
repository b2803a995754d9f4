"""pylearn2's learning rule and schedules, as the paper's code used them.

The update is classical momentum, velocity = mu * velocity - lr * grad; param += velocity, which
differs from torch.optim.SGD's form whenever lr changes, and lr changes after every update here.
"""

from __future__ import annotations

import torch


def learning_rate(step: int, lr0: float, decay: float, lr_min: float) -> float:
    """lr used by update number step (0-based): lr0 / decay**step, floored at lr_min."""
    return max(lr0 / decay**step, lr_min)


def momentum(epoch: int, start: float, end: float, saturate: int) -> float:
    """Momentum during 1-based epoch: start in epoch 1, rising linearly to end at epoch saturate.

    Matches pylearn2's MomentumAdjustor(start=1, saturate): it also fires once before epoch 1.
    """
    alpha = min(max((epoch - 1) / max(saturate - 1, 1), 0.0), 1.0)
    return start * (1.0 - alpha) + end * alpha


class MomentumSGD:
    """Classical momentum over a named set of parameters; velocities start at zero."""

    def __init__(self, named_params: dict[str, torch.nn.Parameter]) -> None:
        self.names = list(named_params)
        self.params = [named_params[n] for n in self.names]
        self.velocity = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor] | tuple[torch.Tensor, ...], lr: float, mu: float) -> None:
        torch._foreach_mul_(self.velocity, mu)
        torch._foreach_add_(self.velocity, list(grads), alpha=-lr)
        torch._foreach_add_(self.params, self.velocity)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        return dict(zip(self.names, self.velocity))

    def load_state_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        missing = set(self.names) - set(tensors)
        if missing:
            raise KeyError(f"velocity for {sorted(missing)[0]}")
        with torch.no_grad():
            for name, v in zip(self.names, self.velocity):
                v.copy_(tensors[name])
