"""Load a trained generator (run directory, checkpoint or exported G file) and draw samples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gankit import checkpoint
from gankit.config import NOISES
from gankit.errors import CheckpointError, ConfigError
from gankit.nets import build_generator, sample_noise
from gankit.rundir import RunDir

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

    @torch.no_grad()
    def sample(self, n: int, seed: int = 0, batch: int = 1000, device: str | torch.device = "cpu") -> torch.Tensor:
        """n images (n, C, H, W) in [0, 1], reproducible from seed."""
        self.net.to(device)
        gen = torch.Generator().manual_seed(seed)
        out = []
        for start in range(0, n, batch):
            z = sample_noise(min(batch, n - start), self.z_dim, self.noise, gen).to(device)
            out.append(self.net(z).float().cpu())
        return torch.cat(out).view(n, *self.image_shape)


def _resolve(path: Path) -> Path:
    if path.is_dir():
        return RunDir(path).latest()
    if not path.exists():
        raise CheckpointError(f"{path} does not exist; pass a run directory or a .safetensors file.")
    return path


def load_generator(path: str | Path) -> LoadedGenerator:
    """Accepts a run directory (latest checkpoint), a training checkpoint or an exported G file."""
    source = _resolve(Path(path))
    tensors, meta = checkpoint.read(source, formats=(checkpoint.FORMAT, GENERATOR_FORMAT))
    try:
        if meta["format"] == GENERATOR_FORMAT:
            weights, spec = tensors, meta
        else:
            cfg = meta["config"]
            weights = checkpoint.split_prefix(tensors, "G")
            spec = {"model": cfg["model"], "z_dim": cfg["z_dim"], "noise": cfg["noise"],
                    "image_shape": meta["image_shape"], "step": meta["step"], "epoch": meta["epoch"]}
        shape = tuple(int(d) for d in spec["image_shape"])
        if len(shape) != 3 or min(shape) < 1 or not isinstance(spec["z_dim"], int) or spec["z_dim"] < 1:
            raise ValueError(f"image_shape {spec['image_shape']}, z_dim {spec['z_dim']}")
        if spec["noise"] not in NOISES:
            raise ValueError(f"noise {spec['noise']!r}")
        net = build_generator(spec["model"], spec["z_dim"], int(np.prod(shape)))
        net.load_state_dict(weights)
    except (KeyError, TypeError, ValueError, RuntimeError, ConfigError) as exc:
        raise CheckpointError(
            f"{source} is a gankit file whose header or weights are missing or inconsistent "
            f"({str(exc).splitlines()[0]}); use another checkpoint or export G again."
        ) from None
    return LoadedGenerator(net.eval(), spec["model"], spec["noise"], spec["z_dim"], shape, source, spec.get("step"),
                           spec.get("epoch"), meta.get("config", {}))


def export_generator(path: str | Path, out: str | Path) -> Path:
    """Write only G's weights and sampling spec, a few MB, loadable by load_generator."""
    g = load_generator(path)
    meta = {"model": g.model, "z_dim": g.z_dim, "noise": g.noise,
            "image_shape": list(g.image_shape), "step": g.step, "epoch": g.epoch}
    return checkpoint.write(out, g.net.state_dict(), meta, fmt=GENERATOR_FORMAT)

