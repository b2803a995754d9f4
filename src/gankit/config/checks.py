"""The rules a configuration must keep: each field's own check (from its metadata in fields.py), then the rules
that tie fields together. The first broken one is refused in one sentence that says what to do."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from gankit.errors import ConfigError, did_you_mean, shown

TrainConfig = Any  # config/fields.py's, which imports this module (its checks are named here)
MAX_SEED = 2**63 - 3  # torch seeds are 64-bit; the run's streams use seed + 1 and seed + 2
MAX_SAMPLES = 1_000_000  # images drawn or compared by one command (FID's standard is 50,000)

# a field's check (in its metadata): (test of a non-null value, the sentence's tail when it fails)
Check = tuple[Callable[[Any], bool], str]
COUNT: Check = (lambda v: v >= 1, "must be a positive integer")
OFF_OR_COUNT: Check = (lambda v: v >= 0, "must be 0 (off) or a positive integer")
POSITIVE: Check = (lambda v: math.isfinite(v) and v > 0, "must be a positive finite number")
UNIT: Check = (lambda v: 0.0 <= v < 1.0, "must lie in [0, 1)")
NOT_NEGATIVE: Check = (lambda v: math.isfinite(v) and v >= 0, "must be 0 (off) or positive")

UPDATE_ORDERS = ("simultaneous", "sequential", "elbo")  # elbo: the VAE models' step
PRECISIONS = ("fp32", "bf16")
HEALTH_ACTIONS = ("off", "warn", "stop")
IMAGE_SIZES = (32, 64, 128)


def choices() -> dict[str, tuple[str, ...]]:
    """The fields that take one of a few names, and the names: the keys of the registries."""
    from gankit.augment import AUGMENTS
    from gankit.data import DATASETS
    from gankit.nets import MODELS, NOISES
    from gankit.objectives import D_LOSSES, G_LOSSES
    from gankit.optim import OPTIMIZERS

    return {"dataset": tuple(DATASETS), "model": tuple(MODELS), "noise": tuple(NOISES),
            "update_order": UPDATE_ORDERS, "g_objective": tuple(G_LOSSES), "d_objective": tuple(D_LOSSES),
            "precision": PRECISIONS, "optimizer": tuple(OPTIMIZERS), "health": HEALTH_ACTIONS,
            "augment": tuple(AUGMENTS)}


def monitor_sizes(c: TrainConfig) -> dict[str, int]:
    """Metric name -> samples of its monitor (0: off): monitor_parzen, monitor_fid, then the monitor list."""
    sizes = {"parzen": c.monitor_parzen, "fid": c.monitor_fid}
    for entry in (c.monitor or "").split(","):
        if not entry.strip():
            continue
        name, _, n = (part.strip() for part in entry.partition(":"))
        if not n.isdigit() or int(n) > MAX_SAMPLES:
            raise ConfigError(f"monitor {shown(entry.strip())} is not name:samples with 0..{MAX_SAMPLES:,} "
                              "samples (e.g. kid:1000).")
        sizes[name] = int(n)
    return sizes


def validate(c: TrainConfig) -> None:
    for name, allowed in choices().items():
        if getattr(c, name) not in allowed:
            hint = did_you_mean(getattr(c, name), allowed)
            raise ConfigError(f"{name} = {shown(getattr(c, name))} is not valid{hint}; choose one of: "
                              f"{', '.join(allowed)}.")
    for f in fields(c):
        value, check, high = getattr(c, f.name), f.metadata["check"], f.metadata["most"]
        if value is not None and check is not None and not check[0](value):
            raise ConfigError(f"{f.name} {check[1]}, got {value}.")
        if value is not None and high is not None and value > high:  # beyond it a typo reaches the allocator
            raise ConfigError(f"{f.name} must be at most {high:,}, got {value:,}.")
    if c.image_size is not None and c.image_size not in IMAGE_SIZES:
        raise ConfigError(f"image_size {c.image_size} is not supported; choose one of "
                          f"{', '.join(map(str, IMAGE_SIZES))} (or leave it unset for the stored size).")
    _model_rules(c)
    _monitor_rules(c)
    _objective_rules(c)
    _family_rules(c)
    if c.device not in ("auto", "cpu") and not c.device.startswith("cuda"):
        raise ConfigError(f"device = {shown(c.device)} is not valid; use auto, cpu or cuda[:N].")


def _model_rules(c: TrainConfig) -> None:
    from gankit.nets import takes_width

    if c.model == "paper-tfd-stage2" and not c.g_init_from:
        raise ConfigError("model paper-tfd-stage2 needs --g-init-from RUN_DIR, the paper-tfd stage-1 run.")
    if c.width is not None and not takes_width(c.model):
        raise ConfigError(f"model {c.model} has fixed layer sizes and takes no width; drop --width or choose a model "
                          "that takes one (dcgan, dcgan-sn, cdcgan).")


def _monitor_rules(c: TrainConfig) -> None:
    sizes = monitor_sizes(c)
    add = f"--monitor-{c.best_by} 1000" if c.best_by in ("parzen", "fid") else f"--monitor {c.best_by}:1000"
    if c.best_by != "parzen" and not sizes.get(c.best_by):  # parzen, the default, may be off: then no best
        raise ConfigError(f"best_by {shown(c.best_by)} needs that monitor: add {add} (samples per epoch).")
    if c.patience is not None and not sizes.get(c.best_by):
        raise ConfigError(f"patience waits on the {c.best_by} monitor, which is off: add {add} (samples per epoch).")


def _objective_rules(c: TrainConfig) -> None:
    from gankit.objectives import g_needs_real
    from gankit.regularizers import parse

    if c.unrolled_steps < 0:
        raise ConfigError(f"unrolled_steps must be 0 or more, got {c.unrolled_steps}.")
    if c.unrolled_steps and c.update_order != "sequential":
        raise ConfigError("unrolled_steps needs --update-order sequential.")
    regularizers = parse(c.regularizers)
    if c.unrolled_steps and (regularizers or c.augment != "none" or g_needs_real(c.g_objective)):
        raise ConfigError("unrolled_steps unrolls the plain D loss: it cannot be combined with regularizers, an "
                          "augmentation or a relativistic g_objective; drop one of them.")
    if c.update_order != "sequential" and c.d_steps != 1:
        raise ConfigError(f"d_steps > 1 needs update_order 'sequential' (a {c.update_order} update moves both nets "
                          "once per batch); set --update-order sequential or --d-steps 1.")


def _family_rules(c: TrainConfig) -> None:
    from gankit.families import FAMILIES, family_of

    family = family_of(c.model)
    if c.update_order not in family.update_orders:
        raise ConfigError(f"model {c.model} is a VAE and trains with --update-order elbo; start from the vae-mnist "
                          "preset." if family.name == "vae" else
                          f"update_order elbo trains a VAE, but model {c.model} is a GAN; choose a vae-* model or the "
                          "simultaneous or sequential order.")
    others = {k: v for f in FAMILIES.values() if f is not family for k, v in f.own_fields.items()}
    changed = [k for k, v in others.items() if k not in family.own_fields and getattr(c, k) != v]
    if changed:
        raise ConfigError(f"model {c.model} is a {family.name.upper()}, which has no discriminator: {changed[0]} = "
                          f"{shown(getattr(c, changed[0]))} is a GAN setting; remove it.")
    if family.name == "vae" and c.noise != "gaussian":
        raise ConfigError(f"a VAE's prior is N(0, I): model {c.model} needs --noise gaussian.")
