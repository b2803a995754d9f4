import math

import pytest
import torch

from gankit.nets import ModelSpec, build_models, sample_noise
from gankit.nets.paper import dropout


@pytest.fixture(scope="module")
def models():
    pixel_mean = torch.linspace(0.01, 0.9, 784)
    return build_models("paper-mnist", ModelSpec(100, (1, 28, 28)), pixel_mean, seed=0), pixel_mean


def test_shapes(models):
    (g, d), _ = models
    z = sample_noise(7, 100, "uniform", torch.Generator().manual_seed(0))
    with torch.no_grad():
        x = g(z)
    assert x.shape == (7, 784) and float(x.min()) > 0 and float(x.max()) < 1
    d.eval()
    assert d(x).shape == (7,)
    assert [tuple(p.shape) for p in g.parameters()] == [
        (1200, 100), (1200,), (1200, 1200), (1200,), (784, 1200), (784,)]
    assert [tuple(p.shape) for p in d.parameters()] == [(1200, 784), (1200,), (1200, 240), (1200,), (1, 240), (1,)]


def _check_uniform(w: torch.Tensor, r: float):
    # U(-r, r): bounded by r, mean 0, std r / sqrt(3); tolerances are 6 standard errors
    w = w.detach()
    n = w.numel()
    assert float(w.abs().max()) <= r
    assert abs(float(w.mean())) < 6 * (r / math.sqrt(3)) / math.sqrt(n)
    assert abs(float(w.std()) - r / math.sqrt(3)) < 6 * r * 0.15 / math.sqrt(n) + 1e-4 * r


def test_initial_weight_statistics(models):
    (g, d), pixel_mean = models
    for layer in g.layers:
        _check_uniform(layer.weight, 0.05)
    for layer in (*d.maxout, d.out):
        _check_uniform(layer.weight, 0.005)
        assert float(layer.bias.detach().abs().max()) == 0
    assert float(g.layers[0].bias.detach().abs().max()) == 0
    torch.testing.assert_close(torch.sigmoid(g.layers[-1].bias), pixel_mean, rtol=1e-5, atol=1e-6)


def test_output_bias_is_clipped():
    from gankit.nets.paper import MLPGenerator

    g = MLPGenerator(pixel_mean=torch.cat([torch.zeros(1), torch.ones(1), torch.full((782,), 0.5)]))
    b = g.layers[-1].bias.detach()
    assert float(b[0]) == pytest.approx(math.log(1e-7 / (1 - 1e-7)), rel=1e-3)
    assert float(b[1]) == float(torch.logit(torch.tensor(1 - 1e-7))) and float(b[2]) == 0


def test_noise_priors():
    gen = torch.Generator().manual_seed(0)
    u = sample_noise(20000, 100, "uniform", gen)
    assert float(u.abs().max()) <= math.sqrt(3) and abs(float(u.var()) - 1) < 0.01
    n = sample_noise(20000, 100, "gaussian", gen)
    assert abs(float(n.mean())) < 0.01 and abs(float(n.var()) - 1) < 0.01


@pytest.mark.parametrize("keep,scale", [(0.8, 1.25), (0.5, 2.0)])
def test_dropout_scaling(keep, scale):
    x = torch.ones(400, 1000)
    y = dropout(x, keep, torch.Generator().manual_seed(1))
    assert set(torch.unique(y).tolist()) == {0.0, scale}
    kept = float((y > 0).float().mean())
    n = x.numel()
    assert abs(kept - keep) < 5 * math.sqrt(keep * (1 - keep) / n)
    assert abs(float(y.mean()) - 1.0) < 5 * scale * math.sqrt(keep * (1 - keep) / n)


def test_discriminator_dropout_only_in_training(models):
    (_, d), _ = models
    x = torch.rand(50, 784, generator=torch.Generator().manual_seed(2))
    d.eval()
    torch.testing.assert_close(d(x), d(x), rtol=0, atol=0)
    d.train()
    a = d(x, torch.Generator().manual_seed(3))
    b = d(x, torch.Generator().manual_seed(4))
    c = d(x, torch.Generator().manual_seed(3))
    assert not torch.equal(a, b) and torch.equal(a, c)
    d.eval()


def test_maxout_groups_consecutive_pieces(models):
    (_, d), _ = models
    d.eval()
    x = torch.rand(3, 784, generator=torch.Generator().manual_seed(5))
    pre = d.maxout[0](x)
    manual = torch.stack([pre[:, 5 * j : 5 * j + 5].max(1).values for j in range(240)], 1)
    pre2 = d.maxout[1](manual)
    manual2 = torch.stack([pre2[:, 5 * j : 5 * j + 5].max(1).values for j in range(240)], 1)
    torch.testing.assert_close(d(x), d.out(manual2).squeeze(1))
