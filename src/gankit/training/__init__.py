"""Training: the state a checkpoint holds, real-batch sources, Algorithm 1's steps, hooks, and the loop."""

from gankit.training.loop import Trainer
from gankit.training.state import Progress, TrainState

__all__ = ["Progress", "TrainState", "Trainer"]
