"""FID, KID and precision/recall/density/coverage against closed forms, brute force and known behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch

from gankit.errors import ConfigError
from gankit.metrics import distances


def _psd(d: int, gen: torch.Generator) -> torch.Tensor:
    a = torch.randn(d, d, generator=gen, dtype=torch.float64)
    return a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64)


def test_trace_of_the_matrix_square_root_matches_scipy_in_float64():
    gen = torch.Generator().manual_seed(0)
    for d in (2, 16, 64):
        s1, s2 = _psd(d, gen), _psd(d, gen)
        reference = np.trace(scipy.linalg.sqrtm(s1.numpy() @ s2.numpy())).real
        assert distances.trace_sqrt_product(s1, s2) == pytest.approx(reference, rel=1e-9)


def test_frechet_distance_of_gaussians_against_the_formula():
    gen = torch.Generator().manual_seed(1)
    mu1, mu2 = torch.randn(5, generator=gen, dtype=torch.float64), torch.randn(5, generator=gen, dtype=torch.float64)
    v1, v2 = torch.rand(5, generator=gen, dtype=torch.float64) + 0.5, torch.rand(5, generator=gen,
                                                                                  dtype=torch.float64) + 0.5
    # diagonal covariances commute: tr(S1 + S2 - 2 sqrt(S1 S2)) = sum (sqrt v1 - sqrt v2)^2
    expected = float((mu1 - mu2).square().sum() + (v1.sqrt() - v2.sqrt()).square().sum())
    assert distances.frechet_distance(mu1, torch.diag(v1), mu2, torch.diag(v2)) == pytest.approx(expected, rel=1e-12)
    s1, s2 = _psd(5, gen), _psd(5, gen)
    general = float((mu1 - mu2).square().sum() + s1.trace() + s2.trace()) - 2 * np.trace(
        scipy.linalg.sqrtm(s1.numpy() @ s2.numpy())).real
    assert distances.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(general, rel=1e-9)


def test_fid_of_samples_converges_to_the_gaussians_distance():
    """FID of 20,000 draws from N(0, I) and N(m, 4 I) in 4-D: 4 m^2 + 4 (2 - 1)^2, within sampling error."""
    gen = torch.Generator().manual_seed(2)
    a = torch.randn(20000, 4, generator=gen, dtype=torch.float64)
    b = 0.5 + 2 * torch.randn(20000, 4, generator=gen, dtype=torch.float64)
    assert distances.fid(a, b) == pytest.approx(4 * 0.25 + 4 * 1.0, abs=0.1)
    assert abs(distances.fid(a, a)) < 1e-8  # a set against itself


def test_fid_interval_holds_the_value_and_narrows_with_more_samples():
    gen = torch.Generator().manual_seed(3)
    real = torch.randn(4000, 8, generator=gen, dtype=torch.float64)
    widths = []
    for n in (500, 4000):
        fake = 0.3 + torch.randn(n, 8, generator=gen, dtype=torch.float64)
        fid, low, high = distances.fid_bootstrap(fake, real, n_boot=40)
        assert fid == pytest.approx(distances.fid(fake, real), rel=1e-12) and low <= fid <= high
        widths.append(high - low)
    assert widths[1] < widths[0] / 2  # 8x the samples: about 1/sqrt(8) the width


def test_fid_from_centred_features_equals_the_covariance_form_with_fewer_or_more_samples_than_dimensions():
    """The bootstrap's n x n route (n < d) and d x d route against frechet_distance of the fitted Gaussians (below
    n = d the d x d form holds d - n + 1 zero eigenvalues whose rounding errors, square-rooted, reach ~1e-8)."""
    gen = torch.Generator().manual_seed(4)
    real = torch.randn(300, 40, generator=gen, dtype=torch.float64) @ torch.randn(40, 40, generator=gen,
                                                                                   dtype=torch.float64) / 5
    mu_r, s_r = distances.gaussian_stats(real)
    for n in (12, 39, 41, 500):
        fake = 0.2 + 1.3 * torch.randn(n, 40, generator=gen, dtype=torch.float64)
        expected = distances.frechet_distance(*distances.gaussian_stats(fake), mu_r, s_r)
        assert distances.frechet_to_stats(fake, mu_r, s_r, distances.psd_sqrt(s_r)) == pytest.approx(expected, rel=1e-7)


def _v_statistic(x: torch.Tensor, y: torch.Tensor) -> float:
    """The biased MMD^2 (diagonals kept), to show the test below tells the two apart."""
    k = distances._poly_kernel
    return float(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())


def test_kid_is_unbiased_between_sets_from_one_distribution():
    """KID of disjoint halves of 20 independent Gaussian samples: the mean over the 20 is within 3.5
    standard errors (across the 20) of 0. Measured over 5 groups of 20 seeds: |mean / SE| 0.10 to 1.45.
    The biased V-statistic on the same data is positive by far more (about 30 SEs)."""
    kids, biased = [], []
    for seed in range(20):
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(1000, 16, generator=gen, dtype=torch.float64)
        kids.append(distances.kid(x[:500], x[500:], subsets=20, subset_size=200, seed=seed)[0])
        biased.append(_v_statistic(x[:200], x[500:700]))
    for values, unbiased in ((torch.tensor(kids), True), (torch.tensor(biased), False)):
        t = float(values.mean() / (values.std() / math.sqrt(len(values))))
        assert (abs(t) < 3.5) == unbiased, t
    shifted_mean, shifted_se = distances.kid(x[:500] + 0.5, x[500:], subsets=50, subset_size=200)
    assert shifted_mean > 10 * shifted_se


def _brute_prdc(fake: np.ndarray, real: np.ndarray, k: int) -> dict[str, float]:
    def radii(x):
        return np.array([sorted(np.linalg.norm(x - p, axis=1))[k] for p in x])

    rr, rf = radii(real), radii(fake)
    d = np.linalg.norm(fake[:, None] - real[None], axis=2)
    return {"precision": float(np.mean([(d[i] <= rr).any() for i in range(len(fake))])),
            "recall": float(np.mean([(d[:, j] <= rf).any() for j in range(len(real))])),
            "density": float(sum((d[i] <= rr).sum() for i in range(len(fake))) / (k * len(fake))),
            "coverage": float(np.mean([d[:, j].min() <= rr[j] for j in range(len(real))]))}


def test_prdc_against_a_brute_force_computation():
    gen = torch.Generator().manual_seed(4)
    real = torch.randn(120, 3, generator=gen, dtype=torch.float64)
    fake = 0.4 + 1.3 * torch.randn(90, 3, generator=gen, dtype=torch.float64)
    got = distances.prdc(fake, real, k=3, chunk=17)  # small chunks: the chunked paths are exercised
    expected = _brute_prdc(fake.numpy(), real.numpy(), 3)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=1e-12), name
    assert got["precision_se"] == pytest.approx(math.sqrt(got["precision"] * (1 - got["precision"]) / 89), rel=1e-9)


def _mixture(n: int, classes: list[int], gen: torch.Generator) -> torch.Tensor:
    centres = 6.0 * torch.eye(10, dtype=torch.float64)
    labels = torch.tensor(classes)[torch.randint(len(classes), (n,), generator=gen)]
    return centres[labels] + torch.randn(n, 10, generator=gen, dtype=torch.float64)


def test_recall_and_coverage_fall_as_classes_are_dropped_while_precision_stays():
    """A 10-class mixture against samples of 10, 6 and 3 of its classes. Over seeds 0-9: recall 0.83-0.86,
    0.49-0.53, 0.24-0.27 (the share of classes kept, times recall at 10 classes, within 0.03); coverage
    alike; precision 0.82-0.87 throughout."""
    gen = torch.Generator().manual_seed(5)
    real = _mixture(2000, list(range(10)), gen)
    rows = {c: distances.prdc(_mixture(2000, list(range(c)), gen), real) for c in (10, 6, 3)}
    for c in (6, 3):
        assert rows[c]["recall"] / rows[10]["recall"] == pytest.approx(c / 10, abs=0.08)
        assert rows[c]["coverage"] / rows[10]["coverage"] == pytest.approx(c / 10, abs=0.08)
    assert min(r["precision"] for r in rows.values()) > 0.78


def test_precision_density_and_fid_move_as_noise_is_added():
    """Noise of sd 0, 0.5, 1 on samples of the same mixture. Over seeds 0-9: precision 0.83-0.85, 0.71-0.74,
    0.40-0.45; density 0.98-1.07, 0.70-0.74, 0.28-0.32: the steps are many times the spread."""
    gen = torch.Generator().manual_seed(6)
    real = _mixture(2000, list(range(10)), gen)
    clean = _mixture(2000, list(range(10)), gen)
    noisy = [clean + s * torch.randn(clean.shape, generator=gen, dtype=torch.float64) for s in (0.0, 0.5, 1.0)]
    rows = [distances.prdc(x, real) for x in noisy]
    assert rows[0]["precision"] > rows[1]["precision"] + 0.05 > rows[2]["precision"] + 0.1
    assert rows[0]["density"] > rows[1]["density"] + 0.1 > rows[2]["density"] + 0.2
    fids = [distances.fid(x, real) for x in noisy]
    assert fids[0] < fids[1] < fids[2]


def test_too_few_samples_for_k_is_one_sentence():
    with pytest.raises(ConfigError, match="at least 4 samples"):
        distances.prdc(torch.zeros(3, 2), torch.zeros(10, 2), k=3)
