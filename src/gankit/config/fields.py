"""The run configuration: every field with its metadata (its section, help text, whether a resume may change it,
whether it changes what is trained, and its check). The --help text, the resume rule, the report's preset
matching, the CLI flags and the limits are generated from here; nothing else lists fields."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any

from gankit.config.checks import COUNT, MAX_SAMPLES, MAX_SEED, NOT_NEGATIVE, OFF_OR_COUNT, POSITIVE, UNIT, Check
from gankit.config.checks import monitor_sizes as _monitor_sizes
from gankit.config.checks import validate as _validate

SECTIONS = ("data", "model", "objective", "optim", "run", "monitor", "outputs")
def setting(default: Any, section: str, help: str, *, resumable: bool = False, trains: bool = True,  # noqa: A002
            check: Check | None = None, most: int | None = None) -> Any:
    """A field: its default and metadata. resumable: a resume may change it; trains: it changes what is trained
    (a preset with other values of the others is still that preset); most: the largest value accepted."""
    return field(default=default, metadata={"section": section, "help": help, "resumable": resumable,
                                            "trains": trains, "check": check, "most": most})


@dataclass
class TrainConfig:
    """Everything that defines a training run; defaults are the paper's MNIST values. Flat, as YAML files and
    flags name the fields; section(name) gives one section's fields as a typed view."""

    # data
    dataset: str = setting("mnist", "data", "the training images")
    data_dir: str | None = setting(None, "data", "folder holding the dataset's files (default: the cache, or a "
                                   "download)", resumable=True, trains=False)
    image_size: int | None = setting(None, "data", "square side the images are brought to (default: as stored)")
    # model
    model: str = setting("paper-mnist", "model", "the architecture of G and D")
    z_dim: int = setting(100, "model", "length of G's noise vector z", check=COUNT, most=65_536)
    noise: str = setting("uniform", "model", "the prior z is drawn from")
    width: int | None = setting(None, "model", "base width of a model that takes one (DCGAN's ngf = ndf; default: "
                                "the model's own, 64)", check=COUNT, most=4096)
    g_init_from: str | None = setting(None, "model", "paper-tfd-stage2: the stage-1 run whose G becomes the top of "
                                      "this G")
    # objective: what D and G minimise, and when each steps
    batch_size: int = setting(100, "objective", "examples per minibatch (the global batch under torchrun)",
                              check=COUNT, most=65_536)
    d_steps: int = setting(1, "objective", "k, D's steps per G step (Algorithm 1; with --update-order sequential)",
                           check=COUNT, most=1_000)
    unrolled_steps: int = setting(0, "objective", "G's loss through D unrolled this many SGD steps (Metz et al. "
                                  "2016; sequential)", most=1_000)
    update_order: str = setting("simultaneous", "objective", "simultaneous (both nets from one batch, the paper's "
                                "code), sequential (Algorithm 1) or elbo (a VAE)")
    g_objective: str = setting("non-saturating", "objective", "G's loss: non-saturating -log D(G(z)) (the paper's "
                               "practice), minimax log(1 - D(G(z))), or G's side of the hinge, WGAN, LSGAN or "
                               "relativistic pairing (RpGAN) game")
    d_objective: str = setting("cross-entropy", "objective", "D's loss (pair wasserstein with --regularizers gp:10, "
                               "relativistic with its own g_objective)")
    d_loss_scale: float = setting(0.5, "objective", "D's loss multiplied by this (0.5: pylearn2's mean over the real "
                                  "and fake halves)", check=POSITIVE)
    regularizers: str | None = setting(None, "objective", "penalties added to D's loss as name:weight[@every], e.g. "
                                       "r1:0.1,r2:0.1 (zero-centred on real and generated images), gp:10 (WGAN-GP), "
                                       "r1:5@16 (lazy: every 16 steps, weight x 16)")
    augment: str = setting("none", "objective", "augmentation applied to every image D sees")
    # optimisation (pylearn2 SGD with classical momentum, one rule for D and G; adam for the modern recipes)
    optimizer: str = setting("momentum", "optim", "momentum (pylearn2's SGD, the paper's) or adam")
    adam_beta1: float = setting(0.5, "optim", "Adam's beta1", check=UNIT)
    adam_beta2: float = setting(0.999, "optim", "Adam's beta2", check=UNIT)
    lr: float = setting(0.1, "optim", "learning rate at step 0", check=POSITIVE)
    lr_g: float | None = setting(None, "optim", "G's learning rate at step 0, if not --lr (two time-scale updates, "
                                 "Heusel et al. 2017; it follows --lr's schedule)", check=POSITIVE)
    lr_d: float | None = setting(None, "optim", "D's learning rate at step 0, if not --lr", check=POSITIVE)
    lr_decay: float = setting(1.000004, "optim", "lr is divided by this after every step",
                              check=(lambda v: math.isfinite(v) and v >= 1.0, "must be >= 1 (lr is divided by it)"))
    lr_min: float = setting(1e-6, "optim", "the floor lr decays to", check=POSITIVE)
    momentum_start: float = setting(0.5, "optim", "momentum in epoch 1", check=UNIT)
    momentum_end: float = setting(0.7, "optim", "momentum from epoch momentum_saturate on", check=UNIT)
    momentum_saturate: int = setting(250, "optim", "epoch by which momentum has risen linearly to momentum_end",
                                     check=COUNT)
    max_norm: float | None = setting(None, "optim", "largest norm of a weight column, as pylearn2's max_col_norm "
                                     "(null: none)", check=(POSITIVE[0], "must be a positive number or null"))
    # the run: its length, seed, device and checkpoints
    epochs: int = setting(5, "run", "epochs to train in all", resumable=True, trains=False, check=COUNT)
    max_steps: int | None = setting(None, "run", "stop after this many iterations (null: no limit)", resumable=True,
                                    trains=False, check=(COUNT[0], "must be a positive integer or null"))
    seed: int = setting(0, "run", "seeds the weights, noise, dropout and the order of examples", trains=False,
                        check=(lambda v: 0 <= v <= MAX_SEED,
                               f"must lie in 0..{MAX_SEED:,} (its streams use seed + 1 and + 2)"))
    device: str = setting("auto", "run", "auto (a GPU if there is one), cpu or cuda[:N]", resumable=True,
                          trains=False)
    precision: str = setting("fp32", "run", "fp32, or bf16 autocast on a GPU")
    cuda_graph: bool = setting(True, "run", "on CUDA, replay each training iteration as one CUDA graph",
                               resumable=True)
    checkpoint_every: int = setting(1, "run", "write the full state every this many epochs", resumable=True,
                                    trains=False, check=COUNT)
    checkpoint_minutes: float = setting(10.0, "run", "also write it mid-epoch after this many minutes of training "
                                        "(0: off)", resumable=True, trains=False, check=NOT_NEGATIVE)
    keep_checkpoints: int = setting(3, "run", "step checkpoints kept (the newest; best.safetensors besides)",
                                    resumable=True, trains=False, check=COUNT)
    preset: str | None = setting(None, "run", "the preset the run started from (set by --preset, or preset: in a "
                                 "YAML file)", trains=False)
    # what is watched after each epoch
    sample_every: int = setting(1, "monitor", "draw the fixed-noise grid every this many epochs", resumable=True,
                                trains=False, check=COUNT)
    grid_size: int = setting(64, "monitor", "samples in that grid", trains=False, check=COUNT, most=10_000)
    monitor_parzen: int = setting(1000, "monitor", "samples (and validation images) of the Parzen monitor after each "
                                  "epoch (0: off)", resumable=True, trains=False, check=OFF_OR_COUNT, most=MAX_SAMPLES)
    monitor_fid: int = setting(0, "monitor", "samples of the FID monitor after each epoch (0: off; MNIST and "
                               "Fashion-MNIST)", resumable=True, trains=False, check=OFF_OR_COUNT, most=MAX_SAMPLES)
    monitor: str | None = setting(None, "monitor", "more metrics watched after each epoch, as name:samples (e.g. "
                                  "kid:1000; parzen:N and fid:N override the two flags above)", resumable=True,
                                  trains=False)
    best_by: str = setting("parzen", "monitor", "the monitored metric that picks checkpoints/best.safetensors")
    patience: int | None = setting(None, "monitor", "end the run once that monitor has not improved for this many "
                                   "epochs (null: train every epoch)", resumable=True,
                                   check=(COUNT[0], "must be a positive number of epochs or null"))
    health: str = setting("warn", "monitor", "when the run collapses or D overwhelms G: off, warn, or stop (with a "
                          "checkpoint)", resumable=True, trains=False)
    # what the run writes besides checkpoints and metrics.jsonl
    report: bool = setting(False, "outputs", "rewrite RUN/report.html after every epoch", resumable=True,
                           trains=False)
    tensorboard: bool = setting(False, "outputs", "write TensorBoard events under RUN/tensorboard (needs: pip "
                                "install 'gankit[tensorboard]')", resumable=True, trains=False)

    def validate(self) -> TrainConfig:
        """Raise ConfigError naming the first invalid field and the values it accepts (config/checks.py)."""
        _validate(self)
        return self

    def monitor_sizes(self) -> dict[str, int]:
        """Metric name -> samples of its monitor (0: off)."""
        return _monitor_sizes(self)

    def section(self, name: str) -> Any:
        """The fields of one section (SECTIONS) as a typed, read-only view: what one part of the trainer reads."""
        return SECTION_TYPES[name](**{f.name: getattr(self, f.name) for f in fields(SECTION_TYPES[name])})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _meta(key: str) -> dict[str, Any]:
    return {f.name: f.metadata[key] for f in fields(TrainConfig)}


FIELD_HELP: dict[str, str] = _meta("help")
RESUMABLE_FIELDS = tuple(name for name, yes in _meta("resumable").items() if yes)
RUN_LENGTH = frozenset(name for name, yes in _meta("trains").items() if not yes)  # they do not change what trains
LIMITS = {name: most for name, most in _meta("most").items() if most is not None}
SECTION_TYPES = {
    section: dataclasses.make_dataclass(
        f"{section.title()}Section",
        [(f.name, f.type, field(default=f.default)) for f in fields(TrainConfig) if f.metadata["section"] == section],
        frozen=True)
    for section in SECTIONS
}
