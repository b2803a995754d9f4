import pickle

import pytest
import torch

from gankit import checkpoint
from gankit.errors import CheckpointError


def test_round_trip_and_listing(tmp_path):
    tensors = {"G.w": torch.randn(3, 4), "rng": torch.randint(0, 255, (10,), dtype=torch.uint8)}
    for step in (5, 10, 15, 20):
        checkpoint.write(tmp_path / "checkpoints" / checkpoint.checkpoint_name(step), tensors, {"step": step})
    back, meta = checkpoint.read(checkpoint.latest(tmp_path))
    assert meta["step"] == 20 and meta["format"] == checkpoint.FORMAT
    assert all(torch.equal(back[k], tensors[k]) for k in tensors)
    checkpoint.prune(tmp_path, keep=2)
    assert [p.name for p in checkpoint.list_checkpoints(tmp_path)] == [
        checkpoint.checkpoint_name(15), checkpoint.checkpoint_name(20)]
    assert not list((tmp_path / "checkpoints").glob("*.tmp"))


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
        checkpoint.latest(tmp_path)


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
