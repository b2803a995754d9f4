"""Run configuration: the fields with their metadata (fields.py), the rules between them (checks.py), and the
files and flags they come from (files.py). Presets are YAML files in gankit/presets."""

from gankit.config.checks import HEALTH_ACTIONS, IMAGE_SIZES, PRECISIONS, UPDATE_ORDERS, choices
from gankit.config.fields import (
    FIELD_HELP,
    LIMITS,
    MAX_SAMPLES,
    MAX_SEED,
    RESUMABLE_FIELDS,
    RUN_LENGTH,
    SECTION_TYPES,
    SECTIONS,
    TrainConfig,
)
from gankit.config.files import apply_overrides, field_types, from_preset, load_yaml, save_yaml

__all__ = ["FIELD_HELP", "HEALTH_ACTIONS", "IMAGE_SIZES", "LIMITS", "MAX_SAMPLES", "MAX_SEED", "PRECISIONS",
           "RESUMABLE_FIELDS", "RUN_LENGTH", "SECTION_TYPES", "SECTIONS", "UPDATE_ORDERS", "TrainConfig",
           "apply_overrides", "choices", "field_types", "from_preset", "load_yaml", "save_yaml"]
