"""Time DCGAN training at 32 px: gankit's loop against pytorch/examples' DCGAN recipe written plainly.

Both train the same layer sizes (ngf = ndf = 64, 1 channel, z 100, batch 128, Adam 2e-4 / 0.5) on the same
uint8 images for the same number of iterations, interleaved in this one process (plain, gankit fp32,
gankit bf16, plain, ...) so machine noise hits them alike; the figure is the ratio of median images per
second. The plain side is what a user writes from the example: a DataLoader over float tensors,
D on real then on fake.detach(), G through D again, BCE on probabilities, .item() every step.
gankit: the images stay uint8 on the device, batches by permutation, losses on logits, one host
synchronisation per epoch, and on CUDA each iteration captured as a CUDA graph (also timed without it,
and against the GPU-busy floor of gpu_busy.py). Usage:

    python benchmarks/dcgan_speed.py [--device cpu|cuda] [--images 3840] [--repeats 3] [--out FILE]

(default FILE: benchmarks/results/dcgan_speed.json on the CPU, dcgan_speed_cuda.json on CUDA; on CUDA use
--images 38400 or more, so that a pass outlasts the capture)
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

from gankit.config import apply_overrides, from_preset
from gankit.data import Split, Splits
from gankit.nets import ModelSpec, build_models
from gankit.training import Trainer
from gpu_busy import busy_floor, graph_verdict

BATCH = 128


def data(n: int) -> Splits:
    gen = torch.Generator().manual_seed(0)
    images = (torch.rand(n, 1024, generator=gen) * 255).to(torch.uint8)
    labels = torch.zeros(n, dtype=torch.long)
    split = Split(images, labels, (1, 32, 32))
    return Splits(split, Split(images[:256], labels[:256], (1, 32, 32)), split)


def plain_run(splits: Splits, device: str = "cpu") -> float:
    """images per second of the example's loop for one pass over the images."""
    torch.manual_seed(0)
    g, d = (net.to(device) for net in build_models("dcgan", ModelSpec(100, (1, 32, 32)), seed=0))
    x = splits.train.float()
    loader = DataLoader(TensorDataset(x), batch_size=BATCH, shuffle=True, drop_last=True)
    bce = torch.nn.BCELoss()
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    synchronize(device)
    start, seen = time.perf_counter(), 0
    for (real,) in loader:
        real = real.to(device)
        ones, zeros = torch.ones(len(real), device=device), torch.zeros(len(real), device=device)
        d.zero_grad()
        err_real = bce(torch.sigmoid(d(real)), ones)
        err_real.backward()
        fake = g(torch.randn(len(real), 100, device=device))
        err_fake = bce(torch.sigmoid(d(fake.detach())), zeros)
        err_fake.backward()
        opt_d.step()
        g.zero_grad()
        err_g = bce(torch.sigmoid(d(fake)), ones)
        err_g.backward()
        opt_g.step()
        _ = (err_real + err_fake).item(), err_g.item()  # the example prints these every step
        seen += len(real)
    synchronize(device)
    return seen / (time.perf_counter() - start)


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def gankit_config(precision: str, order: str, device: str = "cpu", cuda_graph: bool = True):
    return apply_overrides(from_preset("dcgan-mnist"), {
        "dataset": "idx", "epochs": 1, "precision": precision, "update_order": order, "monitor_parzen": 0,
        "health": "off", "sample_every": 1000, "checkpoint_every": 1000, "device": device,
        "cuda_graph": cuda_graph}, "benchmark")


GRAPH_USED: dict[str, bool | str] = {}  # per side: True if the CUDA-graph step trained it, else why not


def gankit_run(splits: Splits, precision: str, order: str, layout: torch.memory_format, device: str = "cpu",
               cuda_graph: bool = True) -> float:
    config = gankit_config(precision, order, device, cuda_graph)
    with tempfile.TemporaryDirectory() as tmp:
        said: list[str] = []
        trainer = Trainer(config, Path(tmp) / "run", splits, progress_bar=False, log=said.append)
        for net in (trainer.state.G, trainer.state.D):  # gankit places them channels-last; undo it to compare
            net.to(memory_format=layout)
        trainer.run()
        GRAPH_USED[f"{precision} {order} {layout} cuda_graph={cuda_graph}"] = graph_verdict(trainer, said)
        p = trainer.progress
        return p.step * BATCH / p.wall_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--images", type=int, default=3840, help="images per pass (default 3840: 30 iterations)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", help="result file (default: benchmarks/results/dcgan_speed[_cuda].json)")
    args = parser.parse_args()
    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        parser.error("--device cuda: this machine has no CUDA GPU.")
    out = Path(args.out or f"benchmarks/results/dcgan_speed{'_cuda' if cuda else ''}.json")
    splits = data(args.images)
    last, contiguous = torch.channels_last, torch.contiguous_format
    sides = {"gankit simultaneous fp32": ("fp32", "simultaneous", last, True),
             "gankit sequential fp32": ("fp32", "sequential", last, True),
             "gankit simultaneous fp32 NCHW": ("fp32", "simultaneous", contiguous, True),
             "gankit sequential fp32 NCHW": ("fp32", "sequential", contiguous, True)}
    if cuda:
        sides.update({"gankit sequential fp32 no CUDA graph": ("fp32", "sequential", last, False),
                      "gankit simultaneous bf16": ("bf16", "simultaneous", last, True),
                      "gankit sequential bf16": ("bf16", "sequential", last, True)})
    runs: dict[str, list[float]] = {"plain": [], **{name: [] for name in sides}}
    for _ in range(args.repeats):
        runs["plain"].append(plain_run(splits, args.device))
        for name, (precision, order, layout, graph) in sides.items():
            runs[name].append(gankit_run(splits, precision, order, layout, args.device, graph))
    if not cuda:  # bf16 autocast is 20x slower on this CPU (no bf16 matrix units): once, on a tenth of the images
        tenth = data(max(args.images // 10, BATCH))
        runs["gankit simultaneous bf16"] = [gankit_run(tenth, "bf16", "simultaneous", last)]
        sides["gankit simultaneous bf16"] = ("bf16", "simultaneous", last, True)
    medians = {k: statistics.median(v) for k, v in runs.items()}
    machine = (torch.cuda.get_device_name() if cuda else
               f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads")
    result = {"what": "DCGAN 32 px, 1 channel, ngf = ndf = 64, batch 128, images per second (median)",
              "device": args.device, "machine": f"{machine}, torch {torch.__version__}",
              "note": "simultaneous: one G forward and two D forwards per iteration; sequential (the DCGAN presets' "
                      "order): two G and three D forwards (fresh noise for G's step); the plain recipe: one G and "
                      "three D forwards (it reuses D's fakes for G). Without NCHW: conv weights channels-last, as "
                      "gankit trains; NCHW: the same nets in PyTorch's default layout. bf16: one pass of a tenth.",
              "images_per_pass": args.images, "repeats": args.repeats, "runs": runs, "median": medians,
              "ratio_to_plain": {name: medians[name] / medians["plain"] for name in sides},
              "cuda_graph_used": GRAPH_USED}
    if cuda:
        floor = busy_floor(gankit_config("fp32", "sequential", "cuda"), splits, iterations=50)
        floor["images_per_second"] = BATCH / (floor["gpu_busy_ms_per_iteration"] / 1000)
        result["gpu_busy_floor_sequential_fp32"] = floor
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: round(v, 1) for k, v in medians.items()}, indent=1))
    print("\n".join(f"{name} / plain: {ratio:.2f}x" for name, ratio in result["ratio_to_plain"].items()))


if __name__ == "__main__":
    main()
