"""What torchrun costs and buys on the machine at hand: one `paper-mnist` epoch in one process against
the same epoch in N gloo processes (the global batch of 100 split over them), and the time of one
all-reduce of the paper's gradients (3.73 M floats, 14.9 MB) between N processes.

Each configuration is a real `gankit train` (its epoch time read from the run's metrics.jsonl, so start-up
is not counted), run `--repeats` times interleaved; threads are split so both use every core (one
process with N threads against N processes with one each). On a CPU this measures gloo over loopback;
on a GPU machine run it with --device cuda for NCCL. Usage:

    python benchmarks/ddp_speed.py [--nproc 2] [--repeats 3] [--out benchmarks/results/ddp_speed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist

PARAMS = 3_735_425  # paper-mnist: G 2,503,984 + D 1,231,441


def epoch_seconds(nproc: int, device: str, threads: int, out: Path) -> float:
    launcher = [sys.executable] if nproc == 1 else \
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "GANKIT_DEVICE": device}
    subprocess.run([*launcher, "-m", "gankit", "train", "--preset", "paper-mnist", "--epochs", "1", "--no-progress",
                    "--monitor-parzen", "0", "--health", "off", "--out", str(out)], env=env, check=True,
                   capture_output=True)
    row = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
    return row["epoch_s"]


def _allreduce_worker() -> None:
    """Run under torchrun: time all-reduces of a PARAMS-float buffer; rank 0 prints the median."""
    dist.init_process_group("gloo")
    x = torch.randn(PARAMS)
    times = []
    for _ in range(12):
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(x)
        times.append(time.perf_counter() - start)
    if dist.get_rank() == 0:
        print(json.dumps({"allreduce_ms": round(1000 * statistics.median(times[2:]), 2)}))
    dist.destroy_process_group()


def allreduce_ms(nproc: int) -> float:
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
                             str(nproc), __file__, "--allreduce-worker"], env={**os.environ, "OMP_NUM_THREADS": "1"},
                            check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])["allreduce_ms"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="benchmarks/results/ddp_speed.json")
    parser.add_argument("--allreduce-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.allreduce_worker:
        _allreduce_worker()
        return
    one, many = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            one.append(epoch_seconds(1, args.device, args.nproc, Path(tmp) / f"one-{r}"))
            many.append(epoch_seconds(args.nproc, args.device, 1, Path(tmp) / f"many-{r}"))
    ms = allreduce_ms(args.nproc)
    result = {
        "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(), "torch": torch.__version__,
        "device": args.device, "preset": "paper-mnist", "iterations": 500, "global_batch": 100,
        "one_process_epoch_s": one, f"{args.nproc}_processes_epoch_s": many,
        "speedup": round(statistics.median(one) / statistics.median(many), 3),
        "allreduce_ms_per_update": ms, "allreduce_mb": round(PARAMS * 4 / 1e6, 1),
        "allreduce_share_of_epoch": round(500 * ms / 1000 / statistics.median(many), 3),
    }
    print(json.dumps(result, indent=1))
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
