"""Shared fixtures: small IDX datasets in the real MNIST file format, written per session."""

from __future__ import annotations

import numpy as np
import pytest

import gankit.metrics.classifier as clf
from gankit.data import load_dataset, write_idx
from gankit.errors import DataError


def make_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n 28x28 uint8 images of bright bars at random places, with the bar's row band as label."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    for i in range(n):
        top = 2 + 2 * labels[i]
        left = rng.integers(2, 14)
        images[i, top : top + 4, left : left + 12] = rng.integers(180, 256)
    return images, labels


def write_fixture(folder, n_train: int = 1200, n_test: int = 200, gz: bool = False, seed: int = 1):
    folder.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    train, train_labels = make_images(n_train, seed)
    test, test_labels = make_images(n_test, seed + 100)
    write_idx(folder / f"train-images-idx3-ubyte{ext}", train)
    write_idx(folder / f"train-labels-idx1-ubyte{ext}", train_labels)
    write_idx(folder / f"t10k-images-idx3-ubyte{ext}", test)
    write_idx(folder / f"t10k-labels-idx1-ubyte{ext}", test_labels)
    return folder


@pytest.fixture(scope="session")
def fixture_dir(tmp_path_factory):
    return write_fixture(tmp_path_factory.mktemp("fixture"))


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Point the data cache at a temporary folder and turn downloads off unless a test turns them on."""
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GANKIT_OFFLINE", "1")
    monkeypatch.delenv("GANKIT_DATA", raising=False)


@pytest.fixture(scope="session", autouse=True)
def pin_cpu():
    """Tests run on the CPU whatever the machine has, module-scoped fixtures included (device 'auto' would
    pick a GPU and meet the CPU tensors the tests build); test_cuda.py lifts the pin (unpin_cuda_tests)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANKIT_DEVICE", "cpu")
        yield


@pytest.fixture(autouse=True)
def unpin_cuda_tests(request, monkeypatch):
    """The CUDA tests see the machine as a user would: device 'auto' picks the GPU."""
    if request.module.__name__.endswith("test_cuda"):
        monkeypatch.delenv("GANKIT_DEVICE", raising=False)


@pytest.fixture(scope="session")
def mnist_classifier(tmp_path_factory):
    """The real classifier trained once per test session into a temporary cache (about a minute)."""
    mp = pytest.MonkeyPatch()
    mp.delenv("GANKIT_CACHE", raising=False)
    mp.delenv("GANKIT_OFFLINE", raising=False)
    try:
        splits = load_dataset("mnist", log=lambda m: None)
    except DataError:
        pytest.skip("MNIST not reachable on this machine")
    cache = tmp_path_factory.mktemp("classifiers")
    model = clf.load_classifier("mnist", cache_dir=cache, log=lambda m: None)
    mp.undo()
    return model, splits


@pytest.fixture
def real_mnist_cache(mnist_classifier, tmp_path, monkeypatch):
    """A cache folder holding the real MNIST files and the session's classifier, as a user's would."""
    model, _ = mnist_classifier
    monkeypatch.delenv("GANKIT_CACHE")
    mnist_files = clf.cache_root() / "mnist"  # where the fixture's load_dataset left them
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "mnist").symlink_to(mnist_files)
    (cache / "classifiers").symlink_to(model.path.parent)
    monkeypatch.setenv("GANKIT_CACHE", str(cache))
    return cache


def small_config(**overrides):
    """A config for quick runs on the fixture: 1,000 training images at batch 50, 20 iterations per epoch."""
    from gankit.config import TrainConfig, apply_overrides

    base = {"dataset": "idx", "batch_size": 50, "epochs": 2, "grid_size": 16, "seed": 3, "monitor_parzen": 0}
    return apply_overrides(TrainConfig(), {**base, **overrides}, "test")


def quiet_trainer(config, run_dir, splits):
    from gankit.training import Trainer

    return Trainer(config, run_dir, splits, progress_bar=False, log=lambda m: None)


@pytest.fixture(scope="module")
def splits(fixture_dir):
    return load_dataset("idx", fixture_dir)


def as_overrides(flags):
    """gankit train's configuration flags (--batch-size 50 ...) as the configuration fields run_sweep takes."""
    return {name[2:].replace("-", "_"): value for name, value in zip(flags[::2], flags[1::2])}
