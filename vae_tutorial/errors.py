"""Errors a user can cause and fix; the command line prints them as one line."""


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
