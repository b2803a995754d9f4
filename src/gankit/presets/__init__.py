"""Recipes as files: each preset is a YAML file in this folder, a one-line `description` and the TrainConfig
fields it sets over the defaults (which are the paper's MNIST values). A new recipe is one new file.
A user's YAML may start from one (`preset: dcgan-folder`) and override fields; `gankit presets` lists them."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from gankit.errors import ConfigError, did_you_mean, shown


def _load() -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    fields, descriptions = {}, {}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name.split(".")[0]):
        if entry.name.endswith(".yaml"):
            name = entry.name[: -len(".yaml")]
            data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
            descriptions[name] = data.pop("description", "")
            fields[name] = data
    return fields, descriptions


PRESETS, DESCRIPTIONS = _load()  # name -> fields over the defaults; name -> its one-line description


def check_preset(name: str) -> None:
    """ConfigError, with a 'did you mean', unless name is a shipped preset."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {shown(name)}{did_you_mean(name, PRESETS)}; available: "
                          f"{', '.join(PRESETS)} (gankit presets).")


def preset_text(name: str) -> str:
    """The preset's YAML file as shipped (comments and description included)."""
    check_preset(name)
    return resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8").rstrip("\n")


def table() -> str:
    """One line per preset: its name and description."""
    width = max(map(len, PRESETS))
    return "\n".join(f"{name:{width}s}  {DESCRIPTIONS[name]}" for name in PRESETS)
