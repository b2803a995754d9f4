"""The VAE: its likelihoods and KL against torch.distributions, the IWAE bound against the exact log p(x)
of a linear Gaussian model, the config rules, and a VAE run through train, resume, sample, export and
evaluate like a GAN's."""

import json

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from gankit.cli import main
from gankit.config import TrainConfig, apply_overrides, from_preset
from gankit.errors import ConfigError
from gankit.nets import ModelSpec, build_models
from gankit.nets.vae import SIGMA_MIN, elbo_terms, iwae_bound, kl_to_prior
from gankit.report.charts import panels_drawn
from gankit.report.record import load_record
from tests.conftest import quiet_trainer, small_config


class LinearGaussian:
    """p(z) = N(0, I), p(x | z) = N(Wz + b, s^2 I) with W's columns orthogonal, so that the exact posterior is
    diagonal and log p(x) = log N(x; b, W W^T + s^2 I) is known in closed form."""

    def __init__(self, d: int = 6, k: int = 3, s: float = 0.4, seed: int = 0) -> None:
        gen = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(d, k, generator=gen, dtype=torch.float64))
        self.w = q * torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)[:k]
        self.b = torch.randn(d, generator=gen, dtype=torch.float64)
        self.s = s

    def log_prob(self, x, z):
        return Normal(z @ self.w.T + self.b, self.s).log_prob(x).sum(1)

    def log_marginal(self, x):
        cov = self.w @ self.w.T + self.s**2 * torch.eye(len(self.b), dtype=torch.float64)
        return MultivariateNormal(self.b, cov).log_prob(x)

    def posterior(self, x, shift=0.0, widen=1.0):
        """The exact q(z | x) (shift 0, widen 1), or one made wrong on purpose."""
        var = 1.0 / (1.0 + (self.w**2).sum(0) / self.s**2)
        mu = var * ((x - self.b) @ self.w) / self.s**2
        return mu + shift, (var * widen**2).log().expand_as(mu)

    def sample(self, n, seed):
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.w.shape[1], generator=gen, dtype=torch.float64)
        return z @ self.w.T + self.b + self.s * torch.randn(n, len(self.b), generator=gen, dtype=torch.float64)


def test_with_the_exact_posterior_every_weight_is_p_x_and_the_bound_is_exact():
    model = LinearGaussian()
    x = model.sample(50, seed=1)
    for k in (1, 7):
        bound, elbo = iwae_bound(model.posterior, model, x, k, torch.Generator().manual_seed(2))
        assert torch.allclose(bound, model.log_marginal(x), atol=1e-9)
        assert torch.allclose(elbo, model.log_marginal(x), atol=1e-9)


def test_with_a_wrong_posterior_the_bound_rises_with_k_towards_log_p_x():
    model = LinearGaussian()
    x = model.sample(400, seed=1)
    exact = float(model.log_marginal(x).mean())
    encoder = lambda xs: model.posterior(xs, shift=0.5, widen=1.5)  # noqa: E731
    gaps = {}
    for k in (1, 10, 1000):
        bound, elbo = iwae_bound(encoder, model, x, k, torch.Generator().manual_seed(3))
        assert bool((bound >= elbo - 1e-9).all())  # Jensen, image by image, on the same draws
        gaps[k] = exact - float(bound.mean())
    # seeds 0-9 of the draws: gaps 4.77-5.49 (k 1), 0.74-0.94 (k 10), -0.002-0.018 (k 1000) nats per image
    # (a Monte Carlo bound may land just above log p(x)); without the -log k term the k = 1000 gap is -6.9
    assert gaps[1] > 4 and 0.5 < gaps[10] < 1.2 and abs(gaps[1000]) < 0.05


def test_the_likelihoods_and_kl_match_torch_distributions():
    spec = ModelSpec(4, (1, 28, 28))
    x, z = torch.rand(5, 784), torch.randn(5, 4)
    bern, _ = build_models("vae-mlp-bernoulli", spec, seed=0)
    binary = torch.bernoulli(x)
    expected = torch.distributions.Bernoulli(logits=bern.logits(z)).log_prob(binary).sum(1)
    assert torch.allclose(bern.log_prob(binary, z), expected, atol=1e-4)
    gauss, _ = build_models("vae-mlp-gaussian", spec, seed=0)
    with torch.no_grad():
        gauss.raw_scale.uniform_(-6, 2)  # SIGMA_MIN + softplus(raw): from the floor up to about 2
    expected = Normal(gauss(z), gauss.scale()).log_prob(x).sum(1)
    assert torch.allclose(gauss.log_prob(x, z), expected, rtol=1e-5)
    assert float(gauss.scale().detach().min()) > SIGMA_MIN
    mu, logvar = torch.randn(5, 4), torch.randn(5, 4)
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(kl_to_prior(mu, logvar), expected, atol=1e-5)


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_the_convolutional_vae_at_each_size(size, channels):
    spec = ModelSpec(8, (channels, size, size))
    decoder, encoder = build_models("vae-conv-gaussian", spec, seed=0)
    x = torch.rand(3, channels * size * size)
    mu, logvar = encoder(x)
    assert mu.shape == logvar.shape == (3, 8)
    means = decoder(mu)
    assert means.shape == x.shape and 0 <= float(means.detach().min()) and float(means.detach().max()) <= 1
    log_px, kl = elbo_terms(encoder, decoder, x, torch.Generator().manual_seed(0))
    (kl - log_px).mean().backward()
    assert all(p.grad is not None for p in (*encoder.parameters(), *decoder.parameters()))


def test_the_weights_follow_the_seed():
    spec = ModelSpec(8, (1, 28, 28))
    a, b, c = (build_models("vae-mlp-gaussian", spec, seed=s) for s in (0, 0, 1))
    assert all(torch.equal(p, q) for p, q in zip(a[0].state_dict().values(), b[0].state_dict().values()))
    assert not torch.equal(a[1].out.weight, c[1].out.weight)


def test_config_rules():
    base = TrainConfig().to_dict()
    with pytest.raises(ConfigError, match="update-order elbo"):
        apply_overrides(TrainConfig(), {**base, "model": "vae-mlp-gaussian", "noise": "gaussian"}, "t").validate()
    with pytest.raises(ConfigError, match="is a GAN"):
        apply_overrides(TrainConfig(), {**base, "update_order": "elbo"}, "t").validate()
    with pytest.raises(ConfigError, match="noise gaussian"):
        apply_overrides(from_preset("vae-mnist"), {"noise": "uniform"}, "t").validate()
    for preset in ("vae-mnist", "vae-mnist-bernoulli", "vae-fashion-mnist", "vae-folder"):
        from_preset(preset).validate()


VAE = {"model": "vae-mlp-bernoulli", "update_order": "elbo", "noise": "gaussian", "z_dim": 8, "optimizer": "adam",
       "lr": 1e-3, "lr_decay": 1.0, "adam_beta1": 0.9}


def test_a_vae_run_resumes_bit_identically(splits, tmp_path):
    config = small_config(**VAE, epochs=2)
    full = quiet_trainer(config, tmp_path / "full", splits)
    full.run()
    quiet_trainer(small_config(**VAE, epochs=2, max_steps=13), tmp_path / "cut", splits).run()
    resumed = quiet_trainer(config, tmp_path / "cut", splits)
    resumed.run(resume=True)
    assert resumed.progress.step == full.progress.step == 40
    for name, value in full.checkpoint_tensors().items():
        assert torch.equal(value, resumed.checkpoint_tensors()[name]), name
    rows = [json.loads(line) for line in (tmp_path / "full" / "metrics.jsonl").read_text().splitlines()]
    assert [set(r) >= {"neg_elbo", "reconstruction", "kl"} for r in rows] == [True, True]
    for r in rows:  # the epoch's -ELBO is its two terms' sum
        assert r["neg_elbo"] == pytest.approx(r["reconstruction"] + r["kl"], abs=1e-3)


def test_a_vae_trains_samples_exports_and_evaluates_like_a_gan(splits, fixture_dir, tmp_path, capsys):
    run = tmp_path / "vae"
    args = ["--dataset", "idx", "--data-dir", str(fixture_dir), "--batch-size", "50", "--grid-size", "16",
            "--monitor-parzen", "0", "--monitor-fid", "0", "--best-by", "parzen", "--health", "off"]
    assert main(["train", "--preset", "vae-mnist-bernoulli", "--epochs", "3", "--out", str(run), *args]) == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    # seeds 0-9 on the fixture: -ELBO falls from 134-135 nats (epoch 1) to 69-78 (epoch 3), ratio 0.51-0.58
    assert rows[-1]["neg_elbo"] < 0.7 * rows[0]["neg_elbo"]
    assert main(["evaluate", str(run), "--metrics", "iwae,parzen", "--importance-samples", "50",
                 "--n-reference", "100", "--n-samples", "200"]) == 0
    out = capsys.readouterr().out
    assert "IWAE log-likelihood bound on idx test[:100]" in out and "k = 50" in out and "Parzen" in out
    iwae = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()][-1]
    assert iwae["kind"] == "iwae" and iwae["iwae_ll"] >= iwae["elbo"] and iwae["n_test"] == 100
    # seeds 0-9: -53.5 to -63.5 nats; after one step (the decoder near the mean image) -134
    assert iwae["iwae_ll"] > -90
    assert main(["report", str(run)]) == 0
    page = (run / "report.html").read_text()
    assert "VAE objective (nats per image)" in panels_drawn([load_record(run)]) and "D loss" not in page
    assert "iwae_ll" in page and "neg_elbo" in page
    assert main(["sample", str(run), "--n", "16", "--out", str(tmp_path / "s.png")]) == 0
    assert main(["export", str(run), "--out", str(tmp_path / "dec.safetensors")]) == 0
    assert main(["evaluate", str(tmp_path / "dec.safetensors"), "--dataset", "idx", "--data-dir", str(fixture_dir),
                 "--metrics", "iwae"]) == 1
    assert "without its encoder" in capsys.readouterr().err


def test_iwae_of_a_gan_is_refused(splits, tmp_path, capsys):
    quiet_trainer(small_config(epochs=1), tmp_path / "gan", splits).run()
    assert main(["evaluate", str(tmp_path / "gan"), "--metrics", "iwae"]) == 1
    assert "is a GAN" in capsys.readouterr().err


def test_iwae_on_test_images_of_another_size_is_refused(splits, fixture_dir, tmp_path):
    from gankit.data import load_dataset
    from gankit.evaluate import evaluate

    config = small_config(**{**VAE, "model": "vae-conv-bernoulli"}, image_size=32, epochs=1, max_steps=2)
    quiet_trainer(config, tmp_path / "conv", load_dataset("idx", fixture_dir, image_size=32)).run()
    with pytest.raises(ConfigError, match="draws 1x32x32 images but idx holds 1x28x28"):
        evaluate(tmp_path / "conv", ["iwae"], splits=splits, log_to_run=False)
    (row,) = evaluate(tmp_path / "conv", ["iwae"], data_dir=str(fixture_dir), importance_samples=5, n_reference=20,
                      log_to_run=False)
    assert row["n_test"] == 20 and row["test_split"] == "test[:20]"
