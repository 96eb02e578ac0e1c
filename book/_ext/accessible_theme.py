"""Pages that pass an accessibility check (axe-core; tests/test_book.py runs it on every page).

templates/ holds the book's own versions of theme components that axe faulted, found before the
theme's (Sphinx searches templates_path first); each file says what it changes and why. And a
folded code cell's toggle ("Show code cell source") is named by that visible text: myst-nb gives
it the name "Toggle hidden content", which speech-input users cannot say from what they see
(axe: label-content-name-mismatch).
"""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _book_templates_first(app, config) -> None:
    config.templates_path.insert(0, str(TEMPLATES))


FOLD_TOGGLE = '<summary aria-label="Toggle hidden content">'


def _toggles_named_by_their_text(app, pagename, templatename, context, doctree) -> None:
    if "body" in context:
        context["body"] = context["body"].replace(FOLD_TOGGLE, "<summary>")


def setup(app):
    app.connect("config-inited", _book_templates_first)
    app.connect("html-page-context", _toggles_named_by_their_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
