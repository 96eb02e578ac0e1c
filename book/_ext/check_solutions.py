"""Building the book checks every exercise on its reference answer.

The chapters' answer cells hold `...` for the reader to fill in. With
$VAE_TUTORIAL_SOLUTIONS set, `vae_tutorial.book.exercises.answer` hands the checks
the reference answer instead, and a check that fails fails the build. The
kernels that execute the chapters are started by this Sphinx process and
inherit its environment, so setting the variable here is enough.
"""

from __future__ import annotations

import os

SOLUTIONS_ENV_VAR = "VAE_TUTORIAL_SOLUTIONS"  # vae_tutorial.book.exercises reads it (the package, whose book face
# loads torch, is not imported in the Sphinx process; tests/test_exercises.py keeps the two spellings equal)


def setup(app):
    os.environ.setdefault(SOLUTIONS_ENV_VAR, "1")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
