"""torchrun: 2 CPU processes (gloo) train the same weights as one process on the whole batch, only rank 0
writes, and a run stopped under torchrun resumes under torchrun exactly."""

import json
import os
import subprocess
import sys

import pytest
import torch

from gankit import checkpoint
from gankit.distributed import Ranks
from gankit.errors import ConfigError
from gankit.rundir import RunDir
from gankit.training import Trainer
from tests.conftest import small_config

pytestmark = pytest.mark.skipif(not torch.distributed.is_gloo_available(), reason="torch built without gloo")


def gankit_train(args: list[str], ranks: int) -> subprocess.CompletedProcess:
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(ranks)] \
        if ranks > 1 else [sys.executable]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([*launcher, "-m", "gankit", "train", "--no-progress", *args], capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def common(fixture_dir, *extra: str) -> list[str]:
    # toy-mlp: the toy D has no dropout, so one process and two draw exactly the same numbers
    return ["--dataset", "idx", "--data-dir", str(fixture_dir), "--model", "toy-mlp", "--batch-size", "100",
            "--epochs", "2", "--monitor-parzen", "0", "--health", "off", "--grid-size", "16", "--seed", "3", *extra]


def final_weights(run) -> dict[str, torch.Tensor]:
    tensors, _ = checkpoint.read(RunDir(run).latest())
    return {k: v for k, v in tensors.items() if k.startswith(("G.", "D."))}


def rows(run) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("order", [("simultaneous", "momentum"), ("sequential", "momentum")])
def test_two_ranks_with_half_batches_train_what_one_process_trains(fixture_dir, tmp_path, order):
    extra = ["--update-order", order[0], "--optimizer", order[1]] + (["--d-steps", "2"] if order[0] == "sequential"
                                                                     else [])
    gankit_train([*common(fixture_dir, *extra), "--out", str(tmp_path / "one")], 1)
    out = gankit_train([*common(fixture_dir, *extra), "--out", str(tmp_path / "two")], 2)
    assert out.stdout.count("done: 2 epochs") == 1  # one summary, from rank 0
    one, two = final_weights(tmp_path / "one"), final_weights(tmp_path / "two")
    # 20 iterations, seeds 0-9 and both orders: at most 4.5e-8 (float sums in another order), once 3.5e-6 (seed 0,
    # simultaneous: a maxout tie broken the other way); both ranks on the first half: 4.9e-3; gradients summed
    # instead of averaged: 0.39
    assert max(float((one[k] - two[k]).abs().max()) for k in one) < 1e-4
    a, b = rows(tmp_path / "one"), rows(tmp_path / "two")
    assert len(b) == 2  # rank 0 alone wrote the epoch rows
    for r, s in zip(a, b):  # the epoch's means are over the whole global batch
        assert s["d_loss"] == pytest.approx(r["d_loss"], abs=1e-5)
        assert s["d_fake"] == pytest.approx(r["d_fake"], abs=1e-5)


def test_a_run_stopped_under_torchrun_resumes_under_torchrun_exactly(fixture_dir, tmp_path):
    gankit_train([*common(fixture_dir), "--out", str(tmp_path / "full")], 2)
    gankit_train([*common(fixture_dir, "--max-steps", "13"), "--out", str(tmp_path / "cut")], 2)
    assert RunDir(tmp_path / "cut").latest().name == "step-000000013.safetensors"
    gankit_train(["--resume", str(tmp_path / "cut"), "--max-steps", "20"], 2)
    full, resumed = final_weights(tmp_path / "full"), final_weights(tmp_path / "cut")
    assert all(torch.equal(full[k], resumed[k]) for k in full)


def test_ranks_shard_and_draw_their_own_masks():
    x = torch.arange(10)
    assert torch.equal(Ranks(1, 2).shard(x), torch.arange(5, 10)) and Ranks().shard(x) is x
    shared = torch.Generator().manual_seed(0)
    assert Ranks().local_generator(shared, 0, 1, 0) is shared  # a single process: the shared stream, as before
    before = shared.get_state()
    a = torch.rand(4, generator=Ranks(0, 2).local_generator(shared, 0, 1, 0))
    b = torch.rand(4, generator=Ranks(1, 2).local_generator(shared, 0, 1, 0))
    c = torch.rand(4, generator=Ranks(0, 2).local_generator(shared, 0, 2, 0))
    assert not torch.equal(a, b) and not torch.equal(a, c)  # rank-aware and new each step
    assert torch.equal(shared.get_state(), before)  # nothing taken from the shared stream


def test_a_batch_that_does_not_split_over_the_ranks_is_refused(splits, tmp_path):
    with pytest.raises(ConfigError, match="divisible by --nproc_per_node"):
        Trainer(small_config(batch_size=50), tmp_path / "r", splits, progress_bar=False, ranks=Ranks(0, 3))


def test_patience_ends_a_torchrun_run_on_every_rank_at_the_same_epoch(fixture_dir, tmp_path):
    """Rank 0 alone measures the monitor; the plateau it sees must end the other rank too (else it hangs)."""
    run = tmp_path / "run"
    args = [*common(fixture_dir, "--monitor-parzen", "100", "--patience", "1", "--epochs", "8"), "--out", str(run)]
    out = gankit_train(args, 2)
    monitors = [r["parzen_monitor"] for r in rows(run)]
    ended = next((e for e in range(1, len(monitors)) if monitors[e] <= max(monitors[:e])), None)
    assert len(monitors) == (ended + 1 if ended else 8)
    if ended:  # measured at seed 3: the monitor falls after epoch 3, so the run ends after epoch 4
        assert "has not improved for 1 epoch (patience 1" in out.stderr
    assert RunDir(run).latest().name == f"step-{10 * len(monitors):09d}.safetensors"
    again = gankit_train(["--resume", str(run), "--patience", "1", "--epochs", "8"], 2)
    assert RunDir(run).latest().name == f"step-{10 * len(monitors):09d}.safetensors"
    assert ("nothing to train" in again.stderr) == bool(ended)
