"""The value function V(D, G) and the D and G losses, all computed from D's logits.

With l the logit of D(x), log D = -softplus(-l) and log(1 - D) = -softplus(l); these forms never
take the log of a rounded probability, so they stay finite where sigmoid(l) rounds to 0 or 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gankit.errors import ConfigError


def value(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Minibatch estimate of V(D,G) = E[log D(x)] + E[log(1 - D(G(z)))] (D ascends it)."""
    return -F.softplus(-real_logits).mean() - F.softplus(fake_logits).mean()


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """D minimises scale * -V: binary cross-entropy with real = 1 and fake = 0.

    scale = 0.5 is the official code's choice (it averages the two cross-entropies); scale = 1 is
    Algorithm 1 as printed.
    """
    return -scale * value(real_logits, fake_logits)


def g_loss(fake_logits: torch.Tensor, objective: str = "non-saturating") -> torch.Tensor:
    """G's loss: 'minimax' = mean log(1 - D(G(z))) (Algorithm 1, saturates when D wins);
    'non-saturating' = -mean log D(G(z)) (paper section 3, strong gradients early on)."""
    if objective == "minimax":
        return -F.softplus(fake_logits).mean()
    if objective == "non-saturating":
        return F.softplus(-fake_logits).mean()
    raise ConfigError(f"unknown g_objective {objective!r}; choose minimax or non-saturating.")
