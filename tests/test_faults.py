"""Bad input and faults, tried as a user would meet them: one sentence, a non-zero exit, nothing lost."""

import json
import os
import signal

import pytest
import torch

from gankit import checkpoint
from gankit.cli import main
from gankit.data import load_dataset
from gankit.errors import CheckpointError, ConfigError, TrainingDiverged
from gankit.rundir import RunDir, RunLock
from gankit.training import Trainer
from tests.conftest import quiet_trainer, small_config, write_fixture


def small(**overrides):
    return small_config(**{**overrides})


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err):
    return code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1 and "error:" in err


def test_binary_config_and_out_naming_a_file_are_one_line_errors(tmp_path, fixture_dir, capsys):
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(bytes(range(256)) * 4)
    code, _, err = cli(capsys, "train", "--config", garbage, "--out", tmp_path / "r")
    assert one_line_error(code, err) and "not a text file" in err
    a_file = tmp_path / "taken"
    a_file.write_text("precious")
    code, _, err = cli(capsys, "train", "--dataset", "idx", "--data-dir", fixture_dir, "--out", a_file)
    assert one_line_error(code, err) and "is a file" in err and a_file.read_text() == "precious"
    # an --out below a file cannot be created
    code, _, err = cli(capsys, "train", "--dataset", "idx", "--data-dir", fixture_dir, "--out", a_file / "run")
    assert one_line_error(code, err) and "cannot create the run directory" in err


def test_resume_of_a_run_killed_before_its_first_checkpoint_starts_it(splits, tmp_path):
    run = tmp_path / "run"
    full = quiet_trainer(small(), tmp_path / "full", splits)
    full.run()
    # what a kill leaves before the first checkpoint: config.yaml and the first grid, no checkpoint
    class Killed(Exception):
        pass

    def kill(trainer):
        if trainer.progress.step == 5:
            raise Killed

    with pytest.raises(Killed):
        quiet_trainer(small(), run, splits).run(on_iteration=kill)
    assert (run / "config.yaml").exists() and not RunDir(run).checkpoints()
    resumed = quiet_trainer(small(), run, splits)
    resumed.run(resume=True)
    assert resumed.progress.epoch == 2
    full_g, resumed_g = full.state.G.state_dict(), resumed.state.G.state_dict()
    assert all(torch.equal(full_g[k], resumed_g[k]) for k in full_g)


def test_time_based_checkpoints_land_mid_epoch_and_resume_exactly(splits, tmp_path):
    full = quiet_trainer(small(), tmp_path / "full", splits)
    full.run()
    # every iteration is "later than checkpoint_minutes": a checkpoint after each one, mid-epoch
    cut = quiet_trainer(small(checkpoint_minutes=1e-9, keep_checkpoints=100, max_steps=13), tmp_path / "cut", splits)
    cut.run()
    steps = [int(p.name[5:14]) for p in RunDir(tmp_path / "cut").checkpoints()]
    assert steps[:3] == [1, 2, 3] and 13 in steps
    resumed = quiet_trainer(small(), tmp_path / "cut", splits)
    resumed.run(resume=True)
    for a, b in zip(full.checkpoint_tensors().values(), resumed.checkpoint_tensors().values()):
        assert torch.equal(a, b)


def test_a_second_writer_is_refused_and_a_stale_lock_does_not_block(splits, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    holder = RunLock(run)  # another process writing this run (flock is per open file, so this conflicts)
    with pytest.raises(ConfigError, match=f"being written by gankit process {os.getpid()}"):
        quiet_trainer(small(), run, splits).run()
    assert not (run / "config.yaml").exists() and not (run / "checkpoints").exists()
    holder.release()  # the holder died: its lock file stays, but the kernel dropped the lock
    assert (run / ".lock").exists()
    quiet_trainer(small(epochs=1), run, splits).run()
    assert RunDir(run).checkpoints()


def test_resume_refuses_a_hand_edited_config_but_accepts_repeated_values(splits, tmp_path, fixture_dir, capsys):
    run = tmp_path / "run"
    code, _, err = cli(capsys, "train", "--dataset", "idx", "--data-dir", fixture_dir, "--epochs", 1,
                       "--batch-size", 50, "--seed", 0, "--monitor-parzen", 0, "--out", run, "--no-progress")
    assert code == 0, err
    # a flag that repeats the stored value is no change
    code, out, err = cli(capsys, "train", "--resume", run, "--epochs", 2, "--seed", 0, "--no-progress")
    assert code == 0 and "2 epochs" in out, err
    config_text = (run / "config.yaml").read_text()
    (run / "config.yaml").write_text(config_text.replace("lr: 0.1\n", "lr: 0.05\n"))
    code, _, err = cli(capsys, "train", "--resume", run, "--epochs", 3)
    assert one_line_error(code, err) and "lr 0.1 -> 0.05" in err
    # the library refuses the same, without the CLI (the rule belongs to the object that resumes)
    with pytest.raises(ConfigError, match="g_objective"):
        other = small(seed=0, epochs=3, g_objective="minimax", data_dir=str(fixture_dir))
        quiet_trainer(other, run, splits).run(resume=True)
    assert len(RunDir(run).checkpoints()) == 2  # nothing was written


def test_resume_on_other_training_images_is_refused(splits, tmp_path):
    run = tmp_path / "run"
    quiet_trainer(small(epochs=1), run, splits).run()
    other = load_dataset("idx", write_fixture(tmp_path / "other", seed=9))
    with pytest.raises(ConfigError, match="trained on other images"):
        quiet_trainer(small(), run, other).run(resume=True)


def test_failed_checkpoint_write_keeps_the_previous_one(splits, tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    quiet_trainer(small(epochs=1), run, splits).run()
    before = RunDir(run).latest()
    blob = before.read_bytes()
    import gankit.checkpoint as ck

    def disk_full(path, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ck, "atomic_write_bytes", disk_full)
    with pytest.raises(CheckpointError, match="No space left on device.*intact"):
        quiet_trainer(small(epochs=2), run, splits).run(resume=True)
    assert RunDir(run).latest() == before and before.read_bytes() == blob


@pytest.mark.parametrize("damage", ["no config", "nonsense shape", "nonsense noise", "missing step"])
def test_checkpoints_and_exports_with_bad_headers_are_refused_in_one_line(tmp_path, splits, capsys, damage):
    run = tmp_path / "run"
    quiet_trainer(small(epochs=1), run, splits).run()
    tensors, meta = checkpoint.read(RunDir(run).latest())
    if damage == "no config":
        del meta["config"]
    elif damage == "nonsense shape":
        meta["image_shape"] = ["a", 2]
    elif damage == "nonsense noise":
        meta["config"]["noise"] = 7
    else:
        del meta["step"]
    bad = tmp_path / "bad.safetensors"
    checkpoint.write(bad, tensors, {k: v for k, v in meta.items() if k != "format"})
    code, _, err = cli(capsys, "sample", bad, "--out", tmp_path / "s.png")
    assert one_line_error(code, err) and "header or weights" in err


def test_sigterm_exits_143_after_a_clean_stop(fixture_dir, tmp_path, monkeypatch, capsys):
    from gankit.training.steps import STEPS

    original = STEPS["simultaneous"]

    def step(state, *args):
        if state.progress.step == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(state, *args)

    monkeypatch.setitem(STEPS, "simultaneous", step)
    code, _, err = cli(capsys, "train", "--dataset", "idx", "--data-dir", fixture_dir, "--batch-size", 50,
                       "--out", tmp_path / "run", "--no-progress")
    assert code == 143 and "stopped by SIGTERM" in err
    assert RunDir(tmp_path / "run").latest().name == "step-000000004.safetensors"


def test_a_diverged_state_is_never_saved_as_a_checkpoint(splits, tmp_path):
    run = tmp_path / "run"

    def poison(trainer):
        if trainer.progress.step == 25:
            with torch.no_grad():
                trainer.state.G.layers[0].weight.fill_(float("nan"))

    t = quiet_trainer(small(epochs=3, max_steps=30), run, splits)  # stops mid-epoch 2, after the losses went NaN
    with pytest.raises(TrainingDiverged, match="nothing was saved; the last good checkpoint is .*000000020"):
        t.run(on_iteration=poison)
    assert [p.name for p in RunDir(run).checkpoints()] == ["step-000000020.safetensors"]


def test_best_is_written_before_the_step_checkpoint(splits, tmp_path, monkeypatch):
    import gankit.checkpoint as ck

    written = []
    real_write = ck.write
    monkeypatch.setattr(ck, "write", lambda path, *a, **k: written.append(path.name) or real_write(path, *a, **k))
    quiet_trainer(small(epochs=1, monitor_parzen=100), tmp_path / "run", splits).run()
    assert written == ["best.safetensors", "step-000000020.safetensors"]


def test_temporaries_of_killed_writes_are_removed_on_resume(splits, tmp_path):
    run = tmp_path / "run"
    quiet_trainer(small(epochs=1), run, splits).run()
    leftovers = [run / "checkpoints" / ".step-000000040.safetensors.abc123.tmp", run / ".config.yaml.x.tmp"]
    for p in leftovers:
        p.write_bytes(b"\0" * 1000)
    messages = []
    Trainer(small(), run, splits, progress_bar=False, log=messages.append).run(resume=True)
    assert not any(p.exists() for p in leftovers)
    assert any("removed 2 unfinished temporary" in m for m in messages)


def test_metrics_rows_of_a_resumed_run_stay_valid_json(splits, tmp_path):
    run = tmp_path / "run"
    quiet_trainer(small(epochs=1), run, splits).run()
    quiet_trainer(small(epochs=2), run, splits).run(resume=True)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
