"""`gankit <command>`: parse, call one library function, print its formatted result.

Errors a user can fix print one line, no traceback, and exit 1; a run stopped by a signal exits as
shells do (128 + the signal's number).
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
from pathlib import Path

from gankit.cli.flags import config_overrides
from gankit.cli.parser import build_parser


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def cmd_train(args: argparse.Namespace) -> int:
    from gankit.recipe import resolve_train
    from gankit.training import Trainer

    config, run_dir = resolve_train(args.preset, args.config, config_overrides(args), args.resume, args.out)
    trainer = Trainer(config, run_dir, progress_bar=not args.no_progress)
    progress = trainer.run(resume=bool(args.resume))
    if progress.stopped_by is not None:  # a clean stop is not a finished job: exit as shells do (128 + signal)
        return 128 + int(getattr(signal.Signals, progress.stopped_by, signal.SIGTERM))
    if trainer.ranks.main:  # under torchrun, one summary
        print(trainer.summary())
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from gankit.figures import save_grid
    from gankit.fileio import atomic_write_bytes
    from gankit.generator import load_generator
    from gankit.outputs import check_output

    out = check_output(args.out, (".png", ".npy"), "samples")
    g = load_generator(args.source)
    images = g.sample(args.n, seed=args.seed, wanted=args.wanted)
    if out.suffix == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, images.numpy())
        atomic_write_bytes(out, buffer.getvalue())
    else:
        save_grid(images, out, nrow=args.nrow)
    print(f"{args.n} samples from {g.source} -> {out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from gankit.errors import ConfigError
    from gankit.generator import export_generator
    from gankit.rundir import RunDir

    if args.resumable:
        run = RunDir(args.source)
        if not run.config.is_file():
            raise ConfigError(f"{args.source} is not a gankit run directory (no config.yaml); --resumable copies "
                              "a run directory.")
        copy = run.copy_state(args.out)
        size = sum(p.stat().st_size for p in copy.path.rglob("*") if p.is_file())
        print(f"resumable state of {run} written to {copy} ({size / 1e6:.1f} MB); "
              f"continue it with: gankit train --resume {copy}")
        return 0
    path = export_generator(args.source, args.out)
    print(f"generator written to {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from gankit.errors import ConfigError
    from gankit.evaluate import compare_sets, evaluate, format_row

    if args.source and args.samples:
        raise ConfigError("give the generator either as SOURCE or as --samples, not both.")
    samples = args.samples or args.source
    if samples is None:
        raise ConfigError("name what to evaluate: a run or generator, or --samples A --reference B.")
    if args.reference is not None:
        if args.features == "domain":
            raise ConfigError("--reference compares in Inception features; drop --features domain.")
        rows = compare_sets(samples, args.reference, args.metrics, args.n_samples, args.seed, args.device,
                            args.inception_weights)
    else:
        from gankit.rundir import RunDir

        given = Path(args.samples or "").expanduser()
        if args.samples and not RunDir(given).config.is_file() and given.suffix != ".safetensors":
            raise ConfigError(f"--samples {args.samples} needs --reference (a folder, array or statistics file) to "
                              "compare with.")
        rows = evaluate(samples, args.metrics, args.dataset, args.data_dir, args.n_samples, args.n_valid,
                        args.seed, args.device, features=args.features or "domain", n_reference=args.n_reference,
                        importance_samples=args.importance_samples, inception_weights=args.inception_weights)
    print("\n".join(format_row(row) for row in rows))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from gankit.errors import ConfigError
    from gankit.metrics import image_sets
    from gankit.outputs import check_output
    from gankit.runtime import resolve_device

    out = check_output(args.out, (".npz",), "statistics (pytorch-fid's layout)")
    image_set = image_sets.load_set(args.source, args.n_samples, args.seed, args.device)
    if image_set.images is None:
        raise ConfigError(f"{args.source} is already a statistics file; give the images it was made from.")
    stats = image_sets.write_statistics(out, image_sets.features(image_set, resolve_device(args.device)))
    print(f"stats: {out} (mu and sigma of {stats.n} images; {stats.protocol['preprocessing']})")
    return 0


def cmd_figure(args: argparse.Namespace) -> int:
    from gankit.data import load_dataset
    from gankit.experiments import figure1
    from gankit.figures import figure2, figure3
    from gankit.generator import load_generator
    from gankit.outputs import check_output
    from gankit.rundir import RunDir

    if args.figure == "toy1d":
        out = check_output(args.out, (".png",), "the figure") if args.out else None
        print(figure1.format(figure1.run(args.run_dir, args.dataset, args.seed, out, log=_stderr)))
        return 0
    g = load_generator(args.source)
    name = "figure2-samples.png" if args.figure == "samples" else "figure3-interpolation.png"
    run_dir = RunDir.of(args.source)
    out = check_output(args.out or (run_dir.figure(name) if run_dir else name), (".png",), "the figure")
    if args.figure == "samples":
        train = load_dataset(g.dataset(args.dataset), args.data_dir or g.config.get("data_dir"),
                             image_size=g.image_size()).train
        out = figure2(g, train, args.rows, args.cols, args.seed, out)
    else:
        out = figure3(g, args.rows, args.steps, args.endpoints, args.spherical, args.seed, out)
    print(f"figure written to {out}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from gankit.experiments import table1

    out = Path(args.out or f"runs/table1-{args.dataset}")
    if not args.seeds and (args.parallel != 1 or args.in_process):
        from gankit.errors import ConfigError

        raise ConfigError("--parallel and --in-process say how to train several seeds; give them with --seeds "
                          "(e.g. --seeds 0-2 --parallel 3).")
    if args.seeds:
        from gankit.sweep import parse_seeds

        result = table1.run_seeds(args.dataset, out, parse_seeds(args.seeds), args.epochs, args.data_dir,
                                  args.parallel, log=_stderr, patience=args.patience,
                                  in_process=args.in_process)
        print(table1.format_seeds(result))
        print(f"result: {out / 'table1-seeds.json'}\nthe runs side by side: {out / 'report.html'}\n"
              f"every seed's Parzen monitor against epoch: {out / 'parzen-curves.png'}")
        return 0
    result = table1.run(args.dataset, out, args.epochs, args.data_dir, not args.no_baselines, not args.no_progress,
                        log=_stderr, patience=args.patience)
    print(table1.format(result))
    print(f"result: {out / 'table1.json'}\nParzen log-likelihood against epoch: {out / 'parzen-curve.png'}")
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    from gankit.experiments import mode_collapse, saturation

    if args.experiment == "saturation":
        print(saturation.format(saturation.run(args.steps, dataset=args.dataset, data_dir=args.data_dir,
                                               out_dir=args.out)))
        return 0
    datasets = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
    result = mode_collapse.run(args.out, datasets, tuple(range(args.seeds)), args.steps, args.lr, log=_stderr)
    print(mode_collapse.format(result))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from gankit import sweep
    from gankit.recipe import Recipe

    recipe = Recipe(args.preset, args.config, config_overrides(args))
    recipe.resolve()  # check the recipe here, before any run starts
    seeds = sweep.parse_seeds(args.seeds)
    result = sweep.run_sweep(args.out or f"runs/sweep-{recipe.name}", seeds, recipe, args.parallel, log=_stderr,
                             in_process=args.in_process)
    if "stopped_by" in result:  # as `gankit train`: a clean stop exits 128 + the signal's number
        return 128 + int(signal.Signals[result["stopped_by"]])
    print(sweep.format(result))
    return 0 if not result["failed"] else 1


def cmd_report(args: argparse.Namespace) -> int:
    from gankit.report import write_report

    print(f"report: {write_report(args.runs, args.out, warn=_stderr)}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from gankit.report import find_runs, load_record
    from gankit.report.listing import format_runs

    records = [load_record(path, warn=_stderr) for path in find_runs(args.folder)]
    if not records:
        _stderr(f"gankit: no runs under {args.folder}")
        return 1
    print(format_runs(records, Path(args.folder)))
    return 0


def cmd_theory(args: argparse.Namespace) -> int:
    from gankit.experiments import theory

    result = theory.run()
    print(theory.format(result))
    return 0 if result["ok"] else 1


def cmd_presets(args: argparse.Namespace) -> int:
    from gankit.presets import preset_text, table

    print(preset_text(args.show) if args.show else table())
    return 0


COMMANDS = {"train": cmd_train, "sample": cmd_sample, "export": cmd_export, "evaluate": cmd_evaluate,
            "stats": cmd_stats, "figure": cmd_figure, "reproduce": cmd_reproduce, "theory": cmd_theory,
            "experiment": cmd_experiment, "report": cmd_report, "runs": cmd_runs, "sweep": cmd_sweep,
            "presets": cmd_presets}


# the arguments that name files or folders (the configuration's own path fields expand in config/files.py)
PATH_ARGS = {"out", "resume", "config", "source", "samples", "reference", "run_dir", "runs", "folder",
             "inception_weights", "data_dir"}


def main(argv: list[str] | None = None) -> int:
    from gankit.errors import GankitError

    args = build_parser().parse_args(argv)
    for name in PATH_ARGS & set(vars(args)):  # ~ and $VARIABLES in every path a user types
        value = getattr(args, name)
        if isinstance(value, str):
            setattr(args, name, os.path.expandvars(os.path.expanduser(value)))
        elif isinstance(value, list):
            setattr(args, name, [os.path.expandvars(os.path.expanduser(v)) for v in value])
    try:
        return COMMANDS[args.command](args)
    except GankitError as exc:
        print(f"gankit: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file that cannot be read or written: say which and why, in one line
        where = f" {exc.filename}" if exc.filename else ""
        print(f"gankit: error: cannot access{where}: {exc.strerror or exc}; check the path, its permissions "
              "and the free disk space. Files already written are intact.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("gankit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
