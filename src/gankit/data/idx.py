"""The IDX file format (MNIST, Fashion-MNIST): read and write, gzipped or not, fully validated."""

from __future__ import annotations

import gzip
import hashlib
import struct
import zlib
from pathlib import Path

import numpy as np

from gankit.errors import DataError

# IDX type codes -> numpy dtypes (big-endian on disk).
_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {np.dtype(v).newbyteorder("="): k for k, v in _DTYPES.items()}


def read_bytes(path: str | Path) -> bytes:
    """Return the file's content, decompressed when it is gzipped (detected by magic bytes)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror}.") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            raise DataError(
                f"{path} is a damaged gzip file; delete it and let gankit fetch it again."
            ) from None
    return raw


def md5(content: bytes) -> str:
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def parse_idx(content: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse IDX bytes into an array, checking magic number, type code and exact length."""
    if len(content) < 4:
        raise DataError(f"{name} is too short to be an IDX file ({len(content)} bytes); replace it.")
    zero, code, ndim = struct.unpack(">HBB", content[:4])
    if zero != 0 or code not in _DTYPES or ndim == 0:
        raise DataError(
            f"{name} has wrong magic number 0x{content[:4].hex()} (not an IDX file); replace it."
        )
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DataError(f"{name} is truncated inside its header; replace it.")
    shape = struct.unpack(f">{ndim}I", content[4:header])
    dtype = _DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(content) != expected:
        state = "truncated" if len(content) < expected else "longer than its header says"
        raise DataError(
            f"{name} is {state}: {len(content)} bytes for shape {shape}, expected {expected}; "
            "replace it."
        )
    return np.frombuffer(content, dtype=dtype, offset=header).reshape(shape).astype(
        dtype.newbyteorder("="), copy=False
    )


def read_idx(
    path: str | Path,
    expect_shape: tuple[int | None, ...] | None = None,
    expect_md5: str | None = None,
) -> np.ndarray:
    """Read an IDX file; optionally check its shape (None = any size) and content checksum."""
    path = Path(path)
    content = read_bytes(path)
    if expect_md5 is not None and md5(content) != expect_md5:
        raise DataError(
            f"{path} fails its checksum (md5 {md5(content)}, expected {expect_md5}); "
            "delete it and let gankit fetch it again."
        )
    array = parse_idx(content, str(path))
    if expect_shape is not None:
        ok = len(array.shape) == len(expect_shape) and all(
            want is None or want == got for want, got in zip(expect_shape, array.shape)
        )
        if not ok:
            shown = tuple("any" if s is None else s for s in expect_shape)
            raise DataError(
                f"{path} has dimensions {array.shape}, expected {shown}; "
                "it is not the file gankit needs here."
            )
    return array


def write_idx(path: str | Path, array: np.ndarray, compress: bool | None = None) -> None:
    """Write an array as IDX (gzipped when compress, or when the name ends in .gz)."""
    path = Path(path)
    array = np.ascontiguousarray(array)
    code = _CODES.get(array.dtype)
    if code is None:
        raise DataError(f"IDX cannot store dtype {array.dtype}.")
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    content = header + array.astype(_DTYPES[code], copy=False).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    path.write_bytes(gzip.compress(content, mtime=0) if compress else content)
