"""Where a command may write: the one check every file a user names with --out passes first.

A mistyped --out must never destroy a run: a target that is a run's own managed file (config.yaml,
metrics.jsonl, anything under checkpoints/ or samples/) is refused, the suffix must say what is written,
and an existing gankit checkpoint is never replaced by a file of another kind. The writes themselves are
atomic (fileio), so a refused or failed write leaves every file as it was."""

from __future__ import annotations

import os
from pathlib import Path

from gankit import checkpoint
from gankit.errors import ConfigError
from gankit.rundir import RunDir


def expand(path: str | Path) -> Path:
    """A user's path with ~ and $VARIABLES expanded."""
    return Path(os.path.expandvars(os.fspath(path))).expanduser()


def check_output(path: str | Path, suffixes: tuple[str, ...], what: str, writes_format: str | None = None) -> Path:
    """The expanded target if `what` (e.g. "the report") may be written there; one sentence otherwise.

    suffixes: the endings allowed (".html"); writes_format: the gankit format of the file to be written, if it
    is a gankit file (an existing gankit file of another format is refused)."""
    target = expand(path)
    if target.is_dir():
        raise ConfigError(f"{target} is a folder; give --out a file name ending in {suffixes[0]}.")
    if target.suffix.lower() not in suffixes:
        raise ConfigError(f"--out for {what} must end in {' or '.join(suffixes)}, got {target.name!r}.")
    managed = RunDir.managing(target)
    if managed is not None:
        run, kind = managed
        raise ConfigError(f"{target} is {kind} of the run {run}; writing {what} there would destroy it, so choose "
                          "another --out.")
    if target.exists():
        existing = checkpoint.header_format(target)
        if existing is not None and existing != writes_format:
            raise ConfigError(f"{target} is a gankit file of another kind ({existing}); writing {what} over it would "
                              "destroy it, so choose another --out.")
    return target
