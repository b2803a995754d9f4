"""The value function V(D, G) and the G_LOSSES and D_LOSSES registries, all computed from D's logits.

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


def d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, scale: float = 1.0,
           objective: str = "cross-entropy") -> torch.Tensor:
    """D's loss under the objective named (a key of D_LOSSES); scale multiplies it."""
    if objective not in D_LOSSES:
        raise ConfigError(f"unknown d_objective {objective!r}; choose one of: {', '.join(D_LOSSES)}.")
    return D_LOSSES[objective](real_logits, fake_logits, scale)


def cross_entropy_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """D minimises scale * -V: binary cross-entropy with real = 1 and fake = 0.

    scale = 0.5 is the official code's choice (it averages the two cross-entropies); scale = 1 is
    Algorithm 1 as printed.
    """
    return -scale * value(real_logits, fake_logits)


def minimax_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """mean log(1 - D(G(z))), which G minimises (Algorithm 1); saturates when D wins."""
    return -F.softplus(fake_logits).mean()


def non_saturating_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """-mean log D(G(z)) (paper section 3): strong gradients early in training."""
    return F.softplus(-fake_logits).mean()


def hinge_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """-mean l(G(z)): the generator's side of the hinge game (Lim & Ye 2017; Miyato et al. 2018)."""
    return -fake_logits.mean()


def hinge_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """scale * (mean max(0, 1 - l(x)) + mean max(0, 1 + l(G(z)))): D stops pushing once a margin is met."""
    return scale * (F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean())


G_LOSSES = {"non-saturating": non_saturating_g_loss, "minimax": minimax_g_loss, "hinge": hinge_g_loss}
D_LOSSES = {"cross-entropy": cross_entropy_d_loss, "hinge": hinge_d_loss}


def g_loss(fake_logits: torch.Tensor, objective: str = "non-saturating") -> torch.Tensor:
    """G's loss under the objective named (a key of G_LOSSES)."""
    if objective not in G_LOSSES:
        raise ConfigError(f"unknown g_objective {objective!r}; choose one of: {', '.join(G_LOSSES)}.")
    return G_LOSSES[objective](fake_logits)
