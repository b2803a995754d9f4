"""Hash what every preset trains, so that a restructuring of the training core can be shown to change nothing:
each shipped preset (and a few variants: other update orders and objectives, the monitors on real MNIST) trains
2 epochs on small data, and its checkpoints' tensors, metrics rows (timings dropped) and sample PNGs are hashed.

    python benchmarks/preset_hashes.py before.json        # on the old code
    python benchmarks/preset_hashes.py after.json         # on the new: the two files must be equal
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ["GANKIT_DEVICE"] = "cpu"

from tests.conftest import write_fixture  # noqa: E402

from gankit import checkpoint  # noqa: E402
from gankit.config import apply_overrides, from_preset  # noqa: E402
from gankit.data import load_dataset  # noqa: E402
from gankit.data.splits import Split, Splits  # noqa: E402
from gankit.presets import PRESETS  # noqa: E402
from gankit.training import Trainer  # noqa: E402

TIMING = ("wall_s", "images_per_s", "epoch_s")
LEGACY = {"decoder": "G", "encoder": "D", "opt_decoder": "opt_g", "opt_encoder": "opt_d"}  # a VAE's old names
EXTRA = {  # beyond the presets: the other update orders and objectives, and the monitors on real digits
    "toy2d-unrolled": ("toy2d", {"unrolled_steps": 3}),
    "toy2d-k5": ("toy2d", {"d_steps": 5}),
    "paper-hinge-seq": ("paper-mnist", {"d_objective": "hinge", "g_objective": "hinge", "update_order": "sequential"}),
    "paper-minimax": ("paper-mnist", {"g_objective": "minimax", "max_norm": 1.5}),
    "vae-mnist-real": ("vae-mnist", {}),
    "dcgan-mnist-fid-real": ("dcgan-mnist", {"monitor_fid": 200, "best_by": "fid"}),
}


def real_mnist(size: int | None) -> Splits:
    """600 / 300 / 300 real MNIST digits (the FID monitor needs the real domain)."""
    sp = load_dataset("mnist", image_size=size)
    cut = lambda s, n: Split(s.images[:n], s.labels[:n], s.shape, s.transform)  # noqa: E731
    return Splits(cut(sp.train, 600), cut(sp.valid, 300), cut(sp.test, 300), sp.n_classes, sp.class_names)


def digest(run: Path) -> str:
    h = hashlib.sha256()
    for path in sorted((run / "checkpoints").glob("*.safetensors")):
        tensors = checkpoint.read(path)[0]
        named = {LEGACY.get(k.split(".", 1)[0], k.split(".", 1)[0]) + k[len(k.split(".", 1)[0]):]: v
                 for k, v in tensors.items()}
        for key in sorted(named):
            h.update(key.encode())
            h.update(named[key].cpu().numpy().tobytes())
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        for key in TIMING:
            row.pop(key, None)
        if isinstance(row.get("health"), dict):
            row["health"].pop("seconds", None)
    h.update(json.dumps(rows, sort_keys=True).encode())
    for path in sorted((run / "samples").rglob("*.png")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def main() -> None:
    out, only = Path(sys.argv[1]), sys.argv[2:]
    root = Path(tempfile.mkdtemp())
    fixture = write_fixture(root / "idx", n_train=300, n_test=200)
    rng = np.random.default_rng(0)
    for name in ("a", "b", "c"):
        (root / "folder" / name).mkdir(parents=True)
        for i in range(40):
            Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(root / "folder" / name / f"{i}.png")
    names = only or [n for n in PRESETS if "cifar" not in n and "tfd" not in n] + list(EXTRA)
    hashes = {}
    for name in names:
        preset, extra = EXTRA.get(name, (name, {}))
        c = from_preset(preset)
        over, splits = {"epochs": 2, "keep_checkpoints": 100, **extra}, None
        if name.endswith("-real"):
            splits = real_mnist(c.image_size)
        elif c.dataset in ("mnist", "fashion-mnist"):
            over.update(data_dir=str(fixture), dataset="idx")
            if c.monitor_fid:
                over.update(monitor_fid=0, best_by="parzen", monitor_parzen=1000)
        elif c.dataset == "folder":
            over.update(data_dir=str(root / "folder"), image_size=32)
        run = root / "runs" / name
        Trainer(apply_overrides(c, over, "hashes"), run, splits, progress_bar=False, log=lambda m: None).run()
        hashes[name] = digest(run)
        print(name, hashes[name], flush=True)
    out.write_text(json.dumps(hashes, indent=1) + "\n")


if __name__ == "__main__":
    main()
