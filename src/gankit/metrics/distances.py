"""Distances between a set of generated and a set of real feature vectors: the Frechet distance (FID),
the kernel distance (KID), and improved precision/recall (Kynkaanniemi et al. 2019) with density and
coverage (Naeem et al. 2020). Pure functions of feature matrices, in float64 where it matters, with
their uncertainty; which features (the extractor) is the caller's choice (features.py)."""

from __future__ import annotations

import math

import torch

from gankit.errors import ConfigError


def gaussian_stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (unbiased) covariance of the rows, in float64."""
    x = features.double()
    return x.mean(0), torch.cov(x.T)


def psd_sqrt(s: torch.Tensor) -> torch.Tensor:
    """The symmetric square root of a symmetric PSD matrix (negative rounding errors clipped to 0)."""
    w, v = torch.linalg.eigh(s.double())
    return (v * w.clamp(min=0).sqrt()) @ v.T


def trace_sqrt_product(s1: torch.Tensor, s2: torch.Tensor, root2: torch.Tensor | None = None) -> float:
    """tr((s1 s2)^(1/2)) for symmetric PSD s1, s2: the eigenvalues of s2^(1/2) s1 s2^(1/2), which is
    symmetric PSD and similar to s2 s1 (so to s1 s2), so no non-symmetric square root is needed.
    root2: s2^(1/2) if already known (a bootstrap against one real set computes it once)."""
    root = psd_sqrt(s2) if root2 is None else root2
    inner = root @ s1.double() @ root
    return float(torch.linalg.eigvalsh((inner + inner.T) / 2).clamp(min=0).sqrt().sum())


def frechet_distance(mu1: torch.Tensor, s1: torch.Tensor, mu2: torch.Tensor, s2: torch.Tensor,
                     root2: torch.Tensor | None = None) -> float:
    """||mu1 - mu2||^2 + tr(s1 + s2 - 2 (s1 s2)^(1/2)): the Frechet distance of two Gaussians."""
    diff = (mu1.double() - mu2.double()).square().sum()
    return float(diff + s1.double().trace() + s2.double().trace()) - 2 * trace_sqrt_product(s1, s2, root2)


def frechet_to_stats(fake: torch.Tensor, mu_r: torch.Tensor, s_r: torch.Tensor, root_r: torch.Tensor) -> float:
    """frechet_distance of the features `fake` (n x d) to a Gaussian (mu_r, s_r = root_r^2), from the centred
    features: s_f = X^T X / (n - 1), so root_r s_f root_r = A^T A with A = X root_r / sqrt(n - 1), whose nonzero
    eigenvalues are those of A A^T; with fewer samples than dimensions that n x n problem is the cheap one."""
    x = fake.double()
    n, d = x.shape
    mu = x.mean(0)
    centred = x - mu
    a = centred @ root_r / math.sqrt(n - 1)
    gram = a @ a.T if n < d else a.T @ a
    trace_sqrt = float(torch.linalg.eigvalsh((gram + gram.T) / 2).clamp(min=0).sqrt().sum())
    spread = float(centred.square().sum()) / (n - 1)
    return float((mu - mu_r.double()).square().sum()) + spread + float(s_r.double().trace()) - 2 * trace_sqrt


def fid(fake: torch.Tensor, real: torch.Tensor) -> float:
    return frechet_distance(*gaussian_stats(fake), *gaussian_stats(real))


def fid_bootstrap(fake: torch.Tensor, real: torch.Tensor, n_boot: int = 50,
                  seed: int = 0) -> tuple[float, float, float]:
    """FID and its 95% normal-bootstrap interval (fid, low, high): FID +- 1.96 sd, with sd over resamples of
    the generated set (the real one fixed). Percentiles would not do: resampling with replacement repeats
    samples, which raises FID by itself, so every resample can lie above the estimate; their spread is
    still the estimate's."""
    return fid_bootstrap_stats(fake, *gaussian_stats(real), n_boot=n_boot, seed=seed)


def fid_bootstrap_stats(fake: torch.Tensor, mu_r: torch.Tensor, s_r: torch.Tensor, n_boot: int = 50,
                        seed: int = 0) -> tuple[float, float, float]:
    """fid_bootstrap against the real set's mean and covariance (a statistics file holds only these)."""
    gen = torch.Generator().manual_seed(seed)
    root = psd_sqrt(s_r)
    point = frechet_to_stats(fake, mu_r, s_r, root)
    values = torch.tensor([frechet_to_stats(fake[torch.randint(len(fake), (len(fake),), generator=gen)], mu_r, s_r,
                                            root) for _ in range(n_boot)], dtype=torch.float64)
    half = 1.96 * float(values.std())
    return point, max(0.0, point - half), point + half


def _poly_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def kid(fake: torch.Tensor, real: torch.Tensor, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """Unbiased MMD^2 with the cubic polynomial kernel (Binkowski et al. 2018), averaged over random
    subsets of both sets; returns (mean, standard error of the mean over subsets)."""
    m = min(subset_size, len(fake), len(real))
    if m < 2:
        raise ConfigError(f"KID needs at least 2 samples in each set, got {len(fake)} generated and {len(real)} real.")
    gen = torch.Generator().manual_seed(seed)
    x_all, y_all = fake.double(), real.double()
    values = []
    for _ in range(subsets):
        x = x_all[torch.randperm(len(x_all), generator=gen)[:m]]
        y = y_all[torch.randperm(len(y_all), generator=gen)[:m]]
        kxx, kyy, kxy = _poly_kernel(x, x), _poly_kernel(y, y), _poly_kernel(x, y)
        off = m * (m - 1)
        values.append(float((kxx.sum() - kxx.trace()) / off + (kyy.sum() - kyy.trace()) / off - 2 * kxy.mean()))
    t = torch.tensor(values, dtype=torch.float64)
    se = float(t.std() / math.sqrt(len(t))) if len(t) > 1 else float("nan")
    return float(t.mean()), se


def _kth_neighbour_radii(x: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    """Distance from each row of x to its k-th nearest other row."""
    radii = []
    for i in range(0, len(x), chunk):
        d = torch.cdist(x[i : i + chunk], x)
        radii.append(d.kthvalue(k + 1, dim=1).values)  # the first is the row itself, at distance 0
    return torch.cat(radii)


def prdc(fake: torch.Tensor, real: torch.Tensor, k: int = 3, chunk: int = 2048) -> dict[str, float]:
    """Precision, recall, density and coverage with k-NN balls, each with its standard error over the
    samples it averages (conditional on the balls). Distances are Euclidean, computed in chunks."""
    if min(len(fake), len(real)) < k + 1:
        raise ConfigError(f"precision and recall with k = {k} need at least {k + 1} samples in each set, got "
                          f"{len(fake)} generated and {len(real)} real; raise --n-samples.")
    x, y = fake.double(), real.double()
    r_real, r_fake = _kth_neighbour_radii(y, k, chunk), _kth_neighbour_radii(x, k, chunk)
    inside_real = torch.zeros(len(x), dtype=torch.float64)  # per fake sample: real balls containing it
    recalled = torch.zeros(len(y), dtype=torch.bool)  # per real sample: inside some fake ball
    nearest_fake = torch.full((len(y),), math.inf, dtype=torch.float64)
    for i in range(0, len(x), chunk):
        d = torch.cdist(x[i : i + chunk], y)  # (fake chunk, real)
        inside_real[i : i + chunk] = (d <= r_real).sum(1).double()
        recalled |= (d <= r_fake[i : i + chunk, None]).any(0)
        nearest_fake = torch.minimum(nearest_fake, d.min(0).values)
    covered = (nearest_fake <= r_real).double()
    precise = (inside_real > 0).double()
    density = inside_real / k

    def mean_se(v: torch.Tensor) -> tuple[float, float]:
        return float(v.mean()), float(v.std() / math.sqrt(len(v)))

    out: dict[str, float] = {}
    for name, values in (("precision", precise), ("recall", recalled.double()), ("density", density),
                         ("coverage", covered)):
        out[name], out[f"{name}_se"] = mean_se(values)
    return out
