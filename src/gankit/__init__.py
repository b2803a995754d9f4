"""gankit: Generative Adversarial Nets (Goodfellow et al., 2014) in PyTorch, reproduced and extended.

The public API, imported on first use so that `import gankit` stays light:

    from gankit import TrainConfig, Trainer, load_generator
    from gankit.evaluate import evaluate   (a module of the same name: imported from there)
    trainer = Trainer(TrainConfig(epochs=5), "runs/mnist"); trainer.run()
    g = load_generator("runs/mnist"); images = g.sample(64)
    rows = evaluate("runs/mnist", ["parzen"])
"""

from __future__ import annotations

import importlib
from typing import Any

from gankit.errors import CheckpointError, ConfigError, DataError, GankitError, TrainingDiverged

__version__ = "0.1.0"
_LAZY = {"TrainConfig": "gankit.config", "Trainer": "gankit.training", "load_generator": "gankit.generator"}
__all__ = ["CheckpointError", "ConfigError", "DataError", "GankitError", "TrainConfig", "Trainer",
           "TrainingDiverged", "__version__", "load_generator"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gankit' has no attribute {name!r}")
