"""Links to another chapter's equation land on the equation: [(3.8)](03_elbo.md#equation-iwae).

Sphinx gives a labelled display equation the id ``equation-<label>``, so such a link reaches the
equation on the site (and the book's JupyterLab plugin scrolls to it there). myst-parser writes the
link as given but checks a ``file.md#anchor`` only against the file's headings, and warns "local id
not found" for an equation's id, which -W would turn into a failed build. This extension drops that
one warning, for anchors named ``equation-*`` and nothing else; tests/test_book.py checks that every
anchor a built page links to exists in its target, and tests/test_chapter_sources.py that each
(N.M) link names the M-th labelled equation of chapter N.
"""

from __future__ import annotations

import logging

from sphinx.util.logging import WarningStreamHandler


class _EquationAnchorWarnings(logging.Filter):
    """False (drop) for myst's "local id not found" on an equation-* anchor; True for all else."""

    def filter(self, record: logging.LogRecord) -> bool:
        missing = (getattr(record, "type", None), getattr(record, "subtype", None)) == ("myst", "xref_missing")
        return not (missing and "'equation-" in record.getMessage())


def setup(app):
    for handler in logging.getLogger("sphinx").handlers:
        if isinstance(handler, WarningStreamHandler):
            handler.filters.insert(0, _EquationAnchorWarnings())  # before the filter that counts warnings
    return {"parallel_read_safe": True, "parallel_write_safe": True}
