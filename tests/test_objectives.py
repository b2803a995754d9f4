import math

import pytest
import torch

from gankit.errors import ConfigError
from gankit.objectives import d_loss, g_loss, value

LOGITS_R = torch.tensor([2.0, -1.0, 0.5, 3.0], dtype=torch.float64)
LOGITS_F = torch.tensor([-2.0, 0.0, 1.5, -4.0], dtype=torch.float64)


def sig(x):
    return 1 / (1 + math.exp(-x))


def test_value_closed_form():
    expected = sum(math.log(sig(float(v))) for v in LOGITS_R) / 4 + sum(
        math.log(1 - sig(float(v))) for v in LOGITS_F) / 4
    assert float(value(LOGITS_R, LOGITS_F)) == pytest.approx(expected, abs=1e-12)


def test_value_at_half_is_minus_log4():
    zeros = torch.zeros(10)
    assert float(value(zeros, zeros)) == pytest.approx(-math.log(4), abs=1e-7)
    assert float(d_loss(zeros, zeros, 0.5)) == pytest.approx(math.log(2), abs=1e-7)


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_d_loss_is_scaled_bce(scale):
    bce = torch.nn.functional.binary_cross_entropy
    expected = scale * (bce(torch.sigmoid(LOGITS_R), torch.ones(4, dtype=torch.float64))
                        + bce(torch.sigmoid(LOGITS_F), torch.zeros(4, dtype=torch.float64)))
    assert float(d_loss(LOGITS_R, LOGITS_F, scale)) == pytest.approx(float(expected), abs=1e-12)


def test_g_objectives_closed_form_and_gradients():
    lf = LOGITS_F.clone().requires_grad_(True)
    mm = g_loss(lf, "minimax")
    assert float(mm.detach()) == pytest.approx(sum(math.log(1 - sig(float(v))) for v in LOGITS_F) / 4, abs=1e-12)
    (grad,) = torch.autograd.grad(mm, lf)
    torch.testing.assert_close(grad, -torch.sigmoid(LOGITS_F) / 4)
    ns = g_loss(lf, "non-saturating")
    assert float(ns.detach()) == pytest.approx(-sum(math.log(sig(float(v))) for v in LOGITS_F) / 4, abs=1e-12)
    (grad,) = torch.autograd.grad(ns, lf)
    torch.testing.assert_close(grad, -(1 - torch.sigmoid(LOGITS_F)) / 4)


def test_saturation_when_d_rejects_fakes():
    # D(G(z)) = sigmoid(-12) ~ 6e-6: the minimax gradient vanishes, the non-saturating one does not
    lf = torch.full((10,), -12.0, requires_grad=True)
    (g_mm,) = torch.autograd.grad(g_loss(lf, "minimax"), lf)
    (g_ns,) = torch.autograd.grad(g_loss(lf, "non-saturating"), lf)
    assert float(g_mm.abs().max()) < 1e-6 and float(g_ns.abs().min()) > 0.099


def test_losses_finite_at_extreme_logits():
    big = torch.tensor([-200.0, 200.0], requires_grad=True)
    for loss in (d_loss(big, big), g_loss(big, "minimax"), g_loss(big, "non-saturating")):
        (grad,) = torch.autograd.grad(loss, big)
        assert math.isfinite(float(loss.detach())) and torch.isfinite(grad).all()
    assert float(g_loss(torch.tensor([-200.0]), "non-saturating")) == pytest.approx(200.0)


def test_unknown_objective():
    from gankit.errors import ConfigError

    with pytest.raises(ConfigError, match="non-saturating, minimax, hinge"):
        g_loss(LOGITS_F, "earth-mover")


def test_hinge_losses_against_their_formulas():
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-3.0, -0.2, 1.5])
    # D: mean max(0, 1 - real) + mean max(0, 1 + fake) = (0 + 0.5 + 2) / 3 + (0 + 0.8 + 2.5) / 3
    assert float(d_loss(real, fake, 1.0, "hinge")) == pytest.approx(2.5 / 3 + 3.3 / 3)
    assert float(d_loss(real, fake, 0.5, "hinge")) == pytest.approx(0.5 * (2.5 / 3 + 3.3 / 3))
    assert float(g_loss(fake, "hinge")) == pytest.approx(-(-3.0 - 0.2 + 1.5) / 3)
    with pytest.raises(ConfigError, match="cross-entropy, hinge"):
        d_loss(real, fake, 1.0, "least-square")


def test_wasserstein_least_squares_and_relativistic_losses_at_known_logits():
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-3.0, -0.2, 1.5])
    # WGAN critic: mean fake - mean real = (-1.7 / 3) - (1.5 / 3); G: -mean fake
    assert float(d_loss(real, fake, 1.0, "wasserstein")) == pytest.approx(-1.7 / 3 - 1.5 / 3)
    assert float(g_loss(fake, "wasserstein")) == pytest.approx(1.7 / 3)
    # LSGAN (a, b, c = 0, 1, 1): D 0.5 * (mean (r - 1)^2 + mean f^2), G 0.5 * mean (f - 1)^2
    d_ls = 0.5 * ((1.0 + 0.25 + 4.0) / 3 + (9.0 + 0.04 + 2.25) / 3)
    assert float(d_loss(real, fake, 0.5, "least-squares")) == pytest.approx(d_ls)
    assert float(g_loss(fake, "least-squares")) == pytest.approx(0.5 * (16.0 + 1.44 + 0.25) / 3)
    # RpGAN pairs real i with fake i: D mean softplus(f - r), G mean softplus(r - f)
    sp = lambda t: math.log1p(math.exp(t))
    pairs = [(2.0, -3.0), (0.5, -0.2), (-1.0, 1.5)]
    assert float(d_loss(real, fake, 1.0, "relativistic")) == pytest.approx(sum(sp(f - r) for r, f in pairs) / 3)
    assert float(g_loss(fake, "relativistic", real)) == pytest.approx(sum(sp(r - f) for r, f in pairs) / 3)
    # equal logits: neither side knows which is real, log 2 each; D's gradient moves real up and fake down
    zeros = torch.zeros(4, requires_grad=True)
    ones = torch.zeros(4, requires_grad=True)
    loss = d_loss(ones, zeros, 1.0, "relativistic")
    assert float(loss.detach()) == pytest.approx(math.log(2))
    g_real, g_fake = torch.autograd.grad(loss, (ones, zeros))
    assert torch.allclose(g_real, torch.full((4,), -0.125)) and torch.allclose(g_fake, torch.full((4,), 0.125))
    with pytest.raises(ValueError, match="real_logits"):
        g_loss(fake, "relativistic")
