"""The CUDA path: train, sample, evaluate, resume and the Parzen estimator on a GPU (skipped without one)."""

import json

import pytest
import torch

from gankit.evaluate import evaluate
from gankit.generator import load_generator
from gankit.metrics.parzen import SIGMA_GRID, parzen_log_likelihoods
from gankit.nets import ModelSpec, build_models, sample_noise
from gankit.objectives import d_loss, g_loss
from gankit.rundir import RunDir
from tests.conftest import as_overrides, quiet_trainer, small_config

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def small(**overrides):
    return small_config(**{"monitor_parzen": 200, **overrides})


def test_losses_and_gradients_on_cuda_match_the_cpu(splits):
    """Same weights, same inputs, no dropout: D's and G's losses and G's gradient agree to float32 rounding."""
    x = splits.train.float()[:100]
    z = sample_noise(100, 100, "uniform", torch.Generator().manual_seed(0))
    results = {}
    for device in ("cpu", "cuda"):
        g, d = build_models("paper-mnist", ModelSpec(100, (1, 28, 28)), x.mean(0), seed=0)
        g, d = g.to(device), d.to(device).eval()
        fake = g(z.to(device))
        ld = d_loss(d(x.to(device)), d(fake), 0.5)
        lg = g_loss(d(fake), "non-saturating")
        grad = torch.autograd.grad(lg, list(g.parameters()))[0]
        results[device] = (float(ld), float(lg), grad.cpu())
    (ld_c, lg_c, grad_c), (ld_g, lg_g, grad_g) = results["cpu"], results["cuda"]
    assert ld_g == pytest.approx(ld_c, rel=1e-5) and lg_g == pytest.approx(lg_c, rel=1e-5)
    torch.testing.assert_close(grad_g, grad_c, rtol=1e-3, atol=1e-6)


def test_first_steps_on_cuda_track_the_cpu(splits, tmp_path):
    """Noise and dropout come from the device's own generator, so the streams differ; after two epochs
    at lr 0.5 the mean losses and D outputs must still agree. Measured on the CPU over seeds 0-9 on this
    fixture, each of the four spreads by at most 0.0026 (d_loss 0.6874-0.6899, d_real 0.5027-0.5050),
    so 0.01 separates a device bug from the other random stream."""
    rows = {}
    for device in ("cpu", "cuda"):
        quiet_trainer(small(device=device, lr=0.5), tmp_path / device, splits).run()
        rows[device] = json.loads((tmp_path / device / "metrics.jsonl").read_text().splitlines()[1])
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert rows["cuda"][key] == pytest.approx(rows["cpu"][key], abs=0.01), key


def test_train_sample_evaluate_and_resume_on_cuda(splits, tmp_path, fixture_dir):
    full = quiet_trainer(small(device="cuda"), tmp_path / "full", splits)
    full.run()
    assert full.batches.images.device.type == "cuda" and next(full.state.G.parameters()).device.type == "cuda"
    assert full.step.graph is not None  # trained (and below resumed) by the CUDA-graph step
    cut = quiet_trainer(small(device="cuda", max_steps=13), tmp_path / "cut", splits)
    cut.run()
    resumed = quiet_trainer(small(device="cuda"), tmp_path / "cut", splits)
    resumed.run(resume=True)
    assert resumed.progress.step == full.progress.step
    for name, a in full.checkpoint_tensors().items():
        b = resumed.checkpoint_tensors()[name]
        if a.is_floating_point():
            torch.testing.assert_close(b, a, rtol=0, atol=1e-5, msg=name)
        else:
            assert torch.equal(a.cpu(), b.cpu()), name
    g = load_generator(tmp_path / "full")
    on_gpu, on_cpu = g.to("cuda").sample(50, seed=1), g.to("cpu").sample(50, seed=1)
    torch.testing.assert_close(on_gpu, on_cpu, rtol=0, atol=1e-4)
    row, cpu_row = (evaluate(g, ["parzen"], "idx", str(fixture_dir), n_samples=200, n_valid=100, device=device,
                             log_to_run=False)[0] for device in ("cuda", "cpu"))
    assert row["sigma"] == cpu_row["sigma"] and row["test_ll"] == pytest.approx(cpu_row["test_ll"], abs=1e-2)
    assert RunDir(tmp_path / "full").checkpoints()


def test_parzen_on_cuda_matches_float64_on_cpu():
    gen = torch.Generator().manual_seed(0)
    x, mu = torch.rand(300, 784, generator=gen), torch.rand(500, 784, generator=gen)
    exact = parzen_log_likelihoods(x, mu, SIGMA_GRID, dtype=torch.float64)
    on_gpu = parzen_log_likelihoods(x.cuda(), mu.cuda(), SIGMA_GRID).double().cpu()
    assert float((on_gpu - exact).abs().max()) < 5e-3


def test_toy_pictures_and_saturation_on_cuda(splits, fixture_dir, monkeypatch):
    """The experiments that draw from a run's nets take them where they were trained: the same weights give
    the same Figure 1 panel, toy2d picture and saturation gradient norms on the GPU as on the CPU (an earlier
    version handed CPU tensors to CUDA nets and failed)."""
    from gankit.experiments import saturation
    from gankit.plots.toy import modes_picture, snapshot

    g, d = build_models("toy-mlp", ModelSpec(1, (1, 1)), seed=0)
    on_cpu = snapshot(g, d, "toy1d-gaussian", "uniform", "cpu", n=2000)
    on_gpu = snapshot(g.cuda(), d.cuda(), "toy1d-gaussian", "uniform", "gpu", n=2000)
    for field in ("p_g", "d", "gz"):
        assert abs(getattr(on_gpu, field) - getattr(on_cpu, field)).max() < 1e-4, field
    g2, _ = build_models("toy-mlp", ModelSpec(16, (1, 2)), seed=0)
    with torch.no_grad():  # as the sample hook calls it; this call raised on CUDA nets before the fix
        assert modes_picture(g2.cuda(), "toy2d-ring", "gaussian", 16, "gpu").startswith(b"\x89PNG")
    rows = {}
    for device in ("cuda", "cpu"):  # device 'auto' picks the GPU in this module
        monkeypatch.setenv("GANKIT_DEVICE", device)
        rows[device] = saturation.run(steps=2, splits=splits, dataset="idx", data_dir=str(fixture_dir),
                                      batch_size=50)["runs"]["minimax"][0]
    assert rows["cuda"]["minimax"] == pytest.approx(rows["cpu"]["minimax"], rel=1e-4)


def test_a_sweep_in_threads_on_cuda_keeps_its_graphs_and_trains_each_run_as_alone(fixture_dir, tmp_path):
    """gankit sweep --in-process on a GPU: two seeds captured and replayed on streams of their own at once, each
    ending where the same run trained alone ends (to the tolerance CUDA's own resume test uses, widened 10x for
    the other kernel timings of two streams side by side), neither dropping its CUDA graph."""
    from gankit import checkpoint
    from gankit.cli import main
    from gankit.sweep import run_sweep

    flags = ["--dataset", "idx", "--data-dir", str(fixture_dir), "--batch-size", "50", "--grid-size", "16",
             "--monitor-parzen", "100", "--health", "off", "--device", "cuda"]
    result = run_sweep(tmp_path / "s", [0, 1], 2, overrides=as_overrides(flags), parallel=2, in_process=True,
                       log=lambda m: None)
    assert not result["failed"]
    for seed in (0, 1):
        log = (tmp_path / "s" / f"seed-{seed}.log").read_text()
        assert "without a CUDA graph" not in log and "done: 2 epochs" in log, log
        assert main(["train", "--no-progress", *flags, "--epochs", "2", "--seed", str(seed),
                     "--out", str(tmp_path / f"alone-{seed}")]) == 0
        together, _ = checkpoint.read(RunDir(tmp_path / "s" / f"seed-{seed}").latest())
        alone, _ = checkpoint.read(RunDir(tmp_path / f"alone-{seed}").latest())
        for name, a in alone.items():
            if a.is_floating_point():
                torch.testing.assert_close(together[name], a, rtol=0, atol=1e-4, msg=name)
            else:
                assert torch.equal(together[name], a), name
