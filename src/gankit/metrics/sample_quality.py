"""FID, KID and precision/recall/density/coverage of a generator against the real test split, in the
feature space of the domain classifier that gankit trains and caches (its 128-unit penultimate layer):
the CPU default for digit-like data, where InceptionV3 embeds only a few images per second; or in
InceptionV3's (--features inception; any two image sets: evaluate.compare_sets). And the Inception Score.

Every row records the extractor (and a hash of its weights), the reference split and its size, the
sample count and seed, and an interval: a normal bootstrap interval for FID, the standard error
over subsets for KID, standard errors over samples for the rest. FID is biased upwards at small
sample counts: compare FIDs only at the same n (the row says so below 5,000). The real images'
features are cached on disk per (dataset, split size, image shape, extractor hash, images' crc32):
InceptionV3 takes an hour for 10,000 test images on a CPU, so it is paid once."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

from gankit.data.sources import cache_root
from gankit.errors import ConfigError
from gankit.fileio import atomic_write_bytes
from gankit.metrics import distances
from gankit.metrics.base import Evaluation, Metric
from gankit.metrics.classifier import LABELLED_DATASETS, ClassHistogram, Classifier, as_28

if TYPE_CHECKING:
    from gankit.generator import LoadedGenerator

SMALL_N = 5000  # below this, say that FID's bias makes the number comparable only at the same n


@torch.no_grad()
def domain_features(classifier: Classifier, images: torch.Tensor, batch: int = 2000) -> torch.Tensor:
    """The classifier's penultimate activations (after ReLU, before dropout and the class layer)."""
    body = classifier.net[:-2].eval()
    x = as_28(images)
    return torch.cat([body(x[i : i + batch]) for i in range(0, len(x), batch)]).double()


def weights_hash(net: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(net.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def cached_features(path: Path, embed: Callable[[], torch.Tensor]) -> torch.Tensor:
    """Features from the disk cache at path, or embedded now and cached there (a read-only cache costs time)."""
    try:
        return load(path.read_bytes())["features"]
    except (OSError, SafetensorError, KeyError):  # absent, or unreadable: embed again and replace it
        features = embed()
        try:
            atomic_write_bytes(path, save({"features": features.contiguous()}))
        except OSError:
            pass
        return features


def cached_reference(ev: Evaluation, images: torch.Tensor, uint8: torch.Tensor, extractor_hash: str,
                     embed: Callable[[torch.Tensor], torch.Tensor]) -> tuple[torch.Tensor, dict[str, str]]:
    """The real images' features from the disk cache, or embedded now and cached; with the cache's protocol.

    uint8: the images as stored, hashed so that other images under the same dataset name never match."""
    crc = f"{zlib.crc32(uint8.numpy().tobytes()):08x}"
    shape = "x".join(map(str, images.shape[1:]))
    path = cache_root() / "reference" / f"{ev.dataset}-test{len(images)}-{shape}-{ev.features}-{extractor_hash}-{crc}" \
        ".safetensors"
    features = cached_features(path, lambda: embed(images))
    return features, {"reference_crc32": crc, "reference_cache": str(path)}


def feature_sets(g: LoadedGenerator, ev: Evaluation) -> dict[str, Any]:
    """Generated and real test features with their protocol; computed once per evaluation, shared by the
    metrics. ev.features picks the extractor: 'domain' (the cached classifier) or 'inception'."""
    if "features" not in ev.cache:
        test = ev.data().test
        n = min(ev.n_reference or len(test), len(test))
        real_images, stored = test.float()[:n], test.images[:n]
        samples = g.sample(ev.n_samples, seed=ev.seed)
        if ev.features == "inception":
            from gankit.metrics import inception

            shape = ev.data().image_shape
            embed = lambda x: inception.inception_features(x, shape, ev.device)  # noqa: E731
            protocol = {"features": "InceptionV3 pool (2048)", "preprocessing": inception.PREPROCESSING,
                        "extractor": str(inception.weights_path()),
                        "extractor_sha256": f"{inception.SHA256[:16]}-{inception.PREPROCESSING_ID}"}
        elif ev.features == "domain":
            classifier = ClassHistogram().classifier(ev)
            embed = lambda x: domain_features(classifier, x)  # noqa: E731
            protocol = {"features": "domain classifier, penultimate layer (128)", "extractor": str(classifier.path),
                        "extractor_sha256": weights_hash(classifier.net)}
        else:
            raise ConfigError(f"unknown features {ev.features!r}; choose domain or inception.")
        real, cache = cached_reference(ev, real_images, stored, protocol["extractor_sha256"], embed)
        ev.cache["features"] = {"fake": embed(samples), "real": real,
                                "protocol": {**protocol, "reference": f"test[:{len(real)}]", **cache}}
    return ev.cache["features"]


class _FeatureMetric(Metric):
    def available(self, g: LoadedGenerator, dataset: str) -> bool:
        return dataset in LABELLED_DATASETS


def both_features(sets: dict[str, Any], metric: str) -> dict[str, Any]:
    """The sets, where both hold features (not only a statistics file's mu and sigma)."""
    for side, which in (("fake", "samples"), ("real", "reference")):
        if sets.get(side) is None:
            raise ConfigError(f"{metric} needs the {which}' features, but the {which} are a statistics file (mu and "
                              "sigma only); give the images instead, or ask for fid alone.")
    return sets


def monitor_features(samples: torch.Tensor, real: torch.Tensor, ev: Evaluation) -> tuple[torch.Tensor, torch.Tensor]:
    """The domain classifier's features of the samples and of the real images (embedded once per run)."""
    if "monitor_real" not in ev.cache:
        ev.cache["classifier"] = ClassHistogram().classifier(ev)
        ev.cache["monitor_real"] = domain_features(ev.cache["classifier"], real.cpu())
    return domain_features(ev.cache["classifier"], samples), ev.cache["monitor_real"]


class FID(_FeatureMetric):
    name = "fid"
    higher_is_better = False

    def monitor(self, samples: torch.Tensor, real: torch.Tensor, ev: Evaluation) -> dict[str, Any]:
        fake, real_features = monitor_features(samples, real, ev)
        if "monitor_real_stats" not in ev.cache:
            ev.cache["monitor_real_stats"] = distances.gaussian_stats(real_features)
        return {"value": distances.frechet_distance(*distances.gaussian_stats(fake), *ev.cache["monitor_real_stats"]),
                "protocol": f"{len(samples)} samples (fixed z) against valid[:{len(real)}], domain classifier "
                "features"}

    def compute(self, g: LoadedGenerator, ev: Evaluation) -> dict[str, Any]:
        sets = feature_sets(g, ev)
        fake, real = sets.get("fake"), sets.get("real")
        for side in (fake, real):
            if side is not None and len(side) < 2:
                raise ConfigError(f"FID fits a covariance, which needs at least 2 images in each set, got {len(side)}; "
                                  "raise --n-samples or give more images.")
        real_stats = sets.get("real_stats") or distances.gaussian_stats(real)
        note = {"note": f"FID is biased upwards at n = {ev.n_samples}; compare only at equal n"} \
            if ev.n_samples < SMALL_N else {}
        if fake is None:  # statistics only: no resamples, no interval
            fid = distances.frechet_distance(*sets["fake_stats"], *real_stats)
            return {"metric": "fid", "fid": round(fid, 4), **sets["protocol"], **note}
        fid, low, high = distances.fid_bootstrap_stats(fake, *real_stats, n_boot=50, seed=ev.seed)
        return {"metric": "fid", "fid": round(fid, 4),
                "fid_ci95": [round(low, 4), round(high, 4)],
                "interval": "FID +- 1.96 sd over 50 bootstrap resamples of the generated samples",
                **sets["protocol"], **note}

    def format(self, row: dict[str, Any]) -> str:
        interval = " [95% {:.3f}, {:.3f}]".format(*row["fid_ci95"]) if "fid_ci95" in row else ""
        return (f"FID ({row['features']}) {row['fid']:.3f}{interval} from {row['n_samples']} samples "
                f"against {row['reference']}" + (f"; {row['note']}" if "note" in row else ""))


class KID(_FeatureMetric):
    name = "kid"
    higher_is_better = False
    monitor_digits = 6

    def monitor(self, samples: torch.Tensor, real: torch.Tensor, ev: Evaluation) -> dict[str, Any]:
        fake, real_features = monitor_features(samples, real, ev)
        size = min(1000, len(fake), len(real_features))
        mean, se = distances.kid(fake, real_features, subsets=100, subset_size=size, seed=0)
        return {"value": mean, "se": round(se, 6), "protocol": f"{len(samples)} samples (fixed z) against "
                f"valid[:{len(real)}], domain classifier features, 100 subsets of {size}"}

    def compute(self, g: LoadedGenerator, ev: Evaluation) -> dict[str, Any]:
        sets = both_features(feature_sets(g, ev), "kid")
        size = min(1000, ev.n_samples, len(sets["real"]))
        mean, se = distances.kid(sets["fake"], sets["real"], subsets=100, subset_size=size, seed=ev.seed)
        return {"metric": "kid", "kid": round(mean, 6), "kid_se": round(se, 6), "subsets": 100,
                "subset_size": size, "kernel": "(x.y / d + 1)^3", **sets["protocol"]}

    def format(self, row: dict[str, Any]) -> str:
        return (f"KID ({row['features']}) {row['kid']:.5f} +- {row['kid_se']:.5f} (SE over {row['subsets']} "
                f"subsets of {row['subset_size']})")


class PRDC(_FeatureMetric):
    name = "prdc"
    k = 3

    def compute(self, g: LoadedGenerator, ev: Evaluation) -> dict[str, Any]:
        sets = both_features(feature_sets(g, ev), "prdc")
        values = distances.prdc(sets["fake"], sets["real"], k=self.k)
        return {"metric": "prdc", **{k: round(v, 4) for k, v in values.items()}, "k": self.k,
                "interval": "standard error over the samples each value averages", **sets["protocol"]}

    def format(self, row: dict[str, Any]) -> str:
        parts = [f"{name} {row[name]:.3f} +- {row[name + '_se']:.3f}"
                 for name in ("precision", "recall", "density", "coverage")]
        return f"{', '.join(parts)} (k = {row['k']}, {row['features']})"


class InceptionScore(Metric):
    """The Inception Score of the samples (the standard network's 1008-way output; see inception_score.py).
    Only when named: it needs the network's output layer, a 91 MB file, and Inception is slow on a CPU."""

    name = "is"

    def available(self, g: LoadedGenerator, dataset: str) -> bool:
        return False

    def compute(self, g: LoadedGenerator, ev: Evaluation) -> dict[str, Any]:
        from gankit.metrics import inception, inception_score

        weight = inception_score.output_weight(ev.inception_weights)
        sets = ev.cache.get("features")
        if sets is not None and sets["protocol"]["features"].startswith("InceptionV3"):
            if sets.get("fake") is None:
                raise ConfigError("is needs the samples' images, but the samples are a statistics file; give the "
                                  "images instead.")
            pool = sets["fake"]
        else:
            samples = g.sample(ev.n_samples, seed=ev.seed)
            pool = inception.inception_features(samples, tuple(samples.shape[1:]), ev.device)
        mean, sd = inception_score.inception_score(inception_score.logits(pool, weight))
        return {"metric": "is", "is": round(mean, 4), "is_sd": round(sd, 4), "splits": inception_score.SPLITS,
                "interval": "sd over the splits (Salimans et al. 2016)", "features": "InceptionV3 logits (1008)",
                "preprocessing": inception.PREPROCESSING, "output_layer": inception_score.FILE_NAME}

    def format(self, row: dict[str, Any]) -> str:
        return (f"IS {row['is']:.3f} +- {row['is_sd']:.3f} (sd over {row['splits']} splits of {row['n_samples']} "
                "samples)")
