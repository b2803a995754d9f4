import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from gankit.metrics.parzen import SIGMA_GRID, parzen_evaluate, parzen_log_likelihoods


def direct(x: np.ndarray, mu: np.ndarray, sigma: float) -> np.ndarray:
    """The textbook formula with explicit differences, in float64."""
    diff = x[:, None, :] - mu[None, :, :]
    a = -(diff**2).sum(-1) / (2 * sigma**2)
    d = x.shape[1]
    return logsumexp(a, axis=1) - math.log(len(mu)) - d * math.log(sigma * math.sqrt(2 * math.pi))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    mu = rng.random((300, 784)) * (rng.random((300, 784)) < 0.2)  # MNIST-like: mostly dark pixels
    x = rng.random((70, 784)) * (rng.random((70, 784)) < 0.2)
    return x, mu


def test_grid_is_the_scripts_default():
    assert SIGMA_GRID[0] == pytest.approx(0.1) and SIGMA_GRID[-1] == pytest.approx(1.0) and len(SIGMA_GRID) == 10
    assert SIGMA_GRID[3] == pytest.approx(0.2154, abs=1e-4)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-8), (torch.float32, 5e-3)])
def test_matches_direct_formula_on_every_sigma(data, dtype, tol):
    x, mu = data
    got = parzen_log_likelihoods(torch.tensor(x), torch.tensor(mu), chunk=16, dtype=dtype).double().numpy()
    for k, s in enumerate(SIGMA_GRID):
        np.testing.assert_allclose(got[k], direct(x, mu, s), rtol=0, atol=tol * max(1.0, 1.0 / s))


def test_small_sigma_far_points_stay_finite(data):
    # at sigma 0.1 every exp() argument is hugely negative; the max-shift keeps the result exact
    x, mu = data
    got = parzen_log_likelihoods(torch.tensor(x[:5]), torch.tensor(mu), [0.1], dtype=torch.float64)[0].numpy()
    np.testing.assert_allclose(got, direct(x[:5], mu, 0.1), atol=1e-8)
    assert np.all(got < -1000)


def test_evaluate_picks_best_validation_sigma_and_population_se(data):
    x, mu = data
    valid, test = torch.tensor(x[:30]), torch.tensor(x[30:])
    r = parzen_evaluate(torch.tensor(mu), valid, test, dtype=torch.float64)
    per_sigma = [direct(x[:30], mu, s).mean() for s in SIGMA_GRID]
    assert r.sigma == pytest.approx(SIGMA_GRID[int(np.argmax(per_sigma))])
    np.testing.assert_allclose(r.valid_ll_per_sigma, per_sigma, atol=1e-8)
    t = direct(x[30:], mu, r.sigma)
    assert r.test_ll == pytest.approx(t.mean(), abs=1e-8)
    assert r.test_se == pytest.approx(t.std(ddof=0) / math.sqrt(40), rel=1e-9)
    assert (r.n_samples, r.n_valid, r.n_test) == (300, 30, 40)


def test_gaussian_data_recovers_true_density():
    # samples from N(0, I) in 2-D: with many samples the Parzen density tends to the smoothed
    # density N(0, (1 + sigma^2) I), evaluated here in closed form at the same points
    gen = torch.Generator().manual_seed(1)
    mu = torch.randn(20000, 2, generator=gen, dtype=torch.float64)
    x = torch.randn(2000, 2, generator=gen, dtype=torch.float64)
    var = 1 + 0.2**2
    smoothed = -(x**2).sum(1) / (2 * var) - math.log(2 * math.pi * var)
    r = parzen_log_likelihoods(x, mu, [0.2], dtype=torch.float64)[0]
    assert float((r - smoothed).mean()) == pytest.approx(0.0, abs=0.01)
    assert float((r - smoothed).abs().median()) < 0.05  # the tails, with few samples near, are noisier


def test_dimension_mismatch():
    with pytest.raises(ValueError, match="784 dimensions"):
        parzen_log_likelihoods(torch.zeros(2, 784), torch.zeros(3, 100))


def test_fold_protocol_aggregates_per_fold_results(data):
    from gankit.metrics.parzen import parzen_folds

    x, mu = data
    xt, mut = torch.tensor(x), torch.tensor(mu)
    folds = [(xt[i * 10 : i * 10 + 5], xt[i * 10 + 5 : i * 10 + 10]) for i in range(5)]
    r = parzen_folds(mut, folds)
    per = []
    for valid, test in folds:
        best = max(SIGMA_GRID, key=lambda s: direct(valid.numpy(), mu, s).mean())
        per.append(direct(test.numpy(), mu, best).mean())
    assert r["test_ll"] == pytest.approx(np.mean(per), abs=0.05)
    assert r["test_se"] == pytest.approx(np.std(per, ddof=1) / math.sqrt(5), rel=0.02)
    assert len(r["folds"]) == 5
