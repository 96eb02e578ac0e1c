"""Alt text for the figures the chapters draw: a code cell's `:alt:` option, on every image it outputs.

A figure's caption is the paragraph after its cell (prose, so that JupyterLab shows it too); its alt
text says what the picture shows, for a reader who cannot see it. It lives in the code cell's
options, which jupytext keeps as cell metadata:

    ```{code-cell} ipython3
    :alt: Ten clusters of dots, one colour per class, ...
    ```

Without this, an output image's alt text is its file name. A cell that outputs an image and has no
`:alt:` is a warning, so the book's `-W` build fails on it.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _is_code_cell(node) -> bool:
    return isinstance(node, nodes.container) and node.get("nb_element") == "cell_code"


def _describe_images(app, doctree) -> None:
    for cell in doctree.findall(_is_code_cell):
        images = list(cell.findall(nodes.image))
        if not images:
            continue
        alt = str((cell.get("cell_metadata") or {}).get("alt", "")).strip()
        if not alt:
            logger.warning("a figure without alt text: give its code cell an :alt: option", location=cell)
            continue
        for image in images:
            image["alt"] = alt


def setup(app):
    app.connect("doctree-read", _describe_images)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
