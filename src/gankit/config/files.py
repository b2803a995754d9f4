"""The configuration in and out: values from presets, YAML files and flags, each converted to its field's
type; the resolved configuration written to RUN/config.yaml, from which a run can be reproduced alone.
A YAML file may be flat (every existing config.yaml) or grouped by section (optim: {lr: 0.01})."""

from __future__ import annotations

import os
import typing
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from gankit import strict_yaml
from gankit.config.fields import SECTIONS, TrainConfig
from gankit.errors import ConfigError, did_you_mean, shown
from gankit.fileio import atomic_write_bytes
from gankit.presets import PRESETS, check_preset

PATH_FIELDS = ("data_dir", "g_init_from")  # the fields that name a file or folder


def field_types() -> dict[str, Any]:
    """Map each field to the Python type its values are parsed as (the annotation, without None)."""
    hints = typing.get_type_hints(TrainConfig)
    types: dict[str, Any] = {}
    for f in fields(TrainConfig):
        kinds = [k for k in typing.get_args(hints[f.name]) if k is not type(None)] or [hints[f.name]]
        types[f.name] = kinds[0]
    return types


def _coerce(name: str, value: Any) -> Any:
    """Convert a YAML or flag value to the field's type, rejecting what does not fit."""
    kind = field_types()[name]
    if value is None:
        default = getattr(TrainConfig(), name)
        if default is None:
            return None
        raise ConfigError(f"{name} cannot be null.")
    try:
        if not isinstance(value, (str, int, float)):  # a list or mapping fits no field (and is never stringified)
            raise ValueError
        if kind is bool:  # YAML gives a bool; a flag gives text, and "false" must not become True
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "yes", "on", "1"):
                return True
            if text in ("false", "no", "off", "0"):
                return False
            raise ValueError
        if kind is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if kind is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if not isinstance(value, (str, int, float)):
            raise ValueError
        if name in PATH_FIELDS:  # ~ and $VARIABLES, from a flag or a YAML file alike
            return os.path.expandvars(os.path.expanduser(str(value)))
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} = {shown(value)} is not a valid {kind.__name__}."
        ) from None


def apply_overrides(config: TrainConfig, overrides: dict[str, Any], source: str) -> TrainConfig:
    """Return a copy of config with overrides applied; unknown keys raise ConfigError."""
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        hint = did_you_mean(unknown[0], known) if len(unknown) == 1 else ""
        raise ConfigError(f"unknown key(s) {', '.join(map(shown, unknown))} in {source}{hint}; valid keys: "
                          f"{', '.join(sorted(known))}.")
    values = config.to_dict()
    for name, value in overrides.items():
        values[name] = _coerce(name, value)
    return TrainConfig(**values)


def from_preset(name: str) -> TrainConfig:
    """The preset's configuration (presets/NAME.yaml over the defaults), which records its name."""
    check_preset(name)
    return apply_overrides(TrainConfig(), {**PRESETS[name], "preset": name}, f"preset {name}")


def load_yaml(path: str | Path, base: TrainConfig | None = None) -> TrainConfig:
    """Read a YAML mapping of field values on top of base (defaults when None), or on top of the preset it names
    (`preset: NAME`); a preset file's `description` is ignored, so a copied preset is a valid config."""
    path = Path(path)
    try:
        data = strict_yaml.load(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not a text file (not UTF-8); pass a YAML file.") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path} ({exc.strerror}).") from None
    except (strict_yaml.DuplicateKey, strict_yaml.TooDeep) as exc:
        raise ConfigError(f"config file {path} is refused: {exc}; fix it and try again.") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML ({exc.__class__.__name__}).") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of field: value.")
    data.pop("description", None)
    for section in SECTIONS:  # a section's mapping (optim: {lr: 0.01}) holds fields; a field's value is no mapping
        if isinstance(data.get(section), dict):
            data = {**{k: v for k, v in data.items() if k != section}, **data[section]}
    if isinstance(data.get("preset"), str) and (base is None or data["preset"] != base.preset):
        if base is not None and base.preset is not None:
            raise ConfigError(f"config file {path} starts from preset {shown(data['preset'])} but --preset "
                              f"{base.preset} was also given; keep one of them.")
        base = from_preset(data["preset"])
    return apply_overrides(base or TrainConfig(), data, str(path))


def save_yaml(config: TrainConfig, path: str | Path) -> None:
    atomic_write_bytes(path, yaml.safe_dump(config.to_dict(), sort_keys=False).encode())
