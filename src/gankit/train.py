"""Algorithm 1: the adversarial training loop, with full-state checkpoints and exact resume.

One iteration draws a minibatch of real images and noise and updates D and G:

* ``simultaneous`` (the official code): one forward of G and D, D's and G's gradients both taken
  at the current parameters from the same samples and dropout masks, then both updated.
* ``sequential`` (Algorithm 1 as printed): k updates of D, each on a fresh real batch, then one
  update of G from fresh noise.

The data live on the training device as one tensor and batches are drawn by permutation; losses
are accumulated on the device and read once per progress refresh, so steps do not synchronise.
"""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from gankit import checkpoint
from gankit.config import RESUMABLE_FIELDS, TrainConfig, save_yaml
from gankit.data import Splits, load_dataset
from gankit.errors import CheckpointError, ConfigError, RunCollapsed, TrainingDiverged
from gankit.figures import save_grid
from gankit.generator import load_stage1_into
from gankit.health import Verdict, health_stats, judge, mean_pairwise_distance
from gankit.metrics.parzen import SIGMA_GRID, parzen_log_likelihoods
from gankit.nets import build_models, max_norm_, sample_noise
from gankit.objectives import d_loss, g_loss
from gankit.optim import learning_rate, make_optimizer, momentum
from gankit.rundir import RunDir, RunLock
from gankit.runtime import resolve_device

HEALTH_SAMPLES = 1000  # fixed-noise samples the health monitor judges each epoch
STATS = ("d_loss", "g_loss", "d_real", "d_fake")


@dataclass
class Progress:
    """Counters that locate the run in its schedule; all saved in checkpoints."""

    step: int = 0  # iterations completed (one G update each); lr decays per iteration
    epoch: int = 0  # epochs completed
    batch: int = 0  # real minibatches consumed in the current epoch
    wall_s: float = 0.0  # training time so far, all sessions
    epoch_s: float = 0.0  # training time spent in the current epoch
    stopped_by: str | None = field(default=None, repr=False)


class Trainer:
    """Owns a run directory: builds or restores the full state, trains, checkpoints."""

    def __init__(
        self,
        config: TrainConfig,
        run_dir: str | Path,
        splits: Splits | None = None,
        progress_bar: bool = True,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config.validate()
        self.run_dir = Path(run_dir)
        self.rundir = RunDir(run_dir)
        self.progress_bar = progress_bar
        self.log = log or (lambda msg: print(msg, file=sys.stderr))
        self.device = resolve_device(config.device)
        self.splits = splits if splits is not None else load_dataset(config.dataset, config.data_dir)
        train = self.splits.train
        if len(train) < config.batch_size * config.d_steps:
            raise ConfigError(
                f"the training split has {len(train)} images, fewer than one iteration needs "
                f"({config.batch_size} x {config.d_steps}); lower --batch-size."
            )
        self.image_shape = train.shape
        # what the run trains on: a resume must find the same images, whatever folder they now sit in
        self.data_fingerprint = {"train_images": len(train), "crc32": zlib.crc32(train.images.numpy().tobytes())}
        self.data = train.float(self.device)
        pixel_mean = self.data.mean(0).cpu()
        self.G, self.D = build_models(config.model, self.splits.model_spec(config.z_dim), pixel_mean, config.seed)
        if config.g_init_from:
            load_stage1_into(self.G, config.g_init_from)
        self.G.to(self.device).train()
        self.D.to(self.device).train()
        betas = (config.adam_beta1, config.adam_beta2)
        self.opt_g = make_optimizer(config.optimizer, dict(self.G.named_parameters()), betas)
        self.opt_d = make_optimizer(config.optimizer, dict(self.D.named_parameters()), betas)
        # Noise and dropout draw from rng; the epoch permutations from data_rng (on the CPU, so the
        # order of examples does not depend on the device).
        self.rng = torch.Generator(self.device).manual_seed(config.seed + 1)
        self.data_rng = torch.Generator().manual_seed(config.seed + 2)
        self.fixed_z = sample_noise(config.grid_size, config.z_dim, config.noise,
                                    torch.Generator().manual_seed(config.seed + 3)).to(self.device)
        n_monitor = min(config.monitor_parzen, len(self.splits.valid))
        self.monitor_valid = self.splits.valid.float(self.device)[:n_monitor]
        self.monitor_z = sample_noise(n_monitor, config.z_dim, config.noise,
                                      torch.Generator().manual_seed(config.seed + 4)).to(self.device)
        self.best_monitor: float | None = None
        self.health_z = sample_noise(HEALTH_SAMPLES, config.z_dim, config.noise,
                                     torch.Generator().manual_seed(config.seed + 5)).to(self.device)
        health_real = self.splits.valid.float(self.device)[:HEALTH_SAMPLES]
        self.health_real_spread = mean_pairwise_distance(health_real) if len(health_real) > 1 else 0.0
        self.health: Verdict | None = None  # the latest verdict of the health monitor
        self.health_stats: dict[str, Any] | None = None  # and the statistics it was read from
        self._classify: Callable[[torch.Tensor], torch.Tensor] | None = None
        self.state = Progress()
        self.perm: torch.Tensor | None = None
        self.stats = torch.zeros(len(STATS), device=self.device, dtype=torch.float64)
        self.stats_n = 0
        self._stop_signal: str | None = None
        self._lock: RunLock | None = None
        self._last_save = time.perf_counter()
        self.batches_per_epoch = len(train) // config.batch_size
        self.iterations_per_epoch = self.batches_per_epoch // config.d_steps

    # ----- state -----------------------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {
            **checkpoint.with_prefix(self.G.state_dict(), "G"),
            **checkpoint.with_prefix(self.D.state_dict(), "D"),
            **checkpoint.with_prefix(self.opt_g.state_tensors(), "opt_g"),
            **checkpoint.with_prefix(self.opt_d.state_tensors(), "opt_d"),
            "rng.train": self.rng.get_state(),
            "rng.data": self.data_rng.get_state(),
            "stats": self.stats,
        }
        if self.perm is not None:
            tensors["perm"] = self.perm
        return tensors

    def state_meta(self) -> dict[str, Any]:
        s = self.state
        return {
            "config": self.config.to_dict(),
            "step": s.step, "epoch": s.epoch, "batch": s.batch,
            "wall_s": s.wall_s, "epoch_s": s.epoch_s, "stats_n": self.stats_n,
            "best_monitor": self.best_monitor,
            "image_shape": list(self.image_shape),
            "data": self.data_fingerprint,
            "torch": torch.__version__,
        }

    def _check_finite(self) -> None:
        """Refuse to save a diverged state as if it were a good one."""
        stats_ok = all(math.isfinite(v) for v in self.stats.tolist())
        weights_ok = all(bool(torch.isfinite(p).all()) for p in (*self.G.parameters(), *self.D.parameters()))
        if not (stats_ok and weights_ok):
            good = self.rundir.checkpoints()
            raise TrainingDiverged(
                f"training diverged at step {self.state.step} (losses or weights became NaN or infinite), so "
                "nothing was saved; " + (f"the last good checkpoint is {good[-1]}; lower --lr and start a new run."
                                         if good else "lower --lr and start again.")
            )

    def save_checkpoint(self) -> Path:
        self._check_finite()
        path = checkpoint.write(self.rundir.checkpoint_path(self.state.step), self.state_tensors(), self.state_meta())
        self.rundir.prune(self.config.keep_checkpoints)
        self._last_save = time.perf_counter()
        return path

    def check_resumable(self, path: str | Path, meta: dict[str, Any]) -> None:
        """The resume rule: only RESUMABLE_FIELDS may differ from the checkpoint's config, and the
        training images must be the same ones."""
        stored = meta.get("config")
        if not isinstance(stored, dict):
            raise CheckpointError(f"{path} does not record its configuration; it cannot be resumed.")
        mine = self.config.to_dict()
        changed = [f"{k} {stored[k]!r} -> {mine[k]!r}" for k in mine
                   if k in stored and k not in RESUMABLE_FIELDS and stored[k] != mine[k]]
        if changed:
            raise ConfigError(
                f"{self.run_dir} was trained with other settings than it is resumed with ({', '.join(changed)}); "
                f"only {', '.join(RESUMABLE_FIELDS)} may change on resume (check config.yaml). "
                "Start a new run with --out instead."
            )
        data = meta.get("data")
        if data is not None and data != self.data_fingerprint:
            raise ConfigError(
                f"{self.run_dir} was trained on other images ({data['train_images']} training images, crc32 "
                f"{data['crc32']}) than {self.config.dataset} from {self.config.data_dir or 'the default source'} "
                f"gives now ({self.data_fingerprint['train_images']}, crc32 {self.data_fingerprint['crc32']}); "
                "resume with the data it was trained on, or start a new run with --out."
            )

    def load_checkpoint(self, path: str | Path) -> None:
        tensors, meta = checkpoint.read(path)
        self.check_resumable(path, meta)
        try:
            self.G.load_state_dict(checkpoint.split_prefix(tensors, "G"))
            self.D.load_state_dict(checkpoint.split_prefix(tensors, "D"))
            self.opt_g.load_state_tensors(checkpoint.split_prefix(tensors, "opt_g"))
            self.opt_d.load_state_tensors(checkpoint.split_prefix(tensors, "opt_d"))
            self.rng.set_state(tensors["rng.train"])
            self.data_rng.set_state(tensors["rng.data"])
            self.stats.copy_(tensors["stats"])
            self.perm = tensors["perm"].to(self.device) if "perm" in tensors else None
            self.state = Progress(meta["step"], meta["epoch"], meta["batch"], meta["wall_s"], meta["epoch_s"])
            self.stats_n = meta["stats_n"]
            self.best_monitor = meta.get("best_monitor")
            if meta["config"].get("monitor_parzen") != self.config.monitor_parzen and self.best_monitor is not None:
                # values of monitors of different sizes are not comparable: the best starts again
                self.log(f"Parzen monitor size changed to {self.config.monitor_parzen}; "
                         f"{self.rundir.best.name} will hold the best epoch under the new monitor")
                self.best_monitor = None
        except (KeyError, RuntimeError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(
                f"{path} does not match this run's models or is missing state ({exc}); "
                "resume with the config the checkpoint was written with."
            ) from None

    # ----- one iteration ---------------------------------------------------------------------
    def _next_real(self) -> torch.Tensor:
        m = self.config.batch_size
        if self.perm is None:
            self.perm = torch.randperm(len(self.data), generator=self.data_rng).to(self.device)
        idx = self.perm[self.state.batch * m : (self.state.batch + 1) * m]
        self.state.batch += 1
        return self.data.index_select(0, idx)

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.config.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _iteration(self) -> torch.Tensor:
        """One iteration of Algorithm 1; returns detached (d_loss, g_loss, D(x), D(G(z)))."""
        c = self.config
        lr = learning_rate(self.state.step, c.lr, c.lr_decay, c.lr_min)
        mu = momentum(self.state.epoch + 1, c.momentum_start, c.momentum_end, c.momentum_saturate)
        d_params, g_params = self.opt_d.params, self.opt_g.params
        m = c.batch_size
        if c.update_order == "simultaneous":
            real = self._next_real()
            z = sample_noise(m, c.z_dim, c.noise, self.rng, self.device)
            with self._autocast():
                fake = self.G(z)
                real_logits = self.D(real, self.rng)
                fake_logits = self.D(fake, self.rng)
                loss_d = d_loss(real_logits, fake_logits, c.d_loss_scale)
                loss_g = g_loss(fake_logits, c.g_objective)
            grads_d = torch.autograd.grad(loss_d, d_params, retain_graph=True)
            grads_g = torch.autograd.grad(loss_g, g_params)
            self.opt_d.step(grads_d, lr, mu)
            self.opt_g.step(grads_g, lr, mu)
            if c.max_norm:
                max_norm_([self.G, self.D], c.max_norm)
        else:
            for _ in range(c.d_steps):
                real = self._next_real()
                z = sample_noise(m, c.z_dim, c.noise, self.rng, self.device)
                with self._autocast():
                    with torch.no_grad():
                        fake = self.G(z)
                    real_logits = self.D(real, self.rng)
                    fake_logits = self.D(fake, self.rng)
                    loss_d = d_loss(real_logits, fake_logits, c.d_loss_scale)
                self.opt_d.step(torch.autograd.grad(loss_d, d_params), lr, mu)
                if c.max_norm:
                    max_norm_([self.D], c.max_norm)
            z = sample_noise(m, c.z_dim, c.noise, self.rng, self.device)
            with self._autocast():
                if c.unrolled_steps:
                    g_fake_logits = self._unrolled_logits(self.G(z), lr)
                else:
                    g_fake_logits = self.D(self.G(z), self.rng)
                loss_g = g_loss(g_fake_logits, c.g_objective)
            self.opt_g.step(torch.autograd.grad(loss_g, g_params), lr, mu)
            if c.max_norm:
                max_norm_([self.G], c.max_norm)
        self.state.step += 1
        return torch.stack([
            loss_d.detach(), loss_g.detach(),
            torch.sigmoid(real_logits.detach()).mean(), torch.sigmoid(fake_logits.detach()).mean(),
        ]).double()

    def _unrolled_logits(self, fake: torch.Tensor, lr: float) -> torch.Tensor:
        """D's logits on fake after unrolled_steps SGD steps of D from its current weights, keeping the
        graph so that G's gradient sees how D would respond (Metz et al., 2016)."""
        c = self.config
        params = {name: p for name, p in self.D.named_parameters()}
        for _ in range(c.unrolled_steps):
            idx = torch.randint(len(self.data), (c.batch_size,), generator=self.rng, device=self.device)
            z = sample_noise(c.batch_size, c.z_dim, c.noise, self.rng, self.device)
            real_logits = torch.func.functional_call(self.D, params, (self.data[idx], self.rng))
            fake_logits = torch.func.functional_call(self.D, params, (self.G(z), self.rng))
            loss = d_loss(real_logits, fake_logits, c.d_loss_scale)
            grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
            params = {name: p - lr * g for (name, p), g in zip(params.items(), grads)}
        return torch.func.functional_call(self.D, params, (fake, self.rng))

    # ----- the loop --------------------------------------------------------------------------
    def _request_stop(self, signum: int, _frame: Any) -> None:
        self._stop_signal = signal.Signals(signum).name

    def _finished(self) -> bool:
        c = self.config
        return self.state.epoch >= c.epochs or (c.max_steps is not None and self.state.step >= c.max_steps)

    @torch.no_grad()
    def write_samples(self, epoch: int) -> Path | None:
        if self.image_shape[1] == 1:  # toy vectors, not images: Figure 1 / the mode plots show them
            return None
        self.G.eval()
        images = self.G(self.fixed_z).float().view(-1, *self.image_shape)
        self.G.train()
        return save_grid(images, self.rundir.sample_grid(epoch))

    @torch.no_grad()
    def parzen_monitor(self) -> tuple[float, float]:
        """Mean Parzen log-likelihood of the monitor's validation images and its best sigma.

        Fixed noise, few samples, sigma picked on the same images: it ranks epochs of one run; it is
        not the paper's protocol (use `gankit evaluate` for that).
        """
        self.G.eval()
        samples = self.G(self.monitor_z).float()
        self.G.train()
        per_sigma = parzen_log_likelihoods(self.monitor_valid, samples, SIGMA_GRID).double().mean(1)
        best = int(torch.argmax(per_sigma))
        return float(per_sigma[best]), SIGMA_GRID[best]

    def _health_classifier(self) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """The cached classifier of a labelled dataset (trained on first use), else None."""
        from gankit.metrics.classifier import LABELLED_DATASETS, load_classifier, predict

        if self._classify is None and self.config.dataset in LABELLED_DATASETS and self.image_shape == (1, 28, 28):
            net = load_classifier(self.config.dataset, self.config.data_dir, log=self.log).net
            self._classify = lambda images: predict(net, images)
        return self._classify

    def _check_health(self, row: dict[str, Any]) -> None:
        """Add the health monitor's statistics to the epoch's row; log a line when the verdict changes."""
        if self.config.health == "off" or self.image_shape[1] == 1 or not self.health_real_spread:
            return
        start = time.perf_counter()
        stats = health_stats(self.G, self.health_z, self.health_real_spread, self.image_shape,
                             self._health_classifier())
        verdict = judge({**stats, "d_real": row["d_real"], "d_fake": row["d_fake"]}, row["epoch"])
        row["health"] = {**stats, "verdict": verdict.message, "seconds": round(time.perf_counter() - start, 3)}
        before = (False, False) if self.health is None else (self.health.collapsed, self.health.d_overwhelms)
        now = (verdict.collapsed, verdict.d_overwhelms)
        if now != before:  # one line when the run falls ill, changes illness, or recovers
            self.log(f"gankit: {verdict.message}" if not verdict.healthy else
                     f"gankit: recovered at epoch {row['epoch']}: {describe_health(row['health'])}")
        self.health, self.health_stats = verdict, row["health"]

    def _end_epoch(self) -> dict[str, Any]:
        totals = (self.stats / max(self.stats_n, 1)).tolist()
        if not all(math.isfinite(v) for v in totals):
            raise TrainingDiverged(
                f"training diverged in epoch {self.state.epoch + 1} (losses became NaN or infinite); "
                "nothing from this epoch was saved; lower --lr or resume from the last checkpoint."
            )
        c = self.config
        self.state.epoch += 1
        row = {
            "kind": "train", "epoch": self.state.epoch, "step": self.state.step,
            **dict(zip(STATS, (round(v, 6) for v in totals))),
            "lr": learning_rate(self.state.step, c.lr, c.lr_decay, c.lr_min),
            "momentum": momentum(self.state.epoch, c.momentum_start, c.momentum_end, c.momentum_saturate),
            "images_per_s": round(self.stats_n * c.batch_size * c.d_steps / max(self.state.epoch_s, 1e-9), 1),
            "epoch_s": round(self.state.epoch_s, 3), "wall_s": round(self.state.wall_s, 3),
        }
        self.stats.zero_()
        self.stats_n = 0
        self.state.batch = 0
        self.state.epoch_s = 0.0
        self.perm = None
        return row

    def _start_run_dir(self, resume: bool) -> None:
        self.rundir.create()
        self._lock = RunLock(self.run_dir)
        removed = self.rundir.remove_stale_temporaries()
        if removed:
            self.log(f"removed {removed} unfinished temporary file(s) left by an interrupted write")
        found = self.rundir.checkpoints()
        if resume and found:
            self.load_checkpoint(found[-1])
            self.rundir.trim_rows(self.state.epoch)
            save_yaml(self.config, self.rundir.config)
            self.log(f"resuming {self.run_dir} at epoch {self.state.epoch}, step {self.state.step}")
            return
        if resume:  # killed before its first checkpoint: start it again from its config.yaml
            self.log(f"{self.run_dir} has no checkpoint yet; starting it from its config.yaml")
            self.rundir.trim_rows(self.state.epoch)
        elif self.rundir.holds_run():
            raise ConfigError(
                f"{self.run_dir} already holds a run; resume it with --resume {self.run_dir} "
                "or choose another --out."
            )
        save_yaml(self.config, self.rundir.config)
        self.write_samples(0)

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
        finally:
            if self._lock is not None:
                self._lock.release()
                self._lock = None
        return self.state

    def _bank_time(self, start: float, now: float) -> None:
        self.state.epoch_s += now - start
        self.state.wall_s += now - start

    def _loop(self, on_iteration: Callable[[Trainer], None] | None) -> None:
        c = self.config
        while not self._finished():
            bar = tqdm(
                total=self.iterations_per_epoch, initial=self.state.batch // c.d_steps,
                desc=f"epoch {self.state.epoch + 1}/{c.epochs}", unit="it", leave=False,
                disable=not self.progress_bar, dynamic_ncols=True,
            )
            start = time.perf_counter()
            last_refresh = start
            while self.state.batch + c.d_steps <= self.batches_per_epoch and not self._finished():
                self.stats += self._iteration()
                self.stats_n += 1
                bar.update(1)
                if on_iteration is not None:
                    on_iteration(self)
                now = time.perf_counter()
                if self.progress_bar and now - last_refresh > 1.0:
                    last_refresh = now
                    mean = (self.stats / self.stats_n).tolist()
                    seen = self.stats_n * c.batch_size * c.d_steps
                    bar.set_postfix_str(
                        f"D {mean[0]:.3f} G {mean[1]:.3f} D(x) {mean[2]:.2f} D(G(z)) {mean[3]:.2f} "
                        f"{seen / (self.state.epoch_s + now - start):.0f} img/s"
                    )
                if self._stop_signal:
                    break
                if c.checkpoint_minutes and now - self._last_save > 60 * c.checkpoint_minutes:
                    self._bank_time(start, now)
                    self.save_checkpoint()  # a kill loses at most checkpoint_minutes of training
                    start = last_refresh = time.perf_counter()
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            self._bank_time(start, time.perf_counter())
            bar.close()
            if self._stop_signal:
                path = self.save_checkpoint()
                self.state.stopped_by = self._stop_signal
                self.log(
                    f"stopped by {self._stop_signal} at epoch {self.state.epoch + 1}, step {self.state.step}; "
                    f"checkpoint {path}; continue with: gankit train --resume {self.run_dir}"
                )
                return
            if self.state.batch + c.d_steps > self.batches_per_epoch:
                row = self._end_epoch()
                improved = False
                if len(self.monitor_valid):
                    value, sigma = self.parzen_monitor()
                    row.update(parzen_monitor=round(value, 3), parzen_monitor_sigma=round(sigma, 4),
                               parzen_monitor_protocol=f"{len(self.monitor_z)} samples (fixed z), "
                               f"valid[:{len(self.monitor_valid)}], sigma picked on the same images")
                    improved = self.best_monitor is None or value > self.best_monitor
                    if improved:
                        self.best_monitor = value
                self._check_health(row)
                self.rundir.append_row(row)
                self.log(
                    f"epoch {row['epoch']}: D loss {row['d_loss']:.4f}  G loss {row['g_loss']:.4f}  "
                    f"D(x) {row['d_real']:.3f}  D(G(z)) {row['d_fake']:.3f}  lr {row['lr']:.5f}  "
                    f"momentum {row['momentum']:.3f}  {row['images_per_s']:.0f} img/s  {row['epoch_s']:.1f} s"
                    + (f"  Parzen monitor {row['parzen_monitor']:.1f}" if "parzen_monitor" in row else "")
                )
                if row["epoch"] % c.sample_every == 0 or self._finished():
                    self.write_samples(row["epoch"])
                if improved:  # written before the step checkpoint, so "best" is never older than the state says
                    self._check_finite()
                    checkpoint.write(self.rundir.best, self.state_tensors(), self.state_meta())
                if row["epoch"] % c.checkpoint_every == 0 or self._finished():
                    self.save_checkpoint()
                if c.health == "stop" and self.health is not None and self.health.collapsed:
                    path = self.save_checkpoint()
                    raise RunCollapsed(
                        f"{self.health.message}; stopped (health: stop) with checkpoint {path}; "
                        f"continue anyway with: gankit train --resume {self.run_dir} --health warn"
                    )
            elif self._finished():  # max_steps reached mid-epoch
                self.save_checkpoint()


def describe_health(stats: dict[str, Any]) -> str:
    """One line of a health row's numbers, for the console."""
    parts = []
    if "classes_covered" in stats:
        parts.append(f"{stats['classes_covered']} of {stats['classes']} classes, largest "
                     f"{stats['largest_class_share']:.0%} ({stats['largest_class']})")
    parts.append(f"diversity {stats['diversity']:.2f} of real")
    return ", ".join(parts)
