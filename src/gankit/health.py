"""Training health: is the run collapsing, or has D overwhelmed G? Measured on fixed noise every epoch.

No GAN library tells its user that a run collapsed; gankit does. The statistics are cheap (one
forward of G on the monitor noise, a classifier on labelled data, a 1,000 x 1,000 distance matrix)
and draw no random numbers, so a run with the monitor on trains bit-identically to one without.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from gankit.metrics.modes import histogram_stats
from gankit.nets import evaluating, generate

# Verdict thresholds, set from the seed study (docs/results/seed-study.json): healthy 10-epoch
# paper-mnist runs cover 8-10 classes with the largest class at 12-40% and a diversity ratio of
# 0.8-1.0; collapsed ones cover 1-5 classes with the largest at 50-100% and a ratio of 0.1-0.7.
MIN_CLASSES_FRACTION = 0.6  # fewer than 6 of 10 classes covered is collapse
MAX_CLASS_SHARE = 0.5  # one class drawn in more than half of the samples is collapse
MIN_DIVERSITY = 0.5  # samples twice as close to each other as real images are: collapse
D_WINS = 0.05  # mean D(G(z)) below this while D(x) is above 1 - D_WINS: D overwhelms G


@torch.no_grad()
def mean_pairwise_distance(x: torch.Tensor) -> float:
    """Mean Euclidean distance between distinct rows of x (N, ...)."""
    x = x.flatten(1).double()
    n = len(x)
    if n < 2:
        return 0.0
    d = torch.cdist(x, x)
    return float(d.sum() / (n * (n - 1)))


@torch.no_grad()
def diversity_ratio(samples: torch.Tensor, real: torch.Tensor) -> float:
    """Mean pairwise distance of samples over that of as many real images: about 1 for a healthy G,
    0 when every sample is the same image."""
    n = min(len(samples), len(real))
    return mean_pairwise_distance(samples[:n]) / max(mean_pairwise_distance(real[:n]), 1e-12)


@torch.no_grad()
def dead_relu_fraction(g: nn.Module, z: torch.Tensor) -> list[float]:
    """For an MLP generator: per ReLU layer, the fraction of units that are zero for every z.

    A layer with all units dead makes G's output independent of z: every sample is one image.
    Returns [] for generators without ReLU layers in the MLP form.
    """
    fractions = []
    if isinstance(g, nn.Sequential):  # a plain nn.Sequential G: look after each nn.ReLU
        h = z
        for module in g:
            h = module(h)
            if isinstance(module, nn.ReLU):
                fractions.append(float((h.amax(0) <= 0).double().mean()))
        return fractions
    if not hasattr(g, "layer_outputs"):
        return []
    for out, act in zip(g.layer_outputs(z), g.activations):
        if act == "relu":
            fractions.append(float((out.amax(0) <= 0).double().mean()))
    return fractions


@dataclass
class Verdict:
    """The monitor's reading of one epoch: which alarms fired and a one-line explanation."""

    collapsed: bool
    d_overwhelms: bool
    message: str

    @property
    def healthy(self) -> bool:
        return not (self.collapsed or self.d_overwhelms)


def judge(row: dict, epoch: int, blurred: bool = False) -> Verdict:
    """Read a health row (from health_stats plus the epoch's mean D(x), D(G(z))) into a verdict.

    blurred: the samples are mean images (a VAE's), less spread than real ones by design, so low
    diversity is blur rather than collapse and is not judged; the classes still are."""
    reasons = []
    collapsed = False
    if "classes_covered" in row:
        classes = row["classes"]
        share, top = row["largest_class_share"], row["largest_class"]
        if row["classes_covered"] < math.ceil(MIN_CLASSES_FRACTION * classes) or share > MAX_CLASS_SHARE:
            collapsed = True
            reasons.append(f"{row['classes_covered']} of {classes} classes, {share:.0%} drawn as {top}")
    if not blurred and row["diversity"] < MIN_DIVERSITY:
        collapsed = True
        reasons.append(f"samples {row['diversity']:.2f}x as spread as real images")
    d_real, d_fake = row.get("d_real"), row.get("d_fake")
    d_overwhelms = d_real is not None and d_fake is not None and d_fake < D_WINS and d_real > 1 - D_WINS
    if d_overwhelms:
        reasons.append(f"D overwhelms G: D(x) {d_real:.2f}, D(G(z)) {d_fake:.3f}")
    if row.get("dead_relu"):
        worst = max(row["dead_relu"])
        if worst > 0.5:
            reasons.append(f"{worst:.0%} of one G layer's ReLUs dead")
    if not reasons:
        return Verdict(False, False, f"epoch {epoch}: healthy")
    head = "mode collapse" if collapsed else "warning"
    return Verdict(collapsed, d_overwhelms, f"{head} at epoch {epoch}: " + "; ".join(reasons))


@torch.no_grad()
def health_stats(g: nn.Module, z: torch.Tensor, real_spread: float, image_shape: tuple[int, ...],
                 classify=None, y: torch.Tensor | None = None) -> dict:
    """Health statistics of G on fixed noise z; real_spread is mean_pairwise_distance of as many real
    images (computed once per run, not per epoch).

    classify: a function from images (N, C, H, W) in [0, 1] to class indices, for labelled data.
    """
    with evaluating(g):  # in train mode, batch norm would fold these z into its running statistics
        samples = generate(g, z, y).float()
        dead = dead_relu_fraction(g, z) if y is None else []
    row: dict = {"diversity": round(mean_pairwise_distance(samples) / max(real_spread, 1e-12), 4)}
    if dead:
        row["dead_relu"] = [round(f, 4) for f in dead]
    if classify is not None:
        counts = torch.bincount(classify(samples.view(-1, *image_shape)).cpu(), minlength=10)
        stats = histogram_stats(counts)
        top = int(counts.argmax())
        row.update(class_counts=counts.tolist(), classes_covered=stats["modes_covered"], classes=stats["modes"],
                   largest_class=top, largest_class_share=round(float(counts[top]) / max(int(counts.sum()), 1), 4),
                   kl_from_uniform=round(stats["kl_from_uniform"], 4))
    return row


def describe_health(stats: dict) -> str:
    """One line of a health row's numbers, for the console."""
    parts = []
    if "classes_covered" in stats:
        parts.append(f"{stats['classes_covered']} of {stats['classes']} classes, largest "
                     f"{stats['largest_class_share']:.0%} ({stats['largest_class']})")
    parts.append(f"diversity {stats['diversity']:.2f} of real")
    return ", ".join(parts)
