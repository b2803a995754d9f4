import copy
import math

import numpy as np
import pytest
import torch

from gankit.config import apply_overrides, from_preset
from gankit.data.toy import TOY_2D, grid_modes, ring_modes
from gankit.errors import ConfigError
from gankit.experiments.mode_collapse import figure_over_training, format, run
from gankit.metrics.modes import mode_stats
from gankit.objectives import d_loss
from gankit.training import Trainer
from gankit.training.steps import unrolled_logits


def test_mode_geometry():
    ring = ring_modes(8, 2.0)
    np.testing.assert_allclose(np.linalg.norm(ring, axis=1), 2.0)
    grid = grid_modes(5, 2.0)
    assert grid.shape == (25, 2) and set(np.unique(grid)) == {-4.0, -2.0, 0.0, 2.0, 4.0}


def test_mode_stats_on_constructed_samples():
    centres, std = TOY_2D["toy2d-ring"]
    gen = torch.Generator().manual_seed(0)
    on_three = torch.cat([torch.tensor(centres[i]) + std * torch.randn(300, 2, generator=gen, dtype=torch.float64)
                          for i in (0, 3, 5)])
    far = torch.full((100, 2), 10.0, dtype=torch.float64)
    s = mode_stats(torch.cat([on_three, far]), centres, std)
    assert s["modes_covered"] == 3 and s["modes"] == 8
    assert s["high_quality_rate"] == pytest.approx(on_three_rate(on_three, centres, std) * 900 / 1000)
    assert s["kl_from_uniform"] == pytest.approx(math.log(8 / 3), abs=0.01)
    assert s["threshold"] == math.ceil(0.25 * 1000 / 8)


def on_three_rate(x, centres, std):
    return float((torch.cdist(x, torch.tensor(centres)).min(1).values < 3 * std).double().mean())


def test_a_mode_with_too_few_samples_is_not_covered():
    centres, std = TOY_2D["toy2d-ring"]
    x = torch.cat([torch.tensor(centres[0]).repeat(990, 1), torch.tensor(centres[1]).repeat(10, 1)])
    assert mode_stats(x, centres, std)["modes_covered"] == 1


def _toy2d_trainer(tmp_path, **overrides):
    config = apply_overrides(from_preset("toy2d"), {"max_steps": 5, **overrides}, "test")
    return Trainer(config, tmp_path / "run", progress_bar=False, log=lambda m: None)


def test_unrolled_logits_are_one_sgd_step_of_d(tmp_path):
    t = _toy2d_trainer(tmp_path, unrolled_steps=1)
    fake = t.state.G(torch.randn(50, 16, generator=torch.Generator().manual_seed(1)))
    plain = t.state.D(fake)
    torch.testing.assert_close(unrolled_logits(t.state, t.batches, t.config, fake, 0.0), plain)  # lr 0: D unchanged
    state = t.state.rng.get_state()
    unrolled = unrolled_logits(t.state, t.batches, t.config, fake, 0.3)
    # the same step by hand, with the same random draws
    t.state.rng.set_state(state)
    c = t.config
    idx = torch.randint(len(t.batches.images), (c.batch_size,), generator=t.state.rng)
    z = torch.randn(c.batch_size, c.z_dim, generator=t.state.rng)
    d2 = copy.deepcopy(t.state.D)
    loss = d_loss(d2(t.batches.images[idx]), d2(t.state.G(z)), c.d_loss_scale)
    grads = torch.autograd.grad(loss, list(d2.parameters()))
    with torch.no_grad():
        for p, g in zip(d2.parameters(), grads):
            p -= 0.3 * g
    torch.testing.assert_close(unrolled, d2(fake))
    # G's gradient sees the unrolled step: it differs from the gradient through the current D
    g_params = list(t.state.G.parameters())
    g_unrolled = torch.autograd.grad(-unrolled.mean(), g_params, retain_graph=True)
    g_plain = torch.autograd.grad(-plain.mean(), g_params)
    assert not torch.allclose(g_unrolled[0], g_plain[0])


def test_unrolled_needs_sequential():
    from gankit.errors import ConfigError

    with pytest.raises(ConfigError, match="needs --update-order sequential"):
        apply_overrides(from_preset("toy2d"), {"unrolled_steps": 3, "update_order": "simultaneous"}, "t").validate()


def test_experiment_runner_small(tmp_path):
    variants = {"non-saturating, k=1": {}, "non-saturating, unrolled 2": {"unrolled_steps": 2}}
    results = run(tmp_path, ("toy2d-ring",), (0, 1), steps=30, variants=variants, figures=False, log=lambda m: None)
    assert [r["variant"] for r in results["table"]] == list(variants)
    for row in results["table"]:
        assert len(row["per_seed"]) == 2 and 0 <= row["modes_covered_mean"] <= 8
        covered = [s["modes_covered"] for s in row["per_seed"]]
        assert row["modes_covered_mean"] == pytest.approx(sum(covered) / 2)
    assert "toy2d-ring" in format(results) and f"results: {tmp_path / 'results.json'}" in format(results)
    assert (tmp_path / "results.json").exists()
    png = figure_over_training(tmp_path, "toy2d-ring", tmp_path / "f.png", columns=2, variants=variants)
    assert png.stat().st_size > 1000
    # a second call reuses the trained runs (same numbers, nothing retrained)
    again = run(tmp_path, ("toy2d-ring",), (0, 1), steps=30, variants=variants, log=lambda m: None)
    assert again["table"] == results["table"]
    assert again["figures"] == [str(tmp_path / "toy2d-ring-over-training.png")]
    with pytest.raises(ConfigError, match="toy2d-grid"):
        run(tmp_path, ("toy1d-gaussian",))
