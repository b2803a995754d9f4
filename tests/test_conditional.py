"""Conditional GANs: the one-hot G, the projection D against a hand computation, sampling a class, the metric."""

from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from gankit.cli import main
from gankit.errors import ConfigError
from gankit.generator import LoadedGenerator, load_generator
from gankit.metrics.base import Evaluation
from gankit.metrics.class_accuracy import ClassAccuracy
from gankit.metrics.classifier import ClassHistogram
from gankit.nets import ModelSpec, build_models
from tests.conftest import quiet_trainer, small_config

SPEC = ModelSpec(8, (1, 28, 28), 10)


def test_the_projection_discriminator_by_hand():
    _, d = build_models("cgan-mlp", SPEC, seed=0)
    d.eval()  # no dropout: the hand computation below has none
    x, y = torch.rand(5, 784), torch.tensor([0, 3, 3, 9, 7])
    h = x
    for layer in d.maxout:  # maxout: the largest of 5 pieces of each unit
        h = (h @ layer.weight.T + layer.bias).view(5, -1, 5).amax(-1)
    by_hand = h @ d.out.weight[0] + d.out.bias[0] + (d.embed.weight[y] * h).sum(1)
    torch.testing.assert_close(d(x, None, y), by_hand)
    # the class term is the only difference between two classes' logits for one image
    diff = d(x[:1], None, torch.tensor([2])) - d(x[:1], None, torch.tensor([5]))
    torch.testing.assert_close(diff, ((d.embed.weight[2] - d.embed.weight[5]) * h[0]).sum().view(1))


def test_the_conditional_g_reads_z_joined_to_a_one_hot_class():
    g, _ = build_models("cgan-mlp", SPEC, seed=0)
    g.eval()
    z, y = torch.randn(4, 8), torch.tensor([1, 1, 4, 9])
    torch.testing.assert_close(g(z, y), g.net(torch.cat([z, F.one_hot(y, 10).float()], 1)))
    assert not torch.allclose(g(z, y), g(z, torch.tensor([2, 2, 2, 2])))


@pytest.fixture(scope="module")
def conditional_run(splits, tmp_path_factory):
    run = tmp_path_factory.mktemp("cgan") / "run"
    quiet_trainer(small_config(model="cgan-mlp", optimizer="adam", lr=2e-4, epochs=1, z_dim=8), run, splits).run()
    return run


def test_a_conditional_run_samples_the_class_asked_for(conditional_run, tmp_path, capsys):
    g = load_generator(conditional_run)
    assert g.n_classes == 10 and g.classes(12).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    a, b = g.sample(6, seed=1, wanted=3), g.sample(6, seed=1, wanted=3)
    assert torch.equal(a, b) and not torch.equal(a, g.sample(6, seed=1, wanted=4))
    exported = tmp_path / "G.safetensors"
    assert main(["export", str(conditional_run), "--out", str(exported)]) == 0
    again = load_generator(exported)
    assert again.n_classes == 10 and torch.equal(again.sample(6, seed=1, wanted=3), a)
    assert main(["sample", str(exported), "--class", "3", "--n", "4", "--out", str(tmp_path / "s.png")]) == 0
    code = main(["sample", str(exported), "--class", "11", "--out", str(tmp_path / "t.png")])
    err = capsys.readouterr().err
    assert code == 1 and "class 11 does not exist" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "t.png").exists()


def test_class_on_an_unconditional_generator_is_refused(splits, tmp_path, capsys):
    run = tmp_path / "plain"
    quiet_trainer(small_config(epochs=1), run, splits).run()
    assert main(["sample", str(run), "--class", "2", "--out", str(tmp_path / "s.png")]) == 1
    assert "unconditional generator" in capsys.readouterr().err


def test_the_class_grid_has_one_row_per_class(conditional_run):
    from PIL import Image

    with Image.open(conditional_run / "samples" / "epoch-0001.png") as grid:  # 16 // 10 = 1 per class: a column
        assert grid.size == (2 * (28 + 4), 2 * (10 * 30 + 2))


class _Oracle:
    """A classifier that reads the class an image encodes in its mean brightness."""

    path, test_accuracy = "oracle", 1.0

    def predict(self, images):
        return (images.flatten(1).mean(1) * 10).floor().long().clamp(0, 9)


def _encoding_generator(listens: bool) -> LoadedGenerator:
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, z, y):
            level = (y.float() + 0.5) / 10 if listens else torch.full((len(z),), 0.35)
            return level[:, None].expand(len(z), 16) + 0 * self.w

    return LoadedGenerator(Net(), "x", "uniform", 4, (1, 4, 4), "mem", 0, 0, {"dataset": "mnist"}, n_classes=10)


def test_class_accuracy_counts_the_requested_class(monkeypatch):
    monkeypatch.setattr(ClassHistogram, "classifier", lambda self, ev: _Oracle())
    ev = Evaluation("mnist", n_samples=200)
    good = ClassAccuracy().compute(_encoding_generator(True), ev)
    assert good["per_class"] == [1.0] * 10 and good["min"] == 1.0 and good["per_class_samples"] == 20
    deaf = ClassAccuracy().compute(_encoding_generator(False), ev)  # always draws a 3
    assert deaf["per_class"] == [1.0 if c == 3 else 0.0 for c in range(10)] and deaf["mean"] == 0.1
    assert "lowest 0.0% (class 0)" in ClassAccuracy().format({**deaf, "classifier_test_accuracy": 1.0})
    with pytest.raises(ConfigError, match="unconditional"):
        ClassAccuracy().compute(replace(_encoding_generator(True), n_classes=0), ev)
