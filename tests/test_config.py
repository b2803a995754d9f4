import pytest

from gankit.config import TrainConfig, apply_overrides, from_preset, load_yaml, save_yaml
from gankit.errors import ConfigError


def test_paper_mnist_preset_has_the_paper_values():
    c = from_preset("paper-mnist")
    assert (c.z_dim, c.noise, c.batch_size, c.lr, c.lr_decay, c.lr_min) == (100, "uniform", 100, 0.1, 1.000004, 1e-6)
    assert (c.momentum_start, c.momentum_end, c.momentum_saturate) == (0.5, 0.7, 250)
    assert (c.d_steps, c.update_order, c.g_objective, c.d_loss_scale) == (1, "simultaneous", "non-saturating", 0.5)
    assert from_preset("paper-fashion-mnist").dataset == "fashion-mnist"


def test_yaml_round_trip(tmp_path):
    c = apply_overrides(TrainConfig(), {"lr": 0.05, "update_order": "sequential", "d_steps": 3,
                                        "max_steps": 7, "data_dir": "/x"}, "test")
    save_yaml(c, tmp_path / "c.yaml")
    assert load_yaml(tmp_path / "c.yaml") == c


def test_yaml_sets_any_field_on_top_of_base(tmp_path):
    (tmp_path / "c.yaml").write_text("epochs: 12\ng_objective: minimax\n")
    c = load_yaml(tmp_path / "c.yaml", from_preset("paper-fashion-mnist"))
    assert (c.epochs, c.g_objective, c.dataset) == (12, "minimax", "fashion-mnist")


def test_flag_strings_are_coerced():
    c = apply_overrides(TrainConfig(), {"epochs": "3", "lr": "1e-2", "max_steps": None}, "flags")
    assert c.epochs == 3 and c.lr == 0.01 and c.max_steps is None


@pytest.mark.parametrize("overrides,message", [
    ({"lrr": 0.1}, "unknown key.*lrr"),
    ({"epochs": "three"}, "epochs = 'three' is not a valid int"),
    ({"epochs": 2.5}, "not a valid int"),
    ({"lr": "fast"}, "not a valid float"),
    ({"seed": None}, "seed cannot be null"),
])
def test_bad_values_are_rejected(overrides, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(TrainConfig(), overrides, "flags")


@pytest.mark.parametrize("overrides,message", [
    ({"g_objective": "wgan"}, "choose one of: non-saturating, minimax, hinge"),
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"lr": -1.0}, "lr must be a positive finite number"),
    ({"lr_decay": 0.9}, "lr_decay must be >= 1"),
    ({"momentum_end": 1.0}, r"momentum_end must lie in \[0, 1\)"),
    ({"d_steps": 5}, "needs update_order 'sequential'"),
    ({"device": "tpu"}, "use auto, cpu or cuda"),
])
def test_invalid_values_fail_validation(overrides, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(TrainConfig(), overrides, "flags").validate()


def test_bad_yaml_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_yaml(tmp_path / "none.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_yaml(tmp_path / "list.yaml")
    (tmp_path / "broken.yaml").write_text("epochs: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml(tmp_path / "broken.yaml")


def test_unknown_preset():
    with pytest.raises(ConfigError, match="unknown preset .dcgan.; available: .*paper-mnist"):
        from_preset("dcgan")


def test_types_come_from_the_annotations_and_booleans_are_parsed_not_guessed(monkeypatch):
    import gankit.config.files as cfg

    types = cfg.field_types()
    assert (types["lr"], types["max_norm"], types["max_steps"], types["data_dir"]) == (float, float, int, str)
    assert types["report"] is bool and types["cuda_graph"] is bool
    # a bool field set to false in YAML (or "false" on the command line) must stay false
    assert cfg._coerce("report", False) is False and cfg._coerce("report", "false") is False
    assert cfg._coerce("report", "True") is True and cfg._coerce("cuda_graph", "off") is False
    with pytest.raises(ConfigError, match="not a valid bool"):
        cfg._coerce("report", "perhaps")


def test_every_field_says_what_it_means_in_help(capsys):
    from dataclasses import fields

    from gankit.cli import main
    from gankit.config import FIELD_HELP, SECTIONS

    assert set(FIELD_HELP) == {f.name for f in fields(TrainConfig)} and all(len(h) > 8 for h in FIELD_HELP.values())
    assert all(f.metadata["section"] in SECTIONS for f in fields(TrainConfig))
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--patience INT end the run once that monitor has not improved for this many epochs" in text
    assert "--lr FLOAT learning rate at step 0 (default: 0.1)" in text
