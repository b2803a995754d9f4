"""Which configuration a run trains with: a new one from a Recipe (preset, then YAML, then fields), or, for
a run that is continued, its stored config.yaml under the resume rule: only RESUMABLE_FIELDS may change, and
the training images must be the same. The rule is applied by whatever resumes (the Trainer), not only by the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gankit.config import RESUMABLE_FIELDS, TrainConfig, apply_overrides, from_preset, load_yaml
from gankit.errors import CheckpointError, ConfigError, shown
from gankit.rundir import RunDir


@dataclass(frozen=True)
class Recipe:
    """What a new run trains with: a preset, then a YAML file (which may name its own preset), then fields,
    each over the last; with neither preset nor file, the paper-mnist preset."""

    preset: str | None = None
    config_file: str | Path | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    source: str = "command line"  # where the overrides came from, for error messages

    def resolve(self, **more: Any) -> TrainConfig:
        """The validated configuration, with `more` fields over the overrides (a sweep's seed, say)."""
        config = from_preset(self.preset) if self.preset else None
        if self.config_file:
            config = load_yaml(self.config_file, config)
        config = config or from_preset("paper-mnist")
        return apply_overrides(config, {**self.overrides, **more}, self.source).validate()

    @property
    def name(self) -> str:
        """A short name for the run directory: the preset's, or the YAML file's."""
        return self.preset or (Path(self.config_file).stem if self.config_file else "paper-mnist")


def resume_config(run_dir: str | Path, overrides: dict[str, Any]) -> TrainConfig:
    """The config stored with a run, with only the fields that may change on resume replaced."""
    path = RunDir(run_dir).config
    if not path.exists():
        raise CheckpointError(f"{run_dir} is not a gankit run directory (no config.yaml).")
    stored = load_yaml(path)
    wanted = apply_overrides(stored, overrides, "command line")
    changed = sorted(k for k in overrides if getattr(stored, k) != getattr(wanted, k) and k not in RESUMABLE_FIELDS)
    if changed:
        raise ConfigError(
            f"cannot change {', '.join(changed)} when resuming {run_dir}; only "
            f"{', '.join(RESUMABLE_FIELDS)} may change. Start a new run with --out instead."
        )
    return wanted


def check_resumable(config: TrainConfig, meta: dict[str, Any], data_fingerprint: dict[str, Any],
                    run_dir: str | Path) -> None:
    """The resume rule, applied by whatever resumes: only RESUMABLE_FIELDS may differ from the
    checkpoint's config, and the training images must be the same ones."""
    stored = meta.get("config")
    if not isinstance(stored, dict):
        raise CheckpointError(f"the checkpoints of {run_dir} do not record their configuration; "
                              "they cannot be resumed.")
    mine = config.to_dict()
    changed = [f"{k} {shown(stored[k])} -> {shown(mine[k])}" for k in mine
               if k in stored and k not in RESUMABLE_FIELDS and stored[k] != mine[k]]
    if changed:
        raise ConfigError(
            f"{run_dir} was trained with other settings than it is resumed with ({', '.join(changed)}); "
            f"only {', '.join(RESUMABLE_FIELDS)} may change on resume (check config.yaml). "
            "Start a new run with --out instead."
        )
    data = meta.get("data")
    if data is not None and data != data_fingerprint:
        raise ConfigError(
            f"{run_dir} was trained on other images ({data['train_images']} training images, crc32 "
            f"{data['crc32']}) than {config.dataset} from {config.data_dir or 'the default source'} "
            f"gives now ({data_fingerprint['train_images']}, crc32 {data_fingerprint['crc32']}); "
            "resume with the data it was trained on, or start a new run with --out."
        )


def resolve_train(preset: str | None, config_path: str | None, overrides: dict[str, Any], resume: str | None,
                  out: str | None) -> tuple[TrainConfig, Path]:
    """The configuration and run directory of `gankit train`: a resumed run's own config.yaml with only
    the fields that may change replaced; else preset, then the YAML file, then flags, each over the last."""
    if resume:
        if preset or config_path or out:
            raise ConfigError("--resume takes the run's own config.yaml; drop --preset, --config and --out.")
        return resume_config(resume, overrides).validate(), Path(resume)
    recipe = Recipe(preset, config_path, overrides)
    return recipe.resolve(), Path(out or f"runs/{recipe.name}")
