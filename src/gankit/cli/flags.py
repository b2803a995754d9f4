"""The command line's value types (bounded integers, metric lists) and the configuration flags, one per field,
generated from the fields' metadata (config/fields.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import fields

from gankit.config import FIELD_HELP, MAX_SAMPLES, MAX_SEED, TrainConfig, choices, field_types
from gankit.evaluate import METRICS


def at_least(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer >= low (and <= high), or a usage error that says so."""

    def parse(text: str) -> int:
        try:
            value = int(text[:40])
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text[:40]!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:,}, got {value:,}")
        return value

    return parse


positive_int = at_least(1)
count = at_least(1, MAX_SAMPLES)  # images drawn or compared: bounded, so a typo cannot start an endless job
seed_int = at_least(0, MAX_SEED)


def metric_list(text: str) -> tuple[str, ...]:
    """An argparse type: metric names separated by commas, each 'all' or a key of METRICS."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n != "all" and n not in METRICS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(f"unknown metric {', '.join(unknown) or repr(text)}; choose from all, "
                                         f"{', '.join(METRICS)}")
    return names


def config_overrides(args: argparse.Namespace) -> dict:
    """The configuration fields given as flags (--lr 0.05 -> {"lr": "0.05"})."""
    return {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_")}


def add_config_flags(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    group = parser.add_argument_group("configuration fields (override the preset and --config)")
    types = field_types()
    defaults = TrainConfig()
    named = choices()
    for f in fields(TrainConfig):
        if f.name in skip or f.name == "preset":  # --preset itself chooses the recipe
            continue
        flag = "--" + f.name.replace("_", "-")
        toggle = {"nargs": "?", "const": "true"} if types[f.name] is bool else {}  # --report means --report true
        group.add_argument(
            flag, dest=f"cfg_{f.name}", default=argparse.SUPPRESS, metavar=types[f.name].__name__.upper(), **toggle,
            help="; ".join([FIELD_HELP[f.name], *([f"one of {', '.join(named[f.name])}"] if f.name in named else [])])
            + ("" if getattr(defaults, f.name) is None else f" (default: {getattr(defaults, f.name)})"),
        )
