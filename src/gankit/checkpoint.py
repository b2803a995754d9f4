"""Checkpoints: tensors in safetensors, everything else as JSON in the same file's header.

One file per checkpoint, written atomically (temporary file, fsync, rename), so a crash leaves
either the previous checkpoints or the new one, never a torn file. Loading never unpickles.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

from gankit.errors import CheckpointError
from gankit.fileio import atomic_write_bytes

FORMAT = "gankit-checkpoint-1"


def write(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any], fmt: str = FORMAT) -> Path:
    """Atomically write tensors plus a JSON-serialisable meta dict to path."""
    path = Path(path)
    header = {"gankit": json.dumps({"format": fmt, **meta})}
    cpu = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    try:
        atomic_write_bytes(path, save(cpu, metadata=header))
    except OSError as exc:
        raise CheckpointError(
            f"could not write {path} ({exc.strerror or exc}); the files already there are intact. "
            "Free disk space or fix the folder's permissions, then resume."
        ) from None
    return path


def read(path: str | Path, formats: tuple[str, ...] = (FORMAT,)) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a file written by write() in one of formats; raise CheckpointError for anything else."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror}.") from None
    try:
        tensors = load(blob)
        header_len = int.from_bytes(blob[:8], "little")
        header = json.loads(blob[8 : 8 + header_len])
        meta = json.loads(header.get("__metadata__", {}).get("gankit", "null"))
    except (SafetensorError, ValueError, UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(
            f"{path} is not a readable safetensors checkpoint (truncated or corrupt); "
            "use an earlier checkpoint or delete this one."
        ) from None
    if not isinstance(meta, dict) or meta.get("format") not in formats:
        raise CheckpointError(
            f"{path} is a safetensors file but not a gankit file of the kind needed here ({', '.join(formats)})."
        )
    return tensors, meta


def split_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors whose names start with 'prefix.', with the prefix removed."""
    head = prefix + "."
    return {k[len(head):]: v for k, v in tensors.items() if k.startswith(head)}


def with_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in tensors.items()}
