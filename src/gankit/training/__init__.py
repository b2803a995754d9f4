"""Training: the state a checkpoint holds, real-batch sources, Algorithm 1's steps, hooks, the loop, and
ensure (start, continue or keep a run)."""

from gankit.training.ensure import ensure
from gankit.training.loop import Trainer
from gankit.training.state import Progress, TrainState

__all__ = ["Progress", "TrainState", "Trainer", "ensure"]
