import math

import numpy as np
import pytest

from gankit.cli import main
from gankit.experiments.theory import (
    LOG4,
    jsd,
    kl,
    normal_pdf,
    optimal_discriminator,
    proposition2_functional,
    proposition2_gaussian,
    random_mixture,
    value,
    virtual_criterion,
)

X = np.linspace(-8, 8, 8001)
DX = float(X[1] - X[0])


def test_equal_densities_give_minus_log4_and_half():
    p = random_mixture(X, np.random.default_rng(0))
    assert virtual_criterion(p, p, DX) == pytest.approx(-LOG4, abs=1e-12)
    assert np.all(optimal_discriminator(p, p) == 0.5)
    assert jsd(p, p, DX) == 0.0


def test_identity_on_many_random_mixtures():
    rng = np.random.default_rng(1)
    for _ in range(300):
        pd, pg = random_mixture(X, rng), random_mixture(X, rng)
        c = virtual_criterion(pd, pg, DX)
        assert c == pytest.approx(-LOG4 + 2 * jsd(pd, pg, DX), abs=1e-6)
        assert -LOG4 - 1e-9 <= c <= 1e-9  # C lies in [-log 4, 0]


def test_kl_matches_gaussian_closed_form():
    m1, s1, m2, s2 = 0.3, 0.7, -0.4, 1.3
    expected = math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
    assert kl(normal_pdf(X, m1, s1), normal_pdf(X, m2, s2), DX) == pytest.approx(expected, abs=1e-9)


def test_disjoint_supports_give_log2_and_zero():
    pd = np.where(np.abs(X + 4) < 1, 0.5, 0.0)
    pg = np.where(np.abs(X - 4) < 1, 0.5, 0.0)
    assert jsd(pd, pg, DX) == pytest.approx(math.log(2), abs=1e-3)
    assert virtual_criterion(pd, pg, DX) == pytest.approx(0.0, abs=1e-12)


def test_d_star_is_not_beaten_by_perturbed_discriminators():
    rng = np.random.default_rng(2)
    pd, pg = random_mixture(X, rng), random_mixture(X, rng)
    d_star = optimal_discriminator(pd, pg)
    v_star = value(d_star, pd, pg, DX)
    assert v_star == pytest.approx(virtual_criterion(pd, pg, DX), abs=1e-9)
    for scale in np.geomspace(1e-5, 0.4, 300):
        d = np.clip(d_star + rng.normal(0, scale, X.shape), 1e-12, 1 - 1e-12)
        assert value(d, pd, pg, DX) < v_star
    # pointwise: a log y + b log(1 - y) peaks at a / (a + b)
    y = np.linspace(0.001, 0.999, 999)
    assert y[np.argmax(0.3 * np.log(y) + 0.7 * np.log(1 - y))] == pytest.approx(0.3, abs=1e-3)


def test_proposition2_gaussian_descends_monotonically_to_the_data():
    pd = normal_pdf(X, 0.5, 0.8)
    trace = proposition2_gaussian(pd, X, mean=-3.0, log_std=math.log(0.4), lr=0.5, steps=200)
    c = np.array(trace.criterion)
    assert c[0] > -0.5 and np.all(np.diff(c) <= 1e-12)
    assert c[-1] == pytest.approx(-LOG4, abs=1e-6)
    mean, std = trace.params[-1]
    assert mean == pytest.approx(0.5, abs=1e-3) and std == pytest.approx(0.8, abs=1e-3)


def test_proposition2_functional_descent_on_a_bimodal_target():
    pd = random_mixture(X, np.random.default_rng(3))
    c = np.array(proposition2_functional(pd, normal_pdf(X, 0.0, 3.0), DX, lr=0.5, steps=100))
    assert np.all(np.diff(c) <= 1e-12) and c[-1] == pytest.approx(-LOG4, abs=1e-6)


def test_theory_command_prints_passing_table(capsys):
    assert main(["theory"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert len(lines) == 9 and all(line.endswith("yes") for line in lines[1:])
    assert "-1.386294" in out
