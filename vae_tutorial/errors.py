"""Errors a user can cause and fix; the command line prints them as one line."""

import re

# What a terminal would act on rather than show: C0 and C1 control characters (an escape sequence can set the
# window title or clear the screen; a carriage return hides the start of a line) and the bidirectional overrides
# (they reorder what follows). A message names paths and values the user chose, so each such character is shown
# escaped (\x1b), as the streams already escape what their encoding cannot spell.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, newlines: bool = False) -> str:
    """text with every control character escaped (\\x1b, \\r, \\n); with newlines, line breaks are kept."""
    def escape(match: re.Match) -> str:
        char = match.group()
        return char if newlines and char == "\n" else char.encode("unicode_escape").decode("ascii")

    return _UNPRINTABLE.sub(escape, text)



def first_line(err: BaseException) -> str:
    """The first line of an error's message, or its type's name when the message is empty."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def telling_line(err: BaseException, limit: int = 300) -> str:
    """The telling line of an error: torch's state-dict errors start with a line that only ends in a colon."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip() and not line.strip().endswith(":")]
    return (lines[0] if lines else type(err).__name__)[:limit]


def describe_error(err: BaseException) -> str:
    """An unforeseen system error in words: what failed and where (the file, when the error names one)."""
    if isinstance(err, MemoryError):
        return "out of memory" + (f" ({first_line(err)})" if str(err).strip() else "")
    text = getattr(err, "strerror", None) or first_line(err)
    filename = getattr(err, "filename", None)
    return f"{text}: {filename}" if filename else text


class VAETutorialError(Exception):
    """Base class: a problem with the user's input or files, not a bug."""

    def _render_traceback_(self) -> list[str]:
        """What IPython (a notebook, JupyterLab, a book build) shows in place of the traceback: the error in one
        line, as the command line prints it. A student's Run All meets the same message a terminal would."""
        return [printable(f"{type(self).__name__}: {first_line(self)}")]


class DataError(VAETutorialError):
    """Fashion-MNIST is missing, unreadable or malformed."""


class CheckpointError(VAETutorialError):
    """A checkpoint file is missing, corrupt or not a checkpoint of this package."""


class TrainingDiverged(VAETutorialError):
    """The loss became NaN or infinite."""


class ConfigError(VAETutorialError):
    """A setting is out of range (epochs < 1, negative beta, ...)."""


class DeviceError(VAETutorialError):
    """The device asked for is not on this machine, or the model does not fit in its memory."""


class FolderError(VAETutorialError):
    """The output folder cannot be written, is in use, or holds another run."""


class OutputError(VAETutorialError):
    """A result could not be written (a full disk, a read-only folder)."""


class ExportError(VAETutorialError, ValueError):
    """What was asked to be exported cannot be carried as asked (a weight beyond float16, a code that is not finite)."""


class Interrupted(VAETutorialError):
    """Ctrl-C or SIGTERM; the message says what was kept."""

    def __init__(self, message: str, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # 130 for Ctrl-C (SIGINT), 143 for SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C so that the same clean-up runs."""

    def __init__(self, exit_code: int = 143) -> None:
        super().__init__()
        self.exit_code = exit_code  # 128 + the signal's number: 143 for SIGTERM, 129 for SIGHUP
