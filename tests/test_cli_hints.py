"""A newcomer's typos get a 'did you mean', and ~ and $VARIABLES work in every path (flags and YAML alike)."""

from __future__ import annotations

import shutil

import pytest

from gankit.cli import main
from gankit.config import load_yaml
from gankit.errors import ConfigError


def one_line_error(capsys, *argv, code=1) -> str:
    if code == 2:
        with pytest.raises(SystemExit) as stop:
            main(list(argv))
        assert stop.value.code == 2
    else:
        assert main(list(argv)) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_typos_get_a_did_you_mean(capsys, tmp_path):
    assert "(did you mean 'dcgan-folder'?)" in one_line_error(capsys, "train", "--preset", "dcgan-foldr")
    assert "(did you mean 'dcgan'?)" in one_line_error(capsys, "train", "--model", "dcgna")
    assert "(did you mean '--model'?)" in one_line_error(capsys, "train", "--modle", "dcgan", code=2)
    (tmp_path / "typo.yaml").write_text("lrr: 0.05\n")
    assert "unknown key(s) 'lrr'" in one_line_error(capsys, "train", "--config", str(tmp_path / "typo.yaml"))
    with pytest.raises(ConfigError, match=r"'lrr' in .*typo.yaml \(did you mean 'lr'\?\)"):
        load_yaml(tmp_path / "typo.yaml")
    (tmp_path / "far.yaml").write_text("wobble: 1\n")
    with pytest.raises(ConfigError) as far:
        load_yaml(tmp_path / "far.yaml")
    assert "did you mean" not in str(far.value)  # nothing close: no guess


def test_tilde_and_variables_expand_in_flags_and_yaml(capsys, tmp_path, monkeypatch, fixture_dir):
    home = tmp_path / "home"
    shutil.copytree(fixture_dir, home / "digits")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("RUNS", str(tmp_path / "runs"))
    (tmp_path / "c.yaml").write_text("dataset: idx\ndata_dir: ~/digits\nbatch_size: 50\ngrid_size: 4\n"
                                     "monitor_parzen: 0\nepochs: 1\n")
    assert load_yaml(tmp_path / "c.yaml").data_dir == str(home / "digits")
    assert main(["train", "--config", str(tmp_path / "c.yaml"), "--out", "$RUNS/a", "--no-progress"]) == 0
    assert (tmp_path / "runs" / "a" / "config.yaml").exists()
    assert main(["train", "--dataset", "idx", "--data-dir", "~/digits", "--batch-size", "50", "--epochs", "1",
                 "--grid-size", "4", "--monitor-parzen", "0", "--no-progress", "--out", "~/b"]) == 0
    assert (home / "b" / "config.yaml").exists()
    err = one_line_error(capsys, "train", "--dataset", "idx", "--data-dir", "~/nothing", "--out", "~/c")
    assert str(home / "nothing") in err and "does not exist" in err


def test_two_time_scale_rates_move_each_net_by_its_own_rate(fixture_dir, tmp_path):
    """One momentum-SGD step from zero velocity moves each weight by -lr x grad: with --lr-d twice --lr, D moves
    exactly twice as far from the same start and G as far as without; --lr-g = --lr-d = --lr changes nothing."""
    import torch

    from gankit.data import load_dataset
    from gankit.training import Trainer
    from tests.conftest import small_config

    splits = load_dataset("idx", fixture_dir)

    def moved(name, **rates):
        t = Trainer(small_config(max_steps=1, epochs=1, **rates), tmp_path / name, splits, progress_bar=False,
                    log=lambda m: None)
        before = {k: v.clone() for k, v in t.state.tensors().items() if k.startswith(("G.", "D."))}
        t.run()
        return {k: t.state.tensors()[k] - v for k, v in before.items()}

    plain, ttur, same = moved("plain"), moved("ttur", lr_d=0.2), moved("same", lr_g=0.1, lr_d=0.1)
    for k in plain:
        assert torch.equal(same[k], plain[k]), k
        factor = 2.0 if k.startswith("D.") else 1.0
        torch.testing.assert_close(ttur[k], factor * plain[k], rtol=1e-5, atol=1e-7)
    assert any(plain[k].abs().max() > 0 for k in plain if k.startswith("D."))
