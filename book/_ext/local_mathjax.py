"""Serve MathJax 3 from the built site itself instead of a CDN.

The book must typeset its equations on a static host, offline, and in the
headless browser of the tests (which has no internet). MathJax comes from the
`django-static-mathjax` wheel (MathJax 3.2.2, Apache-2.0; no Django needed):
only the combined TeX component, its fonts and extensions are copied.
"""

from __future__ import annotations

import shutil
from pathlib import Path

TARGET = "mathjax"  # under _static/
NEEDED = ("tex-mml-chtml.js", "output/chtml", "input/tex/extensions", "ui", "a11y")


def _es5_folder() -> Path:
    import mathjax  # installed by django-static-mathjax

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def _use_local_copy(app, config) -> None:
    config.mathjax_path = f"{TARGET}/tex-mml-chtml.js"  # relative paths are relative to _static/


def _copy_mathjax(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source, target = _es5_folder(), Path(app.outdir) / "_static" / TARGET
    for part in NEEDED:
        origin = source / part
        if origin.is_dir():
            shutil.copytree(origin, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target / part)


def setup(app):
    app.connect("config-inited", _use_local_copy)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
