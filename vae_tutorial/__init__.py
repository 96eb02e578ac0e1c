"""Variational autoencoders and beta-VAEs on Fashion-MNIST: the package behind the book.

Importing the package imports nothing heavy (no torch), so that the command
line can set OpenMP's environment before torch loads.
"""

__version__ = "0.1.0"  # keep equal to pyproject.toml's version (tests/test_cli_battery.py checks)
