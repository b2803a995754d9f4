"""The paper's theory (section 4) on densities tabulated on a quadrature grid, in 1-D or 2-D.

Proposition 1: for fixed G, D*(x) = p_data / (p_data + p_g).
Theorem 1: C(G) = max_D V(G, D) = -log 4 + 2 JSD(p_data || p_g), minimal iff p_g = p_data.
Proposition 2: gradient steps on p_g against D* decrease C(G) towards -log 4.
Densities are arrays of values on a regular grid; `dx` is the cell size (area in 2-D).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gankit.objectives import optimal_discriminator

LOG4 = math.log(4.0)


def normal_pdf(x: np.ndarray, mean: float, std: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def mixture_pdf(x: np.ndarray, weights, means, stds) -> np.ndarray:
    return sum(w * normal_pdf(x, m, s) for w, m, s in zip(weights, means, stds))


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x log y with 0 log 0 = 0 (the convention the integrals need)."""
    out = np.zeros_like(x, dtype=np.float64)
    mask = x > 0
    out[mask] = x[mask] * np.log(y[mask])
    return out


def value(d: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, dx: float) -> float:
    """V(G, D) = integral of p_data log D + p_g log(1 - D)."""
    return float((_xlogy(p_data, d) + _xlogy(p_g, 1.0 - d)).sum() * dx)


def _plog_ratio(p: np.ndarray, total: np.ndarray) -> np.ndarray:
    """p log(p / total) with 0 log 0 = 0, in log space so tiny densities do not underflow to log 0."""
    out = np.zeros_like(p, dtype=np.float64)
    mask = p > 0
    out[mask] = p[mask] * (np.log(p[mask]) - np.log(total[mask]))
    return out


def virtual_criterion(p_data: np.ndarray, p_g: np.ndarray, dx: float) -> float:
    """C(G) = V(G, D*_G) = integral of p_data log D* + p_g log(1 - D*) (Eq. 4)."""
    total = p_data + p_g
    return float((_plog_ratio(p_data, total) + _plog_ratio(p_g, total)).sum() * dx)


def kl(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    """KL(p || q) = integral of p log(p / q)."""
    mask = p > 0
    return float((p[mask] * (np.log(p[mask]) - np.log(q[mask]))).sum() * dx)


def jsd(p: np.ndarray, q: np.ndarray, dx: float) -> float:
    """Jensen-Shannon divergence (natural log), in [0, log 2]."""
    m = 0.5 * (p + q)
    return 0.5 * kl(p, m, dx) + 0.5 * kl(q, m, dx)


def random_mixture(x: np.ndarray, rng: np.random.Generator, max_components: int = 4) -> np.ndarray:
    """A random 1-D Gaussian mixture tabulated on x, normalised on the grid."""
    k = int(rng.integers(1, max_components + 1))
    lo, hi = float(x.min()), float(x.max())
    span = hi - lo
    p = mixture_pdf(x, rng.dirichlet(np.ones(k)), rng.uniform(lo + 0.25 * span, hi - 0.25 * span, k),
                    rng.uniform(0.03 * span, 0.15 * span, k))
    return p / (p.sum() * (x[1] - x[0]))


@dataclass
class DescentTrace:
    criterion: list[float]
    params: list[tuple[float, float]]


def proposition2_gaussian(p_data: np.ndarray, x: np.ndarray, mean: float, log_std: float,
                          lr: float = 0.5, steps: int = 200) -> DescentTrace:
    """Gradient descent on a Gaussian p_g's (mean, log std), D held at D* for the current p_g.

    At each step the gradient is that of U(p_g, D*) = E_data log D* + E_g log(1 - D*) with D*
    fixed, i.e. of the integral of p_g(theta) log(1 - D*): the step Proposition 2 describes.
    """
    dx = float(x[1] - x[0])
    theta = np.array([mean, log_std], dtype=np.float64)
    trace = DescentTrace([], [])
    for _ in range(steps):
        p_g = normal_pdf(x, theta[0], math.exp(theta[1]))
        trace.criterion.append(virtual_criterion(p_data, p_g, dx))
        trace.params.append((float(theta[0]), float(math.exp(theta[1]))))
        with np.errstate(divide="ignore"):
            log_fake = np.log(p_g) - np.log(p_data + p_g)  # log(1 - D*) for the current p_g, held fixed
        # d p_g / d mean = p_g (x - m) / s^2 ;  d p_g / d log s = p_g ((x - m)^2 / s^2 - 1)
        s2 = math.exp(2 * theta[1])
        log_fake = np.where(p_g > 0, log_fake, 0.0)
        grad = np.array([
            (p_g * (x - theta[0]) / s2 * log_fake).sum() * dx,
            (p_g * ((x - theta[0]) ** 2 / s2 - 1.0) * log_fake).sum() * dx,
        ])
        theta = theta - lr * grad
    return trace


def proposition2_functional(p_data: np.ndarray, p_g: np.ndarray, dx: float, lr: float = 0.5,
                            steps: int = 100) -> list[float]:
    """Mirror descent on p_g itself: p_g <- p_g exp(-lr log(1 - D*)), renormalised; returns C per step."""
    out = []
    for _ in range(steps):
        d_star = optimal_discriminator(p_data, p_g)
        out.append(virtual_criterion(p_data, p_g, dx))
        p_g = p_g * np.exp(-lr * np.log(np.clip(1.0 - d_star, 1e-300, None)))
        p_g = p_g / (p_g.sum() * dx)
    return out


def run(seed: int = 0, n_mixtures: int = 200, n_perturbations: int = 500) -> dict[str, Any]:
    """Numerical checks of Proposition 1, Theorem 1 and Proposition 2: {"checks": rows, "ok": all passed}."""
    rows = checks(seed, n_mixtures, n_perturbations)
    return {"checks": rows, "ok": all(r["ok"] for r in rows)}


def format(result: dict[str, Any]) -> str:  # noqa: A001  (every experiment has run and format)
    return format_checks(result["checks"])


def checks(seed: int = 0, n_mixtures: int = 200, n_perturbations: int = 500) -> list[dict]:
    """Numerical checks of Proposition 1, Theorem 1 and Proposition 2, as rows for a table."""
    rng = np.random.default_rng(seed)
    x = np.linspace(-6, 6, 4001)
    dx = float(x[1] - x[0])
    rows = []

    p = random_mixture(x, rng)
    c_equal = virtual_criterion(p, p, dx)
    rows.append({"check": "Theorem 1: C(G) when p_g = p_data", "value": c_equal, "expected": -LOG4,
                 "ok": abs(c_equal + LOG4) < 1e-12})
    d_dev = float(np.abs(optimal_discriminator(p, p) - 0.5).max())
    rows.append({"check": "Proposition 1: max |D* - 1/2| when p_g = p_data", "value": d_dev, "expected": 0.0,
                 "ok": d_dev == 0.0})

    worst = 0.0
    for _ in range(n_mixtures):
        pd, pg = random_mixture(x, rng), random_mixture(x, rng)
        worst = max(worst, abs(virtual_criterion(pd, pg, dx) - (-LOG4 + 2 * jsd(pd, pg, dx))))
    rows.append({"check": f"Theorem 1: max |C(G) - (-log 4 + 2 JSD)| over {n_mixtures} random mixtures",
                 "value": worst, "expected": 0.0, "ok": worst < 1e-6})

    pd, pg = random_mixture(x, rng), random_mixture(x, rng)
    d_star = optimal_discriminator(pd, pg)
    v_star = value(d_star, pd, pg, dx)
    gap = min(
        v_star - value(np.clip(d_star + rng.normal(0, scale, x.shape), 1e-9, 1 - 1e-9), pd, pg, dx)
        for scale in np.geomspace(1e-4, 0.3, n_perturbations)
    )
    rows.append({"check": f"Proposition 1: min V(D*) - V(D* + noise) over {n_perturbations} perturbations",
                 "value": gap, "expected": "> 0", "ok": gap > 0})

    pd = normal_pdf(x, 0.5, 0.8)
    trace = proposition2_gaussian(pd, x, mean=-2.0, log_std=math.log(0.3))
    c = np.array(trace.criterion)
    monotone = bool(np.all(np.diff(c) <= 1e-12))
    rows.append({"check": f"Proposition 2: Gaussian p_g, C from {c[0]:.4f} after 200 steps (monotone)",
                 "value": float(c[-1]), "expected": -LOG4, "ok": monotone and c[-1] + LOG4 < 1e-6})
    mean, std = trace.params[-1]
    rows.append({"check": "Proposition 2: Gaussian p_g's (mean, std) after 200 steps (p_data: 0.5, 0.8)",
                 "value": f"({mean:.4f}, {std:.4f})", "expected": "(0.5, 0.8)",
                 "ok": abs(mean - 0.5) < 0.01 and abs(std - 0.8) < 0.01})
    fc = np.array(proposition2_functional(random_mixture(x, rng), normal_pdf(x, 0.0, 2.0), dx))
    rows.append({"check": "Proposition 2: p_g itself by mirror descent, C after 100 steps (monotone)",
                 "value": float(fc[-1]), "expected": -LOG4,
                 "ok": bool(np.all(np.diff(fc) <= 1e-12)) and fc[-1] + LOG4 < 1e-6})

    g = np.linspace(-4, 4, 201)
    xx, yy = np.meshgrid(g, g)
    da = float(g[1] - g[0]) ** 2
    pd2 = normal_pdf(xx, 0, 1) * normal_pdf(yy, 0, 1)
    pg2 = normal_pdf(xx, 1, 0.7) * normal_pdf(yy, -0.5, 1.2)
    pd2, pg2 = pd2 / (pd2.sum() * da), pg2 / (pg2.sum() * da)  # densities on the grid
    diff2 = abs(virtual_criterion(pd2, pg2, da) - (-LOG4 + 2 * jsd(pd2, pg2, da)))
    rows.append({"check": "Theorem 1 in 2-D: |C(G) - (-log 4 + 2 JSD)|", "value": diff2, "expected": 0.0,
                 "ok": diff2 < 1e-9})
    return rows


def format_checks(rows: list[dict]) -> str:
    def show(v):
        if isinstance(v, float):
            return f"{v:.3e}" if v != 0 and abs(v) < 1e-3 else f"{v:.6f}"
        return str(v)

    width = max(len(r["check"]) for r in rows)
    lines = [f"{'check':{width}s}  {'value':>16s}  {'expected':>14s}  ok"]
    for r in rows:
        lines.append(f"{r['check']:{width}s}  {show(r['value']):>16s}  {show(r['expected']):>14s}  "
                     f"{'yes' if r['ok'] else 'NO'}")
    return "\n".join(lines)
