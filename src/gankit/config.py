"""Run configuration: one flat dataclass, YAML and flags in, YAML out, validation (presets: presets.py).

Every field can be set from a preset, a YAML file or a command-line flag (``--field-name``);
later sources override earlier ones. The resolved configuration is written to the run directory
so that a run can be reproduced from its ``config.yaml`` alone.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from gankit import strict_yaml
from gankit.errors import ConfigError, shown
from gankit.fileio import atomic_write_bytes
from gankit.presets import PRESETS

UPDATE_ORDERS = ("simultaneous", "sequential", "elbo")  # elbo: the VAE models' step
PRECISIONS = ("fp32", "bf16")
HEALTH_ACTIONS = ("off", "warn", "stop")
IMAGE_SIZES = (32, 64, 128)
MAX_SEED = 2**63 - 3  # torch seeds are 64-bit; the run's streams use seed + 1 and seed + 2
MAX_SAMPLES = 1_000_000  # images drawn or compared by one command (FID's standard is 50,000)
LIMITS = {"z_dim": 65_536, "batch_size": 65_536, "grid_size": 10_000, "d_steps": 1_000, "unrolled_steps": 1_000,
          "monitor_parzen": MAX_SAMPLES, "monitor_fid": MAX_SAMPLES}


@dataclass
class TrainConfig:
    """Everything that defines a training run; defaults are the paper's MNIST values."""

    # data
    dataset: str = "mnist"
    data_dir: str | None = None
    image_size: int | None = None  # square side the images are brought to (32, 64, 128); None: as stored
    # model
    model: str = "paper-mnist"
    z_dim: int = 100
    noise: str = "uniform"
    # Algorithm 1
    batch_size: int = 100
    d_steps: int = 1
    unrolled_steps: int = 0  # Metz et al. 2016: G's loss through D unrolled this many SGD steps (sequential)
    update_order: str = "simultaneous"
    g_objective: str = "non-saturating"
    d_objective: str = "cross-entropy"
    d_loss_scale: float = 0.5
    regularizers: str | None = None  # D's penalties, name:weight[@every], e.g. "r1:0.1,r2:0.1" (regularizers.py)
    augment: str = "none"  # applied to every image D sees (augment.py)
    # optimisation (pylearn2 SGD with classical momentum, one rule for D and G; adam for the demo recipe)
    optimizer: str = "momentum"
    adam_beta1: float = 0.5
    adam_beta2: float = 0.999
    lr: float = 0.1
    lr_decay: float = 1.000004
    lr_min: float = 1e-6
    momentum_start: float = 0.5
    momentum_end: float = 0.7
    momentum_saturate: int = 250
    max_norm: float | None = None  # pylearn2 max_col_norm on every weight matrix (TFD: 1.9365)
    g_init_from: str | None = None  # stage-1 run whose G becomes the top of paper-tfd-stage2's G
    # length
    epochs: int = 5
    max_steps: int | None = None
    # bookkeeping
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    cuda_graph: bool = True  # on CUDA, capture the training iteration as a CUDA graph (training/captured.py)
    checkpoint_every: int = 1
    checkpoint_minutes: float = 10.0  # also checkpoint mid-epoch after this much training time (0 = off)
    keep_checkpoints: int = 3
    sample_every: int = 1
    grid_size: int = 64
    # cheap Parzen estimate after every epoch (this many samples and validation images; 0 = off);
    # a monitor that picks the best epoch, not the reported figure
    monitor_parzen: int = 1000
    # FID on the domain classifier's features after every epoch, this many fixed-noise samples against as
    # many validation images (MNIST, Fashion-MNIST; 0 = off)
    monitor_fid: int = 0
    monitor: str | None = None  # any monitorable metric, name:samples, e.g. "kid:1000" (training/monitor.py)
    best_by: str = "parzen"  # the monitor that picks checkpoints/best.safetensors (its metric says which way is up)
    # end the run once that monitor has not improved for this many epochs (its plateau); null: train every epoch
    patience: int | None = None
    # training-health monitor after every epoch (collapse, D overwhelming G): off, warn, or stop the run
    health: str = "warn"
    preset: str | None = None  # the recipe (presets/NAME.yaml) the run started from; its other fields override it

    def validate(self) -> TrainConfig:
        """Raise ConfigError naming the first invalid field and the values it accepts."""
        for name, allowed in choices().items():
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(
                    f"{name} = {shown(value)} is not valid; choose one of: {', '.join(allowed)}."
                )
        positive_ints = ("z_dim", "batch_size", "d_steps", "epochs", "momentum_saturate",
                         "checkpoint_every", "keep_checkpoints", "sample_every", "grid_size")
        for name in positive_ints:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}.")
        for name, high in LIMITS.items():  # beyond these a typo reaches the allocator or never ends
            if getattr(self, name) is not None and getattr(self, name) > high:
                raise ConfigError(f"{name} must be at most {high:,}, got {getattr(self, name):,}.")
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"seed must lie in 0..{MAX_SEED:,} (its streams use seed + 1 and + 2), got {self.seed}.")
        if self.image_size is not None and self.image_size not in IMAGE_SIZES:
            raise ConfigError(f"image_size {self.image_size} is not supported; choose one of "
                              f"{', '.join(map(str, IMAGE_SIZES))} (or leave it unset for the stored size).")
        if self.max_norm is not None and not (math.isfinite(self.max_norm) and self.max_norm > 0):
            raise ConfigError(f"max_norm must be a positive number or null, got {self.max_norm}.")
        if self.model == "paper-tfd-stage2" and not self.g_init_from:
            raise ConfigError("model paper-tfd-stage2 needs --g-init-from RUN_DIR, the paper-tfd stage-1 run.")
        if not (math.isfinite(self.checkpoint_minutes) and self.checkpoint_minutes >= 0):
            raise ConfigError(f"checkpoint_minutes must be 0 (off) or positive, got {self.checkpoint_minutes}.")
        for name in ("monitor_parzen", "monitor_fid"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be 0 (off) or a positive integer, got {getattr(self, name)}.")
        sizes = self.monitor_sizes()
        add = f"--monitor-{self.best_by} 1000" if self.best_by in ("parzen", "fid") else \
            f"--monitor {self.best_by}:1000"
        if self.best_by != "parzen" and not sizes.get(self.best_by):  # parzen, the default, may be off: no best
            raise ConfigError(f"best_by {shown(self.best_by)} needs that monitor: add {add} (samples per epoch).")
        if self.patience is not None and self.patience < 1:
            raise ConfigError(f"patience must be a positive number of epochs or null, got {self.patience}.")
        if self.patience is not None and not sizes.get(self.best_by):
            raise ConfigError(f"patience waits on the {self.best_by} monitor, which is off: add {add} (samples per "
                              "epoch).")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError(f"max_steps must be a positive integer or null, got {self.max_steps}.")
        for name in ("lr", "lr_min", "d_loss_scale"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a positive finite number, got {value}.")
        if not (math.isfinite(self.lr_decay) and self.lr_decay >= 1.0):
            raise ConfigError(f"lr_decay must be >= 1 (lr is divided by it), got {self.lr_decay}.")
        for name in ("momentum_start", "momentum_end", "adam_beta1", "adam_beta2"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"{name} must lie in [0, 1), got {value}.")
        if self.unrolled_steps < 0:
            raise ConfigError(f"unrolled_steps must be 0 or more, got {self.unrolled_steps}.")
        if self.unrolled_steps and self.update_order != "sequential":
            raise ConfigError("unrolled_steps needs --update-order sequential.")
        self._validate_loss()
        if self.update_order != "sequential" and self.d_steps != 1:
            raise ConfigError(
                f"d_steps > 1 needs update_order 'sequential' (a {self.update_order} update moves both nets "
                "once per batch); set --update-order sequential or --d-steps 1."
            )
        self._validate_vae()
        if self.device not in ("auto", "cpu") and not self.device.startswith("cuda"):
            raise ConfigError(f"device = {shown(self.device)} is not valid; use auto, cpu or cuda[:N].")
        return self

    def monitor_sizes(self) -> dict[str, int]:
        """Metric name -> samples of its monitor (0: off): monitor_parzen, monitor_fid, then the monitor list."""
        sizes = {"parzen": self.monitor_parzen, "fid": self.monitor_fid}
        for entry in (self.monitor or "").split(","):
            if not entry.strip():
                continue
            name, _, n = (part.strip() for part in entry.partition(":"))
            if not n.isdigit() or int(n) > MAX_SAMPLES:
                raise ConfigError(f"monitor {shown(entry.strip())} is not name:samples with 0..{MAX_SAMPLES:,} "
                                  "samples (e.g. kid:1000).")
            sizes[name] = int(n)
        return sizes

    def _validate_loss(self) -> None:
        from gankit.objectives import g_needs_real
        from gankit.regularizers import parse

        regularizers = parse(self.regularizers)
        if self.unrolled_steps and (regularizers or self.augment != "none" or g_needs_real(self.g_objective)):
            raise ConfigError("unrolled_steps unrolls the plain D loss: it cannot be combined with regularizers, an "
                              "augmentation or a relativistic g_objective; drop one of them.")

    def _validate_vae(self) -> None:
        from gankit.families import FAMILIES, family_of

        family = family_of(self.model)
        if self.update_order not in family.update_orders:
            raise ConfigError(f"model {self.model} is a VAE and trains with --update-order elbo; start from the "
                              "vae-mnist preset." if family.name == "vae" else
                              f"update_order elbo trains a VAE, but model {self.model} is a GAN; choose a vae-* "
                              "model or the simultaneous or sequential order.")
        others = {k: v for f in FAMILIES.values() if f is not family for k, v in f.own_fields.items()}
        changed = [k for k, v in others.items() if k not in family.own_fields and getattr(self, k) != v]
        if changed:
            raise ConfigError(f"model {self.model} is a {family.name.upper()}, which has no discriminator: "
                              f"{changed[0]} = {shown(getattr(self, changed[0]))} is a GAN setting; remove it.")
        if family.name == "vae" and self.noise != "gaussian":
            raise ConfigError(f"a VAE's prior is N(0, I): model {self.model} needs --noise gaussian.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# what each field means, for `--help` (a test keeps it complete)
FIELD_HELP = {
    "dataset": "the training images",
    "data_dir": "folder holding the dataset's files (default: the cache, or a download)",
    "image_size": "square side the images are brought to (default: as stored)",
    "model": "G and D",
    "z_dim": "length of G's noise vector z",
    "noise": "the prior z is drawn from",
    "batch_size": "examples per minibatch (the global batch under torchrun)",
    "d_steps": "k, D's steps per G step (Algorithm 1; with --update-order sequential)",
    "unrolled_steps": "G's loss through D unrolled this many SGD steps (Metz et al. 2016; sequential)",
    "update_order": "simultaneous (both nets from one batch, the paper's code), sequential (Algorithm 1) or elbo "
                    "(a VAE)",
    "g_objective": "G's loss: non-saturating -log D(G(z)) (the paper's practice), minimax log(1 - D(G(z))), or G's "
                   "side of the hinge, WGAN, LSGAN or relativistic pairing (RpGAN) game",
    "d_objective": "D's loss (pair wasserstein with --regularizers gp:10, relativistic with its own g_objective)",
    "d_loss_scale": "D's loss multiplied by this (0.5: pylearn2's mean over the real and fake halves)",
    "regularizers": "penalties added to D's loss as name:weight[@every], e.g. r1:0.1,r2:0.1 (zero-centred on "
                    "real and generated images), gp:10 (WGAN-GP), r1:5@16 (lazy: every 16 steps, weight x 16)",
    "augment": "augmentation applied to every image D sees",
    "optimizer": "momentum (pylearn2's SGD, the paper's) or adam",
    "adam_beta1": "Adam's beta1", "adam_beta2": "Adam's beta2",
    "lr": "learning rate at step 0", "lr_decay": "lr is divided by this after every step",
    "lr_min": "the floor lr decays to",
    "momentum_start": "momentum in epoch 1", "momentum_end": "momentum from epoch momentum_saturate on",
    "momentum_saturate": "epoch by which momentum has risen linearly to momentum_end",
    "max_norm": "largest norm of a weight column, as pylearn2's max_col_norm (null: none)",
    "g_init_from": "paper-tfd-stage2: the stage-1 run whose G becomes the top of this G",
    "epochs": "epochs to train in all",
    "max_steps": "stop after this many iterations (null: no limit)",
    "seed": "seeds the weights, noise, dropout and the order of examples",
    "device": "auto (a GPU if there is one), cpu or cuda[:N]",
    "precision": "fp32, or bf16 autocast on a GPU",
    "cuda_graph": "on CUDA, replay each training iteration as one CUDA graph",
    "checkpoint_every": "write the full state every this many epochs",
    "checkpoint_minutes": "also write it mid-epoch after this many minutes of training (0: off)",
    "keep_checkpoints": "step checkpoints kept (the newest; best.safetensors besides)",
    "sample_every": "draw the fixed-noise grid every this many epochs",
    "grid_size": "samples in that grid",
    "monitor_parzen": "samples (and validation images) of the Parzen monitor after each epoch (0: off)",
    "monitor_fid": "samples of the FID monitor after each epoch (0: off; MNIST and Fashion-MNIST)",
    "monitor": "more metrics watched after each epoch, as name:samples (e.g. kid:1000; parzen:N and fid:N override "
               "the two flags above)",
    "best_by": "the monitored metric that picks checkpoints/best.safetensors",
    "patience": "end the run once that monitor has not improved for this many epochs (null: train every epoch)",
    "health": "when the run collapses or D overwhelms G: off, warn, or stop (with a checkpoint)",
    "preset": "the preset the run started from (set by --preset, or preset: in a YAML file)",
}


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


def field_types() -> dict[str, Any]:
    """Map each field to the Python type its values are parsed as (the annotation, without None)."""
    hints = typing.get_type_hints(TrainConfig)
    types: dict[str, Any] = {}
    for f in fields(TrainConfig):
        kinds = [k for k in typing.get_args(hints[f.name]) if k is not type(None)] or [hints[f.name]]
        types[f.name] = kinds[0]
    return types


def _coerce(name: str, value: Any) -> Any:
    """Convert a YAML or flag value to the field's type, rejecting what does not fit."""
    kind = field_types()[name]
    if value is None:
        default = getattr(TrainConfig(), name)
        if default is None:
            return None
        raise ConfigError(f"{name} cannot be null.")
    try:
        if not isinstance(value, (str, int, float)):  # a list or mapping fits no field (and is never stringified)
            raise ValueError
        if kind is bool:  # YAML gives a bool; a flag gives text, and "false" must not become True
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "yes", "on", "1"):
                return True
            if text in ("false", "no", "off", "0"):
                return False
            raise ValueError
        if kind is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if kind is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if not isinstance(value, (str, int, float)):
            raise ValueError
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} = {shown(value)} is not a valid {kind.__name__}."
        ) from None


def apply_overrides(config: TrainConfig, overrides: dict[str, Any], source: str) -> TrainConfig:
    """Return a copy of config with overrides applied; unknown keys raise ConfigError."""
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)} in {source}; valid keys: {', '.join(sorted(known))}."
        )
    values = config.to_dict()
    for name, value in overrides.items():
        values[name] = _coerce(name, value)
    return TrainConfig(**values)


def from_preset(name: str) -> TrainConfig:
    """The preset's configuration (presets/NAME.yaml over the defaults), which records its name."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {shown(name)}; available: {', '.join(PRESETS)} (gankit presets).")
    return apply_overrides(TrainConfig(), {**PRESETS[name], "preset": name}, f"preset {name}")


def load_yaml(path: str | Path, base: TrainConfig | None = None) -> TrainConfig:
    """Read a YAML mapping of field values on top of base (defaults when None), or on top of the preset it names
    (`preset: NAME`); a preset file's `description` is ignored, so a copied preset is a valid config."""
    path = Path(path)
    try:
        data = strict_yaml.load(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not a text file (not UTF-8); pass a YAML file.") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path} ({exc.strerror}).") from None
    except (strict_yaml.DuplicateKey, strict_yaml.TooDeep) as exc:
        raise ConfigError(f"config file {path} is refused: {exc}; fix it and try again.") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML ({exc.__class__.__name__}).") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of field: value.")
    data.pop("description", None)
    if isinstance(data.get("preset"), str) and (base is None or data["preset"] != base.preset):
        if base is not None and base.preset is not None:
            raise ConfigError(f"config file {path} starts from preset {shown(data['preset'])} but --preset "
                              f"{base.preset} was also given; keep one of them.")
        base = from_preset(data["preset"])
    return apply_overrides(base or TrainConfig(), data, str(path))


def save_yaml(config: TrainConfig, path: str | Path) -> None:
    atomic_write_bytes(path, yaml.safe_dump(config.to_dict(), sort_keys=False).encode())
