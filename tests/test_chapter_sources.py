"""The chapters' text, checked without running them: what renders the same on the site and in JupyterLab.

Fast checks of the MyST sources that keep the classes of problems the
browser tests found from coming back: code that scrolls sideways, roles that
JupyterLab cannot render, figures without a caption.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.md"))
CODE_LINE = 79  # the content column shows about 86 monospace characters at 1400 px; PEP 8's 79 leaves room


@pytest.fixture(scope="module", params=CHAPTERS, ids=lambda path: path.name)
def chapter(request):
    return request.param, jupytext.read(request.param)


def test_code_lines_fit_the_column(chapter):
    path, notebook = chapter
    long = [(i, line) for cell in notebook.cells if cell.cell_type == "code"
            for i, line in enumerate(cell.source.splitlines()) if len(line) > CODE_LINE]
    assert long == [], f"{path.name}: code lines longer than {CODE_LINE} characters: {long[:3]}"


def test_prose_uses_what_jupyterlab_renders(chapter):
    """Numbers come from {eval} (glue does not render in JupyterLab); chapters link with markdown links."""
    path, notebook = chapter
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert not re.search(r"\{glue(:\w+)?\}", prose) and "myst_nb import glue" not in code, path.name
    assert "{doc}" not in prose, f"{path.name}: use [Title](file.md) links, which JupyterLab follows"
    names = set(re.findall(r"\{eval\}`([^`]*)`", prose))
    bad = [name for name in names if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)]
    assert bad == [], f"{path.name}: {{eval}} takes a variable name (the site's inline execution): {bad}"
    undefined = [name for name in names if not re.search(rf"\b{name}\b\s*(?:,[^=\n]*)?=", code)]
    assert undefined == [], f"{path.name}: {{eval}} names no code cell assigns: {undefined}"


def test_every_image_cell_is_a_captioned_figure(chapter):
    """A cell that draws (plt.show, a figure display) has a caption and a name for {numref}."""
    path, notebook = chapter
    bare = []
    for cell in notebook.cells:
        draws = cell.cell_type == "code" and re.search(r"plt\.show\(\)|display\(fig", cell.source)
        figure = cell.metadata.get("mystnb", {}).get("figure", {})
        if draws and not (figure.get("caption") and figure.get("name")):
            bare.append(cell.source.splitlines()[0][:60])
    assert bare == [], f"{path.name}: figures without caption or name: {bare}"


def test_solutions_are_closed_dropdowns(chapter):
    path, notebook = chapter
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    solutions = re.findall(r":::\{admonition\} Solutions?\n(:class: [^\n]*)", prose)
    assert solutions, f"{path.name} has no solutions block"
    assert all("dropdown" in options for options in solutions), f"{path.name}: solutions shown open"


def test_inline_math_closes_on_its_line(chapter):
    """jupyterlab-myst pairs a $ that ends a line with the next $ further on, and the text between
    becomes math (a {eq} role in it shows raw): an inline formula stays on one line."""
    path, notebook = chapter
    open_lines = [line for cell in notebook.cells if cell.cell_type == "markdown"
                  for line in cell.source.splitlines() if line.replace("$$", "").count("$") % 2]
    assert open_lines == [], f"{path.name}: inline math broken over lines: {open_lines[:3]}"
