"""What the benchmarks share with the package's command line: bad input is one line, never a traceback.

A bad argument is refused while the arguments are parsed, before any data is read or anything is
trained or timed: one line on stderr, exit 2. A missing data set or a broken file: one line, exit 1.
Ctrl-C: one line, exit 130. The same codes and the same flag checks as `vae-tutorial`
(vae_tutorial/cli/main.py): a setting the config dataclasses hold is checked by them (value_parser).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable


def _leave_quietly(number, frame) -> None:
    """A stop signal while the script still imports (torch takes a second or two): nothing to clean up yet."""
    os.write(2, b"interrupted\n")
    os._exit(128 + number)


for _name in ("SIGINT", "SIGTERM", "SIGHUP"):  # run() puts the clean-up handlers in place of these
    if hasattr(signal, _name) and signal.getsignal(getattr(signal, _name)) != signal.SIG_IGN:
        signal.signal(getattr(signal, _name), _leave_quietly)

from vae_tutorial.cli.main import UsageError, _stop_signals_interrupt, nonempty  # noqa: E402
from vae_tutorial.cli.options import value_parser  # noqa: E402
from vae_tutorial.errors import VAETutorialError, describe_error  # noqa: E402

__all__ = ["Parser", "UsageError", "count", "nonempty", "run", "value_parser"]


class Parser(argparse.ArgumentParser):
    """argparse, with a bad argument raised as one line (UsageError) instead of a usage block and exit."""

    def error(self, message: str) -> None:
        raise UsageError(f"{self.prog}: {message} (see --help)")


def count(low: int = 1, high: int | None = None, multiple: int = 1, what: str = "") -> Callable[[str], int]:
    """An argparse type: an integer from low to high (inclusive) that is a multiple of `multiple`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < low or (high is not None and value > high) or value % multiple:
            span = f"from {low} to {high}" if high is not None else f">= {low}"
            kind = f"a multiple of {multiple} " if multiple > 1 else "an integer "
            raise argparse.ArgumentTypeError(f"must be {kind}{span}{what}, got {value}")
        return value

    parse.__name__ = "int"  # argparse names the type in some messages
    return parse


def run(main: Callable[[], int | None]) -> int:
    """Call main; a user's error becomes one line on stderr and the exit code, as the package's CLI does.
    Ctrl-C, SIGTERM and SIGHUP each end it with "interrupted" and 128 + the signal's number."""
    _stop_signals_interrupt()
    try:
        return main() or 0
    except UsageError as err:
        return _say(f"error: {err}", 2)
    except KeyboardInterrupt as err:
        return _say("interrupted", getattr(err, "exit_code", 130))
    except (VAETutorialError, ValueError) as err:
        return _say(f"error: {err}", 1)
    except (OSError, MemoryError) as err:
        return _say(f"error: {describe_error(err)}", 1)


def _say(message: str, code: int) -> int:
    """Print message as exactly one line on stderr; return the exit code."""
    print(" ".join(part.strip() for part in message.splitlines() if part.strip()), file=sys.stderr, flush=True)
    return code
