"""Run the chapters as tests: `pytest --nbmake notebooks` (and plain `pytest`) collect notebooks/*.md.

The MyST text notebooks in notebooks/ are the single source of truth. For each
one, an .ipynb is written to a temporary folder outside the repository and
handed to nbmake, so the file browser of JupyterLab shows every chapter once,
and the generated copy can never drift from the text.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).parent / "notebooks"


def _is_chapter(path: Path) -> bool:
    return path.suffix == ".md" and path.parent.resolve() == NOTEBOOKS.resolve()


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
