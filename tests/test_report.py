"""The HTML report, the run listing and TensorBoard events, read back: the page holds the run's own
images and numbers and nothing from the network; bad input gets one sentence; a real browser loads it."""

from __future__ import annotations

import base64
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from gankit.cli import main
from gankit.errors import ConfigError
from gankit.evaluate import evaluate
from gankit.report import load_record, write_report
from gankit.report.record import matching_preset
from tests.conftest import quiet_trainer, small_config


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, splits):
    """Two short runs of the fixture (seeds 3 and 4), the first with --report and --tensorboard, evaluated."""
    root = tmp_path_factory.mktemp("runs")
    mp = pytest.MonkeyPatch()
    mp.setenv("GANKIT_DEVICE", "cpu")
    try:
        from gankit.training import Trainer

        Trainer(small_config(epochs=3, monitor_parzen=100, report=True, tensorboard=True), root / "a", splits,
                progress_bar=False, log=lambda m: None).run()
        quiet_trainer(small_config(epochs=2, seed=4, monitor_parzen=100), root / "b", splits).run()
        evaluate(root / "a", ["parzen"], "idx", None, n_samples=100, n_valid=50, splits=splits)
    finally:
        mp.undo()
    return root / "a", root / "b"


def _data_uris(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_the_report_written_during_training_embeds_every_grid_and_nothing_remote(two_runs):
    run, _ = two_runs
    html = (run / "report.html").read_text()
    images = _data_uris(html)
    for epoch in range(4):  # each epoch's grid, byte for byte, in the slider
        assert (run / "samples" / f"epoch-{epoch:04d}.png").read_bytes() in images, epoch
    assert all(png.startswith(b"\x89PNG") for png in images)
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing fetched: it opens offline
    assert "3 of 3" in html and "step-000000060.safetensors" in html  # written after the last checkpoint


def test_the_report_shows_the_runs_numbers_and_evaluations(two_runs):
    run, _ = two_runs
    record = load_record(run)
    assert [r["epoch"] for r in record.epochs] == [1, 2, 3] and record.evaluations[0]["kind"] == "parzen"
    best = record.best_epoch()
    assert best["parzen_monitor"] == max(r["parzen_monitor"] for r in record.epochs)
    html = write_report([run], run / "again.html").read_text()
    row = record.evaluations[0]
    assert f"{row['test_ll']:.4g}" in html and "valid[:50]" in html  # the value and its protocol
    assert f"epoch {best['epoch']}: {best['parzen_monitor']:.4g} nats" in html
    assert f"<code>{record.config['lr']}</code>" in html


def test_comparing_runs_lists_what_differs(two_runs, tmp_path):
    out = write_report(list(two_runs), tmp_path / "both.html")
    html = out.read_text()
    assert "2 runs compared" in html
    differences = html.split("How the runs differ")[1].split("Run details")[0]
    seed_row = re.search(r"<tr><td>seed</td>(.*?)</tr>", differences).group(1)
    assert seed_row == "<td><code>3</code></td><td><code>4</code></td>"
    assert "<tr><td>lr</td>" not in differences


def test_a_torn_line_is_skipped_with_a_warning(two_runs, tmp_path):
    run = tmp_path / "torn"
    shutil.copytree(two_runs[1], run)
    with open(run / "metrics.jsonl", "a") as handle:
        handle.write('{"kind": "train", "epoch": 3, "d_lo')
    warnings: list[str] = []
    html = write_report([run], warn=warnings.append).read_text()
    assert len(warnings) == 1 and "line 3" in warnings[0]
    assert "skipped line(s) 3" in html and len(load_record(run).epochs) == 2


def test_bad_input_gets_one_sentence_and_writes_nothing(two_runs, tmp_path):
    with pytest.raises(ConfigError, match="not a gankit run directory"):
        write_report([tmp_path])
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(two_runs[1] / "config.yaml", empty / "config.yaml")
    with pytest.raises(ConfigError, match="no finished epoch yet"):
        write_report([empty])
    with pytest.raises(ConfigError, match="is a folder"):
        write_report([two_runs[1]], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"] and not (empty / "report.html").exists()


def test_cli_report_and_runs(two_runs, tmp_path, capsys):
    assert main(["report", str(two_runs[1]), "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").exists()
    assert main(["report", str(tmp_path)]) == 1
    assert "not a gankit run directory" in capsys.readouterr().err
    assert main(["runs", str(two_runs[0].parent)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("run") and [line.split()[0] for line in lines[1:]] == ["a", "b"]
    assert "3/3" in lines[1] and "parzen" in lines[1] and "2/2" in lines[2]
    assert main(["runs", str(tmp_path / "nothing")]) == 1


def test_a_run_is_named_by_its_preset():
    from gankit.config import from_preset

    config = from_preset("demo-mnist").to_dict()
    assert matching_preset({**config, "lr": 0.5}) == "demo-mnist"  # the preset it started from, as stored
    older = {k: v for k, v in config.items() if k != "preset"}  # written before config.yaml named its preset
    assert matching_preset({**older, "epochs": 3, "seed": 7}) == "demo-mnist"
    assert matching_preset({**older, "lr": 0.5}) == "custom"


def test_tensorboard_holds_the_epochs_scalars_grids_and_evaluations(two_runs):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run, _ = two_runs
    events = EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0, "images": 0}).Reload()
    rows = load_record(run).epochs
    d_loss = events.Scalars("train/d_loss")
    assert [e.step for e in d_loss] == [1, 2, 3]
    assert [e.value for e in d_loss] == pytest.approx([r["d_loss"] for r in rows], rel=1e-6)
    assert [e.step for e in events.Images("samples")] == [1, 2, 3]
    parzen = events.Scalars("evaluate/parzen/test_ll")
    assert parzen[0].value == pytest.approx(load_record(run).evaluations[0]["test_ll"], rel=1e-6)


def test_a_resumed_run_rewrites_its_tensorboard_epochs_once(splits, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from gankit.training import Trainer

    config = small_config(epochs=3, checkpoint_every=2, tensorboard=True)
    Trainer(small_config(**{**config.to_dict(), "max_steps": 50}), tmp_path / "run", splits, progress_bar=False,
            log=lambda m: None).run()  # epochs 1, 2 checkpointed; killed in epoch 3
    Trainer(config, tmp_path / "run", splits, progress_bar=False, log=lambda m: None).run(resume=True)
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard")).Reload()
    steps = [e.step for e in events.Scalars("train/d_loss")]
    assert steps == [1, 2, 3]
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert events.Scalars("train/d_loss")[-1].value == pytest.approx(rows[-1]["d_loss"], rel=1e-6)


def test_missing_tensorboard_is_one_sentence(monkeypatch, tmp_path):
    from gankit import tensorboard

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ConfigError, match=r"pip install 'gankit\[tensorboard\]'"):
        tensorboard.writer(tmp_path)


CHROMIUM = Path("/usr/bin/chromium")


def test_the_report_in_a_real_browser(two_runs, tmp_path):
    """Headless Chromium opens the comparison page: no console errors, every image decodes, the slider
    steps through epochs, and the screenshot is not blank."""
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip("no browser: install Debian's chromium package (apt-get install chromium)")
    page_file = write_report(list(two_runs), tmp_path / "both.html")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
        assert len(images) >= 10 and all(done and width > 0 for done, width in images)
        page.fill("#slider-0", "1")  # the first run's slider to its second frame: epoch 1
        page.dispatch_event("#slider-0", "input")
        assert page.inner_text("#slider-label-0") == "1"
        assert page.eval_on_selector_all("img.frame-0", "els => els.filter(e => !e.hidden).length") == 1
        shot = page.screenshot(full_page=True)
        browser.close()
    assert errors == []
    from io import BytesIO

    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(BytesIO(shot)).convert("L"), dtype=float)
    assert pixels.shape[0] > 900 and pixels.std() > 10  # a long page with text, plots and grids on it
