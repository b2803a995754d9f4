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


@pytest.mark.parametrize("kind", ["momentum", "adam"])
def test_schedule_as_device_tensors_gives_the_numbers_steps(kind):
    """The CUDA-graph step passes lr and momentum as 0-dim tensors it fills in place: the update must be
    the one the same values as numbers give (float64 here, so to 1e-15), and follow the tensor's new value."""
    from gankit.optim import make_optimizer

    gen = torch.Generator().manual_seed(0)
    start = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    grads = [torch.randn(5, 3, generator=gen, dtype=torch.float64) for _ in range(4)]
    schedule = [(0.1, 0.5), (0.05, 0.6), (0.2, 0.7), (0.01, 0.55)]
    params = [torch.nn.Parameter(start.clone()) for _ in range(2)]
    as_numbers, as_tensors = (make_optimizer(kind, {"w": p}) for p in params)
    lr_t, mu_t = torch.zeros((), dtype=torch.float64), torch.zeros((), dtype=torch.float64)
    for g, (lr, mu) in zip(grads, schedule):
        as_numbers.step([g], lr, mu)
        lr_t.fill_(lr)
        mu_t.fill_(mu)
        as_tensors.step([g], lr_t, mu_t)
        torch.testing.assert_close(params[1].data, params[0].data, rtol=0, atol=1e-15)
    assert float((params[0].data - start).abs().max()) > 1e-3  # the steps moved the weights
