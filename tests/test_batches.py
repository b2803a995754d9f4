"""The real-batch source: a split kept on the device and one streamed from host memory give the same
batches, in the same order, through an interruption; a run is the same whichever is used."""

from __future__ import annotations

import pytest
import torch

import gankit.training.batches as batches_module
from gankit.data import Split
from gankit.training.batches import PermutationBatches
from gankit.training.state import Progress
from tests.conftest import quiet_trainer, small_config


def _split(transform: str) -> Split:
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (50, 16), dtype=torch.uint8, generator=gen)
    return Split(images, torch.arange(50) % 10, (1, 4, 4), transform)


def _epoch(b: PermutationBatches, seed: int, stop: int | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    progress, rng, out = Progress(), torch.Generator().manual_seed(seed), []
    while progress.batch < (stop or b.per_epoch):
        x, y = b.next(progress, rng)
        out.append((x, y))
    return out


@pytest.mark.parametrize("transform", ["unit", "gcn55"])
def test_streamed_batches_equal_resident_ones(transform):
    split = _split(transform)
    resident = PermutationBatches(split, 8, torch.device("cpu"), labels=True)
    streamed = PermutationBatches(split, 8, torch.device("cpu"), labels=True, budget=0)
    assert resident.resident and not streamed.resident
    a, b = _epoch(resident, 3), _epoch(streamed, 3)
    assert len(a) == 6
    for (xa, ya), (xb, yb) in zip(a, b):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    expected = split.float()[resident.perm[:8]]  # the batch is the split's float view, rows in permutation order
    assert torch.equal(a[0][0], expected) and torch.equal(a[0][1], split.labels[resident.perm[:8]])


def test_a_streamed_epoch_resumes_from_its_saved_order():
    split = _split("unit")
    whole = _epoch(PermutationBatches(split, 8, torch.device("cpu"), budget=0), 5)
    first = PermutationBatches(split, 8, torch.device("cpu"), budget=0)
    _epoch(first, 5, stop=2)
    second = PermutationBatches(split, 8, torch.device("cpu"), budget=0)
    second.load(first.tensors())
    progress = Progress(batch=2)
    rest = [second.next(progress, torch.Generator().manual_seed(99))[0] for _ in range(4)]
    for x, (expected, _) in zip(rest, whole[2:]):
        assert torch.equal(x, expected)


def test_a_run_streaming_its_data_ends_where_a_resident_one_does(splits, tmp_path, monkeypatch):
    config = small_config(epochs=2)
    resident = quiet_trainer(config, tmp_path / "resident", splits)
    resident.run()
    monkeypatch.setattr(batches_module, "resident_budget", lambda device: 0)
    streamed = quiet_trainer(config, tmp_path / "streamed", splits)
    streamed.run()
    assert resident.batches.resident and not streamed.batches.resident
    for name, value in resident.checkpoint_tensors().items():
        assert torch.equal(value, streamed.checkpoint_tensors()[name]), name
