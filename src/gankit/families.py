"""The model families gankit trains (FAMILIES): what each calls its two networks (in checkpoints and logs), the
update orders that train it (training/steps.py), the statistics a step reports by name, and the config fields
that only it reads. The loop, the console, the report and the checkpoints read these; none lists a family's
names itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Family:
    name: str
    roles: tuple[str, str]  # what the builder's two networks are
    names: tuple[str, str]  # their names in checkpoints (optimiser state: opt_<name>, lower case)
    legacy_names: tuple[str, str]  # the names checkpoints written before this table used
    stats: dict[str, tuple[str, int]]  # what each step reports, in order -> its console label and digits
    update_orders: tuple[str, ...]  # the steps that train it
    own_fields: dict[str, Any]  # config fields only this family reads, with their defaults

    def prefixes(self) -> dict[str, str]:
        """Legacy checkpoint prefix -> this family's (empty when they agree)."""
        old, new = self.legacy_names, self.names
        pairs = [*zip(old, new), *((f"opt_{o.lower()}", f"opt_{n.lower()}") for o, n in zip(old, new))]
        return {o: n for o, n in pairs if o != n}


GAN = Family(
    "gan", ("generator", "discriminator"), ("G", "D"), ("G", "D"),
    {"d_loss": ("D loss", 4), "g_loss": ("G loss", 4), "d_real": ("D(x)", 3), "d_fake": ("D(G(z))", 3)},
    ("simultaneous", "sequential"),
    {"d_steps": 1, "unrolled_steps": 0, "g_objective": "non-saturating", "d_objective": "cross-entropy",
     "d_loss_scale": 0.5, "regularizers": None, "augment": "none", "lr_g": None, "lr_d": None},
)
VAE = Family(
    "vae", ("decoder", "encoder"), ("decoder", "encoder"), ("G", "D"),
    {"neg_elbo": ("-ELBO", 2), "reconstruction": ("-log p(x|z)", 2), "kl": ("KL", 2)},
    ("elbo",), {},
)
FAMILIES = {"gan": GAN, "vae": VAE}


def family_of(model: str) -> Family:
    from gankit.nets import is_vae

    return VAE if is_vae(model) else GAN


def renamed(tensors: dict[str, Any], family: Family) -> dict[str, Any]:
    """A checkpoint's tensors under the family's names, whichever names the file used."""
    moves = family.prefixes()

    def name(key: str) -> str:
        head, dot, rest = key.partition(".")
        return moves.get(head, head) + dot + rest

    return {name(k): v for k, v in tensors.items()} if moves else tensors


def describe(family: Family, values: dict[str, float] | list[float]) -> str:
    """A step's statistics as the console shows them: 'D loss 0.6931  G loss ...' or '-ELBO 98.10  ...'."""
    if not isinstance(values, dict):
        values = dict(zip(family.stats, values))
    return "  ".join(f"{family.stats[n][0]} {v:.{family.stats[n][1]}f}" for n, v in values.items())
