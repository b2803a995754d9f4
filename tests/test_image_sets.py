"""Any two image sets: folders, arrays, statistics files, their protocol checks, the CLI, and FID/KID against
torchmetrics on the same features."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.cli import main
from gankit.errors import ConfigError, DataError
from gankit.evaluate import compare_sets
from gankit.metrics import distances, image_sets, inception, inception_score
from tests.test_inception import fake_weights, needs_network

PROJECTION = torch.randn(48, 2048, generator=torch.Generator().manual_seed(5), dtype=torch.float64)


def cheap_features(images, shape, device="cpu", **kwargs):
    """A fast stand-in for the network: pooled pixels through a fixed projection (the set logic is under test)."""
    u8 = images if images.dtype == torch.uint8 else inception.to_uint8(images)
    x = u8.double().view(len(u8), -1)[:, None]
    return torch.relu(torch.nn.functional.adaptive_avg_pool1d(x, 48)[:, 0] @ PROJECTION / 255)


@pytest.fixture
def cheap(monkeypatch):
    monkeypatch.setattr(inception, "inception_features", cheap_features)


def pictures(n: int, seed: int, size: int = 8, mode: str = "RGB") -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    shape = (size, size) if mode == "L" else (size, size, len(mode))
    return [Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode) for _ in range(n)]


def folder(path, images):
    path.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        image.save(path / f"{i:03d}.png")
    return path


def test_a_folder_and_arrays_in_every_layout_are_the_same_images(tmp_path):
    images = pictures(5, 0)
    hwc = np.stack([np.asarray(p) for p in images])
    expected = torch.from_numpy(hwc).permute(0, 3, 1, 2)
    np.save(tmp_path / "nhwc.npy", hwc)
    np.save(tmp_path / "nchw-float.npy", hwc.transpose(0, 3, 1, 2).astype(np.float32) / 255)
    np.savez(tmp_path / "named.npz", images=hwc, labels=np.zeros(5))
    np.savez(tmp_path / "single.npz", hwc)
    sources = [folder(tmp_path / "png", images)] + [tmp_path / n for n in ("nhwc.npy", "nchw-float.npy", "named.npz",
                                                                           "single.npz")]
    for source in sources:
        assert torch.equal(image_sets.load_set(source, 0).images, expected), source


def test_grey_folders_stay_grey_and_transparency_goes_onto_white(tmp_path):
    grey = image_sets.load_set(folder(tmp_path / "grey", pictures(3, 1, mode="L")), 0).images
    assert grey.shape == (3, 1, 8, 8)
    clear = Image.new("RGBA", (8, 8), (10, 20, 30, 0))
    rgba = image_sets.load_set(folder(tmp_path / "rgba", [clear, clear]), 0).images
    assert rgba.shape == (2, 3, 8, 8) and int(rgba.min()) == 255


@pytest.mark.parametrize("make, message", [
    (lambda p: folder(p, pictures(2, 0, 8) + pictures(1, 1, 16)), "holds images of 2 sizes"),
    (lambda p: (p.mkdir(), p)[1], "holds no image files"),
    (lambda p: (np.save(p.with_suffix(".npy"), np.full((2, 3, 4, 4), 2.0)), p.with_suffix(".npy"))[1],
     "values outside \\[0, 1\\]"),
    (lambda p: (np.save(p.with_suffix(".npy"), np.zeros((2, 5, 4, 4), np.uint8)), p.with_suffix(".npy"))[1],
     "array of shape"),
    (lambda p: p / "nothing.txt", "is not a folder of images"),
])
def test_bad_sets_get_one_sentence(tmp_path, make, message):
    with pytest.raises(DataError, match=message) as err:
        image_sets.load_set(make(tmp_path / "set"), 0)
    assert "\n" not in str(err.value)


def test_statistics_round_trip_and_protocol_checks(tmp_path, cheap):
    features = cheap_features(image_sets.load_set(folder(tmp_path / "a", pictures(6, 2)), 0).images, (3, 8, 8))
    path = tmp_path / "a.npz"
    written = image_sets.write_statistics(path, features)
    read = image_sets.read_statistics(path)
    assert torch.equal(read.mu, written.mu) and torch.equal(read.sigma, written.sigma) and read.n == 6
    assert read.protocol == image_sets.protocol()
    with np.load(path) as f:  # pytorch-fid's layout: mu and sigma by name
        assert f["mu"].shape == (2048,) and f["sigma"].shape == (2048, 2048)
    np.savez(tmp_path / "torch-resize.npz", mu=read.mu.numpy(), sigma=read.sigma.numpy(),
             preprocessing="torch bilinear to 299 px")
    with pytest.raises(DataError, match="was made with preprocessing 'torch bilinear to 299 px'"):
        image_sets.read_statistics(tmp_path / "torch-resize.npz")
    np.savez(tmp_path / "bare.npz", mu=read.mu.numpy(), sigma=read.sigma.numpy())
    warnings = []
    assert torch.equal(image_sets.read_statistics(tmp_path / "bare.npz", warnings.append).mu, read.mu)
    assert "records no protocol" in warnings[0]
    np.savez(tmp_path / "small.npz", mu=np.zeros(64), sigma=np.eye(64))
    with pytest.raises(DataError, match="not the FID network's 2048 features"):
        image_sets.read_statistics(tmp_path / "small.npz")


def test_fid_against_statistics_equals_fid_against_the_images(tmp_path, cheap):
    a, b = folder(tmp_path / "a", pictures(12, 3)), folder(tmp_path / "b", pictures(10, 4))
    image_sets.write_statistics(tmp_path / "b.npz", image_sets.features(image_sets.load_set(b, 0)))
    image_sets.write_statistics(tmp_path / "a.npz", image_sets.features(image_sets.load_set(a, 0)))
    direct = compare_sets(a, b, ["fid"])[0]
    assert direct["n_samples"] == 12 and direct["n_reference"] == 10 and direct["reference"] == str(b)
    assert direct["preprocessing"] == inception.PREPROCESSING
    fake, real = cheap_features(image_sets.load_set(a, 0).images, ()), cheap_features(image_sets.load_set(b, 0).images,
                                                                                       ())
    assert direct["fid"] == pytest.approx(distances.fid(fake, real), abs=1e-3)
    assert compare_sets(a, tmp_path / "b.npz", ["fid"])[0]["fid"] == pytest.approx(direct["fid"], abs=1e-3)
    both_stats = compare_sets(tmp_path / "a.npz", tmp_path / "b.npz", ["fid"])[0]
    assert both_stats["fid"] == pytest.approx(direct["fid"], abs=1e-3) and "fid_ci95" not in both_stats
    with pytest.raises(ConfigError, match="kid needs the reference' features"):
        compare_sets(a, tmp_path / "b.npz", ["kid"])
    with pytest.raises(ConfigError, match="parzen cannot compare two image sets"):
        compare_sets(a, b, ["parzen"])
    with pytest.raises(ConfigError, match="at least 2 images in each set, got 1"):
        compare_sets(folder(tmp_path / "one", pictures(1, 5)), b, ["fid"])


def test_features_are_cached_by_content_and_protocol(tmp_path, cheap, monkeypatch):
    s = image_sets.load_set(folder(tmp_path / "a", pictures(4, 6)), 0)
    first = image_sets.features(s)
    cached = list((tmp_path / "cache" / "features").iterdir())
    assert len(cached) == 1 and inception.PREPROCESSING_ID in cached[0].name
    monkeypatch.setattr(inception, "inception_features", lambda *a, **k: pytest.fail("embedded twice"))
    assert torch.equal(image_sets.features(s), first)


def test_the_cli_writes_statistics_and_compares_with_them(tmp_path, cheap, capsys):
    a, b = folder(tmp_path / "a", pictures(8, 7)), folder(tmp_path / "b", pictures(8, 8))
    assert main(["stats", str(b), "--out", str(tmp_path / "b.npz")]) == 0
    assert "mu and sigma of 8 images" in capsys.readouterr().out
    assert main(["evaluate", "--samples", str(a), "--reference", str(tmp_path / "b.npz"), "--metrics", "fid"]) == 0
    from_stats = capsys.readouterr().out
    assert main(["evaluate", "--samples", str(a), "--reference", str(b), "--metrics", "fid,kid,prdc"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("FID (InceptionV3") and lines[1].startswith("KID")
    assert from_stats.split()[3] == lines[0].split()[3]  # the same FID either way


@pytest.mark.parametrize("argv, message", [
    (["stats", "{a}", "--out", "{tmp}/stats.txt"], "must end in .npz"),
    (["evaluate", "--samples", "{a}"], "needs --reference"),
    (["evaluate", "{a}", "--samples", "{a}", "--reference", "{a}"], "either as SOURCE or as --samples"),
    (["evaluate", "--samples", "{a}", "--reference", "{a}", "--features", "domain"], "drop --features domain"),
    (["evaluate"], "name what to evaluate"),
    (["evaluate", "--samples", "{a}", "--reference", "{tmp}/missing"], "is not a folder of images"),
])
def test_cli_refusals_are_one_sentence(tmp_path, cheap, capsys, argv, message):
    a = folder(tmp_path / "a", pictures(3, 9))
    assert main([x.format(a=a, tmp=tmp_path) for x in argv]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "stats.txt").exists()


def test_fid_and_kid_equal_torchmetrics_on_the_same_features():
    tm_fid = pytest.importorskip("torchmetrics.image.fid")
    tm_kid = pytest.importorskip("torchmetrics.image.kid")

    class Identity(torch.nn.Module):
        num_features = 16

        def forward(self, x):
            return x

    gen = torch.Generator().manual_seed(11)
    fake = torch.randn(60, 16, generator=gen, dtype=torch.float64) * 1.5 + 0.3
    real = torch.randn(80, 16, generator=gen, dtype=torch.float64) @ torch.randn(16, 16, generator=gen,
                                                                                  dtype=torch.float64) / 4
    fid = tm_fid.FrechetInceptionDistance(feature=Identity())
    fid.update(real, real=True)
    fid.update(fake, real=False)
    assert distances.fid(fake, real) == pytest.approx(float(fid.compute()), rel=1e-6)
    # one subset as large as both sets: each draws a permutation of all of them, and MMD^2 ignores the order
    kid = tm_kid.KernelInceptionDistance(feature=Identity(), subsets=1, subset_size=60)
    kid.update(real[:60], real=True)
    kid.update(fake, real=False)
    tm_mean, _ = kid.compute()
    mean, _ = distances.kid(fake, real[:60], subsets=1, subset_size=60)
    assert mean == pytest.approx(float(tm_mean), rel=1e-6)


@needs_network
def test_two_folders_through_the_real_network_with_the_inception_score(tmp_path, monkeypatch, capsys):
    weights = tmp_path / "fc.pth"
    fake_weights(weights)
    monkeypatch.setattr(inception_score, "SHA256_PREFIX", hashlib.sha256(weights.read_bytes()).hexdigest()[:8])
    a, b = folder(tmp_path / "a", pictures(10, 10, 32)), folder(tmp_path / "b", pictures(6, 11, 32, "L"))
    argv = ["evaluate", "--samples", str(a), "--reference", str(b), "--metrics", "fid,kid,is,prdc",
            "--inception-weights", str(weights)]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["FID", "KID", "precision", "IS"]
    pool = inception.inception_features(image_sets.load_set(a, 0).images, (3, 32, 32))
    expected = inception_score.inception_score(pool @ torch.load(weights)["fc.weight"].double().T)
    assert float(lines[3].split()[1]) == pytest.approx(expected[0], abs=1e-3)


def test_the_inception_score_of_a_generator(tmp_path, cheap, monkeypatch):
    """evaluate --metrics is on a run's G: its samples' logits through the output layer, 10 splits."""
    from gankit.evaluate import evaluate
    from gankit.generator import load_generator
    from tests.test_sample_quality import REPO

    weights = tmp_path / "fc.pth"
    weight = fake_weights(weights)
    monkeypatch.setattr(inception_score, "SHA256_PREFIX", hashlib.sha256(weights.read_bytes()).hexdigest()[:8])
    source = REPO / "docs/models/cgan-mnist-G.safetensors"
    row = evaluate(source, ["is"], "mnist", n_samples=30, seed=2, log_to_run=False, inception_weights=str(weights))[0]
    samples = load_generator(source).sample(30, seed=2)
    expected = inception_score.inception_score(cheap_features(samples, ()) @ weight.double().T)
    assert row["kind"] == "is" and row["is"] == pytest.approx(expected[0], abs=1e-4) and row["splits"] == 10
    assert row["is_sd"] == pytest.approx(expected[1], abs=1e-4)
