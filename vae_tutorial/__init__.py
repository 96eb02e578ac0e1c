"""Variational autoencoders and beta-VAEs on Fashion-MNIST: the package behind the book.

The maths sits at the top, one module per idea, and is what a reader opens
first: ``config`` (every setting), ``data``, ``sampling`` (the
reparameterized draw), ``losses`` (the ELBO's terms, the closed-form KL),
``likelihoods`` and ``priors`` (p(x|z) and p(z)), ``model`` (with ``conv`` and
``conditioning``), ``train`` (one loop), ``evaluate`` and ``posterior``
(judging a trained model). Beside them, the files the loop itself reads and
writes: ``checkpoint`` (with ``checkpoint_fields``), ``resume`` and ``device``.

The machinery lives one level down, in three rooms whose imports point down
only: ``runs/`` (a run's folder, cache, pictures, sweep and report),
``book/`` (what the chapters import) and ``cli/`` (the command line).

Importing the package imports nothing heavy (no torch), so that the command
line can set OpenMP's environment before torch loads. Import the modules you
need, for example ``from vae_tutorial.model import VAE``.
"""

__version__ = "0.2.0"  # the one source: pyproject.toml reads it (hatch's dynamic version)
