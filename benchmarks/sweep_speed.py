"""Seeds per hour: one `gankit sweep` of S seeds of a preset, one run at a time against P at a time.

Each configuration is a whole `gankit sweep` command (start-up, data loading, training, the monitors:
what a user waits for), timed by the wall clock, the configurations interleaved over --repeats rounds so
that machine noise hits them alike. On the CPU the parallel sweep splits the cores between its runs
(sweep.py), and a third configuration, each of the P runs taking every core, shows what that split buys.
On a GPU (--device cuda) the P runs share the one device. Last, the P runs as threads of one process
(--in-process), each on a CUDA stream of its own on a GPU, so that their kernels can overlap there. The
health monitor is off (its classifier is trained once per machine and would be charged to whichever
configuration ran first). Usage:

    python benchmarks/sweep_speed.py [--device cpu|cuda] [--preset paper-mnist] [--seeds 4] [--epochs 1]
        [--parallel 2] [--repeats 2] [--configs one,parallel,every-core,in-process] [--out FILE]

(default FILE: benchmarks/results/sweep_speed.json on the CPU, sweep_speed_cuda.json on CUDA)
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

from gankit.sweep import available_cores


def one_sweep(preset: str, seeds: int, epochs: int, parallel: int, device: str, threads: int | None,
              in_process: bool, out: Path) -> dict[str, float]:
    """Wall seconds of one sweep, and the mean training seconds per epoch of its runs."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gankit", "sweep", "--preset", preset, "--seeds", f"0-{seeds - 1}",
                    "--epochs", str(epochs), "--parallel", str(parallel), "--device", device, "--health", "off",
                    "--out", str(out), *(["--in-process"] if in_process else [])], env=env, check=True,
                   capture_output=True)
    wall = time.perf_counter() - start
    epoch_s = [json.loads(line)["epoch_s"] for s in range(seeds)
               for line in (out / f"seed-{s}" / "metrics.jsonl").read_text().splitlines()]
    return {"wall_s": wall, "epoch_s": statistics.fmean(epoch_s)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--preset", default="paper-mnist")
    parser.add_argument("--seeds", type=int, default=4, help="seeds per sweep (default 4)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per seed (default 1)")
    parser.add_argument("--parallel", type=int, default=2, help="runs at a time in the parallel sweep (default 2)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default=None)
    parser.add_argument("--configs", default="one,parallel,every-core,in-process",
                        help="which sweeps to time, of one, parallel, every-core (the CPU only), in-process "
                             "(default: all)")
    args = parser.parse_args()
    cores, wanted = available_cores(), set(args.configs.split(","))
    configs = {"one at a time": (1, None, False)}  # the baseline, always
    if "parallel" in wanted:
        configs[f"{args.parallel} at a time"] = (args.parallel, None, False)
    if "every-core" in wanted and args.device == "cpu":  # what splitting the cores buys: each run taking all
        configs[f"{args.parallel} at a time, every core each"] = (args.parallel, cores, False)
    if "in-process" in wanted:
        configs[f"{args.parallel} at a time in one process"] = (args.parallel, None, True)
    times: dict[str, list[dict[str, float]]] = {name: [] for name in configs}
    for _ in range(args.repeats):
        for name, (parallel, threads, in_process) in configs.items():
            with tempfile.TemporaryDirectory() as tmp:
                times[name].append(one_sweep(args.preset, args.seeds, args.epochs, parallel, args.device, threads,
                                             in_process, Path(tmp) / "sweep"))
                print(name, times[name][-1], file=sys.stderr)
    base = statistics.median(t["wall_s"] for t in times["one at a time"])
    rows = {}
    for name, runs in times.items():
        wall = statistics.median(t["wall_s"] for t in runs)
        rows[name] = {"wall_s": [round(t["wall_s"], 1) for t in runs], "median_wall_s": round(wall, 1),
                      "seeds_per_hour": round(args.seeds * 3600 / wall, 1),
                      "throughput_vs_one_at_a_time": round(base / wall, 3),
                      "epoch_s_per_run": round(statistics.median(t["epoch_s"] for t in runs), 2)}
    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or "cpu"
    result = {"benchmark": "seeds per hour: gankit sweep, one run at a time against several",
              "preset": args.preset, "seeds": args.seeds, "epochs_per_seed": args.epochs, "device": device,
              "cores": cores, "torch": torch.__version__, "repeats": args.repeats, "configs": rows}
    out = Path(args.out or f"benchmarks/results/sweep_speed{'_cuda' if args.device.startswith('cuda') else ''}.json")
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(rows, indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
