import json
import signal
import statistics

import pytest
import torch

from gankit import checkpoint
from gankit.cli import main
from gankit.experiments.table1 import kmeans, kmeans_mixture_samples
from gankit.rundir import RunDir


def test_kmeans_recovers_separated_clusters():
    gen = torch.Generator().manual_seed(0)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = torch.cat([c + 0.1 * torch.randn(200, 2, generator=gen) for c in centres])
    found, assign = kmeans(x, 3, seed=1)
    matched = sorted(found.tolist())
    for want in sorted(centres.tolist()):
        assert min(abs(a - want[0]) + abs(b - want[1]) for a, b in matched) < 0.05
    assert torch.bincount(assign).tolist() == [200, 200, 200]


def test_kmeans_mixture_samples_match_data_moments():
    gen = torch.Generator().manual_seed(2)
    train = torch.rand(3000, 5, generator=gen) * torch.tensor([1.0, 0.5, 0.2, 0.8, 0.1])
    samples = kmeans_mixture_samples(train, 20000, k=10, seed=0)
    assert samples.min() >= 0 and samples.max() <= 1
    torch.testing.assert_close(samples.mean(0), train.mean(0), atol=0.02, rtol=0)
    torch.testing.assert_close(samples.std(0), train.std(0), atol=0.03, rtol=0)


def test_reproduce_table1_on_idx_data(tmp_path, fixture_dir, capsys):
    out = tmp_path / "t1"
    code = main(["reproduce", "table1", "--dataset", "idx", "--data-dir", str(fixture_dir), "--epochs", "3",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "gankit paper-idx" in printed and "k-means mixture" in printed
    result = json.loads((out / "table1.json").read_text())
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    train_rows = [r for r in rows if r["kind"] == "train"]
    best_epoch = max(train_rows, key=lambda r: r["parzen_monitor"])["epoch"]
    # the evaluated checkpoint is the epoch with the best validation monitor, never chosen by test
    assert result["gankit"]["epoch"] == best_epoch
    assert result["gankit"]["checkpoint"].endswith("best.safetensors")
    assert result["selection"] == "highest Parzen monitor (1000 samples, fixed z) on valid[:1000]"
    _, meta = checkpoint.read(out / "checkpoints" / "best.safetensors")
    assert meta["epoch"] == best_epoch
    assert rows[-1]["kind"] == "parzen" and rows[-1]["epoch"] == best_epoch
    ceiling = result["baselines"][0]
    assert ceiling["test_ll"] > result["baselines"][1]["test_ll"]  # real images beat the k-means mixture
    assert (out / "parzen-curve.png").stat().st_size > 5000 and "parzen-curve.png" in printed


def test_reproduce_rejects_unknown_dataset(capsys):
    assert main(["reproduce", "table1", "--dataset", "cifar10"]) == 1
    assert "table1 is reproduced for" in capsys.readouterr().err


@pytest.mark.parametrize("flags", [["--parallel", "3"], ["--in-process"]])
def test_reproduce_refuses_seed_flags_without_seeds(flags, tmp_path, capsys):
    """Without --seeds they would be ignored and one run trained: said, before anything is trained."""
    assert main(["reproduce", "table1", *flags, "--out", str(tmp_path / "t")]) == 1
    assert "give them with --seeds" in capsys.readouterr().err and not (tmp_path / "t").exists()


@pytest.mark.parametrize("n", [0])
def test_evaluate_rejects_bad_counts(n, capsys):
    with pytest.raises(SystemExit) as exit_:  # a usage error, from argparse: exit status 2
        main(["evaluate", "x", "--n-samples", str(n)])
    assert exit_.value.code == 2 and "--n-samples: must be at least 1, got 0" in capsys.readouterr().err


def test_reproduce_stops_without_evaluating_when_training_is_interrupted(tmp_path, fixture_dir, monkeypatch, capsys):
    """Ctrl-C during `reproduce table1` stops the command: no evaluation, no table1.json, a hint to go on."""
    from gankit.training import Trainer

    def interrupted_run(self, resume=False, on_iteration=None):
        def stop_after_first(trainer):
            trainer._request_stop(signal.SIGINT, None)

        return original(self, resume, stop_after_first)

    original = Trainer.run
    monkeypatch.setattr(Trainer, "run", interrupted_run)
    out = tmp_path / "t1"
    code = main(["reproduce", "table1", "--dataset", "idx", "--data-dir", str(fixture_dir), "--epochs", "3",
                 "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and "stopped by SIGINT at epoch 0" in err and "run the same command again" in err
    assert not (out / "table1.json").exists() and RunDir(out).checkpoints()
    metrics = out / "metrics.jsonl"  # no epoch finished, and no evaluation row was written
    assert not metrics.exists() or '"kind": "parzen"' not in metrics.read_text()


def test_reproduce_table1_over_seeds_reports_every_seed_and_their_spread(tmp_path, fixture_dir, capsys):
    out = tmp_path / "seeds"
    code = main(["reproduce", "table1", "--dataset", "idx", "--data-dir", str(fixture_dir), "--epochs", "3",
                 "--seeds", "0,3", "--patience", "1", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    result = json.loads((out / "table1-seeds.json").read_text())
    assert [r["seed"] for r in result["seeds"]] == [0, 3]
    for r in result["seeds"]:
        rows = [json.loads(line) for line in (out / f"seed-{r['seed']}" / "metrics.jsonl").read_text().splitlines()]
        monitors = [x["parzen_monitor"] for x in rows if x["kind"] == "train"]
        assert monitors[r["best_epoch"] - 1] == max(monitors)  # chosen by validation (rows round to 1e-3: ties)
        assert rows[-1]["kind"] == "parzen" and rows[-1]["test_ll"] == r["test_ll"]
        assert "monitor_parzen: 10000" in (out / f"seed-{r['seed']}" / "config.yaml").read_text()
        # --epochs 3 reached, or patience 1 ended it at the first epoch without a better monitor
        assert len(monitors) == r["epochs"] and r["epochs_since_best"] == r["epochs"] - r["best_epoch"]
        assert (r["epochs"], r["epochs_since_best"]) in ((3, 0), (2, 1), (3, 1))
    lls = [r["test_ll"] for r in result["seeds"]]
    assert result["seeds"][0]["test_ll"] != result["seeds"][1]["test_ll"]
    assert result["all"]["mean"] == pytest.approx(statistics.fmean(lls))
    assert result["all"]["std"] == pytest.approx(statistics.stdev(lls))
    assert "mean over all seeds (2)" in printed and (out / "report.html").exists()
    from gankit.plots import monitor_curve

    rows = [json.loads(line) for line in (out / "seed-3" / "metrics.jsonl").read_text().splitlines()]
    assert monitor_curve(out / "seed-3") == [(x["epoch"], x["parzen_monitor"]) for x in rows if x["kind"] == "train"]
    assert (out / "parzen-curves.png").stat().st_size > 5000 and "parzen-curves.png" in printed
