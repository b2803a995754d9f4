"""The trained G as an artefact: load it from a run, a checkpoint or an exported file; sample; export.

Also the other ways a saved G is taken back into a network: G and D together (Figure 1), and the
stage-1 surgery that puts a paper-tfd G on top of the deeper paper-tfd-stage2 G.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gankit import checkpoint
from gankit.config import IMAGE_SIZES, LIMITS
from gankit.errors import CheckpointError, ConfigError
from gankit.families import family_of, renamed
from gankit.nets import NOISES, ModelSpec, build_generator, build_models, generate, sample_noise
from gankit.outputs import check_output
from gankit.rundir import RunDir
from gankit.runtime import place

GENERATOR_FORMAT = "gankit-generator-1"


@dataclass
class LoadedGenerator:
    """A generator in eval mode with what is needed to sample from it."""

    net: nn.Module
    model: str
    noise: str
    z_dim: int
    image_shape: tuple[int, int, int]
    source: Path
    step: int | None
    epoch: int | None
    config: dict  # the training configuration; empty for an exported G file
    n_classes: int = 0  # a conditional G draws the class it is asked for; 0: unconditional
    width: int | None = None  # the base width it was built at (models that take one); None: the model's own

    def to(self, device: str | torch.device) -> LoadedGenerator:
        place(self.net, device)
        return self

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def classes(self, n: int, wanted: int | None = None) -> torch.Tensor | None:
        """The classes of n samples: all `wanted`, or 0, 1, ..., k-1, 0, ... for a conditional G; None otherwise."""
        if wanted is not None:
            if not self.n_classes:
                raise ConfigError(f"{self.source} is an unconditional generator; it cannot be asked for a class "
                                  "(drop --class).")
            if not 0 <= wanted < self.n_classes:
                raise ConfigError(f"class {wanted} does not exist: {self.source} draws classes 0 to "
                                  f"{self.n_classes - 1}.")
            return torch.full((n,), wanted, dtype=torch.long)
        return torch.arange(n) % self.n_classes if self.n_classes else None

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, batch: int = 1000, wanted: int | None = None) -> torch.Tensor:
        """n images (n, C, H, W) in [0, 1] on the CPU, reproducible from seed (noise is drawn on the CPU);
        a conditional G draws class `wanted`, or the classes in turn."""
        gen = torch.Generator().manual_seed(seed)
        y = self.classes(n, wanted)
        out = []
        for start in range(0, n, batch):
            z = sample_noise(min(batch, n - start), self.z_dim, self.noise, gen)
            out.append(self.decode(z, None if y is None else y[start : start + len(z)]))
        return torch.cat(out)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Images (N, C, H, W) on the CPU for given noise vectors (N, z_dim) (and classes, if conditional)."""
        if self.n_classes and y is None:
            y = self.classes(len(z))
        y = None if y is None else y.to(self.device)
        return generate(self.net, z.to(self.device), y).float().cpu().view(len(z), *self.image_shape)

    def image_size(self) -> int | None:
        """The --image-size G was trained at (None: the data's own size)."""
        if "image_size" in self.config:
            return self.config["image_size"]
        side = self.image_shape[1]
        return side if side == self.image_shape[2] and side in IMAGE_SIZES else None

    def dataset(self, override: str | None = None) -> str:
        """The dataset to compare with: the one given, else the one G was trained on."""
        dataset = override or self.config.get("dataset")
        if dataset is None:
            raise ConfigError(f"{self.source} does not record its dataset; pass --dataset.")
        return dataset

    def export(self, out: str | Path) -> Path:
        """Write only G's weights and sampling spec, a few MB, loadable by load_generator."""
        target = check_output(out, (".safetensors",), "an exported generator", writes_format=GENERATOR_FORMAT)
        meta = {"model": self.model, "z_dim": self.z_dim, "noise": self.noise, "image_shape": list(self.image_shape),
                "n_classes": self.n_classes, "step": self.step, "epoch": self.epoch,
                **({"width": self.width} if self.width else {})}
        return checkpoint.write(target, self.net.state_dict(), meta, fmt=GENERATOR_FORMAT)


def resolve(path: str | Path) -> Path:
    """A checkpoint file: the path itself, or the latest checkpoint of a run directory."""
    path = Path(path)
    if path.is_dir():
        return RunDir(path).latest()
    if not path.exists():
        raise CheckpointError(f"{path} does not exist; pass a run directory or a .safetensors file.")
    return path


def _inconsistent(source: Path, exc: Exception) -> CheckpointError:
    return CheckpointError(
        f"{source} is a gankit file whose header or weights are missing or inconsistent "
        f"({str(exc).splitlines()[0]}); use another checkpoint or export G again."
    )


def load_generator(path: str | Path) -> LoadedGenerator:
    """Accepts a run directory (latest checkpoint), a training checkpoint or an exported G file."""
    source = resolve(path)
    tensors, meta = checkpoint.read(source, formats=(checkpoint.FORMAT, GENERATOR_FORMAT))
    try:
        if meta["format"] == GENERATOR_FORMAT:
            weights, spec = tensors, meta
        else:
            cfg = meta["config"]
            family = family_of(cfg["model"])
            weights = checkpoint.split_prefix(renamed(tensors, family), family.names[0])
            spec = {"model": cfg["model"], "z_dim": cfg["z_dim"], "noise": cfg["noise"],
                    "image_shape": meta["image_shape"], "n_classes": meta.get("n_classes", 0), "step": meta["step"],
                    "epoch": meta["epoch"], "width": cfg.get("width")}
        shape = tuple(int(d) for d in spec["image_shape"])
        if len(shape) != 3 or min(shape) < 1 or max(shape) > 4096 or not isinstance(spec["z_dim"], int) \
                or not 1 <= spec["z_dim"] <= LIMITS["z_dim"]:
            raise ValueError(f"image_shape {spec['image_shape']}, z_dim {spec['z_dim']}")
        if spec["noise"] not in NOISES:
            raise ValueError(f"noise {spec['noise']!r}")
        n_classes = int(spec.get("n_classes", 0))
        width = spec.get("width")
        if width is not None and not (isinstance(width, int) and 1 <= width <= LIMITS["width"]):
            raise ValueError(f"width {width!r}")
        net = build_generator(spec["model"], ModelSpec(spec["z_dim"], shape, n_classes, width))
        checkpoint.check_layout(weights, checkpoint.layout(net.state_dict()), source)
        net.load_state_dict(weights)
    except (KeyError, TypeError, ValueError, RuntimeError, ConfigError) as exc:
        raise _inconsistent(source, exc) from None
    bad = next((name for name, t in net.state_dict().items() if t.is_floating_point() and not t.isfinite().all()), None)
    if bad is not None:
        raise CheckpointError(f"{source} holds non-finite weights (NaN or infinity in {bad!r}), so every image it drew "
                              "would be NaN; use an earlier checkpoint.")
    return LoadedGenerator(net.eval(), spec["model"], spec["noise"], spec["z_dim"], shape, source, spec.get("step"),
                           spec.get("epoch"), meta.get("config", {}), n_classes, width)


def export_generator(path: str | Path, out: str | Path) -> Path:
    return load_generator(path).export(out)


def initial_pair(meta: dict[str, Any]) -> tuple[nn.Module, nn.Module]:
    """G and D as a run's seed built them before training (from a checkpoint's meta), in eval mode."""
    cfg = meta["config"]
    spec = ModelSpec(cfg["z_dim"], tuple(int(d) for d in meta["image_shape"]), int(meta.get("n_classes", 0)),
                     cfg.get("width"))
    g, d = build_models(cfg["model"], spec, None, cfg["seed"])
    return g.eval(), d.eval()


def load_pair(path: str | Path) -> tuple[nn.Module, nn.Module, dict[str, Any]]:
    """G and D of a training checkpoint, in eval mode, with the checkpoint's meta."""
    source = resolve(path)
    tensors, meta = checkpoint.read(source)
    try:
        g, d = initial_pair(meta)
        family = family_of(meta["config"]["model"])
        tensors = renamed(tensors, family)
        g.load_state_dict(checkpoint.split_prefix(tensors, family.names[0]))
        d.load_state_dict(checkpoint.split_prefix(tensors, family.names[1]))
    except (KeyError, TypeError, ValueError, RuntimeError, ConfigError) as exc:
        raise _inconsistent(source, exc) from None
    return g, d, meta


def load_stage1_into(g: nn.Module, source: str | Path) -> None:
    """Copy a paper-tfd (stage-1) G into the top three layers of a paper-tfd-stage2 G."""
    tensors, meta = checkpoint.read(resolve(source))
    if meta.get("config", {}).get("model") != "paper-tfd":
        raise ConfigError(f"--g-init-from {source} is not a paper-tfd (stage-1) run.")
    stage1 = checkpoint.split_prefix(tensors, "G")
    with torch.no_grad():
        for i in range(3):
            for part in ("weight", "bias"):
                g.layers[i + 2].get_parameter(part).copy_(stage1[f"layers.{i}.{part}"])
