"""`gankit sweep`: one run per seed, kept when complete, resumed when short; the table's means and
standard deviations are those of the runs' own metrics."""

from __future__ import annotations

import json
import statistics

import pytest

from gankit.cli import main
from gankit.errors import ConfigError, GankitError
from gankit.sweep import parse_seeds
from tests.conftest import as_overrides


def test_seed_lists():
    assert parse_seeds("0-3") == [0, 1, 2, 3] and parse_seeds("5,1,1-2") == [5, 1, 2]
    for bad in ("a-b", "", "3,x"):
        with pytest.raises(ConfigError, match="--seeds"):
            parse_seeds(bad)


def test_a_sweep_trains_each_seed_then_keeps_or_extends_it(fixture_dir, tmp_path, capsys):
    out = tmp_path / "sweep"
    flags = ["--dataset", "idx", "--data-dir", str(fixture_dir), "--batch-size", "50", "--grid-size", "16",
             "--monitor-parzen", "100", "--lr", "0.05", "--out", str(out)]
    assert main(["sweep", "--seeds", "3-4", "--epochs", "1", *flags]) == 0
    result = json.loads((out / "sweep.json").read_text())
    assert [r["seed"] for r in result["seeds"]] == [3, 4]
    monitors = []
    for seed in (3, 4):
        config = (out / f"seed-{seed}" / "config.yaml").read_text()
        assert f"seed: {seed}" in config and "lr: 0.05" in config
        rows = [json.loads(line) for line in (out / f"seed-{seed}" / "metrics.jsonl").read_text().splitlines()]
        monitors.append(rows[-1]["parzen_monitor"])
    summary = result["summary"]["parzen_monitor"]["all"]
    assert summary["mean"] == pytest.approx(statistics.fmean(monitors))
    assert summary["std"] == pytest.approx(statistics.stdev(monitors))
    assert (out / "report.html").exists() and "parzen_monitor: all (2): " in capsys.readouterr().out

    before = (out / "seed-3" / "metrics.jsonl").read_text()
    assert main(["sweep", "--seeds", "3", "--epochs", "1", *flags]) == 0  # complete: kept, not retrained
    assert "complete; kept" in capsys.readouterr().err
    assert (out / "seed-3" / "metrics.jsonl").read_text() == before
    bigger_monitor = [f if f != "100" else "150" for f in flags]  # a flag a resume may change reaches the runs
    assert main(["sweep", "--seeds", "3-4", "--epochs", "2", *bigger_monitor]) == 0  # longer: both resumed
    assert "resuming" in capsys.readouterr().err
    assert [r["epochs"] for r in json.loads((out / "sweep.json").read_text())["seeds"]] == [2, 2]
    assert "monitor_parzen: 150" in (out / "seed-4" / "config.yaml").read_text()
    other_lr = [f if f != "0.05" else "0.1" for f in flags]  # one it may not: the seed fails, saying why
    assert main(["sweep", "--seeds", "3", "--epochs", "3", *other_lr]) == 1
    assert "cannot change lr when resuming" in capsys.readouterr().err


def test_a_sweep_refuses_a_bad_recipe_before_training(tmp_path, capsys):
    assert main(["sweep", "--seeds", "0-1", "--lr", "-1", "--out", str(tmp_path / "s")]) == 1
    assert "lr must be a positive" in capsys.readouterr().err and not (tmp_path / "s").exists()


def test_a_sweep_called_from_python_starts_each_seed_from_the_config_it_wrote(fixture_dir, tmp_path):
    """run_sweep resolves the Recipe once per seed into OUT/seed-N/config.yaml (the seed and the preset's name
    in it), and the child trains from that file: a file changed before it starts is what trains."""
    from gankit.config import load_yaml, save_yaml
    from gankit.recipe import Recipe
    from gankit.sweep import prepare, run_sweep

    flags = ["--dataset", "idx", "--data-dir", str(fixture_dir), "--batch-size", "50", "--grid-size", "16",
             "--monitor-parzen", "100", "--epochs", "2"]
    recipe = Recipe("demo-mnist", overrides=as_overrides(flags))
    assert prepare(tmp_path / "s" / "seed-1", recipe, 1, {"epochs": 2}) == "new"
    written = load_yaml(tmp_path / "s" / "seed-1" / "config.yaml")
    assert (written.seed, written.preset, written.model, written.epochs) == (1, "demo-mnist", "mlp-bn", 2)
    save_yaml(written.__class__(**{**written.to_dict(), "health": "off"}), tmp_path / "s" / "seed-1" / "config.yaml")
    result = run_sweep(tmp_path / "s", [1], recipe, log=lambda m: None)
    assert [(r["seed"], r["epochs"]) for r in result["seeds"]] == [(1, 2)]
    assert result["seeds"][0]["epochs_since_best"] == 2 - result["seeds"][0]["best_epoch"]
    rows = [json.loads(line) for line in (tmp_path / "s" / "seed-1" / "metrics.jsonl").read_text().splitlines()]
    assert rows and not any("health" in r for r in rows)  # the file it wrote is what trained


def test_parallel_runs_share_the_cpus_cores_unless_told_otherwise(monkeypatch):
    from gankit import sweep

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(sweep.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    assert sweep.child_env(2)["OMP_NUM_THREADS"] == "4" and sweep.child_env(3)["OMP_NUM_THREADS"] == "2"
    assert sweep.child_env(16)["OMP_NUM_THREADS"] == "1" and "OMP_NUM_THREADS" not in sweep.child_env(1)
    monkeypatch.setenv("OMP_NUM_THREADS", "6")
    assert sweep.child_env(2)["OMP_NUM_THREADS"] == "6"


@pytest.mark.parametrize("mode", [[], ["--in-process"]], ids=["processes", "threads"])
def test_a_signal_to_the_sweep_stops_its_runs_with_checkpoints(fixture_dir, tmp_path, mode):
    """SIGTERM to the sweep alone (a scheduler's, or `kill PID`) reaches its runs: each writes a checkpoint
    and stops before the sweep exits (143, as `gankit train`), none is left training on its own; the same
    sweep then resumes them."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "gankit", "sweep", "--seeds", "0-1", "--parallel", "2", "--epochs", "500",
               "--dataset", "idx", "--data-dir", str(fixture_dir), "--batch-size", "50", "--grid-size", "16",
               "--monitor-parzen", "100", "--health", "off", "--out", str(out), *mode]
    sweep = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = [out / f"seed-{s}" / "metrics.jsonl" for s in (0, 1)]
    deadline = time.monotonic() + 300
    while not all(m.exists() and m.read_text().strip() for m in metrics) and time.monotonic() < deadline:
        time.sleep(0.5)
    sweep.send_signal(signal.SIGTERM)
    _, err = sweep.communicate(timeout=300)
    assert sweep.returncode == 128 + signal.SIGTERM and "stopped by SIGTERM" in err
    logs = [(out / f"seed-{s}.log").read_text() for s in (0, 1)]
    assert all("stopped by SIGTERM at epoch" in log for log in logs)  # both stopped before the sweep exited
    sizes = [m.stat().st_size for m in metrics]
    time.sleep(3)
    assert [m.stat().st_size for m in metrics] == sizes  # and nothing trains on
    epochs = [len(m.read_text().splitlines()) for m in metrics]
    done = subprocess.run([*command[:9], str(max(epochs) + 1), *command[10:]], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr.count("resuming") == 2, done.stderr


def test_runs_in_threads_are_the_runs_trained_alone(fixture_dir, tmp_path):
    """--in-process: two seeds trained side by side as threads of one process end bit for bit where
    `gankit train` alone takes each on the share of the cores each thread gets (no state, stream or random
    number crosses between them; on other thread counts the float sums round differently); a flag a resume
    may not change fails each seed, with the resume rule's sentence."""
    import torch

    from gankit import checkpoint
    from gankit.recipe import Recipe
    from gankit.rundir import RunDir
    from gankit.sweep import child_env, run_sweep

    flags = ["--dataset", "idx", "--data-dir", str(fixture_dir), "--batch-size", "50", "--grid-size", "16",
             "--monitor-parzen", "100", "--health", "off"]
    before = torch.get_num_threads()
    result = run_sweep(tmp_path / "s", [3, 4], Recipe(overrides={**as_overrides(flags), "epochs": 2}), parallel=2,
                       in_process=True, log=lambda m: None)
    assert [(r["seed"], r["epochs"]) for r in result["seeds"]] == [(3, 2), (4, 2)] and not result["failed"]
    threads = torch.get_num_threads()
    assert threads == before  # the sweep gave its threads their share of the cores, then put the count back
    torch.set_num_threads(int(child_env(2).get("OMP_NUM_THREADS", threads)))
    try:
        for seed in (3, 4):
            assert main(["train", "--no-progress", *flags, "--epochs", "2", "--seed", str(seed),
                         "--out", str(tmp_path / f"alone-{seed}")]) == 0
    finally:
        torch.set_num_threads(threads)
    for seed in (3, 4):
        together, _ = checkpoint.read(RunDir(tmp_path / "s" / f"seed-{seed}").latest())
        alone, _ = checkpoint.read(RunDir(tmp_path / f"alone-{seed}").latest())
        assert together.keys() == alone.keys()
        assert all(torch.equal(together[k], alone[k]) for k in alone), seed
    assert "done: 2 epochs" in (tmp_path / "s" / "seed-3.log").read_text()
    with pytest.raises(GankitError, match="every seed failed .seed 3: cannot change lr"):
        run_sweep(tmp_path / "s", [3, 4], Recipe(overrides={**as_overrides([*flags, "--lr", "0.05"]), "epochs": 3}),
                  parallel=2, in_process=True, log=lambda m: None)
