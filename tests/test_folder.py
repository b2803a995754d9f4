"""`--dataset folder`: every image under a folder, on images the tests write in the real formats."""

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.cli import main
from gankit.config import TrainConfig
from gankit.data import folder as folder_mod
from gankit.data import load_dataset
from gankit.errors import ConfigError, DataError


def write_mixed_folder(root, n_per_class=6):
    """Two classes of mixed images: grey and RGB, RGBA, PNG/JPEG/BMP/WebP, tiny and large; plus junk."""
    rng = np.random.default_rng(0)
    for k, name in enumerate(("cats", "dogs")):
        (root / name).mkdir(parents=True)
        for i in range(n_per_class):
            size = (int(rng.integers(8, 300)), int(rng.integers(8, 300)))
            size = (size[0], min(max(size[1], size[0] // 10 + 1), size[0] * 10))  # 10:1 at most (longer: skipped)
            value = 40 + 150 * k
            if i % 3 == 0:
                image = Image.new("L", size, value)
            elif i % 3 == 1:
                image = Image.new("RGB", size, (value, value // 2, 255 - value))
            else:
                image = Image.new("RGBA", size, (value, value, value, 255))
            ext = (".png", ".jpg", ".bmp", ".webp")[i % 4]
            if image.mode == "RGBA" and ext in (".jpg", ".bmp"):  # formats without transparency
                ext = ".png"
            image.save(root / name / f"{i}{ext}")
    (root / "cats" / "notes.txt").write_text("not an image")
    (root / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    return root


def test_a_mixed_folder_becomes_labelled_uint8_splits_and_is_cached(tmp_path, monkeypatch):
    root = write_mixed_folder(tmp_path / "pets")
    messages = []
    splits = load_dataset("folder", root, messages.append, image_size=32)
    assert splits.image_shape == (3, 32, 32) and splits.n_classes == 2 and splits.class_names == ["cats", "dogs"]
    assert len(splits.train) + len(splits.valid) == 12 and splits.train.images.dtype == torch.uint8
    assert messages == [f"skipped 1 of 13 files under {root} that are not readable images"]
    # each image is uniform, so its class shows in its mean grey level: cats 40, dogs 190
    for s in (splits.train, splits.valid):
        red = s.images.view(len(s), 3, 32, 32)[:, 0].double().mean((1, 2))
        assert torch.all((red < 100) == (s.labels == 0))
    # the second load reads the cache: decoding is not called again
    monkeypatch.setattr(folder_mod, "decode", lambda *a: (_ for _ in ()).throw(AssertionError("decoded again")))
    again = load_dataset("folder", root, messages.append, image_size=32)
    assert torch.equal(again.train.images, splits.train.images)


def test_resize_keeps_the_centre_and_transparency_becomes_white(tmp_path):
    half = np.zeros((40, 80), np.uint8)
    half[:, 40:] = 255  # left half black, right half white; the centre square is half and half
    Image.fromarray(half).save(tmp_path / "wide.png")
    out = folder_mod.decode(tmp_path / "wide.png", 32)
    assert out.shape == (32, 32) and out[:, :14].max() < 10 and out[:, 18:].min() > 245
    Image.new("RGBA", (20, 20), (255, 0, 0, 0)).save(tmp_path / "clear.png")
    assert (folder_mod.decode(tmp_path / "clear.png", 32) == 255).all()


@pytest.mark.parametrize("case", ["empty", "one", "loose"])
def test_folders_that_cannot_be_trained_on_are_refused(tmp_path, case):
    root = tmp_path / "data"
    root.mkdir()
    if case == "one":
        Image.new("L", (10, 10)).save(root / "a.png")
    if case == "loose":
        (root / "a").mkdir()
        Image.new("L", (10, 10)).save(root / "a" / "x.png")
        Image.new("L", (10, 10)).save(root / "y.png")
    with pytest.raises(DataError, match={"empty": "no image files", "one": "at least 2", "loose": "sub-folder"}[case]):
        load_dataset("folder", root, image_size=32)


def test_bad_sizes_and_conditional_models_on_unlabelled_folders_are_one_line_errors(tmp_path, capsys):
    with pytest.raises(ConfigError, match="image_size 48 is not supported"):
        TrainConfig(dataset="folder", image_size=48).validate()
    root = tmp_path / "plain"
    root.mkdir()
    for i in range(10):
        Image.new("L", (16, 16), i * 20).save(root / f"{i}.png")
    code = main(["train", "--preset", "cgan-mnist", "--dataset", "folder", "--data-dir", str(root),
                 "--image-size", "32", "--out", str(tmp_path / "r"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and "is conditional and needs labelled data" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(DataError, match="not at 64 px"):
        _mnist_like(tmp_path, 64)


def _mnist_like(tmp_path, size):
    from tests.conftest import write_fixture

    return load_dataset("idx", write_fixture(tmp_path / "fx"), image_size=size)


def test_mnist_style_data_at_32_px_is_framed_exactly(tmp_path):
    plain, framed = _mnist_like(tmp_path, None), _mnist_like(tmp_path, 32)
    assert framed.image_shape == (1, 32, 32)
    inner = framed.train.images.view(-1, 32, 32)
    assert torch.equal(inner[:, 2:30, 2:30].reshape(len(inner), -1), plain.train.images)
    assert inner[:, :2].sum() == 0 and inner[:, :, 30:].sum() == 0


def test_train_on_a_folder_with_dcgan_samples_and_resumes(tmp_path, capsys):
    root = write_mixed_folder(tmp_path / "pets", n_per_class=20)
    run = tmp_path / "run"
    argv = ["train", "--preset", "dcgan-folder", "--data-dir", str(root), "--image-size", "32", "--batch-size", "8",
            "--epochs", "1", "--out", str(run), "--no-progress"]
    assert main(argv) == 0, capsys.readouterr().err
    assert (run / "samples" / "epoch-0001.png").exists()
    with Image.open(run / "samples" / "epoch-0001.png") as grid:
        assert grid.mode == "RGB"
    assert main(["train", "--resume", str(run), "--epochs", "2", "--no-progress"]) == 0
    assert main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (4, 3, 32, 32)
