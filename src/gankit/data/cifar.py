"""CIFAR-10 in its standard python format (cifar-10-batches-py), read without trusting pickle.

The batches are pickles; gankit unpickles them with an allow-list that admits only plain
containers and numpy arrays, so a tampered file cannot run code.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import torch

from gankit.errors import DataError

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"), ("_codecs", "encode"),
}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: D102 - pickle hook
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a CIFAR batch")


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 3072) in R,G,B planes of 32x32, labels int64 (N,)) from one batch file."""
    try:
        with open(path, "rb") as handle:
            batch = _SafeUnpickler(io.BytesIO(handle.read()), encoding="bytes").load()
    except FileNotFoundError:
        raise DataError(f"{path} is missing; CIFAR-10 needs data_batch_1..5 and test_batch "
                        "from cifar-10-python.tar.gz.") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise DataError(f"{path} is not a valid CIFAR-10 batch ({exc}); replace it.") from None
    if not isinstance(batch, dict):
        raise DataError(f"{path} is not a valid CIFAR-10 batch (no dictionary inside); replace it.")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DataError(f"{path} has no uint8 (N, 3072) 'data' array; replace it.")
    if labels is None or len(labels) != len(data):
        raise DataError(f"{path} has {len(data)} images but its labels do not match; replace it.")
    return data, np.asarray(labels, dtype=np.int64)


def find_root(data_dir: str | Path) -> Path:
    root = Path(data_dir)
    for candidate in (root, root / "cifar-10-batches-py", root / "cifar10" / "cifar-10-batches-py"):
        if (candidate / "data_batch_1").exists():
            return candidate
    raise DataError(
        f"no CIFAR-10 batches under {root}; unpack cifar-10-python.tar.gz "
        "(https://www.cs.toronto.edu/~kriz/cifar.html) and pass --data-dir to it."
    )


def load_cifar10(data_dir: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    root = find_root(data_dir)
    parts = [read_batch(root / f"data_batch_{i}") for i in range(1, 6)]
    train = np.concatenate([p[0] for p in parts])
    train_labels = np.concatenate([p[1] for p in parts])
    test, test_labels = read_batch(root / "test_batch")
    return train, train_labels, test, test_labels


def global_contrast_normalize(x: torch.Tensor, scale: float = 55.0) -> torch.Tensor:
    """pylearn2's GCN: subtract each image's mean, rescale it to L2 norm `scale` (sqrt_bias 0).

    Computed in float64; norms below pylearn2's min_divisor 1e-8 are left undivided.
    """
    x64 = x.double()
    x64 = x64 - x64.mean(1, keepdim=True)
    norm = x64.norm(dim=1, keepdim=True)
    return (scale * x64 / torch.where(norm < 1e-8, torch.ones_like(norm), norm)).to(x.dtype)
