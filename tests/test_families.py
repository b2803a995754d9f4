"""The model families: their networks' names in checkpoints, the statistics a step reports by name, the fields
only one family reads, and what an Adam run does not show (momentum)."""

from __future__ import annotations

import pytest
import torch

from gankit.families import FAMILIES, GAN, VAE, describe, family_of, renamed
from gankit.training.stats import StepStats


def test_each_model_belongs_to_one_family_and_each_family_names_its_nets():
    from gankit.nets import MODELS

    assert family_of("dcgan") is GAN and family_of("vae-mlp-gaussian") is VAE
    assert {family_of(m).name for m in MODELS} == set(FAMILIES)
    assert VAE.roles == ("decoder", "encoder") and GAN.roles == ("generator", "discriminator")
    moved = renamed({"G.w": 1, "D.w": 2, "opt_g.m": 3, "opt_d.m": 4, "rng.train": 5}, VAE)
    assert moved == {"decoder.w": 1, "encoder.w": 2, "opt_decoder.m": 3, "opt_encoder.m": 4, "rng.train": 5}
    assert renamed({"G.w": 1}, GAN) == {"G.w": 1}


def test_a_step_reports_its_familys_statistics_by_name_in_order():
    out = StepStats(GAN)
    for name, value in zip(("d_fake", "d_real", "g_loss", "d_loss"), (0.25, 0.75, 2.0, 1.0)):
        out.report(name, torch.tensor(value))
    assert out.tensor().tolist() == [1.0, 2.0, 0.75, 0.25] and out.tensor().dtype == torch.float64
    with pytest.raises(KeyError, match="declare it in families.py"):
        out.report("neg_elbo", torch.tensor(1.0))
    assert describe(VAE, [98.1, 90.0, 8.1]) == "-ELBO 98.10  -log p(x|z) 90.00  KL 8.10"


def test_an_adam_run_shows_no_momentum(fixture_dir, tmp_path):
    """The console line, TensorBoard and the report show momentum only for the optimiser that uses it (the
    metrics rows keep it, as before)."""
    from gankit.data import load_dataset
    from gankit.report import load_record
    from gankit.report.charts import panels_drawn
    from gankit.training import Trainer
    from tests.conftest import small_config

    splits = load_dataset("idx", fixture_dir)
    lines = {}
    for optimizer in ("adam", "momentum"):
        messages = []
        config = small_config(optimizer=optimizer, lr=1e-3 if optimizer == "adam" else 0.1, lr_decay=1.0, epochs=1)
        Trainer(config, tmp_path / optimizer, splits, progress_bar=False, log=messages.append).run()
        lines[optimizer] = next(m for m in messages if m.startswith("epoch 1:"))
        panels = panels_drawn([load_record(tmp_path / optimizer)])
        assert ("momentum" in panels) == (optimizer == "momentum")
    assert "momentum" not in lines["adam"] and "momentum 0.500" in lines["momentum"]
