"""Bring a run directory to a length: start it from a recipe, continue it, or keep it when it is done. What the
CLI, the sweep, Table 1, Figure 1 and the mode-collapse experiment all do, written once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gankit import checkpoint
from gankit.config import TrainConfig, apply_overrides
from gankit.recipe import Recipe, resume_config
from gankit.rundir import RunDir
from gankit.training.loop import Trainer
from gankit.training.state import Progress


def is_done(run_dir: str | Path, config: TrainConfig) -> Progress | None:
    """The progress of the run's latest checkpoint if it has reached config's length (epochs or max_steps)."""
    found = RunDir(run_dir).checkpoints()
    if not found:
        return None
    meta = checkpoint.read(found[-1])[1]
    done = meta["epoch"] >= config.epochs or (config.max_steps is not None and meta["step"] >= config.max_steps)
    return Progress(meta["step"], meta["epoch"], meta["batch"], meta["wall_s"], meta["epoch_s"]) if done else None


def ensure(run_dir: str | Path, recipe: Recipe | TrainConfig | None, until: dict[str, Any] | None = None,
           **trainer_args: Any) -> Progress:
    """Train the run at run_dir to `until` (fields a resume may change: epochs, max_steps, patience, ...).

    A folder that holds no config.yaml starts a new run from recipe (a Recipe, or a resolved TrainConfig); one
    that does continues from its own config.yaml (recipe is not consulted, so a sweep prepares its children by
    writing their config.yaml), unless it is already that long. trainer_args go to the Trainer (splits, log, ...).
    """
    run, until = RunDir(run_dir), until or {}
    if run.config.exists():
        config = resume_config(run_dir, until).validate()
        done = is_done(run_dir, config)
        if done is not None:
            return done
        resume = True
    else:
        if recipe is None:
            raise ValueError(f"{run_dir} holds no run and no recipe was given to start one")
        config = recipe.resolve(**until) if isinstance(recipe, Recipe) else \
            apply_overrides(recipe, until, "ensure").validate()
        resume = False
    return Trainer(config, run_dir, **trainer_args).run(resume=resume)
