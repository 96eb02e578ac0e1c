"""Run the chapters as tests: `pytest --nbmake notebooks` (and plain `pytest`) collect notebooks/*.md.

The MyST text notebooks in notebooks/ are the single source of truth. For each
one, an .ipynb is written to a temporary folder outside the repository and
handed to nbmake, so the file browser of JupyterLab shows every chapter once,
and the generated copy can never drift from the text.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from vae_tutorial.book.exercises import SOLUTIONS_ENV_VAR
from vae_tutorial.runs.cache import CACHE_ENV_VAR

NOTEBOOKS = Path(__file__).parent / "notebooks"


def _is_chapter(path: Path) -> bool:
    return path.suffix == ".md" and path.parent.resolve() == NOTEBOOKS.resolve()


def pytest_configure(config: pytest.Config) -> None:
    """The chapters' exercise checks run on the reference answers (the answer cells hold `...`), and
    their models come from the repository's cache."""
    os.environ.setdefault(SOLUTIONS_ENV_VAR, "1")
    # nbmake runs a chapter from a temporary folder, outside the repository: without this its models
    # would be trained again there on every run, instead of found in runs/cache as JupyterLab finds them
    os.environ.setdefault(CACHE_ENV_VAR, str(NOTEBOOKS.parent / "runs" / "cache"))
    config.stash[_WORK_TREE] = _work_tree_status()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Tests leave the repository as they found it: `git status` the same after the run as before."""
    before = session.config.stash.get(_WORK_TREE, None)
    after = _work_tree_status()
    if before is not None and after is not None and after != before:
        session.config.stash[_CHANGED] = sorted(set(after.splitlines()) ^ set(before.splitlines()))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    changed = config.stash.get(_CHANGED, None)
    if changed:
        terminalreporter.write_line(f"FAILED: the tests changed the work tree (git status): {changed[:10]}", red=True)


def _work_tree_status() -> str | None:
    """`git status --porcelain` of the repository, or None where there is no git or no repository."""
    try:
        done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=NOTEBOOKS.parent,
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


_WORK_TREE = pytest.StashKey[str | None]()
_CHANGED = pytest.StashKey[list[str]]()


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    """A chapter (notebooks/*.md) becomes one nbmake test item when --nbmake is on."""
    if parent.config.getoption("nbmake", default=False) and _is_chapter(file_path):
        return ChapterFile.from_parent(parent, path=file_path)
    return None


class ChapterFile(pytest.File):
    """A text notebook, converted to .ipynb in a temporary folder and run by nbmake."""

    def collect(self):
        import jupytext
        from nbmake.pytest_items import NotebookItem

        folder = self.config.stash.setdefault(_GENERATED, Path(tempfile.mkdtemp(prefix="vae-tutorial-nbmake-")))
        notebook = folder / f"{self.path.stem}.ipynb"
        jupytext.write(jupytext.read(self.path), notebook, fmt="ipynb")
        yield NotebookItem.from_parent(self, filename=str(notebook))


_GENERATED = pytest.StashKey[Path]()


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_GENERATED, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
