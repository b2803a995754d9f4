"""`gankit <command>`: parse arguments, call the library, print. Errors print one line, no traceback."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from gankit.config import PRESETS, TrainConfig, field_types

EPILOG_TRAIN = """examples:
  gankit train --preset paper-mnist --epochs 5 --out runs/mnist
  gankit train --config my.yaml --lr 0.05
  gankit train --resume runs/mnist --epochs 50     (continue, or extend, a run)
"""


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("configuration fields (override the preset and --config)")
    types = field_types()
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        group.add_argument(
            flag, dest=f"cfg_{f.name}", default=argparse.SUPPRESS, metavar=types[f.name].__name__.upper(),
            help=f"(default: {getattr(defaults, f.name)})",
        )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gankit", description="Generative Adversarial Nets (Goodfellow et al., 2014), reproduced.",
    )
    from gankit import __version__

    parser.add_argument("--version", action="version", version=f"gankit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    train = sub.add_parser(
        "train", help="train a GAN into a run directory", epilog=EPILOG_TRAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train with Algorithm 1. Values come from --preset, then --config, then flags.",
    )
    train.add_argument("--preset", default=None, help=f"named configuration: {', '.join(PRESETS)}")
    train.add_argument("--config", default=None, help="YAML file of configuration fields")
    train.add_argument("--out", default=None, help="run directory (default: runs/PRESET)")
    train.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue the run in RUN_DIR")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_config_flags(train)

    sample = sub.add_parser(
        "sample", help="draw samples from a trained generator",
        description="Draw samples from a run directory (latest checkpoint), a checkpoint file, "
                    "or an exported generator file. Writes a PNG grid or a .npy array of shape (N, C, H, W).",
    )
    sample.add_argument("source", help="run directory, checkpoint .safetensors, or exported G .safetensors")
    sample.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    sample.add_argument("--out", default="samples.png", help="output .png (grid) or .npy (default samples.png)")
    sample.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    sample.add_argument("--nrow", type=int, default=None, help="images per grid row")

    export = sub.add_parser(
        "export", help="write only the generator (a few MB) for sharing",
        description="Copy G's weights and sampling spec out of a run into a small .safetensors file "
                    "that `gankit sample` accepts.",
    )
    export.add_argument("source", help="run directory or checkpoint file")
    export.add_argument("--out", required=True, help="output .safetensors path")
    return parser


def _config_overrides(args: argparse.Namespace) -> dict:
    return {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_")}


def cmd_train(args: argparse.Namespace) -> int:
    from gankit.config import apply_overrides, from_preset, load_yaml
    from gankit.errors import ConfigError
    from gankit.train import Trainer, resume_config

    overrides = _config_overrides(args)
    if args.resume:
        if args.preset or args.config or args.out:
            raise ConfigError("--resume takes the run's own config.yaml; drop --preset, --config and --out.")
        run_dir = Path(args.resume)
        config = resume_config(run_dir, overrides)
    else:
        config = from_preset(args.preset or "paper-mnist")
        if args.config:
            config = load_yaml(args.config, config)
        config = apply_overrides(config, overrides, "command line")
        run_dir = Path(args.out or f"runs/{args.preset or 'paper-mnist'}")
    config.validate()
    trainer = Trainer(config, run_dir, progress_bar=not args.no_progress)
    state = trainer.run(resume=bool(args.resume))
    if state.stopped_by is None:
        grid = run_dir / "samples" / f"epoch-{state.epoch:04d}.png"
        print(f"done: {state.epoch} epochs, {state.step} steps, {state.wall_s:.0f} s of training")
        if grid.exists():
            print(f"samples: {grid}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from gankit.errors import ConfigError
    from gankit.figures import save_grid
    from gankit.generate import load_generator

    out = Path(args.out)
    if out.suffix not in (".png", ".npy"):
        raise ConfigError(f"--out must end in .png or .npy, got {out.name}.")
    if args.n < 1:
        raise ConfigError(f"--n must be at least 1, got {args.n}.")
    g = load_generator(args.source)
    images = g.sample(args.n, seed=args.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, images.numpy())
    else:
        save_grid(images, out, nrow=args.nrow)
    print(f"{args.n} samples from {g.source} -> {out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from gankit.generate import export_generator

    path = export_generator(args.source, args.out)
    print(f"generator written to {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def main(argv: list[str] | None = None) -> int:
    from gankit.errors import GankitError

    args = _build_parser().parse_args(argv)
    handlers = {"train": cmd_train, "sample": cmd_sample, "export": cmd_export}
    try:
        return handlers[args.command](args)
    except GankitError as exc:
        print(f"gankit: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("gankit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
