"""Before collection: write an .ipynb beside every text notebook, so nbmake can run the chapters.

The MyST text notebooks in notebooks/ are the single source of truth; the
.ipynb files are generated here on every run (and ignored by git), so they can
never drift from the text.
"""

from pathlib import Path

NOTEBOOKS = Path(__file__).parent / "notebooks"


def pytest_configure(config) -> None:
    if not config.getoption("nbmake", default=False):
        return
    import jupytext

    for source in sorted(NOTEBOOKS.glob("*.md")):
        notebook = jupytext.read(source)
        jupytext.write(notebook, source.with_suffix(".ipynb"), fmt="ipynb")
