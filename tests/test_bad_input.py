"""Bounded inputs and no tracebacks: small inputs built to hang, exhaust memory or crash get one sentence
fast, and valid but unusual input (file names that are not UTF-8, $ in run names) works."""

from __future__ import annotations

import json
import os
import resource
import shutil

import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.config import load_yaml
from gankit.data import write_idx
from gankit.data.folder import load_folder
from gankit.errors import ConfigError, DataError, shown
from gankit.rundir import RunDir
from tests.conftest import quiet_trainer, small_config, write_fixture


def refused(capsys, argv, expected: str, code: int = 1) -> str:
    got = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert got == code, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and expected in err, err
    return err


def billion_laughs() -> str:
    """About 260 bytes of YAML whose lr, written out, is 9^9 = 387 million strings."""
    text, previous = "lr: [&a [x,x,x,x,x,x,x,x,x]", "a"
    for name in "bcdefgh":
        text += f", &{name} [{','.join(['*' + previous] * 9)}]"
        previous = name
    return text + "]\n"


@pytest.mark.parametrize("text, expected", [
    (billion_laughs(), "is not a valid float"),
    ("lr: -1\nlr: 0.1\n", r"the key 'lr' appears twice \(line 2\)"),
    ("lr: " + "[" * 20000 + "]" * 20000 + "\n", "nested deeper than 50 levels"),
])
def test_yaml_built_to_hang_or_mislead_is_refused(tmp_path, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=expected) as err:
        load_yaml(path)
    assert len(str(err.value)) < 300  # the 387 million strings are never written out


def test_shown_bounds_what_a_message_echoes():
    nested = ["x"] * 9
    for _ in range(8):
        nested = [nested] * 9
    assert len(shown(nested)) <= 60 and len(shown("a" * 10_000)) <= 60 and "..." in shown("a" * 10_000)
    assert shown(0.5) == "0.5"


@pytest.mark.parametrize("argv, expected", [
    (["sweep", "--seeds", "0-99999999999", "--out", "{tmp}/s"], "names more than 10,000 seeds"),
    (["evaluate", "x", "--n-samples", str(10**12)], "must be at most 1,000,000"),
    (["sample", "x", "--seed", str(2**64)], "must be at most 9,223,372,036,854,775,805"),
    (["train", "--z-dim", "100000000", "--out", "{tmp}/z"], "z_dim must be at most 65,536"),
    (["train", "--batch-size", "10000000", "--out", "{tmp}/z"], "batch_size must be at most 65,536"),
    (["train", "--seed", str(2**64), "--out", "{tmp}/z"], "seed must lie in 0.."),
])
def test_limits_are_stated_and_nothing_is_written(tmp_path, capsys, argv, expected):
    code = 2 if argv[0] in ("evaluate", "sample") else 1  # argparse's usage errors exit 2
    got = main([a.format(tmp=tmp_path) for a in argv]) if code == 1 else None
    if code == 2:
        with pytest.raises(SystemExit) as exit_:
            main([a.format(tmp=tmp_path) for a in argv])
        got = exit_.value.code
    err = capsys.readouterr().err
    assert got == code and expected in err and "Traceback" not in err
    assert not (tmp_path / "z").exists() and not (tmp_path / "s").exists()


def test_a_one_by_a_million_png_is_skipped_before_it_is_decoded(tmp_path, monkeypatch):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((40, 30, 3), 60 * i, np.uint8)).save(folder / f"ok{i}.png")
    Image.fromarray(np.zeros((1, 1_000_000, 3), np.uint8)).save(folder / "long.png")
    assert (folder / "long.png").stat().st_size < 10_000
    logs = []
    decode_pixels = Image.Image.load
    decoded = []

    def load(image):
        decoded.append(image.size)
        return decode_pixels(image)

    monkeypatch.setattr(Image.Image, "load", load)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    splits = load_folder(folder, logs.append, 32)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB: under 200 MB more
    assert len(splits.train) + len(splits.valid) == 3
    assert any("more than 10 times longer than wide" in m for m in logs)
    assert (30, 40) in decoded and (1_000_000, 1) not in decoded  # the sliver's pixels were never decoded


def test_the_centre_square_is_cut_before_resizing(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    wide = np.zeros((60, 180, 3), np.uint8)
    wide[:, 60:120] = 200  # the centre square is bright, the sides black (resizing first blurs them in)
    for i in range(2):
        Image.fromarray(wide).save(folder / f"{i}.png")
    images = load_folder(folder, lambda m: None, 32).train.images
    assert int(images.min()) == 200  # no black from the sides leaked into the square


def test_file_and_class_names_that_are_not_utf8_work(tmp_path):
    root = os.fsencode(tmp_path / "data")
    for cls in (b"cats\xff", b"dogs"):
        os.makedirs(root + b"/" + cls)
        for i in range(3):
            name = (root + b"/" + cls + b"/img\xfe%d.png" % i).decode("utf-8", "surrogateescape")
            Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(name)
    splits = load_folder(os.fsdecode(root), lambda m: None, 32)
    assert splits.n_classes == 2 and len(splits.train) + len(splits.valid) == 6


def test_reports_of_runs_named_like_tex_draw(splits, tmp_path, capsys):
    first = tmp_path / "$a^{$"
    quiet_trainer(small_config(epochs=1), first, splits).run()
    second = tmp_path / "$b_$"
    shutil.copytree(first, second)
    assert main(["report", str(first), str(second), "--out", str(tmp_path / "cmp.html")]) == 0
    assert (tmp_path / "cmp.html").stat().st_size > 1000


def test_malformed_metrics_rows_are_skipped_with_a_warning_and_resume_trims_bytes(splits, tmp_path, capsys):
    run = tmp_path / "run"
    quiet_trainer(small_config(epochs=1), run, splits).run()
    metrics = RunDir(run).metrics
    good = metrics.read_bytes()
    bad_rows = [b'{"kind": "train", "epoch": "one", "d_loss": 1}', b'{"kind": "train", "epoch": 9, "d_loss": "x"}',
                b"[1, 2]", b'{"kind": "parzen", "\xff\xfe": 1}']
    metrics.write_bytes(good + b"\n".join(bad_rows) + b"\n")
    assert main(["report", str(run)]) == 0
    err = capsys.readouterr().err
    assert err.count("skipped line") == 3  # the row with invalid UTF-8 in a key is read, the key replaced
    assert len(RunDir(run).rows()) == len(good.splitlines()) + 1
    quiet_trainer(small_config(epochs=2), run, splits).run(resume=True)  # trims: invalid UTF-8 no longer crashes it
    lines = metrics.read_bytes().splitlines()
    assert bad_rows[3] in lines  # kept byte for byte
    rows = [json.loads(line.decode(errors="replace")) for line in lines]
    assert [r["epoch"] for r in rows if r["kind"] == "train"] == [1, 2]


@pytest.mark.parametrize("make, expected", [
    (lambda d: write_idx(d / "train-images-idx3-ubyte", np.zeros((10, 0, 28), np.uint8)), "both at least 1"),
    (lambda d: write_idx(d / "train-images-idx3-ubyte", np.full((1200, 28, 28), 255.0, np.float32)),
     "stored as float32, but gankit reads IDX images as uint8"),
    (lambda d: write_idx(d / "t10k-images-idx3-ubyte", np.zeros((200, 32, 32), np.uint8)),
     "the training images are 28x28 but the test images 32x32"),
])
def test_own_idx_files_of_the_wrong_kind_are_refused(tmp_path, make, expected):
    from gankit.data import load_dataset

    folder = write_fixture(tmp_path / "idx")
    make(folder)
    with pytest.raises(DataError, match=expected):
        load_dataset("idx", folder)


def test_evaluating_a_generator_on_data_of_another_shape_is_one_sentence(capsys):
    from tests.test_sample_quality import REPO

    refused(capsys, ["evaluate", REPO / "docs/models/cgan-mnist-G.safetensors", "--dataset", "toy2d-ring",
                     "--metrics", "parzen"], "draws 1x28x28 images but toy2d-ring holds")
