import numpy as np
import pytest
from PIL import Image

from gankit.cli import main
from gankit.rundir import RunDir


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def trained(tmp_path, fixture_dir, capsys):
    run_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", "--dataset", "idx", "--data-dir", fixture_dir, "--epochs", 2,
                         "--batch-size", 50, "--grid-size", 16, "--out", run_dir, "--no-progress")
    assert code == 0, err
    return run_dir, out, err


def test_train_prints_summary_and_grid_path(trained):
    run_dir, out, err = trained
    assert "epoch 1: D loss" in err and "epoch 2: D loss" in err
    assert f"samples: {run_dir}/samples/epoch-0002.png" in out


def test_resume_extends_a_finished_run(trained, capsys):
    run_dir, _, _ = trained
    code, out, err = run(capsys, "train", "--resume", run_dir, "--epochs", 3, "--no-progress")
    assert code == 0 and "resuming" in err and "epoch 3: D loss" in err and "3 epochs, 60 steps" in out
    code, _, err = run(capsys, "train", "--resume", run_dir, "--lr", 0.5)
    assert code == 1 and "cannot change lr when resuming" in err and "Traceback" not in err


def test_sample_png_and_npy_are_reproducible(trained, tmp_path, capsys):
    run_dir, _, _ = trained
    assert run(capsys, "sample", run_dir, "--n", 10, "--out", tmp_path / "a.npy")[0] == 0
    assert run(capsys, "sample", run_dir, "--n", 10, "--out", tmp_path / "b.npy")[0] == 0
    a, b = np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy")
    assert a.shape == (10, 1, 28, 28) and np.array_equal(a, b) and 0 <= a.min() and a.max() <= 1
    ckpt = RunDir(run_dir).checkpoints()[0]
    assert run(capsys, "sample", ckpt, "--n", 6, "--nrow", 3, "--out", tmp_path / "g.png")[0] == 0
    assert Image.open(tmp_path / "g.png").size == (2 * (3 * 30 + 2), 2 * (2 * 30 + 2))


def test_export_then_sample_from_generator_file(trained, tmp_path, capsys):
    run_dir, _, _ = trained
    code, out, _ = run(capsys, "export", run_dir, "--out", tmp_path / "G.safetensors")
    assert code == 0 and "MB" in out
    run(capsys, "sample", tmp_path / "G.safetensors", "--n", 5, "--out", tmp_path / "e.npy")
    run(capsys, "sample", run_dir, "--n", 5, "--out", tmp_path / "r.npy")
    assert np.array_equal(np.load(tmp_path / "e.npy"), np.load(tmp_path / "r.npy"))
    # G alone (fp32 weights) is well under half a full training checkpoint (G, D and both velocities)
    full = RunDir(run_dir).latest().stat().st_size
    assert (tmp_path / "G.safetensors").stat().st_size < 0.4 * full


@pytest.mark.parametrize("argv,message", [
    (["train", "--epochs", "zero"], "epochs = 'zero' is not a valid int"),
    (["train", "--g-objective", "earth-mover"], "choose one of: non-saturating, minimax, hinge"),
    (["train", "--preset", "nope"], "unknown preset 'nope'"),
    (["train", "--config", "/no/such.yaml"], "does not exist"),
    (["train", "--resume", "/no/such/run"], "not a gankit run directory"),
    (["train", "--dataset", "idx", "--data-dir", "/no/such/dir"], "does not exist"),
    (["sample", "/no/such/run"], "does not exist"),
    (["sample", "x", "--out", "x.jpg"], "must end in .png or .npy"),
    (["train", "--regularizers", "r3:1"], "unknown regularizer 'r3'"),
    (["train", "--regularizers", "r1:0"], "needs a positive weight"),
    (["train", "--regularizers", "r1:1@0"], "lazy interval must be at least 1 step"),
    (["train", "--augment", "flip"], "augment = 'flip' is not valid; choose one of: none"),
    (["train", "--preset", "vae-mnist", "--g-objective", "hinge"], "is a VAE, which has no discriminator"),
])
def test_errors_are_one_line_without_traceback(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 1 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_existing_run_is_not_overwritten(trained, fixture_dir, capsys):
    run_dir, _, _ = trained
    before = {p: p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}
    code, _, err = run(capsys, "train", "--dataset", "idx", "--data-dir", fixture_dir, "--out", run_dir)
    assert code == 1 and "already holds a run" in err
    assert before == {p: p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}


def test_corrupt_checkpoint_gives_clear_error(trained, capsys):
    run_dir, _, _ = trained
    latest = RunDir(run_dir).latest()
    latest.write_bytes(latest.read_bytes()[:1000])
    code, _, err = run(capsys, "sample", run_dir)
    assert code == 1 and "truncated or corrupt" in err


def test_unknown_flag_and_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--learning-rate", "1"])
    assert info.value.code == 2 and "unrecognized arguments: --learning-rate" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0 and "--update-order" in out and "--resume" in out
