"""The value function V(D, G) and the G_LOSSES and D_LOSSES registries, all computed from D's logits.

With l the logit of D(x), log D = -softplus(-l) and log(1 - D) = -softplus(l); these forms never
take the log of a rounded probability, so they stay finite where sigmoid(l) rounds to 0 or 1.
A G loss marked @needs_real also compares with D's logits on a real batch (the relativistic loss).
Each objective is one function and one registry line; D's penalties are in regularizers.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
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


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """Proposition 1's optimal D for a fixed G, D*(x) = p_data / (p_data + p_g), on densities tabulated on a
    grid; 1/2 where both vanish (D is free there)."""
    total = p_data + p_g
    return np.divide(p_data, total, out=np.full_like(total, 0.5, dtype=np.float64), where=total > 0)


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


def needs_real(g_loss_fn: Callable) -> Callable:
    """Mark a G loss that takes (fake_logits, real_logits): G's step then also shows D a real batch."""
    g_loss_fn.needs_real = True
    return g_loss_fn


def wasserstein_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """scale * (mean l(G(z)) - mean l(x)): the critic of WGAN (Arjovsky et al. 2017), which needs a Lipschitz
    bound (the gp regularizer, Gulrajani et al. 2017); G's side is -mean l(G(z)), the hinge G loss."""
    return scale * (fake_logits.mean() - real_logits.mean())


def least_squares_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """scale * (mean (l(x) - 1)^2 + mean l(G(z))^2): LSGAN's D with targets b = 1, a = 0 (Mao et al. 2017;
    scale 0.5 is the paper's one half)."""
    return scale * ((real_logits - 1.0).square().mean() + fake_logits.square().mean())


def least_squares_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """0.5 * mean (l(G(z)) - 1)^2: LSGAN's G with target c = 1 (Mao et al. 2017)."""
    return 0.5 * (fake_logits - 1.0).square().mean()


def relativistic_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """scale * mean softplus(l(G(z_i)) - l(x_i)): the relativistic pairing loss RpGAN (Jolicoeur-Martineau
    2019), D judging each real image against its paired fake, as R3GAN uses it (Huang et al. 2024)."""
    return scale * F.softplus(fake_logits - real_logits).mean()


@needs_real
def relativistic_g_loss(fake_logits: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
    """mean softplus(l(x_i) - l(G(z_i))): RpGAN's G, the same game with the pairs' roles swapped."""
    return F.softplus(real_logits - fake_logits).mean()


G_LOSSES = {"non-saturating": non_saturating_g_loss, "minimax": minimax_g_loss, "hinge": hinge_g_loss,
            "wasserstein": hinge_g_loss, "least-squares": least_squares_g_loss, "relativistic": relativistic_g_loss}
D_LOSSES = {"cross-entropy": cross_entropy_d_loss, "hinge": hinge_d_loss, "wasserstein": wasserstein_d_loss,
            "least-squares": least_squares_d_loss, "relativistic": relativistic_d_loss}


def g_needs_real(objective: str) -> bool:
    return getattr(G_LOSSES.get(objective), "needs_real", False)


def g_loss(fake_logits: torch.Tensor, objective: str = "non-saturating",
           real_logits: torch.Tensor | None = None) -> torch.Tensor:
    """G's loss under the objective named (a key of G_LOSSES); real_logits for a relativistic one."""
    if objective not in G_LOSSES:
        raise ConfigError(f"unknown g_objective {objective!r}; choose one of: {', '.join(G_LOSSES)}.")
    if g_needs_real(objective):
        if real_logits is None:
            raise ValueError(f"g_objective {objective} compares with D's logits on real data: pass real_logits")
        return G_LOSSES[objective](fake_logits, real_logits)
    return G_LOSSES[objective](fake_logits)
