"""`pytest --nbmake notebooks` (the README's "every chapter as a test") works from a checkout.

Plain `pytest` does not collect the chapters (pyproject's testpaths): the site build executes every one of
them and the JupyterLab check runs each again. What is left to show here is the route itself: the root
conftest turns a MyST chapter into a notebook nbmake runs, a chapter that runs passes, and one that stops
fails the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "notebooks/01_data.md"  # the shortest chapter to run


def _nbmake(data: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "VAE_TUTORIAL_QUICK": "1", "VAE_TUTORIAL_DATA": data}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbmake", CHAPTER],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=900)


def test_a_chapter_runs_as_a_test(real_data_dir):
    done = _nbmake(real_data_dir)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 passed" in done.stdout, done.stdout[-3000:]


def test_a_chapter_that_stops_fails_the_run(tmp_path):
    """Without its data the chapter stops in its first cells: nbmake must report it, not pass it."""
    done = _nbmake(str(tmp_path / "no-data"))
    assert done.returncode == 1, done.stdout[-3000:]
    assert "1 failed" in done.stdout and "not found" in done.stdout, done.stdout[-3000:]
