"""Variational autoencoders and beta-VAEs on Fashion-MNIST: the package behind the book.

Importing the package imports nothing heavy (no torch), so that the command
line can set OpenMP's environment before torch loads. Import the modules you
need, for example ``from vae_tutorial.model import VAE``.
"""

__version__ = "0.2.0"  # the one source: pyproject.toml reads it (hatch's dynamic version)
