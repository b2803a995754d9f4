"""What earlier releases wrote keeps working: a run directory written before the training core was rebuilt
(tests/fixtures/legacy-toy2d-run, written by commit e34866f) resumes and reports; a VAE checkpoint with the
G/D names VAEs were stored under before their family named them decoder/encoder samples and resumes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from gankit import checkpoint
from gankit.cli import main
from gankit.generator import load_generator
from gankit.rundir import RunDir
from tests.conftest import small_config

LEGACY = Path(__file__).parent / "fixtures" / "legacy-toy2d-run"


def test_a_run_written_by_the_previous_release_resumes_and_reports(tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(LEGACY, run)
    before = load_generator(run).sample(8, seed=1)
    assert main(["train", "--resume", str(run), "--epochs", "3", "--no-progress"]) == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3] and rows[-1]["step"] == 150
    assert main(["report", str(run)]) == 0
    assert (run / "report.html").stat().st_size > 10_000
    after = load_generator(run).sample(8, seed=1)
    assert before.shape == after.shape and not torch.equal(before, after)  # it trained on
    capsys.readouterr()
    assert main(["runs", str(tmp_path)]) == 0
    assert "custom  3/3" in capsys.readouterr().out  # toy2d at batch 1,000, and its config.yaml names no preset


def test_a_vae_checkpoint_under_the_old_g_and_d_names_samples_and_resumes(fixture_dir, tmp_path):
    from gankit.data import load_dataset
    from gankit.training import Trainer

    splits = load_dataset("idx", fixture_dir)
    config = small_config(model="vae-mlp-gaussian", update_order="elbo", noise="gaussian", z_dim=8,
                          optimizer="adam", lr=1e-3, lr_decay=1.0, epochs=1)
    run = tmp_path / "vae"
    Trainer(config, run, splits, progress_bar=False, log=lambda m: None).run()
    path = RunDir(run).latest()
    tensors, meta = checkpoint.read(path)
    assert any(k.startswith("encoder.") for k in tensors) and not any(k.startswith("D.") for k in tensors)
    new_sample = load_generator(run).sample(4, seed=0)
    old = {"decoder": "G", "encoder": "D", "opt_decoder": "opt_g", "opt_encoder": "opt_d"}
    legacy = {old.get(k.split(".", 1)[0], k.split(".", 1)[0]) + k[len(k.split(".", 1)[0]):]: v
              for k, v in tensors.items()}
    checkpoint.write(path, legacy, {k: v for k, v in meta.items() if k != "format"})
    assert torch.equal(load_generator(run).sample(4, seed=0), new_sample)
    resumed = Trainer(small_config(**{**config.to_dict(), "epochs": 2}), run, splits, progress_bar=False,
                      log=lambda m: None)
    assert resumed.run(resume=True).epoch == 2
