"""A chapter's set-up cell: quick or full mode, and the note a quick-mode page shows under it."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

from vae_tutorial.book import chapter

CHAPTERS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9]*.md"))


@pytest.fixture
def shown(monkeypatch, tmp_path):
    """What chapter_setup displays, with data and cache pointed at tmp_path."""
    import IPython.display

    outputs = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: outputs.append(obj))
    monkeypatch.setenv("VAE_TUTORIAL_DATA", str(tmp_path))
    monkeypatch.setenv("VAE_TUTORIAL_CACHE", str(tmp_path / "cache"))
    return outputs


def test_a_quick_chapter_says_so_under_its_set_up_cell(shown, monkeypatch):
    monkeypatch.setenv(chapter.QUICK_ENV_VAR, "1")
    plan = chapter.chapter_setup()
    assert plan.quick and len(shown) == 1
    text, html = shown[0]["text/plain"], shown[0]["text/html"]
    assert text.startswith("Quick mode (VAE_TUTORIAL_QUICK=1): the numbers and figures on this page come from a "
                           f"short run ({plan.subset:,} training images")
    assert "The text describes the full run on all 60,000 images" in text
    assert 'class="admonition warning quick-mode-note"' in html and "Quick mode</p>" in html


def test_a_full_chapter_shows_no_note(shown, monkeypatch):
    monkeypatch.delenv(chapter.QUICK_ENV_VAR, raising=False)
    assert not chapter.chapter_setup().quick
    assert shown == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.name)
def test_the_set_up_cell_hides_its_code_but_not_its_note(path):
    """remove-input (not remove-cell) on the site, the code folded in JupyterLab: the note stays visible in both."""
    setup = next(cell for cell in jupytext.read(path).cells
                 if cell.cell_type == "code" and re.search(r"\bchapter_setup\(", cell.source))
    assert "remove-input" in setup.metadata.get("tags", []) and "remove-cell" not in setup.metadata.get("tags", [])
    assert setup.metadata.get("jupyter", {}).get("source_hidden") is True
