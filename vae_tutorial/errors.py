"""Errors a user can cause and fix; the command line prints them as one line."""


def first_line(err: BaseException) -> str:
    """The first line of an error's message, or its type's name when the message is empty."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class VAETutorialError(Exception):
    """Base class: a problem with the user's input or files, not a bug."""


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


class OutputError(VAETutorialError):
    """A result could not be written (a full disk, a read-only folder)."""


class Interrupted(VAETutorialError):
    """Ctrl-C or SIGTERM; the message says what was kept."""

    def __init__(self, message: str, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # 130 for Ctrl-C (SIGINT), 143 for SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs."""

    exit_code = 143
