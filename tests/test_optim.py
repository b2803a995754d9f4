import pytest
import torch

from gankit.optim import MomentumSGD, learning_rate, momentum


@pytest.mark.parametrize("step,expected", [
    (0, 0.1), (1, 0.1 / 1.000004), (500, 0.1 / 1.000004**500), (125_000, 0.1 / 1.000004**125_000),
    (2_880_000, 0.1 / 1.000004**2_880_000), (3_000_000, 1e-6), (10**8, 1e-6),
])
def test_learning_rate_formula(step, expected):
    assert learning_rate(step, 0.1, 1.000004, 1e-6) == pytest.approx(max(expected, 1e-6), rel=1e-12)


def test_learning_rate_milestones_from_paper_notes():
    # paper.md: with 500 updates per epoch, lr ~ 0.0905 at epoch 50 and 0.0607 at epoch 250
    assert learning_rate(50 * 500, 0.1, 1.000004, 1e-6) == pytest.approx(0.0905, abs=5e-5)
    assert learning_rate(250 * 500, 0.1, 1.000004, 1e-6) == pytest.approx(0.0607, abs=5e-5)


@pytest.mark.parametrize("epoch,expected", [
    (1, 0.5), (2, 0.5 + 0.2 / 249), (126, 0.5 + 0.2 * 125 / 249), (250, 0.7), (251, 0.7), (5000, 0.7),
])
def test_momentum_schedule(epoch, expected):
    assert momentum(epoch, 0.5, 0.7, 250) == pytest.approx(expected, abs=1e-15)


def test_classical_momentum_matches_hand_computation():
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    opt = MomentumSGD({"p": p})
    g1 = torch.tensor([0.5, 1.0], dtype=torch.float64)
    g2 = torch.tensor([-1.0, 2.0], dtype=torch.float64)
    opt.step([g1], lr=0.1, mu=0.5)
    v1 = -0.1 * g1
    torch.testing.assert_close(p.data, torch.tensor([1.0, -2.0], dtype=torch.float64) + v1)
    opt.step([g2], lr=0.05, mu=0.6)
    v2 = 0.6 * v1 - 0.05 * g2
    torch.testing.assert_close(p.data, torch.tensor([1.0, -2.0], dtype=torch.float64) + v1 + v2)
    torch.testing.assert_close(opt.state_tensors()["p"], v2)
