"""The command line: ``python -m vae_tutorial train|evaluate|sweep ...`` and the ``vae-tutorial`` script.

main.py parses (flags generated from the config dataclasses by options.py) and
turns every user error into one line; commands.py runs each command. Importing
this package imports nothing heavy: torch loads inside main, after the CPU
settings are made.
"""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
