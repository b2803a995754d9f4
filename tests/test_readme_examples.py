"""The README's "Adding a model, a dataset, a metric, a loss or a regularizer" examples, run as written: each
block is executed, and a run then trains with all five (and is evaluated and monitored by the new metric)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gankit.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"


def adding_examples() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Adding a model, a dataset"):]
    section = section[: section.index("\n## ", 3)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.fixture
def registries():
    """The registries as they were, put back after the examples added to them."""
    from gankit.data import DATASETS
    from gankit.evaluate import METRICS
    from gankit.nets import MODELS
    from gankit.objectives import D_LOSSES
    from gankit.regularizers import REGULARIZERS

    saved = [(r, dict(r)) for r in (DATASETS, METRICS, MODELS, D_LOSSES, REGULARIZERS)]
    yield
    for registry, before in saved:
        registry.clear()
        registry.update(before)


def test_the_readme_examples_register_and_train(registries, tmp_path, capsys):
    blocks = adding_examples()
    assert len(blocks) == 5  # a model, a dataset, a metric, a loss, a regularizer
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
    run = tmp_path / "run"
    assert main(["train", "--model", "tiny-mlp", "--dataset", "stripes", "--d-objective", "softplus-hinge",
                 "--regularizers", "drift:0.001", "--monitor", "brightness:100", "--best-by", "brightness",
                 "--monitor-parzen", "0", "--batch-size", "50", "--epochs", "2", "--grid-size", "4",
                 "--optimizer", "adam", "--lr", "1e-3", "--lr-decay", "1", "--no-progress", "--out", str(run)]) == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2] and all(r["brightness_monitor"] >= 0 for r in rows)
    assert (run / "checkpoints" / "best.safetensors").exists()
    capsys.readouterr()
    assert main(["evaluate", str(run), "--metrics", "brightness", "--n-samples", "100"]) == 0
    assert "mean brightness gap" in capsys.readouterr().out
    assert main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "s.png")]) == 0
