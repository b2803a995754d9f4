"""The metric protocol: a metric turns a generator plus real data into one metrics.jsonl row that
records its own protocol (sample count, seed, splits, checkpoint), so that a number is never separated
from how it was measured. A new metric is one class in its own file plus one line in evaluate.METRICS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from gankit.data import Splits, load_dataset
from gankit.data.sources import log_stderr
from gankit.errors import ConfigError

if TYPE_CHECKING:
    from gankit.generator import LoadedGenerator


@dataclass
class Evaluation:
    """What every metric of one `gankit evaluate` shares: the data (loaded once) and the protocol."""

    dataset: str
    data_dir: str | None = None
    n_samples: int = 10000
    n_valid: int = 1000  # validation images, where a metric tunes something (Parzen's sigma)
    seed: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    splits: Splits | None = None
    image_size: int | None = None  # the size G draws at, when the data are brought to it (MNIST at 32 px)
    features: str = "domain"  # the feature space of FID, KID and precision/recall: domain or inception
    n_reference: int | None = None  # real test images they compare against (None: the whole test split)
    importance_samples: int = 1000  # k of a VAE's IWAE bound
    inception_weights: str | None = None  # the Inception Score's output-layer file (None: env var or cache)
    cache: dict[str, Any] = field(default_factory=dict)  # what several metrics share (features), made once
    image_shape: tuple[int, int, int] | None = None  # what G draws; the data must match it
    log: Callable[[str], None] = log_stderr  # progress of what is made on first use (a classifier)

    def data(self) -> Splits:
        if self.splits is None:
            self.splits = load_dataset(self.dataset, self.data_dir, image_size=self.image_size)
        if self.image_shape is not None and tuple(self.splits.image_shape) != tuple(self.image_shape):
            drawn, held = ("x".join(map(str, s)) for s in (self.image_shape, self.splits.image_shape))
            raise ConfigError(f"the generator draws {drawn} images but {self.dataset} holds {held}; evaluate it on a "
                              "dataset of its own shape (--dataset).")
        return self.splits


class Metric:
    """Subclasses set name (the row's kind) and implement compute and format; monitor, to be watched during
    training (--monitor NAME:N). higher_is_better says which way is better, as torchmetrics declares it."""

    name: str = ""
    higher_is_better: bool = True
    monitor_digits: int = 4  # decimals of the monitored value in metrics.jsonl

    def monitor(self, samples: torch.Tensor, real: torch.Tensor, ev: Evaluation) -> dict[str, Any]:
        """This metric of a live G's fixed-noise samples against real validation images, each epoch: {"value":
        the number (unrounded), "protocol": how it was measured, ...: further row fields}. The figure to report
        is `gankit evaluate`'s, against the test split; a monitor only ranks the epochs of one run."""
        raise NotImplementedError

    @property
    def monitorable(self) -> bool:
        return type(self).monitor is not Metric.monitor

    def available(self, g: LoadedGenerator, dataset: str) -> bool:
        """Whether the metric applies to this generator and dataset (evaluate --metrics all skips it if not)."""
        return True

    def compute(self, g: LoadedGenerator, ev: Evaluation) -> dict[str, Any]:
        """The metric's fields of the row; evaluate adds kind, dataset, checkpoint, step, seed, n_samples."""
        raise NotImplementedError

    def format(self, row: dict[str, Any]) -> str:
        """One line for the console."""
        raise NotImplementedError
