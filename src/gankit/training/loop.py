"""Algorithm 1's loop: start or resume a run directory, run epochs of steps, call the hooks, checkpoint.

The loop reads top to bottom: ``run`` takes the run directory and the stop signals, ``_loop`` runs
epochs of ``STEPS[update_order]``, ``_end_epoch`` closes an epoch and calls the hooks, and every
write of the state goes through ``write_checkpoint``, which refuses a diverged state.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from gankit import checkpoint
from gankit.config import TrainConfig, save_yaml
from gankit.data import Splits, load_dataset
from gankit.distributed import Ranks, from_environment, rank_device
from gankit.errors import CheckpointError, ConfigError, GankitError, TrainingDiverged
from gankit.families import describe
from gankit.nets import is_conditional
from gankit.optim import learning_rate, momentum
from gankit.recipe import check_resumable
from gankit.rundir import RunDir, RunLock
from gankit.runtime import resolve_device, wait_for
from gankit.training.batches import PermutationBatches, check_fit
from gankit.training.captured import launch_free
from gankit.training.hooks import Hook, build_hooks
from gankit.training.hooks.health import HealthMonitor
from gankit.training.hooks.monitor import MetricMonitor, plateau, restore_best
from gankit.training.hooks.samples import SampleGrid
from gankit.training.state import Progress, TrainState, check_checkpoint
from gankit.training.steps import STEPS


class Trainer:
    """Owns a run directory: builds or restores the full state, trains, checkpoints."""

    def __init__(self, config: TrainConfig, run_dir: str | Path, splits: Splits | None = None,
                 progress_bar: bool = True, log: Callable[[str], None] | None = None, ranks: Ranks | None = None,
                 hooks: list[Hook] | None = None) -> None:
        """ranks: torchrun's processes (default: read from the environment), of which rank 0 writes; hooks: more
        hooks beside those the configuration asks for (training/hooks)."""
        self.config = c = config.validate()
        device = resolve_device(c.device)
        self.ranks = ranks or from_environment(device)
        self.device = rank_device(device, self.ranks)
        self.run_dir, self.rundir = Path(run_dir), RunDir(run_dir)
        self.progress_bar = progress_bar and self.ranks.main
        self.log = (log or (lambda msg: print(msg, file=sys.stderr))) if self.ranks.main else (lambda msg: None)
        self.splits = splits if splits is not None else load_dataset(c.dataset, c.data_dir, image_size=c.image_size)
        train, conditional = self.splits.train, is_conditional(c.model)
        check_fit(c, self.splits, conditional, self.ranks.world)
        self.spec, self.image_shape = self.splits.model_spec(c.z_dim, conditional, c.width), self.splits.image_shape
        # what the run trains on: a resume must find the same images, whatever folder they now sit in
        self.data_fingerprint = {"train_images": len(train), "crc32": zlib.crc32(train.images.numpy().tobytes())}
        self.batches = PermutationBatches(train, c.batch_size, self.device, labels=conditional, ranks=self.ranks)
        self.objective = c.section("objective")  # all a step reads
        self.state = TrainState(c.section("model"), c.section("optim"), self.objective, c.section("run"), self.spec,
                                train.float().mean(0), self.device, self.ranks)
        self.step = launch_free(STEPS[c.update_order], self.objective, self.device, self.ranks, self.log,
                                cuda_graph=c.cuda_graph)
        self.hooks = [*build_hooks(c, self.splits, self.spec, self.device), *(hooks or [])]
        self.monitors = {h.name: h for h in self.hooks if isinstance(h, MetricMonitor)}
        self.health = next(h for h in self.hooks if isinstance(h, HealthMonitor))
        self.samples = next(h for h in self.hooks if isinstance(h, SampleGrid))
        if not self.ranks.main:  # the other ranks train; rank 0 alone measures and writes
            self.hooks = []
        self.iterations_per_epoch = self.batches.per_epoch // c.d_steps
        self._stop_signal: str | None = None
        self._stop_error: Callable[[Path], GankitError] | None = None
        self._ended = False  # a hook stopped the run, or the monitor reached its plateau (patience)
        self._lock: RunLock | None = None
        self._last_save = time.perf_counter()

    @property
    def progress(self) -> Progress:
        return self.state.progress

    def write_checkpoint(self, path: Path) -> Path:
        """Write the full state to path; a diverged state is refused, never saved as a good one."""
        if not self.state.is_finite():
            good = self.rundir.checkpoints()
            raise TrainingDiverged(f"training diverged at step {self.progress.step} (losses, weights or the images G "
                                   "draws became NaN or infinite), so nothing was saved; " + (
                                       f"the last good checkpoint is {good[-1]}; lower --lr and start a new run."
                                       if good else "lower --lr and start again."))
        meta = {"config": self.config.to_dict(), **self.state.meta(), "image_shape": list(self.image_shape),
                "n_classes": self.spec.n_classes, "data": self.data_fingerprint, "torch": torch.__version__}
        return checkpoint.write(path, self.checkpoint_tensors(), meta)

    def checkpoint_tensors(self) -> dict[str, torch.Tensor]:
        return {**self.state.tensors(), **self.batches.tensors()}

    def save_checkpoint(self) -> Path:
        """Every rank calls this; rank 0 writes (all ranks hold the same state, the running sums averaged)."""
        self._average_stats()
        path = self.rundir.checkpoint_path(self.progress.step)
        if self.ranks.main:
            self.write_checkpoint(path)
            self.rundir.prune(self.config.keep_checkpoints)
        elif not self.state.is_finite():
            raise TrainingDiverged(f"training diverged at step {self.progress.step}; rank 0 says what to do.")
        self._last_save = time.perf_counter()
        return path

    def _average_stats(self) -> None:
        """Under torchrun, each rank's running sums become the mean over ranks (the global batch's)."""
        if self.ranks.world > 1:
            self.ranks.sum(self.state.stats).div_(self.ranks.world)

    def load_checkpoint(self, path: str | Path) -> None:
        tensors, meta = checkpoint.read(path)
        check_checkpoint(path, tensors, meta, self.state, len(self.batches), self.batches.per_epoch)
        check_resumable(self.config, meta, self.data_fingerprint, self.run_dir)
        try:
            self.state.load(tensors, meta)
            self.batches.load(tensors)
        except (KeyError, RuntimeError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"{path} does not match this run's models or is missing state ({exc}); "
                                  "resume with the config the checkpoint was written with.") from None
        restore_best(self.state, meta["config"], self.config, self.rundir, self.log)
        self._ended = self.plateau() is not None  # resumed with a patience already run out of: nothing to train

    def run(self, resume: bool = False, on_iteration: Callable[[Trainer], None] | None = None) -> Progress:
        """Train until the configured length or a stop signal; return the final Progress.

        SIGINT and SIGTERM finish the current iteration, write a checkpoint and return.
        """
        try:
            self._start_run_dir(resume)
            previous = {}
            if threading.current_thread() is threading.main_thread():
                for sig in (signal.SIGINT, signal.SIGTERM):
                    previous[sig] = signal.signal(sig, self._request_stop)
            try:
                self._loop(on_iteration)
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
            self.ranks.close()
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None
        return self.progress

    def _start_run_dir(self, resume: bool) -> None:
        if not self.ranks.main:  # rank 0 checks and prepares the folder; the others then read it
            self.ranks.barrier()
            found = self.rundir.checkpoints()
            if resume and found:
                self.load_checkpoint(found[-1])
            return
        self._start_main_run_dir(resume)
        self.ranks.barrier()

    def _start_main_run_dir(self, resume: bool) -> None:
        self.rundir.create()
        self._lock = RunLock(self.run_dir)
        removed = self.rundir.remove_stale_temporaries()
        if removed:
            self.log(f"removed {removed} unfinished temporary file(s) left by an interrupted write")
        found = self.rundir.checkpoints()
        if resume and found:
            self.load_checkpoint(found[-1])
            self.rundir.trim_rows(self.progress.epoch)
            save_yaml(self.config, self.rundir.config)
            self.log(f"resuming {self.run_dir} at epoch {self.progress.epoch}, step {self.progress.step}")
            if self._ended:
                self.log(f"{self.plateau()}; nothing to train (raise --patience to go on)")
        elif resume:  # killed before its first checkpoint: start it again from its config.yaml
            self.log(f"{self.run_dir} has no checkpoint yet; starting it from its config.yaml")
            self.rundir.trim_rows(self.progress.epoch)
        elif self.rundir.holds_run():
            raise ConfigError(f"{self.run_dir} already holds a run; resume it with --resume {self.run_dir} "
                              "or choose another --out.")
        fresh = not (resume and found)
        if fresh:
            save_yaml(self.config, self.rundir.config)
        for hook in self.hooks:
            hook.start(self, fresh)

    def summary(self) -> str:
        """What the run did, for the console: length, time, the last sample grid, the health verdict."""
        p, grid = self.progress, self.rundir.sample_grid(self.progress.epoch)
        lines = [f"done: {p.epoch} epochs, {p.step} steps, {p.wall_s:.0f} s of training",
                 f"samples: {grid}" if grid.exists() else None,
                 f"report: {self.rundir.report}" if self.config.report else None, self.health.summary(p.epoch),
                 self.plateau()]
        return "\n".join(line for line in lines if line)

    def finished(self) -> bool:
        c, p = self.config, self.progress
        return p.epoch >= c.epochs or (c.max_steps is not None and p.step >= c.max_steps) or self._ended

    def plateau(self) -> str | None:
        return plateau(self.config, self.state)

    def stop_after_epoch(self, error: Callable[[Path], GankitError]) -> None:
        """Let a hook end the run after this epoch's checkpoint, with error(checkpoint path)."""
        self._stop_error = error

    def _request_stop(self, signum: int, _frame: Any) -> None:
        self.request_stop(signal.Signals(signum).name)

    def request_stop(self, why: str = "SIGTERM") -> None:
        """Stop as a signal would, after the current iteration, with a checkpoint (a sweep's runs in threads
        get the signals the sweep caught this way: only the main thread receives them)."""
        self._stop_signal = why

    def _bank_time(self, start: float, now: float) -> None:
        self.progress.epoch_s += now - start
        self.progress.wall_s += now - start

    def _loop(self, on_iteration: Callable[[Trainer], None] | None) -> None:
        c, p, s = self.config, self.progress, self.state
        while not self.finished():
            bar = tqdm(total=self.iterations_per_epoch, initial=p.batch // c.d_steps,
                       desc=f"epoch {p.epoch + 1}/{c.epochs}", unit="it", leave=False,
                       disable=not self.progress_bar, dynamic_ncols=True)
            start = last_refresh = time.perf_counter()
            while p.batch + c.d_steps <= self.batches.per_epoch and not self.finished():
                lr = learning_rate(p.step, c.lr, c.lr_decay, c.lr_min)
                mu = momentum(p.epoch + 1, c.momentum_start, c.momentum_end, c.momentum_saturate)
                s.stats += self.step(s, self.batches, self.objective, lr, mu)
                s.stats_n += 1
                p.step += 1
                bar.update(1)
                if on_iteration is not None:
                    on_iteration(self)
                now = time.perf_counter()
                if self.progress_bar and now - last_refresh > 1.0:
                    last_refresh = now
                    seen = s.stats_n * c.batch_size * c.d_steps
                    bar.set_postfix_str(f"{describe(s.family, (s.stats / s.stats_n).tolist())} "
                                        f"{seen / (p.epoch_s + now - start):.0f} img/s")
                due = bool(c.checkpoint_minutes) and now - self._last_save > 60 * c.checkpoint_minutes
                stop, due = self.ranks.any(self._stop_signal is not None, due and self.ranks.main)
                if stop:  # under torchrun, a signal any rank caught stops all of them at this iteration
                    self._stop_signal = self._stop_signal or "SIGTERM"
                    break
                if due:
                    self._bank_time(start, now)
                    self.save_checkpoint()  # a kill loses at most checkpoint_minutes of training
                    start = last_refresh = time.perf_counter()
            wait_for(self.device)  # the epoch's time is its work's, not the launches'
            self._bank_time(start, time.perf_counter())
            bar.close()
            if self._stop_signal:
                path = self.save_checkpoint()
                p.stopped_by = self._stop_signal
                self.log(f"stopped by {self._stop_signal} at epoch {p.epoch + 1}, step {p.step}; "
                         f"checkpoint {path}; continue with: gankit train --resume {self.run_dir}")
                return
            if p.batch + c.d_steps > self.batches.per_epoch:
                self._end_epoch()
            elif self.finished():  # max_steps reached mid-epoch
                self.save_checkpoint()

    def _end_epoch(self) -> None:
        c, p = self.config, self.progress
        seen = self.state.stats_n * c.batch_size * c.d_steps
        self._average_stats()
        means = self.state.close_epoch()
        if not all(math.isfinite(v) for v in means):
            raise TrainingDiverged(f"training diverged in epoch {p.epoch + 1} (losses became NaN or infinite); "
                                   "nothing from this epoch was saved; lower --lr or resume from the last checkpoint.")
        p.epoch += 1
        row = {
            "kind": "train", "epoch": p.epoch, "step": p.step,
            **dict(zip(self.state.stat_names, (round(v, 6) for v in means))),
            "lr": learning_rate(p.step, c.lr, c.lr_decay, c.lr_min),
            "momentum": momentum(p.epoch, c.momentum_start, c.momentum_end, c.momentum_saturate),
            "images_per_s": round(seen / max(p.epoch_s, 1e-9), 1),
            "epoch_s": round(p.epoch_s, 3), "wall_s": round(p.wall_s, 3),
        }
        p.batch = 0
        p.epoch_s = 0.0
        self.batches.new_epoch()
        for hook in self.hooks:
            hook.epoch_end(self, row)
        plateau = self.plateau() if self.ranks.main else None  # rank 0 alone runs the monitors
        (self._ended,) = self.ranks.any(self._stop_error is not None or plateau is not None)
        if plateau is not None and self._stop_error is None:
            self.log(f"{plateau}; the run ends here")
        if row["epoch"] % c.checkpoint_every == 0 or self.finished():
            path = self.save_checkpoint()
        for hook in self.hooks:
            hook.epoch_saved(self)
        if self._stop_error is not None:
            raise self._stop_error(path)
