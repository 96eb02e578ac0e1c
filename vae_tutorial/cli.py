"""Command line: `python -m vae_tutorial train|evaluate ...` (also the `vae-tutorial` script).

Every user error ends as one line on stderr and a non-zero exit code:
2 for a bad argument, 1 for a problem with files or training, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

from .errors import VAETutorialError

# Between the small operations of a training step, OpenMP's worker threads go to
# sleep, and every matrix multiply pays to wake them: about a quarter of an
# epoch on a 2-core CPU. A longer spin before sleeping removes that; the cap
# still lets an idle process sleep. Only effective before torch is imported.
OPENMP_SPIN = {"GOMP_SPINCOUNT": "300000000"}


def keep_openmp_threads_awake() -> None:
    """Raise the OpenMP spin count for this process unless the user has set it or torch is loaded."""
    if "torch" not in sys.modules:
        for name, value in OPENMP_SPIN.items():
            os.environ.setdefault(name, value)


class UsageError(Exception):
    """A bad command-line argument."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print the usage block and exit
        raise UsageError(f"{self.prog}: {message} (see --help)")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = _parse(int, text, "an integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    value = _parse(int, text, "an integer")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0 (no nan, no inf)."""
    value = _parse(float, text, "a number")
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def _parse(kind, text: str, what: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The parser of all commands: train, evaluate, sweep."""
    parser = _Parser(prog="vae-tutorial", description="Train and evaluate VAEs on Fashion-MNIST.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,evaluate,sweep}")
    train = sub.add_parser("train", help="train a VAE and write checkpoint, metrics and pictures")
    add_training_options(train)
    train.add_argument("--beta", type=non_negative_float, default=1.0, help="KL weight: 1 = VAE, > 1 = beta-VAE (default 1.0)")
    train.add_argument("--out", default=None, help="output folder (default runs/<arch>-z<latent>-beta<beta>-seed<seed>)")
    train.add_argument("--resume", default=None, metavar="CHECKPOINT", help="continue a run up to --epochs in total")
    train.set_defaults(handler="train")

    evaluate = sub.add_parser("evaluate", help="test-set negative ELBO (and more) of a checkpoint")
    evaluate.add_argument("checkpoint")
    evaluate.add_argument("--data-dir", "--data_dir", default=None)
    evaluate.add_argument("--batch-size", "--batch_size", type=positive_int, default=500)
    evaluate.add_argument("--iwae-samples", "--iwae_samples", type=non_negative_int, default=0,
                          help="K for the importance-weighted estimate of -log p(x) (0 = skip)")
    evaluate.add_argument("--json", default=None, metavar="PATH", help="also write the results as one JSON object")
    evaluate.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    evaluate.add_argument("--no-progress", action="store_true")
    evaluate.set_defaults(handler="evaluate")

    sweep = sub.add_parser("sweep", help="train one model per beta, evaluate each, write a table and a plot")
    add_training_options(sweep)
    sweep.add_argument("--betas", type=non_negative_float, nargs="+", required=True)
    sweep.add_argument("--out", default="runs/sweep", help="folder for the runs, table and plot (default runs/sweep)")
    sweep.add_argument("--iwae-samples", "--iwae_samples", type=non_negative_int, default=0)
    sweep.set_defaults(handler="sweep")
    return parser


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """Flags shared by train and sweep; both spellings of multi-word flags are accepted."""
    add = parser.add_argument
    add("--epochs", type=positive_int, default=50, help="epochs in total (default 50)")
    add("--batch-size", "--batch_size", type=positive_int, default=64, help="minibatch size (default 64)")
    add("--latent-dim", "--latent_dim", type=positive_int, default=20, help="latent dimensions (default 20)")
    add("--hidden-dim", "--hidden_dim", type=positive_int, default=400, help="hidden units (default 400)")
    add("--arch", choices=("mlp", "conv"), default="mlp", help="encoder/decoder architecture (default mlp)")
    add("--lr", type=positive_float, default=1e-3, help="Adam learning rate (default 1e-3)")
    add("--seed", type=non_negative_int, default=0)
    add("--warmup-steps", "--warmup_steps", type=non_negative_int, default=0, help="KL warm-up steps (default 0: off)")
    add("--capacity", type=non_negative_float, default=None, help="controlled capacity C_max in nats (default off)")
    add("--capacity-steps", "--capacity_steps", type=non_negative_int, default=0, help="steps for C to reach C_max")
    add("--gamma", type=non_negative_float, default=1000.0, help="weight of |KL - C| (default 1000)")
    add("--binarize", action="store_true", help="dynamically binarize pixels (x ~ Bernoulli(grey level))")
    add("--subset", type=positive_int, default=None, help="train on the first N training images")
    add("--data-dir", "--data_dir", default=None, help="folder holding FashionMNIST/raw (default $VAE_TUTORIAL_DATA, else ./data)")
    add("--download", action="store_true", help="download Fashion-MNIST into --data-dir if it is missing")
    add("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    add("--no-progress", action="store_true", help="no progress bar (it is off anyway when stderr is not a terminal)")


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    keep_openmp_threads_awake()
    from . import commands  # imports torch, so after the line above

    try:
        args = build_parser().parse_args(argv)
        return getattr(commands, args.handler)(args)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (VAETutorialError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the checkpoint of the last finished epoch is kept", file=sys.stderr)
        return 130
