"""vae_tutorial: variational autoencoders and beta-VAEs on Fashion-MNIST, the package behind the book.

Importing the package loads nothing heavy (no torch): the command line sets
OpenMP variables before torch is imported. Import the modules you need,
for example ``from vae_tutorial.model import VAE``.
"""

__version__ = "0.2.0"
