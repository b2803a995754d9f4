"""`gankit <command>`: parse arguments, call the library, print. Errors print one line, no traceback."""

from __future__ import annotations

import argparse
import signal
import sys
from dataclasses import fields
from pathlib import Path

from gankit.config import PRESETS, TrainConfig, choices, field_types

EPILOG_TRAIN = """examples:
  gankit train --preset paper-mnist --epochs 5 --out runs/mnist
  gankit train --config my.yaml --lr 0.05
  gankit train --resume runs/mnist --epochs 50     (continue, or extend, a run)
"""


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("configuration fields (override the preset and --config)")
    types = field_types()
    defaults = TrainConfig()
    named = choices()
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        group.add_argument(
            flag, dest=f"cfg_{f.name}", default=argparse.SUPPRESS, metavar=types[f.name].__name__.upper(),
            help=(f"one of {', '.join(named[f.name])} " if f.name in named else "")
            + f"(default: {getattr(defaults, f.name)})",
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

    evaluate = sub.add_parser(
        "evaluate", help="Parzen log-likelihood (Table 1 protocol) and class histogram of a checkpoint",
        description="Draw --n-samples from G. Parzen: choose sigma on the first --n-valid validation images "
                    "from a 10-value log grid 0.1..1, report the mean test log-likelihood and its standard "
                    "error. Classes (MNIST, Fashion-MNIST): count the classes of the samples with a small "
                    "classifier that gankit trains once and caches, and report the KL divergence of the "
                    "histogram from uniform. Each result is appended with its protocol to the run's "
                    "metrics.jsonl.",
    )
    evaluate.add_argument("source", help="run directory, checkpoint, or exported G (then give --dataset)")
    evaluate.add_argument("--dataset", default=None, help="dataset to evaluate on (default: the run's)")
    evaluate.add_argument("--data-dir", default=None, help="folder with the dataset's IDX files")
    evaluate.add_argument("--n-samples", type=int, default=10000, help="generator samples (default 10000)")
    evaluate.add_argument("--n-valid", type=int, default=1000, help="validation images for sigma (default 1000)")
    evaluate.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    evaluate.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    evaluate.add_argument("--metrics", default="all", choices=("all", "parzen", "classes"),
                          help="which metrics (default all: classes only where a classifier exists)")

    figure = sub.add_parser("figure", help="the paper's figures from a trained generator")
    kinds = figure.add_subparsers(dest="figure", metavar="FIGURE")
    kinds.required = True
    fig2 = kinds.add_parser(
        "samples", help="Figure 2: fair samples with each row's nearest training image",
        description="A ROWS x COLS grid of fair random samples; an extra column (framed) holds the training "
                    "image nearest (squared Euclidean distance, whole training split) to each row's last sample.",
    )
    fig3 = kinds.add_parser(
        "interpolate", help="Figure 3: samples along straight lines in z space",
        description="Each row walks through ENDPOINTS random points of z space with STEPS images per segment.",
    )
    fig1 = kinds.add_parser(
        "toy1d", help="Figure 1 from a real 1-D run: p_data, p_g, D, D* and the z -> x mapping",
        description="Draw the paper's four-panel Figure 1 and an animated GIF of the whole run from the "
                    "checkpoints of a toy1d run; trains that run first (about a minute) if RUN_DIR has none.",
    )
    fig1.add_argument("run_dir", nargs="?", default=None, help="a toy1d run (default runs/toy1d-DATASET)")
    fig1.add_argument("--dataset", default="toy1d-gaussian", help="toy1d-gaussian or toy1d-mixture")
    fig1.add_argument("--seed", type=int, default=0, help="training seed when the run is trained here")
    fig1.add_argument("--out", default=None, help="output PNG (default RUN_DIR/figures/figure1.png; GIF beside)")
    for fig in (fig2, fig3):
        fig.add_argument("source", help="run directory, checkpoint, or exported G")
        fig.add_argument("--out", default=None, help="output PNG (default RUN_DIR/figures/NAME.png)")
        fig.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    fig2.add_argument("--rows", type=int, default=4)
    fig2.add_argument("--cols", type=int, default=5)
    fig2.add_argument("--dataset", default=None, help="dataset for the neighbours (default: the run's)")
    fig2.add_argument("--data-dir", default=None)
    fig3.add_argument("--rows", type=int, default=5)
    fig3.add_argument("--steps", type=int, default=9, help="images per segment (default 9)")
    fig3.add_argument("--endpoints", type=int, default=2, help="points each row passes through (default 2)")
    fig3.add_argument("--spherical", action="store_true", help="spherical instead of linear interpolation")

    reproduce = sub.add_parser("reproduce", help="reproduce a result of the paper")
    targets = reproduce.add_subparsers(dest="target", metavar="TARGET")
    targets.required = True
    table1 = targets.add_parser(
        "table1", help="Table 1: Parzen log-likelihood of the paper's model",
        description="Train the dataset's paper preset into --out (or continue the run there), take the epoch "
                    "with the best validation Parzen monitor, evaluate it with the paper's protocol, and print "
                    "the row beside the paper's Table 1 and baselines computed here the same way.",
    )
    table1.add_argument("--dataset", default="mnist", help="mnist or fashion-mnist (default mnist)")
    table1.add_argument("--epochs", type=int, default=100, help="epochs to train in all (default 100)")
    table1.add_argument("--out", default=None, help="run directory (default runs/table1-DATASET)")
    table1.add_argument("--data-dir", default=None)
    table1.add_argument("--no-baselines", action="store_true", help="skip the baseline rows")
    table1.add_argument("--no-progress", action="store_true")

    experiment = sub.add_parser("experiment", help="run one of gankit's experiments")
    experiments = experiment.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    experiments.required = True
    modes = experiments.add_parser(
        "mode-collapse", help="modes covered on 2-D mixtures: minimax vs non-saturating, k=1 vs 5, unrolled D",
        description="Train the toy2d preset on a ring of 8 and a 5x5 grid of Gaussians for each variant and seed "
                    "(runs already in --out are reused), then write results.json, a table and figures.",
    )
    modes.add_argument("--out", default="runs/mode-collapse", help="folder for the runs and results")
    modes.add_argument("--seeds", type=int, default=3, help="seeds per variant (default 3)")
    modes.add_argument("--steps", type=int, default=3000, help="G updates per run (default 3000)")
    modes.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    modes.add_argument("--datasets", default="toy2d-ring,toy2d-grid", help="comma-separated toy2d datasets")
    sat = experiments.add_parser(
        "saturation", help="G's gradient norm under the minimax and non-saturating losses early in MNIST training",
        description="Two paper-mnist runs (Algorithm 1 order) from the same weights, one per G objective; after "
                    "each iteration a probe batch measures the norm of G's gradient under both losses.",
    )
    sat.add_argument("--out", default="runs/saturation", help="folder for saturation.json and .png")
    sat.add_argument("--steps", type=int, default=300, help="iterations per run (default 300)")
    sat.add_argument("--dataset", default="mnist")
    sat.add_argument("--data-dir", default=None)

    sub.add_parser(
        "theory", help="check Proposition 1, Theorem 1 and Proposition 2 numerically",
        description="Quadrature checks of the paper's section 4 on 1-D and 2-D densities: D*, C(G) = -log 4 + "
                    "2 JSD, and gradient steps on p_g against D*. Exits non-zero if any check fails.",
    )
    return parser


def _config_overrides(args: argparse.Namespace) -> dict:
    return {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_")}


def cmd_train(args: argparse.Namespace) -> int:
    from gankit.config import apply_overrides, from_preset, load_yaml, resume_config
    from gankit.errors import ConfigError
    from gankit.training import Trainer

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
    if state.stopped_by is not None:  # a clean stop is not a finished job: exit as shells do (128 + signal)
        return 128 + int(getattr(signal.Signals, state.stopped_by, signal.SIGTERM))
    grid = trainer.rundir.sample_grid(state.epoch)
    print(f"done: {state.epoch} epochs, {state.step} steps, {state.wall_s:.0f} s of training")
    if grid.exists():
        print(f"samples: {grid}")
    health = trainer.health.summary(state.epoch)
    if health:
        print(health)
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from gankit.errors import ConfigError
    from gankit.figures import save_grid
    from gankit.generator import load_generator

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
    from gankit.generator import export_generator

    path = export_generator(args.source, args.out)
    print(f"generator written to {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from gankit.errors import ConfigError
    from gankit.evaluate import evaluate_classes, evaluate_parzen
    from gankit.generator import load_generator
    from gankit.metrics.classifier import LABELLED_DATASETS

    if args.n_samples < 1 or args.n_valid < 1:
        raise ConfigError("--n-samples and --n-valid must be at least 1.")
    g = load_generator(args.source)
    dataset = g.dataset(args.dataset)
    if args.metrics in ("all", "parzen"):
        row = evaluate_parzen(g, dataset, args.data_dir, args.n_samples, args.n_valid, args.seed,
                              args.device)
        sigma = f"sigma {row['sigma']:.3f}" if "sigma" in row else "sigma per fold"
        print(f"Parzen log-likelihood on {row['dataset']} {row['test_split']}: {row['test_ll']:.1f} +- "
              f"{row['test_se']:.1f} nats ({sigma} chosen on {row['valid_split']}, "
              f"{row['n_samples']} samples, checkpoint step {row['step']})")
    if args.metrics == "classes" or (args.metrics == "all" and dataset in LABELLED_DATASETS):
        row = evaluate_classes(g, dataset, args.data_dir, args.n_samples, args.seed)
        print(f"Classes of {row['n_samples']} samples: {row['class_counts']} -> {row['classes_covered']} of "
              f"{row['classes']} covered, KL from uniform {row['kl_from_uniform']:.4f} nats (real test images "
              f"{row['test_set_kl_from_uniform']:.4f}; classifier test accuracy "
              f"{row['classifier_test_accuracy']:.4f})")
    return 0


def _figure_out(args: argparse.Namespace, name: str) -> Path:
    from gankit.rundir import RunDir

    if args.out:
        return Path(args.out)
    run_dir = RunDir.of(args.source)
    return run_dir.figure(f"{name}.png") if run_dir else Path(f"{name}.png")


def figure_toy1d(args: argparse.Namespace) -> int:
    from gankit.config import apply_overrides, from_preset
    from gankit.data.toy import TOY_1D
    from gankit.errors import ConfigError
    from gankit.figure1 import render, render_gif, run_snapshots
    from gankit.rundir import RunDir
    from gankit.training import Trainer

    if args.dataset not in TOY_1D:
        raise ConfigError(f"--dataset must be one of {', '.join(TOY_1D)}, got {args.dataset!r}.")
    run_dir = Path(args.run_dir or f"runs/{args.dataset}")
    if not RunDir(run_dir).checkpoints():
        config = apply_overrides(from_preset("toy1d"), {"dataset": args.dataset, "seed": args.seed}, "figure")
        print(f"training {run_dir} (toy1d preset, {config.epochs} epochs) ...", file=sys.stderr)
        Trainer(config, run_dir, progress_bar=False, log=lambda m: None).run()
    shots = run_snapshots(run_dir)
    png = Path(args.out) if args.out else RunDir(run_dir).figure("figure1.png")
    png.parent.mkdir(parents=True, exist_ok=True)
    render(shots, png)
    gif = render_gif(shots, png.with_suffix(".gif"))
    print(f"figure written to {png} and {gif}")
    return 0


def cmd_figure(args: argparse.Namespace) -> int:
    import torch

    from gankit.errors import ConfigError
    from gankit.figures import figure_samples, interpolation_path, save_grid
    from gankit.generator import load_generator
    from gankit.nets import sample_noise

    if args.figure == "toy1d":
        return figure_toy1d(args)
    if min(args.rows, getattr(args, "cols", 1), getattr(args, "steps", 1)) < 1:
        raise ConfigError("--rows, --cols and --steps must be at least 1.")
    g = load_generator(args.source)
    if args.figure == "samples":
        from gankit.data import load_dataset
        from gankit.metrics.neighbours import nearest

        train = load_dataset(g.dataset(args.dataset), args.data_dir or g.config.get("data_dir")).train
        samples = g.sample(args.rows * args.cols, seed=args.seed).view(args.rows, args.cols, *g.image_shape)
        idx, _ = nearest(samples[:, -1], train.float())
        neighbours = train.float()[idx].view(args.rows, *g.image_shape)
        out = figure_samples(samples, neighbours, _figure_out(args, "figure2-samples"))
    else:
        if args.endpoints < 2:
            raise ConfigError("--endpoints must be at least 2.")
        gen = torch.Generator().manual_seed(args.seed)
        rows = [interpolation_path(sample_noise(args.endpoints, g.z_dim, g.noise, gen), args.steps,
                                   args.spherical) for _ in range(args.rows)]
        images = g.decode(torch.cat(rows))
        out = save_grid(images, _figure_out(args, "figure3-interpolation"), nrow=len(rows[0]), scale=2)
    print(f"figure written to {out}")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from gankit.reproduce import format_table, reproduce_table1

    out = Path(args.out or f"runs/table1-{args.dataset}")
    result = reproduce_table1(args.dataset, out, args.epochs, args.data_dir, not args.no_baselines,
                              not args.no_progress, log=lambda m: print(m, file=sys.stderr))
    print(format_table(result))
    print(f"result: {out / 'table1.json'}\nParzen log-likelihood against epoch: {out / 'parzen-curve.png'}")
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    from gankit.data.toy import TOY_2D
    from gankit.errors import ConfigError
    from gankit.mode_collapse import figure_over_training, format_results, run_experiment

    if args.experiment == "saturation":
        from gankit import saturation

        if args.steps < 1:
            raise ConfigError("--steps must be at least 1.")
        result = saturation.run(args.steps, dataset=args.dataset, data_dir=args.data_dir)
        json_path, png = saturation.save(result, args.out)
        for name, rows in result["runs"].items():
            first, last = rows[1], rows[-1]
            print(f"trained with {name}: |grad G| minimax {first['minimax']:.2e} -> {last['minimax']:.2e}, "
                  f"non-saturating {first['non-saturating']:.2e} -> {last['non-saturating']:.2e}, "
                  f"D(G(z)) {first['d_fake']:.3f} -> {last['d_fake']:.3f}")
        print(f"figure: {png}\nresults: {json_path}")
        return 0
    datasets = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
    unknown = [d for d in datasets if d not in TOY_2D]
    if unknown or not datasets:
        raise ConfigError(f"--datasets must list some of {', '.join(TOY_2D)}; got {args.datasets!r}.")
    if args.seeds < 1 or args.steps < 1:
        raise ConfigError("--seeds and --steps must be at least 1.")
    out = Path(args.out)
    results = run_experiment(out, datasets, tuple(range(args.seeds)), args.steps, args.lr,
                             log=lambda m: print(m, file=sys.stderr))
    print(format_results(results))
    for dataset in datasets:
        print(f"figure: {figure_over_training(out, dataset, out / f'{dataset}-over-training.png')}")
    print(f"results: {out / 'results.json'}")
    return 0


def cmd_theory(args: argparse.Namespace) -> int:
    from gankit.theory import checks, format_checks

    rows = checks()
    print(format_checks(rows))
    return 0 if all(r["ok"] for r in rows) else 1


def main(argv: list[str] | None = None) -> int:
    from gankit.errors import GankitError

    args = _build_parser().parse_args(argv)
    handlers = {"train": cmd_train, "sample": cmd_sample, "export": cmd_export, "evaluate": cmd_evaluate,
                "figure": cmd_figure, "reproduce": cmd_reproduce, "theory": cmd_theory,
                "experiment": cmd_experiment}
    try:
        return handlers[args.command](args)
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
