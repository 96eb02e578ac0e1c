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

from .. import __version__
from ..config import EvalConfig, ModelConfig, TrainConfig, check_together
from ..errors import Interrupted, Terminated, VAETutorialError, describe_error, printable
from ..runs.runtime import tune_for_cpu
from .options import add_config_options, config_values, value_parser

STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")  # each ends a run the same way (exit 128 + its number), keeping the last epoch


class UsageError(Exception):
    """A bad command-line argument."""


class _Parser(argparse.ArgumentParser):
    """No abbreviated flags, in every command: `--beta` beside `sweep --betas` would be read as a second --betas."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **{**kwargs, "allow_abbrev": False})  # the subcommands' parsers are _Parsers too

    def error(self, message: str) -> None:  # argparse would print the usage block and exit
        raise UsageError(f"{self.prog}: {message} (see --help)")


def build_parser(defaults: bool = True) -> argparse.ArgumentParser:
    """The parser of all commands: train, evaluate, sweep (defaults=False: only the flags given are set)."""
    TRAINING_CONFIGS = (ModelConfig, TrainConfig)  # noqa: N806
    parser = _Parser(prog="vae-tutorial", description="Train and evaluate VAEs on Fashion-MNIST.")
    parser.add_argument("--version", action="version", version=f"vae-tutorial {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{train,evaluate,sweep}")
    train = sub.add_parser("train", help="train a VAE and write checkpoint, metrics and pictures")
    add_training_options(train, defaults=defaults)
    train.add_argument("--out", default=None, type=nonempty, help="output folder, never overwritten "
                       "(default runs/<arch>-z<latent>-beta<beta>-seed<seed>)")
    train.add_argument("--resume", default=None, type=nonempty, metavar="CHECKPOINT", help="continue a run up to --epochs in total")
    train.set_defaults(handler="train", config_classes=TRAINING_CONFIGS)

    evaluate = sub.add_parser("evaluate", help="test-set negative ELBO (and more) of a checkpoint")
    evaluate.add_argument("checkpoint", type=nonempty)
    add_config_options(evaluate, EvalConfig, defaults=defaults)
    evaluate.add_argument("--json", default=None, type=nonempty, metavar="PATH", help="also write the results as one JSON object")
    evaluate.add_argument("--no-progress", action="store_true", help="no progress bar")
    evaluate.set_defaults(handler="evaluate", config_classes=(EvalConfig,))

    sweep = sub.add_parser("sweep", help="train one model per beta, evaluate each, write a table and a plot")
    add_training_options(sweep, skip=("beta",), defaults=defaults)
    sweep.add_argument("--betas", type=value_parser(TrainConfig, "beta", "float"), nargs="+", required=True,
                       action="extend", help="the betas, one model each (--betas typed twice: all of them)")
    sweep.add_argument("--out", default="runs/sweep", type=nonempty, help="folder for the runs, table and plot (default runs/sweep)")
    sweep.add_argument("--iwae-samples", "--iwae_samples", type=value_parser(EvalConfig, "iwae_samples", "int"),
                       default=EvalConfig.iwae_samples, help="K for the IWAE estimate of each model (0 = skip)")
    sweep.add_argument("--allow-slow", "--allow_slow", action="store_true",
                       help="run the IWAE estimates even when they would take more than a day in all")
    sweep.set_defaults(handler="sweep", config_classes=TRAINING_CONFIGS)
    return parser


def nonempty(text: str) -> str:
    """A path argument: an empty one (an unset shell variable, `--out "$OUT"`) is refused, not read as the default."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def check_combinations(args: argparse.Namespace) -> None:
    """Flags that are each valid but refused together (e.g. --free-bits with --capacity): a usage error.

    Not with --resume: the run keeps its checkpoint's settings, against which commands.refuse_changed_settings
    checks every flag typed beside it (the defaults of the others say nothing about that run).
    """
    if getattr(args, "resume", None):
        return
    try:
        built = {config_class: config_class(**config_values(args, config_class)) for config_class in args.config_classes}
        if ModelConfig in built and TrainConfig in built:  # and the settings the two must agree on
            check_together(built[ModelConfig], built[TrainConfig])
    except ValueError as err:
        raise UsageError(f"vae-tutorial {args.command}: {err} (see --help)") from None


def add_training_options(parser: argparse.ArgumentParser, skip: tuple[str, ...] = (), defaults: bool = True) -> None:
    """Flags of train and sweep, one per ModelConfig and TrainConfig field; both spellings of multi-word flags."""
    add_config_options(parser, TrainConfig, skip=skip, defaults=defaults)
    add_config_options(parser, ModelConfig, defaults=defaults)
    parser.add_argument("--download", action="store_true", help="download Fashion-MNIST into --data-dir if it is missing")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (off anyway when stderr is not a terminal)")


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    tune_for_cpu()
    previous = _stop_signals_interrupt()
    try:
        _never_fail_on_encoding()
        from . import commands  # imports torch: after tune_for_cpu, and inside the handlers below (Ctrl-C, ImportError)

        argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
        args = build_parser().parse_args(argv)
        check_combinations(args)
        args.explicit = set(vars(build_parser(defaults=False).parse_args(argv)))  # the flags the user typed
        return getattr(commands, args.handler)(args)
    except UsageError as err:
        return _fail(f"error: {err}", 2)
    except Interrupted as err:
        return _fail(str(err), err.exit_code)
    except (VAETutorialError, ValueError) as err:
        return _fail(f"error: {err}", 1)
    except KeyboardInterrupt as err:
        return _fail("interrupted", getattr(err, "exit_code", 130))
    except ImportError as err:  # torch or torchvision missing, or unable to load (e.g. under a memory limit)
        return _fail(f"error: cannot import {err.name or 'a dependency'} ({describe_error(err)}): "
                     "check the installation (pip install -e .)", 1)
    except (OSError, MemoryError) as err:  # a disk or a device failing in a place no check foresaw
        return _fail(f"error: {describe_error(err)}", 1)
    except RuntimeError as err:  # torch's allocation failure where no check foresaw one (loading the data, say)
        if "can't allocate memory" not in str(err) and "out of memory" not in str(err).lower():
            raise
        return _fail("error: ran out of memory (" + printable(str(err).splitlines()[0])[:160] + "): close other "
                     "programs, or use a smaller --subset, --batch-size or model", 1)
    finally:
        _restore_unless_stopped(previous)


def _fail(message: str, code: int) -> int:
    """Print a message as exactly one line on stderr (if there is one); return the exit code."""
    line = printable(message.strip())  # one line: a newline, escape sequence or the like in a path is shown escaped
    if sys.stderr is None:  # started with stderr closed (2>&-): the exit code is all that can speak
        return code
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
    return code


def _never_fail_on_encoding() -> None:
    """A path or message the terminal's encoding cannot show is escaped (\\xfc), never an error that hides the work."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):  # None (a closed stream), or not a text stream
            pass


def _stop_signals_interrupt() -> dict:
    """Make SIGINT, SIGTERM and SIGHUP raise Terminated (a KeyboardInterrupt), so a stopped run cleans up as one.

    The first signal wins: later ones are ignored, so the clean-up (the lock, the message naming the kept
    epoch) runs to its end. Returns the handlers to put back. A signal the parent ignores (nohup) stays ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        return {}
    handled = [getattr(signal, name) for name in STOP_SIGNALS if hasattr(signal, name)]
    handled = [sig for sig in handled if signal.getsignal(sig) != signal.SIG_IGN]

    def handler(number, frame):
        for sig in handled:
            signal.signal(sig, signal.SIG_IGN)  # and they stay ignored until the process exits (see main)
        raise Terminated(exit_code=128 + number)

    return {sig: signal.signal(sig, handler) for sig in handled}


def _restore_unless_stopped(previous: dict) -> None:
    """Put the signal handlers back, unless a stop signal came: then a later one must not kill the exit itself."""
    if any(signal.getsignal(sig) == signal.SIG_IGN for sig in previous):
        return
    for sig, handler in previous.items():
        signal.signal(sig, handler)
