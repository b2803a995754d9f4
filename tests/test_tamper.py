"""Fault injection: real checkpoints tampered with (dtype, shape, extra and missing tensors, NaN, metadata
kinds, data order) and mistyped --out targets. Each gets one sentence, a non-zero exit, and every file
of the run stays byte-identical."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import torch
from safetensors.torch import load, save

from gankit import checkpoint
from gankit.cli import main
from gankit.generator import load_generator
from gankit.rundir import RunDir
from tests.conftest import quiet_trainer, small_config


@pytest.fixture(scope="module")
def trained(splits, fixture_dir, tmp_path_factory):
    """A finished small run (two epochs, momentum SGD) to copy and damage."""
    run = tmp_path_factory.mktemp("tamper") / "run"
    quiet_trainer(small_config(data_dir=str(fixture_dir)), run, splits).run()
    return run


@pytest.fixture
def run(trained, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    return copy


def fingerprint(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}


def refused(capsys, argv, expected: str) -> None:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and expected in err, err


def rewrite(path, change_tensors=None, change_meta=None) -> None:
    """Rewrite a checkpoint as a tamperer would: same file, some tensors or metadata altered."""
    blob = path.read_bytes()
    tensors = dict(load(blob))
    header = json.loads(blob[8 : 8 + int.from_bytes(blob[:8], "little")])
    meta = json.loads(header["__metadata__"]["gankit"])
    if change_tensors:
        change_tensors(tensors)
    if change_meta:
        change_meta(meta)
    path.write_bytes(save(tensors, metadata={"gankit": json.dumps(meta)}))


# ----- guarded outputs -----------------------------------------------------------------------------

@pytest.mark.parametrize("argv, expected", [
    (["export", "{run}", "--out", "{newest}"], "is a file under checkpoints/ of the run"),
    (["export", "{run}", "--out", "{run}/config.yaml"], "must end in .safetensors"),
    (["export", "{run}", "--out", "{run}/checkpoints/new.safetensors"], "is a file under checkpoints/"),
    (["report", "{run}", "--out", "{run}/config.yaml"], "must end in .html"),
    (["report", "{run}", "--out", "{run}/checkpoints/report.html"], "is a file under checkpoints/"),
    (["sample", "{run}", "--out", "{run}/samples/epoch-0001.png"], "is a file under samples/"),
    (["sample", "{run}", "--out", "{run}/metrics.jsonl"], "must end in .png or .npy"),
    (["figure", "samples", "{run}", "--out", "{run}/samples/fig.png"], "is a file under samples/"),
    (["stats", "{run}", "--out", "{run}/checkpoints/s.npz"], "is a file under checkpoints/"),
])
def test_an_out_on_a_runs_own_files_is_refused_and_nothing_changes(run, capsys, argv, expected):
    before = fingerprint(run)
    newest = RunDir(run).latest()
    refused(capsys, [a.format(run=run, newest=newest) for a in argv], expected)
    assert fingerprint(run) == before


def test_an_export_never_replaces_a_training_checkpoint_elsewhere(run, tmp_path, capsys):
    outside = tmp_path / "state.safetensors"
    shutil.copy(RunDir(run).latest(), outside)
    before = outside.read_bytes()
    refused(capsys, ["export", run, "--out", outside], "is a gankit file of another kind (gankit-checkpoint-1)")
    assert outside.read_bytes() == before
    exported = tmp_path / "G.safetensors"  # an exported G may be replaced by a newer export
    assert main(["export", str(run), "--out", str(exported)]) == 0
    assert main(["export", str(run), "--out", str(exported)]) == 0
    report = tmp_path / "r.html"
    assert main(["report", str(run), "--out", str(report)]) == 0 and report.read_bytes().startswith(b"<!")


# ----- checked reads -------------------------------------------------------------------------------

def first(t, prefix, suffix):
    return next(k for k in sorted(t) if k.startswith(prefix) and k.endswith(suffix))


def _dtype(t):
    name = first(t, "G.", "weight")
    t[name] = t[name].half()


def _int8(t):
    name = first(t, "D.", "weight")
    t[name] = t[name].to(torch.int8)


def _shape(t):
    t[first(t, "G.", "bias")] = torch.zeros(3)


def _extra(t):
    t["G.backdoor"] = torch.zeros(1)


def _missing(t):
    del t[first(t, "opt_d.", "")]


def _perm(t):
    t["perm"] = torch.arange(len(t["perm"])) * 7  # points past the data


@pytest.mark.parametrize("change, expected", [
    (_dtype, "as float16, not float32"),
    (_int8, "as int8, not float32"),
    (_shape, "of shape (3,)"),
    (_extra, "gankit never writes there, 'G.backdoor'"),
    (_missing, "lacks the tensor 'opt_d."),
])
def test_tampered_tensors_are_refused_on_resume(run, capsys, change, expected):
    rewrite(RunDir(run).latest(), change)
    before = fingerprint(run)
    refused(capsys, ["train", "--resume", run, "--epochs", 3], expected)
    assert fingerprint(run) == before


def test_a_mid_epoch_order_past_the_data_is_refused(splits, fixture_dir, tmp_path, capsys):
    run = tmp_path / "mid"
    trainer = quiet_trainer(small_config(max_steps=5, data_dir=str(fixture_dir)), run, splits)
    trainer.run()
    path = RunDir(run).latest()
    assert "perm" in load(path.read_bytes())
    rewrite(path, _perm)
    before = fingerprint(run)
    refused(capsys, ["train", "--resume", run, "--max-steps", 8], "data order that does not fit these")
    assert fingerprint(run) == before


@pytest.mark.parametrize("change, expected", [
    (lambda m: m.update(step="12"), "records step = '12'"),
    (lambda m: m.update(epoch=-1), "records epoch = -1"),
    (lambda m: m.update(wall_s=float("nan")), "records wall_s = nan"),
    (lambda m: m.update(batch=True), "records batch = True"),
    (lambda m: m.update(data={}), "data fingerprint records train_images = None"),
])
def test_tampered_metadata_is_refused_on_resume(run, capsys, change, expected):
    rewrite(RunDir(run).latest(), change_meta=change)
    before = fingerprint(run)
    refused(capsys, ["train", "--resume", run, "--epochs", 3], expected)
    assert fingerprint(run) == before


def test_a_generator_with_a_nan_weight_is_refused(run, tmp_path, capsys):
    exported = tmp_path / "G.safetensors"
    assert main(["export", str(run), "--out", str(exported)]) == 0
    name = next(k for k in load(exported.read_bytes()) if k.endswith("weight"))

    def poison(t):
        t[name] = t[name].clone()
        t[name].view(-1)[0] = float("nan")

    rewrite(exported, poison)
    refused(capsys, ["sample", exported, "--out", tmp_path / "grid.png"], f"non-finite weights (NaN or infinity in "
                                                                           f"{name!r})")
    assert not (tmp_path / "grid.png").exists()
    with pytest.raises(checkpoint.CheckpointError):
        load_generator(exported)


def test_huge_but_finite_weights_that_draw_nan_are_a_divergence(splits, tmp_path):
    from gankit.errors import TrainingDiverged

    trainer = quiet_trainer(small_config(max_steps=3), tmp_path / "huge", splits)
    with torch.no_grad():
        for p in trainer.state.G.parameters():
            p.mul_(1e30)  # finite, but every product overflows to inf and then NaN
    assert all(bool(torch.isfinite(p).all()) for p in trainer.state.G.parameters())
    with pytest.raises(TrainingDiverged, match="diverged"):
        trainer.write_checkpoint(tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_a_huge_learning_rate_is_a_divergence_not_a_checkpoint_of_nan_images(fixture_dir, tmp_path, capsys):
    run = tmp_path / "lr"
    refused(capsys, ["train", "--dataset", "idx", "--data-dir", fixture_dir, "--lr", "1e6", "--max-steps", 3,
                     "--out", run, "--no-progress"], "diverged at step 3")
    assert not RunDir(run).checkpoints()


def test_an_exported_generator_claiming_a_huge_noise_size_is_refused_before_it_is_built(run, tmp_path, capsys):
    exported = tmp_path / "G.safetensors"
    assert main(["export", str(run), "--out", str(exported)]) == 0
    rewrite(exported, change_meta=lambda m: m.update(z_dim=100_000_000))
    refused(capsys, ["sample", exported, "--out", tmp_path / "grid.png"], "header or weights are missing or "
                                                                          "inconsistent")
