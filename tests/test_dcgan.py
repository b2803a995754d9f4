"""DCGAN: shapes at every size and channel count, initialisation, spectral norm, and exact resume."""

import pytest
import torch

from gankit.errors import ConfigError
from gankit.nets import ModelSpec, build_models
from gankit.objectives import d_loss, g_loss
from tests.conftest import quiet_trainer, small_config


@pytest.mark.parametrize("size", [32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_at_every_size(size, channels):
    spec = ModelSpec(16, (channels, size, size))
    g, d = build_models("dcgan", spec, seed=0)
    x = g(torch.randn(2, 16)).detach()
    assert x.shape == (2, channels * size * size) and 0 <= float(x.min()) and float(x.max()) <= 1
    assert d(x).shape == (2,)
    # log2(size) - 3 doublings after the 4 x 4 map, then the image: one transposed convolution per octave
    convs = [m for m in g.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert len(convs) == int(torch.log2(torch.tensor(size))) - 1


def test_initialisation_is_dcgans_and_follows_the_seed():
    g, d = build_models("dcgan", ModelSpec(100, (1, 32, 32)), seed=0)
    weights = torch.cat([m.weight.detach().flatten() for m in g.modules() if isinstance(m, torch.nn.ConvTranspose2d)])
    # N(0, 0.02) over about a million weights: the sample std is within 1% of 0.02
    assert abs(float(weights.std()) - 0.02) < 2e-4 and abs(float(weights.mean())) < 1e-4
    scales = torch.cat([m.weight.detach() for m in d.modules() if isinstance(m, torch.nn.BatchNorm2d)])
    assert abs(float(scales.mean()) - 1.0) < 0.01
    g2, _ = build_models("dcgan", ModelSpec(100, (1, 32, 32)), seed=0)
    g3, _ = build_models("dcgan", ModelSpec(100, (1, 32, 32)), seed=1)
    assert all(torch.equal(a, b) for a, b in zip(g.state_dict().values(), g2.state_dict().values()))
    assert not torch.equal(next(g.parameters()), next(g3.parameters()))


def test_spectral_norm_bounds_each_layer():
    _, d = build_models("dcgan-sn", ModelSpec(16, (3, 32, 32)), seed=0)
    d.train()
    for _ in range(30):  # power iterations run in training forwards
        d(torch.rand(4, 3 * 32 * 32))
    for m in d.modules():
        if isinstance(m, torch.nn.Conv2d):
            sigma = torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2)
            assert float(sigma) == pytest.approx(1.0, abs=0.05)


def test_unsupported_shapes_are_refused():
    with pytest.raises(ConfigError, match="--image-size"):
        build_models("dcgan", ModelSpec(16, (1, 28, 28)))


def test_losses_run_backwards_through_the_conditional_dcgan():
    g, d = build_models("cdcgan", ModelSpec(16, (1, 32, 32), 10), seed=0)
    z, y = torch.randn(3, 16), torch.tensor([0, 5, 9])
    fake = g(z, y)
    loss = d_loss(d(torch.rand(3, 1024), None, y), d(fake, None, y), 0.5, "hinge") + g_loss(d(fake, None, y), "hinge")
    loss.backward()
    assert all(p.grad is not None for p in g.parameters())


def test_a_dcgan_run_resumes_bit_identically(splits32, tmp_path):
    config = small_config(model="dcgan", image_size=32, optimizer="adam", lr=2e-4, epochs=2)
    full = quiet_trainer(config, tmp_path / "full", splits32)
    full.run()
    quiet_trainer(small_config(**{**config.to_dict(), "max_steps": 13}), tmp_path / "cut", splits32).run()
    resumed = quiet_trainer(config, tmp_path / "cut", splits32)
    resumed.run(resume=True)
    assert resumed.progress.step == full.progress.step == 40
    for name, value in full.checkpoint_tensors().items():
        assert torch.equal(value, resumed.checkpoint_tensors()[name]), name


@pytest.fixture(scope="module")
def splits32(fixture_dir):
    from gankit.data import load_dataset

    return load_dataset("idx", fixture_dir, image_size=32)
