"""gankit: Generative Adversarial Nets (Goodfellow et al., 2014) in PyTorch, reproduced and extended."""

from gankit.errors import CheckpointError, ConfigError, DataError, GankitError

__version__ = "0.1.0"
__all__ = ["CheckpointError", "ConfigError", "DataError", "GankitError", "__version__"]
