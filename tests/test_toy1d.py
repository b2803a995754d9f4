"""Figure 1 from a real run: the 1-D toy trained with the same loop as the image models."""

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.stats import ks_2samp

from gankit import checkpoint
from gankit.cli import main
from gankit.data.toy import density_1d, sample_toy
from gankit.experiments.figure1 import run_snapshots
from gankit.nets import ModelSpec, build_models, sample_noise
from gankit.plots.toy import kde
from gankit.rundir import RunDir


def test_kde_integrates_to_one_and_tracks_density():
    x = np.linspace(-4, 5, 2000)
    samples = sample_toy("toy1d-gaussian", 20000, torch.Generator().manual_seed(0)).squeeze(1).double().numpy()
    est = kde(samples, x)
    assert est.sum() * (x[1] - x[0]) == pytest.approx(1.0, abs=1e-3)
    assert np.abs(est - density_1d("toy1d-gaussian", x)).max() < 0.05


def test_toy_data_matches_its_density():
    gen = torch.Generator().manual_seed(1)
    for name, mean, std in (("toy1d-gaussian", 0.5, 0.6), ("toy1d-mixture", 0.0, (0.45**2 + 1.5**2) ** 0.5)):
        s = sample_toy(name, 50000, gen).squeeze(1)
        assert float(s.mean()) == pytest.approx(mean, abs=0.02) and float(s.std()) == pytest.approx(std, abs=0.02)


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    """The toy1d preset trained at seed 0 by `gankit figure toy1d`.

    A GAN's trajectory depends on float summation order, which depends on the thread count, so the
    run is pinned to 2 threads (this project's machines) to make the statistical tests reproducible.
    """
    run_dir = tmp_path_factory.mktemp("toy") / "run"
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert main(["figure", "toy1d", str(run_dir)]) == 0  # trains the toy1d preset (seed 0), then draws
    finally:
        torch.set_num_threads(threads)
    return run_dir


@pytest.mark.slow
def test_trained_generator_matches_data_and_d_is_half(toy_run):
    tensors, meta = checkpoint.read(RunDir(toy_run).latest())
    assert meta["epoch"] == 12
    g, d = build_models("toy-mlp", ModelSpec(1, (1, 1, 1)))
    g.load_state_dict(checkpoint.split_prefix(tensors, "G"))
    d.load_state_dict(checkpoint.split_prefix(tensors, "D"))
    g.eval()
    d.eval()
    with torch.no_grad():
        fake = g(sample_noise(1000, 1, "uniform", torch.Generator().manual_seed(5))).squeeze(1).numpy()
        real = sample_toy("toy1d-gaussian", 1000, torch.Generator().manual_seed(6)).squeeze(1).numpy()
        # the data's bulk: mean +- 1.28 std holds 80% of p_data
        bulk = torch.linspace(0.5 - 0.6 * 1.28, 0.5 + 0.6 * 1.28, 101).unsqueeze(1)
        d_bulk = torch.sigmoid(d(bulk))
    # Thresholds from the spread over seeds (benchmarks/test_statistics.py -> docs/results/
    # test-statistics.json, toy1d preset, seeds 0-9): the KS distance between 1,000 G samples and 1,000
    # data samples was 0.039-0.107 and max |D - 1/2| over the bulk 0.011-0.041; G's mean 0.47-0.56 and
    # std 0.55-0.65 (data 0.5, 0.6). With the simultaneous order instead: KS 0.039-0.152, |D - 1/2| up to
    # 0.071 (the preset is sequential). An untrained G scores a KS distance of 0.58-0.70. A fixed-seed
    # p-value test (p > 0.01) failed at 2 of those 10 seeds, and at seed 0 on one thread: it tested the
    # seed, not the code.
    assert ks_2samp(fake, real).statistic < 0.15
    assert abs(float(fake.mean()) - 0.5) < 0.15 and abs(float(fake.std()) - 0.6) < 0.15
    assert float((d_bulk - 0.5).abs().max()) < 0.08


@pytest.mark.slow
def test_figure1_files_and_snapshots(toy_run):
    png, gif = toy_run / "figures" / "figure1.png", toy_run / "figures" / "figure1.gif"
    assert Image.open(png).size[0] > 3 * Image.open(png).size[1]  # four panels side by side
    with Image.open(gif) as animation:
        assert animation.n_frames == 13  # the start and 12 epochs
    shots = run_snapshots(toy_run)
    last = shots[-1]
    dx = last.x[1] - last.x[0]
    assert last.p_g.sum() * dx == pytest.approx(1.0, abs=0.02)
    # the estimated p_g moved from a spike at the start to the data's spread by the end
    spread = lambda s: float(np.sqrt(((s.x - (s.x * s.p_g).sum() * dx) ** 2 * s.p_g).sum() * dx))  # noqa: E731
    assert spread(shots[0]) < 0.2 and abs(spread(last) - 0.6) < 0.1


def test_figure_toy1d_rejects_image_runs(tmp_path, fixture_dir, capsys):
    run = tmp_path / "img"
    main(["train", "--dataset", "idx", "--data-dir", str(fixture_dir), "--epochs", "1", "--batch-size", "50",
          "--out", str(run), "--no-progress"])
    capsys.readouterr()
    assert main(["figure", "toy1d", str(run)]) == 1
    assert "needs a 1-D toy run" in capsys.readouterr().err
