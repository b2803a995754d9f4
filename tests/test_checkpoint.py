import pickle

import pytest
import torch

from gankit import checkpoint
from gankit.errors import CheckpointError
from gankit.rundir import RunDir


def test_round_trip_and_listing(tmp_path):
    tensors = {"G.w": torch.randn(3, 4), "rng": torch.randint(0, 255, (10,), dtype=torch.uint8)}
    run = RunDir(tmp_path)
    for step in (5, 10, 15, 20):
        checkpoint.write(run.checkpoint_path(step), tensors, {"step": step})
    checkpoint.write(run.best, tensors, {"step": 10})  # not a step checkpoint: never listed or pruned
    back, meta = checkpoint.read(run.latest())
    assert meta["step"] == 20 and meta["format"] == checkpoint.FORMAT
    assert all(torch.equal(back[k], tensors[k]) for k in tensors)
    run.prune(keep=2)
    assert [p.name for p in run.checkpoints()] == ["step-000000015.safetensors", "step-000000020.safetensors"]
    assert run.best.exists() and run.best_or_latest() == run.best
    assert not list((tmp_path / "checkpoints").glob("*.tmp"))


def test_metrics_rows_append_read_and_trim(tmp_path):
    run = RunDir(tmp_path)
    for epoch in (1, 2, 3):
        run.append_row({"kind": "train", "epoch": epoch})
    run.append_row({"kind": "parzen", "epoch": 3})
    with open(run.metrics, "a") as handle:
        handle.write('{"kind": "train", "ep')  # a line torn by a kill
    run.trim_rows(epoch=1)
    assert run.rows() == [{"kind": "train", "epoch": 1}, {"kind": "parzen", "epoch": 3}]
    assert RunDir.of(tmp_path).path == tmp_path
    assert RunDir.of(run.checkpoint_path(1)) is None  # no config.yaml: not inside a run
    run.config.write_text("seed: 0\n")
    assert RunDir.of(run.checkpoint_path(1)).path == tmp_path


def test_truncated_checkpoint(tmp_path):
    path = checkpoint.write(tmp_path / "c.safetensors", {"w": torch.ones(100)}, {"step": 1})
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        checkpoint.read(path)


class Trap:
    def __reduce__(self):
        return (exec, ("open('TRAP_FIRED', 'w').write('x')",))


def test_pickle_is_never_unpickled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"w": Trap()}))
    with pytest.raises(CheckpointError):
        checkpoint.read(path)
    assert not (tmp_path / "TRAP_FIRED").exists()


def test_foreign_safetensors_file(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.ones(2)}, str(tmp_path / "x.safetensors"))
    with pytest.raises(CheckpointError, match="not a gankit file"):
        checkpoint.read(tmp_path / "x.safetensors")


def test_empty_run_dir(tmp_path):
    with pytest.raises(CheckpointError, match="has no checkpoints"):
        RunDir(tmp_path).latest()


def test_atomic_write_uses_normal_permissions(tmp_path):
    import os

    from gankit.fileio import atomic_write_bytes

    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "f.bin", b"abc")
    finally:
        os.umask(old)
    assert (tmp_path / "f.bin").read_bytes() == b"abc"
    assert (tmp_path / "f.bin").stat().st_mode & 0o777 == 0o644
