"""The latent explorer on the static site: the chapter's own decoder, run by the reader's browser.

A chapter cell calls vae_tutorial.book.widgets.latent_plane_explorer. When this extension has named a
folder in $VAE_TUTORIAL_SITE_ASSETS (before the first kernel starts, so the kernels inherit it),
that call writes the decoder's weights there as a script and puts a placeholder
<div class="vae-explorer" data-weights="NAME.js"> in the page. Here each such script is copied
beside the page that names it, and static/latent-explorer.js (added to every page; it does nothing
on a page without an explorer) runs the decoder in the placeholder. The folder lies in the build's
doctree folder, so a page read from the cache finds its weights from an earlier build. A copy is
never written through a symbolic link: a link where the weights go is refused with one warning.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from sphinx.util import logging

ASSETS_ENV_VAR = "VAE_TUTORIAL_SITE_ASSETS"  # vae_tutorial.book.site_explorer reads it (the package is not imported here)
STATIC = Path(__file__).resolve().parent / "static"
logger = logging.getLogger(__name__)


def _assets(app) -> Path:
    return Path(app.doctreedir) / "latent-explorer"


def _name_the_folder(app, config) -> None:
    _assets(app).mkdir(parents=True, exist_ok=True)
    os.environ[ASSETS_ENV_VAR] = str(_assets(app))
    config.html_static_path.append(str(STATIC))


def _copy_weights_beside_the_page(app, pagename, templatename, context, doctree) -> None:
    for name in re.findall(r'<div class="vae-explorer"[^>]*data-weights="([\w.-]+\.js)"', context.get("body", "")):
        source = _assets(app) / name
        if not source.is_file():
            logger.warning(f"{pagename}: the explorer's weights {name} were not exported (was the chapter run?)")
            continue
        target = Path(app.outdir) / Path(pagename).parent / name
        if target.is_symlink():
            logger.warning(f"{pagename}: {target} is a symbolic link; the explorer's weights are not written through it")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_by_rename(source, target)


def _copy_by_rename(source: Path, target: Path) -> None:
    """Copy into a new file beside target, then rename it over target: the name is replaced, never followed."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file, open(source, "rb") as original:
            shutil.copyfileobj(original, file)
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; the site's files are readable by the server
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def setup(app):
    app.connect("config-inited", _name_the_folder)
    app.connect("html-page-context", _copy_weights_beside_the_page)
    app.add_js_file("latent-explorer.js", defer="defer")
    app.add_css_file("latent-explorer.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
