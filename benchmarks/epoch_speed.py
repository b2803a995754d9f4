"""Time one epoch of paper-mnist: gankit's loop against a plain PyTorch loop of the same model.

Both sides run in this one process, interleaved (plain, gankit, plain, gankit, ...) so that machine
noise hits them alike; the reported figure is the ratio of median epoch times. On CUDA it also times
gankit without its CUDA-graph step, with TF32 and with bf16, and records the GPU-busy floor (the profiler's
device time per iteration, gpu_busy.py). Usage:

    python benchmarks/epoch_speed.py [--device cpu|cuda] [--repeats 2] [--out FILE]

(default FILE: benchmarks/results/epoch_speed.json on the CPU, epoch_speed_cuda.json on CUDA)
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

from gankit.config import apply_overrides, from_preset
from gankit.data import load_dataset
from gankit.nets import ModelSpec, build_models
from gankit.optim import learning_rate, momentum
from gankit.training import Trainer
from gpu_busy import busy_floor, graph_verdict


class Maxout(torch.nn.Module):
    def __init__(self, pieces: int) -> None:
        super().__init__()
        self.pieces = pieces

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], -1, self.pieces).max(-1).values


def plain_models(x: torch.Tensor, seed: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The paper's G and D written the usual way (nn.Sequential, nn.Dropout), with gankit's initial weights."""
    nn = torch.nn
    G = nn.Sequential(nn.Linear(100, 1200), nn.ReLU(), nn.Linear(1200, 1200), nn.ReLU(),
                      nn.Linear(1200, 784), nn.Sigmoid())
    D = nn.Sequential(nn.Dropout(0.2), nn.Linear(784, 1200), Maxout(5), nn.Dropout(0.5),
                      nn.Linear(240, 1200), Maxout(5), nn.Dropout(0.5), nn.Linear(240, 1), nn.Sigmoid(),
                      nn.Flatten(0))
    g_ref, d_ref = build_models("paper-mnist", ModelSpec(100, (1, 28, 28)), x.mean(0), seed)
    with torch.no_grad():
        for mine, ref in ((G, g_ref), (D, d_ref)):
            for p, q in zip(mine.parameters(), ref.parameters(), strict=True):
                p.copy_(q)
    return G, D


def plain_epoch(splits, seed: int = 0, device: str = "cpu") -> float:
    """What a user would write: DataLoader, each batch moved to the device, D then G, BCE on probabilities,
    .item() every step."""
    torch.manual_seed(seed)
    x = splits.train.float()
    G, D = (net.to(device) for net in plain_models(x, seed))
    loader = DataLoader(TensorDataset(x), batch_size=100, shuffle=True, drop_last=True)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1, momentum=0.5)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1, momentum=0.5)
    bce = torch.nn.BCELoss()
    ones, zeros = torch.ones(100, device=device), torch.zeros(100, device=device)
    log = []
    synchronize(device)
    start = time.perf_counter()
    for step, (real,) in enumerate(loader):
        real = real.to(device)
        lr = learning_rate(step, 0.1, 1.000004, 1e-6)
        for opt in (opt_d, opt_g):
            for group in opt.param_groups:
                group["lr"], group["momentum"] = lr, momentum(1, 0.5, 0.7, 250)
        z = (torch.rand(100, 100, device=device) * 2 - 1) * math.sqrt(3)
        fake = G(z)
        opt_d.zero_grad()
        loss_d = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = bce(D(fake), ones)
        loss_g.backward()
        opt_g.step()
        log.append((loss_d.item(), loss_g.item()))
    synchronize(device)
    return time.perf_counter() - start


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


GRAPH_USED: dict[str, bool | str] = {}  # per side: True if the CUDA-graph step trained it, else why not


def gankit_epoch(splits, **overrides) -> float:
    """One epoch of gankit's Trainer; the time is the loop's own (no sample grid or checkpoint)."""
    config = apply_overrides(from_preset("paper-mnist"), {"epochs": 1, **overrides}, "benchmark")
    with tempfile.TemporaryDirectory() as tmp:
        said: list[str] = []
        trainer = Trainer(config, Path(tmp) / "run", splits, progress_bar=False, log=said.append)
        trainer.run()
        GRAPH_USED[json.dumps(overrides, sort_keys=True)] = graph_verdict(trainer, said)
        return trainer.progress.wall_s


def tf32(fn):
    """fn run with TF32 matrix products (then the default again)."""
    def run() -> float:
        torch.backends.cuda.matmul.allow_tf32 = True
        try:
            return fn()
        finally:
            torch.backends.cuda.matmul.allow_tf32 = False
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--bf16", action="store_true", help="also time gankit under bf16 autocast (always on CUDA)")
    parser.add_argument("--out", help="result file (default: benchmarks/results/epoch_speed[_cuda].json)")
    args = parser.parse_args()
    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        parser.error("--device cuda: this machine has no CUDA GPU.")
    out = Path(args.out or f"benchmarks/results/epoch_speed{'_cuda' if cuda else ''}.json")
    splits = load_dataset("mnist")
    dev = {"device": args.device}
    sides = {
        "plain_pytorch_sequential_fp32": lambda: plain_epoch(splits, device=args.device),
        "gankit_simultaneous_fp32": lambda: gankit_epoch(splits, **dev),
        "gankit_sequential_fp32": lambda: gankit_epoch(splits, update_order="sequential", **dev),
    }
    if cuda:
        sides["gankit_simultaneous_fp32_no_cuda_graph"] = lambda: gankit_epoch(splits, cuda_graph=False, **dev)
        sides["gankit_sequential_fp32_no_cuda_graph"] = lambda: gankit_epoch(
            splits, update_order="sequential", cuda_graph=False, **dev)
        sides["gankit_simultaneous_tf32"] = tf32(lambda: gankit_epoch(splits, **dev))
    if args.bf16 or cuda:
        sides["gankit_simultaneous_bf16_autocast"] = lambda: gankit_epoch(splits, precision="bf16", **dev)
    times: dict[str, list[float]] = {name: [] for name in sides}
    for r in range(args.repeats):
        for name, fn in sides.items():
            times[name].append(fn())
            print(f"repeat {r + 1}: {name}: {times[name][-1]:.2f} s", flush=True)
    median = {name: statistics.median(v) for name, v in times.items()}
    base = median["plain_pytorch_sequential_fp32"]
    machine = (torch.cuda.get_device_name() if cuda else
               f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads")
    result = {
        "what": "seconds for one epoch of paper-mnist (500 iterations of batch 100 on the 50k train split)",
        "device": args.device,
        "machine": machine,
        "torch": torch.__version__,
        "repeats": args.repeats,
        "epoch_seconds": times,
        "median_seconds": median,
        "speedup_vs_plain": {name: round(base / t, 3) for name, t in median.items()},
        "cuda_graph_used": GRAPH_USED,
        "notes": {
            "plain_pytorch_sequential_fp32": "the same G and D written with nn.Sequential, nn.Dropout and a "
            "maxout module, same initial weights; DataLoader(TensorDataset, shuffle), D step then G step reusing the "
            "D step's fake batch, nn.BCELoss on sigmoid outputs, torch.optim.SGD momentum, .item() on both "
            "losses every step; fp32",
            "gankit_simultaneous_fp32": "the paper-mnist preset (the official code's simultaneous update); fp32",
            "gankit_sequential_fp32": "Algorithm 1 order (D then G, fresh noise for G); fp32",
            "gankit_simultaneous_bf16_autocast": "bf16 autocast for the matrix products; speed only, "
            "not counted towards the target until training quality is shown unchanged",
            "no_cuda_graph": "gankit's eager step (--cuda-graph false); the others capture each iteration as a "
            "CUDA graph on CUDA (training/captured.py)",
            "gankit_simultaneous_tf32": "TF32 matrix products (torch.backends.cuda.matmul.allow_tf32)",
        },
    }
    if cuda:
        config = apply_overrides(from_preset("paper-mnist"), dev, "benchmark")
        floor = busy_floor(config, splits)
        floor["epoch_seconds"] = floor["gpu_busy_ms_per_iteration"] * 500 / 1000
        result["gpu_busy_floor"] = floor
        result["ratio_to_floor"] = {name: round(t / floor["epoch_seconds"], 2) for name, t in median.items()}
        best = median["gankit_simultaneous_fp32"]
        result["target"] = {"at_most_0.5_s_per_epoch": best <= 0.5, "at_least_4x_plain": base / best >= 4}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["speedup_vs_plain"], indent=2))


if __name__ == "__main__":
    main()
