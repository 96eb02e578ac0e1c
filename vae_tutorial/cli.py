"""Command line: `python -m vae_tutorial train|evaluate|sweep ...` (also the `vae-tutorial` script).

Every user error ends as one line on stderr and a non-zero exit code:
2 for a bad argument, 1 for a problem with files, devices or training,
130 when interrupted by Ctrl-C, 143 by SIGTERM. The flags are generated from
the config dataclasses (cli_options.py), which hold every default and check.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from . import __version__
from .cli_options import add_config_options, value_parser
from .errors import Interrupted, Terminated, VAETutorialError
from .runtime import reuse_freed_memory

# Between the small operations of a training step, OpenMP's worker threads go to
# sleep, and every matrix multiply pays to wake them: about a quarter of an
# epoch on a 2-core CPU. A longer spin before sleeping removes that; the cap
# still lets an idle process sleep. Only effective before torch is imported,
# and never when the user has chosen a wait policy or spin count.
OPENMP_SPIN = {"GOMP_SPINCOUNT": "300000000"}
USER_OPENMP_SETTINGS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def keep_openmp_threads_awake() -> None:
    """Raise the OpenMP spin count for this process unless the user has set a policy or torch is loaded."""
    if "torch" in sys.modules or any(name in os.environ for name in USER_OPENMP_SETTINGS):
        return
    os.environ.update(OPENMP_SPIN)


class UsageError(Exception):
    """A bad command-line argument."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would print the usage block and exit
        raise UsageError(f"{self.prog}: {message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    """The parser of all commands: train, evaluate, sweep."""
    from .config import EvalConfig, ModelConfig, TrainConfig

    TRAINING_CONFIGS = (ModelConfig, TrainConfig)  # noqa: N806
    parser = _Parser(prog="vae-tutorial", description="Train and evaluate VAEs on Fashion-MNIST.")
    parser.add_argument("--version", action="version", version=f"vae-tutorial {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,evaluate,sweep}")
    train = sub.add_parser("train", help="train a VAE and write checkpoint, metrics and pictures")
    add_training_options(train)
    train.add_argument("--out", default=None, help="output folder, never overwritten "
                       "(default runs/<arch>-z<latent>-beta<beta>-seed<seed>)")
    train.add_argument("--resume", default=None, metavar="CHECKPOINT", help="continue a run up to --epochs in total")
    train.set_defaults(handler="train", config_classes=TRAINING_CONFIGS)

    evaluate = sub.add_parser("evaluate", help="test-set negative ELBO (and more) of a checkpoint")
    evaluate.add_argument("checkpoint")
    add_config_options(evaluate, EvalConfig)
    evaluate.add_argument("--json", default=None, metavar="PATH", help="also write the results as one JSON object")
    evaluate.add_argument("--no-progress", action="store_true", help="no progress bar")
    evaluate.set_defaults(handler="evaluate", config_classes=(EvalConfig,))

    sweep = sub.add_parser("sweep", help="train one model per beta, evaluate each, write a table and a plot")
    add_training_options(sweep, skip=("beta",))
    sweep.add_argument("--betas", type=value_parser(TrainConfig, "beta", "float"), nargs="+", required=True)
    sweep.add_argument("--out", default="runs/sweep", help="folder for the runs, table and plot (default runs/sweep)")
    sweep.add_argument("--iwae-samples", "--iwae_samples", type=value_parser(EvalConfig, "iwae_samples", "int"),
                       default=EvalConfig.iwae_samples, help="K for the IWAE estimate of each model (0 = skip)")
    sweep.set_defaults(handler="sweep", config_classes=TRAINING_CONFIGS)
    return parser


def check_combinations(args: argparse.Namespace) -> None:
    """Flags that are each valid but refused together (e.g. --free-bits with --capacity): a usage error."""
    from .cli_options import config_values

    for config_class in args.config_classes:
        try:
            config_class(**config_values(args, config_class))
        except ValueError as err:
            raise UsageError(f"vae-tutorial {args.command}: {err} (see --help)") from None


def add_training_options(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """Flags of train and sweep, one per ModelConfig and TrainConfig field; both spellings of multi-word flags."""
    from .config import ModelConfig, TrainConfig

    add_config_options(parser, TrainConfig, skip=skip)
    add_config_options(parser, ModelConfig)
    parser.add_argument("--download", action="store_true", help="download Fashion-MNIST into --data-dir if it is missing")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (off anyway when stderr is not a terminal)")


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    keep_openmp_threads_awake()
    reuse_freed_memory()
    from . import commands  # imports torch, so after the line above

    previous = _terminate_like_interrupt()
    try:
        args = build_parser().parse_args(argv)
        check_combinations(args)
        return getattr(commands, args.handler)(args)
    except UsageError as err:
        return _fail(f"error: {err}", 2)
    except Interrupted as err:
        return _fail(str(err), err.exit_code)
    except (VAETutorialError, ValueError) as err:
        return _fail(f"error: {err}", 1)
    except KeyboardInterrupt as err:
        return _fail("interrupted", getattr(err, "exit_code", 130))
    except (OSError, MemoryError) as err:  # a disk or a device failing in a place no check foresaw
        return _fail(f"error: {getattr(err, 'strerror', None) or err or type(err).__name__}", 1)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _fail(message: str, code: int) -> int:
    """Print a message as exactly one line on stderr; return the exit code."""
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
    return code


def _terminate_like_interrupt():
    """Make SIGTERM raise Terminated (a KeyboardInterrupt), so a killed run cleans up as after Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(number, frame):
        raise Terminated()

    return signal.signal(signal.SIGTERM, handler)
