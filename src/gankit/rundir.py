"""The on-disk layout of a run directory; the one module that knows where a run keeps what.

    RUN/config.yaml            the resolved configuration (a run is reproducible from it alone)
    RUN/metrics.jsonl          one JSON row per epoch ("train") and per evaluation ("parzen", "classes")
    RUN/checkpoints/step-NNNNNNNNN.safetensors   full training state, the newest keep_checkpoints kept
    RUN/checkpoints/best.safetensors             the best epoch by the best_by monitor (Parzen or FID)
    RUN/samples/epoch-NNNN.png                   the fixed-noise grid after each epoch
    RUN/figures/*.png                            figures drawn from the run
    RUN/.lock                  held (flock) by the process writing the run
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from gankit.errors import CheckpointError, ConfigError
from gankit.fileio import atomic_write_bytes

_STEP_NAME = re.compile(r"^step-(\d{9})\.safetensors$")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def valid_row(row: Any) -> bool:
    """A metrics.jsonl row as gankit writes it: a mapping with a kind; integer epoch and step; and in a training
    row, numbers (or null) for every statistic (what the report and the console compute with)."""
    if not isinstance(row, dict) or not isinstance(row.get("kind"), str):
        return False
    if any(k in row and not (isinstance(row[k], int) and not isinstance(row[k], bool)) for k in ("epoch", "step")):
        return False
    if row["kind"] == "train":
        return all(v is None or _number(v) or k == "kind" or (k == "health" and isinstance(v, dict))
                   or (k.endswith("_protocol") and isinstance(v, str)) for k, v in row.items())
    return True


# the names of a run directory's files; nothing outside this module spells them (tests/test_layout.py)
CONFIG, METRICS, CHECKPOINTS, BEST, SAMPLES, LOCK = "config.yaml", "metrics.jsonl", "checkpoints", "best.safetensors", \
    "samples", ".lock"
REPORT, TENSORBOARD = "report.html", "tensorboard"


class RunDir:
    """Paths, checkpoints and metrics rows of one run directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.config = self.path / CONFIG
        self.metrics = self.path / METRICS
        self.checkpoint_dir = self.path / CHECKPOINTS
        self.best = self.checkpoint_dir / BEST  # the best epoch by the best_by monitor
        self.samples = self.path / SAMPLES
        self.lock = self.path / LOCK
        self.report = self.path / REPORT
        self.tensorboard = self.path / TENSORBOARD

    def is_run(self) -> bool:
        """A gankit run directory: its config.yaml, with metrics rows or checkpoints."""
        return self.config.is_file() and (self.metrics.exists() or self.checkpoint_dir.is_dir())

    def __str__(self) -> str:
        return str(self.path)

    @classmethod
    def of(cls, source: str | Path) -> RunDir | None:
        """The run a source belongs to, if any: a run directory, or a checkpoint inside one."""
        source = Path(source)
        if source.is_dir():
            return cls(source)
        if source.parent.name == "checkpoints" and (source.parent.parent / "config.yaml").exists():
            return cls(source.parent.parent)
        return None

    @classmethod
    def managing(cls, target: str | Path) -> tuple[Path, str] | None:
        """(run, what) when target is one of a run's own files (config.yaml, metrics.jsonl, the lock, anything
        under checkpoints/ or samples/), which no command may write over; None otherwise."""
        target = Path(target).resolve()
        for parent in target.parents:
            run = cls(parent)
            if not run.config.is_file():
                continue
            if target in (run.config, run.metrics, run.lock):
                return parent, f"the {target.name}"
            if run.checkpoint_dir in target.parents or run.samples in target.parents:
                return parent, f"a file under {target.relative_to(parent).parts[0]}/"
        return None

    # ----- checkpoints -------------------------------------------------------------------------
    def checkpoint_path(self, step: int) -> Path:
        return self.checkpoint_dir / f"step-{step:09d}.safetensors"

    def checkpoints(self) -> list[Path]:
        """Step checkpoints, oldest first."""
        if not self.checkpoint_dir.is_dir():
            return []
        return sorted(p for p in self.checkpoint_dir.iterdir() if _STEP_NAME.match(p.name))

    def latest(self) -> Path:
        found = self.checkpoints()
        if not found:
            raise CheckpointError(f"{self.path} has no checkpoints; train first (gankit train --out {self.path}).")
        return found[-1]

    def best_or_latest(self) -> Path:
        return self.best if self.best.exists() else self.latest()

    def prune(self, keep: int) -> None:
        """Delete all but the newest keep step checkpoints."""
        for old in self.checkpoints()[:-keep]:
            old.unlink(missing_ok=True)

    # ----- images ------------------------------------------------------------------------------
    def sample_grid(self, epoch: int) -> Path:
        return self.samples / f"epoch-{epoch:04d}.png"

    def figure(self, name: str) -> Path:
        return self.path / "figures" / name

    # ----- metrics.jsonl -----------------------------------------------------------------------
    def append_row(self, row: dict[str, Any]) -> None:
        with open(self.metrics, "a") as handle:
            handle.write(json.dumps(row) + "\n")

    def rows(self) -> list[dict[str, Any]]:
        """Every readable row (a line torn by a kill is skipped)."""
        return self.read_rows()[0]

    def read_rows(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The readable rows, and the numbers of the lines that did not parse (a kill mid-write tears one) or
        hold values of the wrong kinds (a hand edit)."""
        rows: list[dict[str, Any]] = []
        torn: list[int] = []
        if not self.metrics.exists():
            return rows, torn
        for number, line in enumerate(self.metrics.read_text(errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                row = None
            if valid_row(row):
                rows.append(row)
            else:
                torn.append(number)
        return rows, torn

    def trim_rows(self, epoch: int) -> None:
        """Drop training rows past epoch, so that a resumed run does not repeat them (and torn or malformed
        lines, which read_rows would skip anyway); the other lines are kept byte for byte."""
        if not self.metrics.exists():
            return
        kept = []
        for line in self.metrics.read_bytes().splitlines():
            try:
                row = json.loads(line.decode("utf-8", errors="replace"))  # as read_rows reads it
            except json.JSONDecodeError:
                continue
            if not valid_row(row) or (row["kind"] == "train" and row.get("epoch", 0) > epoch):
                continue
            kept.append(line)
        atomic_write_bytes(self.metrics, b"\n".join(kept) + b"\n" if kept else b"")

    # ----- the directory itself ----------------------------------------------------------------
    def holds_run(self) -> bool:
        return bool(self.checkpoints()) or self.metrics.exists()

    def create(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"{self.path} is a file, not a run directory; choose another --out.")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the run directory {self.path} ({exc.strerror}); "
                              "choose another --out.") from None

    def copy_state(self, out: str | Path) -> RunDir:
        """A new run directory at out holding only what `gankit train --resume` needs: config.yaml,
        metrics.jsonl and the newest checkpoint (no samples, older checkpoints or best.safetensors).
        Written in full beside out and then renamed, so a failure leaves nothing half-made."""
        latest, out = self.latest(), Path(out)
        if out.exists():
            raise ConfigError(f"{out} already exists; choose a new folder for the copy.")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        except OSError as exc:
            raise ConfigError(f"cannot write beside {out} ({exc.strerror}); choose another folder.") from None
        try:
            copy = RunDir(staging)
            copy.checkpoint_dir.mkdir()
            shutil.copy2(self.config, copy.config)
            if self.metrics.exists():
                shutil.copy2(self.metrics, copy.metrics)
            shutil.copy2(latest, copy.checkpoint_dir / latest.name)
            staging.rename(out)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise ConfigError(f"cannot copy {self.path} to {out} ({exc.strerror}).") from None
        return RunDir(out)

    def remove_stale_temporaries(self) -> int:
        """Delete the temporary files of writes a kill interrupted (the real files are intact)."""
        removed = 0
        for folder in (self.path, self.checkpoint_dir, self.samples):
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp"):
                    tmp.unlink(missing_ok=True)
                    removed += 1
        return removed


class RunLock:
    """An exclusive lock on a run directory, so that two processes never write one run.

    flock is released by the kernel when its process dies, so a killed run never blocks its resume.
    """

    def __init__(self, run_dir: str | Path) -> None:
        run_dir = Path(run_dir)
        self.path = RunDir(run_dir).lock
        try:
            self.handle = open(self.path, "a+")
        except OSError as exc:
            raise ConfigError(f"cannot write to the run directory {run_dir} ({exc.strerror}); make it writable "
                              "or train into another --out.") from None
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            self.handle.close()
            raise ConfigError(
                f"{run_dir} is being written by {holder}; wait for it to finish or train into another --out."
            ) from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"gankit process {os.getpid()}")
        self.handle.flush()

    def release(self) -> None:
        self.handle.close()
