"""The GPU-busy floor of a training run: the device time its kernels and copies take per iteration, from
torch.profiler. No removal of launch overhead can make an iteration faster than this; the benchmarks state
their epoch times as a ratio to it (used by epoch_speed.py and dcgan_speed.py with --device cuda)."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from gankit.config import TrainConfig
from gankit.data import Splits
from gankit.training import Trainer


def busy_floor(config: TrainConfig, splits: Splits, warmup: int = 20, iterations: int = 100) -> dict[str, float]:
    """Profile iterations warmup+1 .. warmup+iterations of an eager run of config on CUDA; return the device
    milliseconds and the number of kernels (and copies) per iteration."""
    prof = profile(activities=[ProfilerActivity.CUDA])

    def at_iteration(trainer: Trainer) -> None:
        if trainer.progress.step in (warmup, warmup + iterations):
            torch.cuda.synchronize()
            prof.start() if trainer.progress.step == warmup else prof.stop()

    with tempfile.TemporaryDirectory() as tmp:
        config = dataclasses.replace(config, max_steps=warmup + iterations, epochs=10**6, cuda_graph=False)
        trainer = Trainer(config, Path(tmp) / "run", splits, progress_bar=False, log=lambda m: None)
        trainer.run(on_iteration=at_iteration)
    events = [e for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    device_us = sum(_device_us(e) for e in events)
    return {"gpu_busy_ms_per_iteration": device_us / 1000 / iterations,
            "gpu_events_per_iteration": len(events) / iterations}


def _device_us(event) -> float:
    """An event's device time in microseconds (the attribute's name changed across torch versions)."""
    for name in ("device_time", "cuda_time", "self_device_time_total", "self_cuda_time_total"):
        value = getattr(event, name, None)
        if value is not None:
            return float(value)
    raise AttributeError("this torch's profiler events give no device time")


def graph_verdict(trainer: Trainer, said: list[str]) -> bool | str:
    """True if the CUDA-graph step trained this run, else the Trainer's line saying why not (False without one,
    as on the CPU, where no graph is tried)."""
    return getattr(trainer.step, "graph", None) is not None or " ".join(m for m in said if "graph" in m) or False
