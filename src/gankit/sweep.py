"""`gankit sweep`: one recipe over several seeds, one run directory per seed, so that a recipe is judged
over seeds and never by one. Runs go `parallel` at a time as separate `python -m gankit train`
processes (several at once pay off on a GPU, where one small run leaves it idle, and on a CPU once
its cores are split between them), or as threads of this process, each on a CUDA stream of its own
(separate processes take turns on a GPU; one process's streams overlap there); a seed whose run is already
complete is kept, an unfinished one is resumed.
Then a table of every seed's last and best monitors, with their mean and standard deviation over all
seeds and over the seeds the health monitor found healthy, and one report comparing the runs."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from gankit.config import MAX_SEED, save_yaml
from gankit.errors import ConfigError, GankitError, shown
from gankit.fileio import atomic_write_bytes
from gankit.recipe import Recipe, resume_config
from gankit.report import load_record, write_report
from gankit.report.record import healthy
from gankit.rundir import REPORT, RunDir
from gankit.training.ensure import is_done

MAX_SEEDS = 10_000  # runs in one sweep


def parse_seeds(text: str) -> list[int]:
    """'0-7' or '0,3,5' or '1-3,9' -> the seeds, in order, each once."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            low, _, high = part.strip().partition("-")
            first, last = int(low), int(high or low)
            if last - first >= MAX_SEEDS - len(seeds) or max(first, last) > MAX_SEED:  # checked before it is built
                raise ConfigError(f"--seeds {shown(text)} names more than {MAX_SEEDS:,} seeds or a seed above "
                                  f"{MAX_SEED:,}; a sweep runs one training per seed.")
            seeds += range(first, last + 1)
    except ValueError:
        raise ConfigError(f"--seeds {shown(text)} is not a list of seeds; write it as 0-7 or 0,3,5.") from None
    if not seeds:
        raise ConfigError(f"--seeds {shown(text)} names no seed; write it as 0-7 or 0,3,5.")
    return list(dict.fromkeys(seeds))


def prepare(run: Path, recipe: Recipe, seed: int, until: dict[str, Any]) -> str:
    """Write the seed's run/config.yaml, from which its training starts or continues: the recipe resolved with
    the seed for a new run, the run's own under the resume rule for one already there (a change it forbids is
    refused here). Return 'done' (trained to its length), 'partial' (resume it) or 'new'."""
    rundir = RunDir(run)
    if rundir.config.exists():
        config = resume_config(run, until).validate()
        if is_done(run, config) is not None:
            return "done"
        state = "partial" if rundir.checkpoints() else "new"
    else:
        config, state = recipe.resolve(seed=seed, **until), "new"
        rundir.create()
    save_yaml(config, rundir.config)
    return state


def available_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def child_env(parallel: int) -> dict[str, str]:
    """The runs' environment: on the CPU, runs going several at a time share its cores instead of each
    taking all of them (benchmarks/results/sweep_speed.json), unless OMP_NUM_THREADS says otherwise."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if parallel > 1 and "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, available_cores() // parallel))
    return env


class _ProcessRun:
    """One seed trained by a `python -m gankit train` process, its output appended to OUT/seed-N.log."""

    def __init__(self, command: list[str], log_path: Path, parallel: int) -> None:
        self.log_path, self.handle = log_path, open(log_path, "a")
        self.process = subprocess.Popen(command, stdout=self.handle, stderr=subprocess.STDOUT, env=child_env(parallel))

    def done(self) -> bool:
        if self.process.poll() is None:
            return False
        self.handle.close()
        return True

    def stop(self, signum: int) -> None:  # the run checkpoints and exits, as `gankit train` does on a signal
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def failure(self) -> str | None:
        if self.process.returncode == 0:
            return None
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit code {self.process.returncode}"


class _ThreadRun(threading.Thread):
    """One seed trained by a Trainer in a thread of this process, on its own CUDA stream on a GPU: the small
    kernels of several runs then overlap on the device, which separate processes' kernels do not."""

    def __init__(self, run: Path, log_path: Path) -> None:
        """run: a run directory prepared with its config.yaml."""
        super().__init__(name=f"gankit {run}", daemon=True)
        self.run_dir, self.log_path = run, log_path
        self.trainer: Any = None
        self.stop_by: str | None = None
        self.error: str | None = None

    def run(self) -> None:
        from gankit.runtime import resolve_device, stream_of_its_own
        from gankit.training import Trainer

        with open(self.log_path, "a") as handle:
            def write(message: str) -> None:
                handle.write(message + "\n")
                handle.flush()

            try:
                config = resume_config(self.run_dir, {}).validate()
                with stream_of_its_own(resolve_device(config.device)):  # everything of the run on its stream
                    self.trainer = Trainer(config, self.run_dir, progress_bar=False, log=write)
                    if self.stop_by:  # a signal came while the run was being built
                        self.trainer.request_stop(self.stop_by)
                    progress = self.trainer.run(resume=True)  # from its config.yaml, or its latest checkpoint
                if progress.stopped_by is None:
                    write(self.trainer.summary())
            except GankitError as exc:
                self.error = f"gankit: error: {exc}"
                write(self.error)
            except Exception as exc:  # noqa: BLE001  (a bug: its traceback goes to the seed's log, not the others')
                handle.write(traceback.format_exc())
                self.error = f"{type(exc).__name__}: {exc} (traceback in {self.log_path})"

    def done(self) -> bool:
        return not self.is_alive()

    def stop(self, signum: int) -> None:
        self.stop_by = signal.Signals(signum).name
        if self.trainer is not None:
            self.trainer.request_stop(self.stop_by)

    def failure(self) -> str | None:
        return self.error


def run_sweep(out: str | Path, seeds: list[int], recipe: Recipe, parallel: int = 1, log: Callable[[str], None] = print,
              in_process: bool = False) -> dict[str, Any]:
    """Train (or keep, or resume) OUT/seed-N for each seed to the recipe's length, `parallel` at a time; then
    summarise. Each seed's config.yaml is written first (the recipe with its seed; a run already there keeps
    its own, with the recipe's changes a resume allows), and its training starts from that file. in_process:
    the runs are threads of this process (each on a CUDA stream of its own) rather than processes.

    SIGINT or SIGTERM reaching the sweep reaches its runs, which checkpoint and stop; no further run starts,
    and the result is {"stopped_by": the signal's name, ...} with no table (run the sweep again to continue)."""
    out = Path(out)
    if "seed" in recipe.overrides:
        raise ConfigError("gankit sweep sets each run's seed itself; give --seeds to the sweep.")
    until = {**recipe.overrides, "epochs": recipe.resolve().epochs}  # a rerun's overrides reach resumed runs too
    out.mkdir(parents=True, exist_ok=True)
    queue = [(seed, out / f"seed-{seed}") for seed in seeds]
    running: list[tuple[int, _ProcessRun | _ThreadRun]] = []
    failed: dict[int, str] = {}
    stopped: list[signal.Signals] = []

    def forward(signum: int, _frame: Any) -> None:
        stopped.append(signal.Signals(signum))
        for _, job in running:
            job.stop(signum)

    def start(seed: int, run: Path) -> _ProcessRun | _ThreadRun:
        log_path = out / f"seed-{seed}.log"
        if not in_process:
            command = [sys.executable, "-m", "gankit", "train", "--no-progress", "--resume", str(run)]
            return _ProcessRun(command, log_path, parallel)
        job = _ThreadRun(run, log_path)
        job.start()
        return job

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    threads = torch.get_num_threads()
    if in_process:  # threads started from here take this count: the runs split the cores, as processes do
        torch.set_num_threads(int(child_env(parallel).get("OMP_NUM_THREADS", threads)))
    try:
        while queue or running:
            while queue and len(running) < parallel and not stopped:
                seed, run = queue.pop(0)
                try:
                    state = prepare(run, recipe, seed, until)
                except GankitError as exc:
                    failed[seed] = str(exc)
                    log(f"seed {seed}: failed: {exc}")
                    continue
                if state == "done":
                    log(f"seed {seed}: {run} is complete; kept")
                    continue
                log(f"seed {seed}: {'resuming' if state == 'partial' else 'training'} {run}")
                running.append((seed, start(seed, run)))
            time.sleep(0.2)
            for item in [r for r in running if r[1].done()]:
                running.remove(item)
                seed, why = item[0], item[1].failure()
                if why is not None and not stopped:
                    failed[seed] = why
                    log(f"seed {seed}: failed: {why}")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        torch.set_num_threads(threads)
    if stopped:
        log(f"stopped by {stopped[0].name}: the runs under way wrote their checkpoints; run the same sweep again "
            "to continue")
        return {"out": str(out), "stopped_by": stopped[0].name}
    if failed and len(failed) == len(seeds):
        raise GankitError(f"every seed failed (seed {seeds[0]}: {failed[seeds[0]]}); see {out}/seed-N.log.")
    return summarise(out, [s for s in seeds if s not in failed], failed)


def mean_std(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "mean": None, "std": None}
    return {"n": len(values), "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0}


def summarise(out: Path, seeds: list[int], failed: dict[int, str] | None = None) -> dict[str, Any]:
    """Each seed's row, the mean and standard deviation of each monitor (all seeds; healthy ones), a report."""
    rows = []
    for seed in seeds:
        record = load_record(out / f"seed-{seed}")
        last, best = record.last, record.best_epoch()
        health = last.get("health") or {}
        rows.append({"seed": seed, "epochs": last.get("epoch", 0), "d_real": last.get("d_real"),
                     "d_fake": last.get("d_fake"), "parzen_monitor": last.get("parzen_monitor"),
                     "fid_monitor": last.get("fid_monitor"), "classes_covered": health.get("classes_covered"),
                     "verdict": health.get("verdict"), "healthy": healthy(last),
                     "best_epoch": best["epoch"] if best else None,
                     "epochs_since_best": last.get("epoch", 0) - best["epoch"] if best else None,
                     "best_monitor": best[record.monitor] if best else None, "monitor": record.monitor})
    summary: dict[str, Any] = {}
    for key in ("parzen_monitor", "fid_monitor", "best_monitor", "classes_covered"):
        values = [r[key] for r in rows if r[key] is not None]
        well = [r[key] for r in rows if r[key] is not None and r["healthy"] is not False]  # not judged ill
        if values:
            summary[key] = {"all": mean_std(values), "healthy": mean_std(well)}
    report = write_report([out / f"seed-{s}" for s in seeds], out / REPORT) if rows else None
    result = {"out": str(out), "seeds": rows, "summary": summary, "failed": failed or {},
              "report": str(report) if report else None}
    atomic_write_bytes(out / "sweep.json", (json.dumps(result, indent=1) + "\n").encode())
    return result


def format(result: dict[str, Any]) -> str:  # noqa: A001  (as the experiments: run and format)
    def cell(v: Any) -> str:
        return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = [f"{'seed':>5} {'epochs':>6} {'D(x)':>6} {'D(G(z))':>8} {'Parzen':>8} {'FID':>8} {'best':>14} "
             f"{'classes':>7}  health"]
    for r in result["seeds"]:
        best = "-" if r["best_monitor"] is None else f"{r['best_monitor']:.2f} (ep {r['best_epoch']})"
        lines.append(f"{r['seed']:>5} {r['epochs']:>6} {cell(r['d_real']):>6} {cell(r['d_fake']):>8} "
                     f"{cell(r['parzen_monitor']):>8} {cell(r['fid_monitor']):>8} {best:>14} "
                     f"{cell(r['classes_covered']):>7}  {r['verdict'] or '-'}")
    for key, groups in result["summary"].items():
        parts = [f"{name} ({g['n']}): {g['mean']:.3f} +- {g['std']:.3f}" for name, g in groups.items() if g["n"]]
        lines.append(f"{key}: " + "; ".join(parts))
    for seed, why in result["failed"].items():
        lines.append(f"seed {seed} failed: {why}")
    lines.append(f"table: {result['out']}/sweep.json" + (f"; report: {result['report']}" if result["report"] else ""))
    return "\n".join(lines)
