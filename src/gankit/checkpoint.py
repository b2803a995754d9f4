"""Checkpoints: tensors in safetensors, everything else as JSON in the same file's header.

One file per checkpoint, written atomically (temporary file, fsync, rename), so a crash leaves
either the previous checkpoints or the new one, never a torn file. Loading never unpickles.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

from gankit.errors import CheckpointError, shown
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
        meta = _gankit_meta(blob[8 : 8 + int.from_bytes(blob[:8], "little")])
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


Layout = dict[str, tuple[tuple[int, ...], torch.dtype]]


def layout(tensors: dict[str, torch.Tensor]) -> Layout:
    """Each tensor's shape and dtype by name: what a file must hold to be read back into these tensors."""
    return {k: (tuple(v.shape), v.dtype) for k, v in tensors.items()}


def check_layout(tensors: dict[str, torch.Tensor], expected: Layout, source: str | Path) -> None:
    """Refuse a file whose tensors are not exactly the expected names, shapes and dtypes (a cast would break
    exact resume without a word, and an int8 weight would be read as zeros); names the first difference."""
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    problem = None
    if missing:
        problem = f"lacks the tensor {missing[0]!r}" + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
    elif extra:
        problem = f"holds a tensor gankit never writes there, {extra[0]!r}"
    else:
        for name in sorted(expected):
            shape, dtype = expected[name]
            got = tensors[name]
            if tuple(got.shape) != shape:
                problem = f"holds {name!r} of shape {tuple(got.shape)}, not {shape}"
            elif got.dtype != dtype:
                problem = f"holds {name!r} as {str(got.dtype).removeprefix('torch.')}, not " \
                          f"{str(dtype).removeprefix('torch.')}"
            if problem:
                break
    if problem:
        raise CheckpointError(f"{source} {problem}, so it was not written by this model or was altered; use another "
                              "checkpoint.")


def check_meta(meta: dict[str, Any], kinds: dict[str, tuple[type, ...]], source: str | Path) -> None:
    """Refuse metadata whose values are not of the kinds the reader needs (ints never bools; floats finite)."""
    for key, allowed in kinds.items():
        value = meta.get(key)
        ok = isinstance(value, allowed) and not isinstance(value, bool)
        if ok and isinstance(value, float):
            ok = math.isfinite(value)
        elif ok and isinstance(value, int):
            ok = value >= 0
        if not ok:
            raise CheckpointError(f"{source} records {key} = {shown(value, 40)}, which is not a valid "
                                  f"{allowed[0].__name__}; the file was altered: use another checkpoint.")


def _gankit_meta(header: bytes) -> Any:
    """The gankit metadata in a safetensors header (None if it has none); ValueError if it is not JSON."""
    return json.loads(json.loads(header).get("__metadata__", {}).get("gankit", "null"))


def header_format(path: str | Path) -> str | None:
    """The gankit format a file declares, read from its header alone; None for any other file."""
    try:
        with Path(path).open("rb") as f:
            size = int.from_bytes(f.read(8), "little")
            if not 0 < size <= 100_000_000:
                return None
            return _gankit_meta(f.read(size)).get("format")
    except (OSError, ValueError, UnicodeDecodeError, AttributeError, TypeError):
        return None


def split_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors whose names start with 'prefix.', with the prefix removed."""
    head = prefix + "."
    return {k[len(head):]: v for k, v in tensors.items() if k.startswith(head)}


def with_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in tensors.items()}
