"""Recipes: presets as YAML files (listed, shown, started from in a user's YAML, recorded in config.yaml), one
Recipe(...).resolve(), and ensure (start, continue or keep a run)."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from gankit import checkpoint
from gankit.cli import main
from gankit.config import TrainConfig, from_preset, load_yaml
from gankit.errors import ConfigError
from gankit.presets import DESCRIPTIONS, PRESETS, preset_text
from gankit.recipe import Recipe
from gankit.rundir import RunDir
from gankit.training import Trainer, ensure
from tests.conftest import small_config


def test_every_shipped_preset_is_a_valid_recipe_with_a_one_line_description():
    assert len(PRESETS) >= 18 and {"paper-mnist", "dcgan-folder", "vae-mnist", "toy2d"} <= set(PRESETS)
    for name in PRESETS:
        assert DESCRIPTIONS[name] and "\n" not in DESCRIPTIONS[name] and len(DESCRIPTIONS[name]) < 140, name
        config = from_preset(name)
        assert config.preset == name
        if name != "paper-tfd-stage2":  # needs --g-init-from
            config.validate()
    # the file a user copies is itself a valid config (its description is ignored)
    assert "description:" in preset_text("dcgan-folder")


def test_presets_hold_the_values_they_always_had():
    """A few golden fields: recipes moved into files must train what they trained before."""
    assert from_preset("paper-mnist").to_dict() == {**TrainConfig().to_dict(), "preset": "paper-mnist"}
    dcgan = from_preset("dcgan-folder")
    assert (dcgan.dataset, dcgan.model, dcgan.image_size, dcgan.optimizer, dcgan.lr, dcgan.update_order,
            dcgan.batch_size, dcgan.epochs, dcgan.monitor_parzen) == ("folder", "dcgan", 64, "adam", 2e-4,
                                                                       "sequential", 64, 25, 0)
    toy = from_preset("toy2d")
    assert (toy.z_dim, toy.lr, toy.batch_size, toy.d_loss_scale, toy.keep_checkpoints) == (16, 0.05, 250, 1.0, 1000)


def test_a_users_yaml_starts_from_a_preset_and_overrides_it(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(preset_text("dcgan-folder").replace("image_size: 64", "image_size: 32").replace("epochs: 25",
                                                                                                     "epochs: 3"))
    config = load_yaml(mine)
    assert (config.preset, config.model, config.image_size, config.epochs) == (None, "dcgan", 32, 3)  # a copy
    (tmp_path / "based.yaml").write_text("preset: dcgan-folder\nimage_size: 32\n")
    config = load_yaml(tmp_path / "based.yaml")
    assert (config.preset, config.model, config.image_size, config.epochs) == ("dcgan-folder", "dcgan", 32, 25)
    short = tmp_path / "short.yaml"
    short.write_text("preset: demo-mnist\nlr: 0.001\n")
    resolved = Recipe(config_file=short, overrides={"epochs": "2"}).resolve()
    assert (resolved.preset, resolved.model, resolved.lr, resolved.epochs) == ("demo-mnist", "mlp-bn", 0.001, 2)
    assert Recipe("demo-mnist", short).resolve().lr == 0.001  # the same preset twice is no conflict
    with pytest.raises(ConfigError, match="starts from preset 'demo-mnist' but --preset toy2d was also given"):
        Recipe("toy2d", short).resolve()
    (tmp_path / "bad.yaml").write_text("preset: dcgan\n")
    with pytest.raises(ConfigError, match="unknown preset 'dcgan'"):
        load_yaml(tmp_path / "bad.yaml")


def test_gankit_presets_lists_and_shows_them(capsys):
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(PRESETS) and any(line.startswith("dcgan-folder ") for line in lines)
    assert main(["presets", "--show", "toy2d"]) == 0
    assert "dataset: toy2d-ring" in capsys.readouterr().out
    assert main(["presets", "--show", "nope"]) == 1
    err = capsys.readouterr().err
    assert "unknown preset 'nope'" in err and len(err.strip().splitlines()) == 1


def test_the_preset_name_is_stored_and_listed_even_when_fields_change(fixture_dir, tmp_path, capsys):
    """`--preset demo-mnist --batch-size 50` is still demo-mnist in config.yaml, `gankit runs` and the report."""
    run = tmp_path / "runs" / "demo"
    assert main(["train", "--preset", "demo-mnist", "--dataset", "idx", "--data-dir", str(fixture_dir), "--epochs", "1",
                 "--batch-size", "50", "--grid-size", "4", "--no-progress", "--out", str(run)]) == 0
    assert load_yaml(run / "config.yaml").preset == "demo-mnist"
    capsys.readouterr()
    assert main(["runs", str(tmp_path / "runs")]) == 0
    assert "demo-mnist" in capsys.readouterr().out


def weights(run) -> dict[str, torch.Tensor]:
    return checkpoint.read(RunDir(run).latest())[0]


def test_ensure_starts_continues_and_keeps_a_run(fixture_dir, tmp_path):
    from gankit.data import load_dataset

    splits = load_dataset("idx", fixture_dir)
    quiet = {"splits": splits, "progress_bar": False, "log": lambda m: None}
    recipe = Recipe(overrides=small_config(epochs=1).to_dict())
    full = tmp_path / "full"
    assert ensure(full, recipe, {"epochs": 3}, **quiet).epoch == 3
    part = tmp_path / "part"
    assert ensure(part, recipe, {"epochs": 1}, **quiet).epoch == 1
    progress = ensure(part, None, {"epochs": 3}, **quiet)  # continued from its own config.yaml
    assert progress.epoch == 3
    a, b = weights(full), weights(part)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    before = {p: p.stat().st_mtime_ns for p in part.rglob("*") if p.is_file()}
    assert ensure(part, None, {"epochs": 2}, **quiet).epoch == 3  # already that long: kept, nothing written
    assert {p: p.stat().st_mtime_ns for p in part.rglob("*") if p.is_file()} == before
    with pytest.raises(ConfigError, match="cannot change lr when resuming"):
        ensure(part, None, {"epochs": 4, "lr": 0.5}, **quiet)
    rows = [json.loads(line) for line in (part / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3]


def test_a_trainer_refuses_to_start_over_a_run(fixture_dir, tmp_path):
    from gankit.data import load_dataset

    splits = load_dataset("idx", fixture_dir)
    ensure(tmp_path / "r", small_config(epochs=1), splits=splits, progress_bar=False, log=lambda m: None)
    with pytest.raises(ConfigError, match="already holds a run"):
        Trainer(small_config(epochs=1), tmp_path / "r", splits, progress_bar=False, log=lambda m: None).run()


def test_sections_group_the_fields_and_a_yaml_file_may_use_them(tmp_path):
    from dataclasses import fields

    from gankit.config import SECTIONS

    config = from_preset("dcgan-mnist")
    optim = config.section("optim")
    assert (optim.optimizer, optim.lr) == ("adam", 2e-4) and not hasattr(optim, "dataset")
    with pytest.raises(dataclasses.FrozenInstanceError):
        optim.lr = 1.0
    assert sum(len(fields(config.section(s))) for s in SECTIONS) == len(fields(TrainConfig))
    (tmp_path / "grouped.yaml").write_text("preset: dcgan-mnist\noptim:\n  lr: 0.001\nmodel:\n  width: 16\n"
                                           "monitor: kid:100\n")
    grouped = load_yaml(tmp_path / "grouped.yaml")
    assert (grouped.lr, grouped.width, grouped.model, grouped.monitor) == (0.001, 16, "dcgan", "kid:100")


def test_outputs_are_stored_so_a_resume_keeps_writing_the_report(fixture_dir, tmp_path):
    run = tmp_path / "run"
    flags = ["--dataset", "idx", "--data-dir", str(fixture_dir), "--batch-size", "50", "--grid-size", "4",
             "--monitor-parzen", "50", "--no-progress"]
    assert main(["train", *flags, "--epochs", "1", "--report", "--out", str(run)]) == 0
    assert load_yaml(run / "config.yaml").report is True
    (run / "report.html").unlink()
    assert main(["train", "--resume", str(run), "--epochs", "2", "--no-progress"]) == 0
    assert (run / "report.html").exists()  # --report was not typed again


def test_a_width_is_a_setting_of_the_models_that_take_one(tmp_path):
    from gankit.nets import ModelSpec, build_models

    def params(width):
        g, d = build_models("dcgan", ModelSpec(100, (1, 32, 32), 0, width))
        return sum(p.numel() for p in g.parameters()), sum(p.numel() for p in d.parameters())

    small, full = params(16), params(64)  # conv weights scale with width squared
    assert params(None) == full and small[0] < full[0] / 4 and small[1] < full[1] / 8
    with pytest.raises(ConfigError, match="model paper-mnist has fixed layer sizes and takes no width"):
        from_preset("paper-mnist").__class__(**{**from_preset("paper-mnist").to_dict(), "width": 16}).validate()


def test_a_generator_of_another_width_samples_and_exports(fixture_dir, tmp_path, capsys):
    run = tmp_path / "narrow"
    assert main(["train", "--preset", "dcgan-mnist", "--dataset", "idx", "--data-dir", str(fixture_dir),
                 "--width", "8", "--max-steps", "2", "--epochs", "1", "--grid-size", "4", "--monitor-parzen", "0",
                 "--no-progress", "--out", str(run)]) == 0
    from gankit.generator import load_generator

    g = load_generator(run)
    assert g.width == 8 and g.sample(3).shape == (3, 1, 32, 32)
    exported = g.export(tmp_path / "g.safetensors")
    assert torch.equal(load_generator(exported).sample(3, seed=2), g.sample(3, seed=2))
