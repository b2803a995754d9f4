"""A VAE's own test log-likelihood: the importance-weighted bound (Burda et al. 2016) with k samples from
its encoder, beside the ELBO from the same draws. The number Parzen estimates try to approximate, so
the two can be set side by side (Theis, van den Oord and Bethge 2016)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch

from gankit.errors import ConfigError
from gankit.metrics.base import Evaluation, Metric
from gankit.nets import is_vae
from gankit.nets.vae import iwae_bound

if TYPE_CHECKING:
    from gankit.generator import LoadedGenerator


class IWAE(Metric):
    name = "iwae"

    def available(self, g: LoadedGenerator, dataset: str) -> bool:
        return is_vae(g.model) and bool(g.config)

    def compute(self, g: LoadedGenerator, ev: Evaluation) -> dict[str, Any]:
        from gankit.generator import load_pair

        if not is_vae(g.model):
            raise ConfigError(f"{g.source} is a GAN ({g.model}); the IWAE bound needs a VAE's encoder and "
                              "likelihood. Use parzen, fid, kid or prdc.")
        if not g.config:
            raise ConfigError(f"{g.source} is an exported decoder without its encoder; the IWAE bound needs "
                              "the run directory or a training checkpoint.")
        decoder, encoder, _ = load_pair(g.source)
        decoder, encoder = decoder.to(ev.device), encoder.to(ev.device)
        test = ev.data().test
        if test.shape != g.image_shape:
            raise ConfigError(f"{g.source} models {'x'.join(map(str, g.image_shape))} images but the test images "
                              f"given are {'x'.join(map(str, test.shape))}; evaluate at the size it was trained at.")
        n = min(ev.n_reference or len(test), len(test))
        gen = torch.Generator(ev.device).manual_seed(ev.seed)
        x = decoder.observe(test.float(ev.device)[:n], gen)
        bound, elbo = iwae_bound(encoder, decoder, x, ev.importance_samples, gen)
        bernoulli = decoder.likelihood == "bernoulli"
        return {
            "metric": "iwae_ll", "iwae_ll": round(float(bound.mean()), 3),
            "iwae_se": round(float(bound.std() / math.sqrt(n)), 3), "elbo": round(float(elbo.mean()), 3),
            "importance_samples": ev.importance_samples, "n_test": n, "test_split": f"test[:{n}]",
            "likelihood": decoder.likelihood,
            "data": (f"test images binarized, each pixel on with its grey level's probability (seed {ev.seed}): "
                     "log-probabilities of binary images, not comparable with Parzen's density" if bernoulli else
                     "grey levels in [0, 1]: a density in nats, comparable with Parzen's"),
        }

    def format(self, row: dict[str, Any]) -> str:
        return (f"IWAE log-likelihood bound on {row['dataset']} {row['test_split']}: {row['iwae_ll']:.1f} +- "
                f"{row['iwae_se']:.1f} nats (k = {row['importance_samples']}; ELBO {row['elbo']:.1f}; "
                f"{row['likelihood']} likelihood, {row['data'].split(':')[0]})")
