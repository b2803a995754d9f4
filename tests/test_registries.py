"""Registries: a new model or dataset is one builder plus one registry line, and every name list reads them."""

import pytest
import torch
from torch import nn

from gankit.cli import main
from gankit.config import TrainConfig, choices
from gankit.data import DATASETS, Split, Splits, load_dataset
from gankit.errors import ConfigError, DataError
from gankit.generator import load_generator
from gankit.nets import MODELS, Model, ModelSpec, build_models
from gankit.objectives import G_LOSSES, g_loss
from tests.conftest import quiet_trainer, small_config


class TinyG(nn.Module):
    """What a user's new architecture file would hold: a G built from the data's spec..."""

    def __init__(self, spec: ModelSpec, generator: torch.Generator | None) -> None:
        super().__init__()
        self.shape = spec.image_shape
        self.net = nn.Sequential(nn.Linear(spec.z_dim, 32), nn.ReLU(), nn.Linear(32, spec.out_dim), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class TinyD(nn.Module):
    """...and a D that takes the generator gankit passes for dropout masks."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(spec.out_dim, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.net(x).squeeze(-1)


TINY = Model(lambda spec, pixel_mean, gen: TinyG(spec, gen), lambda spec, gen: TinyD(spec))


def test_every_name_list_is_a_registry():
    named = choices()
    assert named["model"] == tuple(MODELS) and named["dataset"] == tuple(DATASETS)
    assert named["g_objective"] == tuple(G_LOSSES)
    with pytest.raises(ConfigError, match="toy-mlp"):  # the error lists the registry's names
        TrainConfig(model="nope").validate()


def test_a_registered_model_trains_resumes_and_samples(splits, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(MODELS, "tiny", TINY)
    config = small_config(model="tiny", epochs=1, optimizer="adam", lr=1e-3)
    quiet_trainer(config, tmp_path / "run", splits).run()
    g = load_generator(tmp_path / "run")
    assert isinstance(g.net, TinyG) and g.sample(5).shape == (5, 1, 28, 28)
    assert g.net.shape == (1, 28, 28)  # the spec came from the data, not from a flat size
    resumed = quiet_trainer(small_config(model="tiny", epochs=2, optimizer="adam", lr=1e-3), tmp_path / "run", splits)
    assert resumed.run(resume=True).epoch == 2
    # and the CLI offers it: its choices are the registry's keys
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "tiny" in capsys.readouterr().out


def test_a_registered_dataset_is_loaded_by_name(monkeypatch, tmp_path):
    def blobs(data_dir, log, image_size):
        gen = torch.Generator().manual_seed(0)
        images = (torch.rand(300, 3 * 8 * 8, generator=gen) * 255).to(torch.uint8)
        labels = torch.arange(300) % 3

        def split(lo, hi):
            return Split(images[lo:hi], labels[lo:hi], (3, 8, 8))

        return Splits(split(0, 200), split(200, 250), split(250, 300), n_classes=3)

    monkeypatch.setitem(DATASETS, "blobs", blobs)
    splits = load_dataset("blobs")
    assert splits.model_spec(16) == ModelSpec(16, (3, 8, 8), 0)
    assert splits.model_spec(16, conditional=True).n_classes == 3
    g, d = build_models("paper-mnist", splits.model_spec(16))  # a flat model fits any image shape
    assert g(torch.zeros(2, 16)).shape == (2, 192) and d(torch.zeros(2, 192)).shape == (2,)
    TrainConfig(dataset="blobs").validate()
    with pytest.raises(DataError, match="blobs"):
        load_dataset("blobz")


def test_shape_bound_models_refuse_other_shapes():
    with pytest.raises(ConfigError, match="3x32x32"):
        build_models("paper-cifar10-conv", ModelSpec(100, (1, 28, 28)))


def test_g_losses_are_the_paper_formulas():
    logits = torch.tensor([-3.0, 0.0, 2.0])
    d = torch.sigmoid(logits)
    torch.testing.assert_close(g_loss(logits, "minimax"), torch.log(1 - d).mean())
    torch.testing.assert_close(g_loss(logits, "non-saturating"), -torch.log(d).mean())


def test_the_public_api_is_importable_from_the_package():
    import gankit

    assert gankit.Trainer.__name__ == "Trainer" and gankit.TrainConfig().model == "paper-mnist"
    assert callable(gankit.load_generator)
    with pytest.raises(AttributeError):
        gankit.not_there  # noqa: B018
