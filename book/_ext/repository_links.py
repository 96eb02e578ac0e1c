"""The site's links to the book's repository: shown only when the build is told which repository that is.

    VAE_TUTORIAL_REPOSITORY=https://github.com/OWNER/NAME jupyter-book build book

With the variable, every page gets the theme's repository and issue buttons, and every chapter a
Binder button that opens its MyST source in JupyterLab (branch: _config.yml's repository.branch).
Without it (a local build, a fork that has not said where it lives), none of the three: a button
must not send a reader to a repository that does not exist. A value that is not a repository's
address stops the build: one line on stderr, exit 2. The theme's options are set here, at
"config-inited", whatever _config.yml says, so the variable is the one source of the address.
Sphinx only: the package (torch) is not imported.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping

from sphinx.errors import ConfigError

REPOSITORY_ENV_VAR = "VAE_TUTORIAL_REPOSITORY"
BINDERHUB = "https://mybinder.org"  # Binder builds the repository's environment.yml
REPOSITORY = re.compile(r"https://(?:github\.com|gitlab\.com)/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
BUTTONS = ("use_repository_button", "use_issues_button", "use_edit_page_button", "use_source_button")


def repository(environ: Mapping[str, str]) -> str | None:
    """The repository's address from the environment, or None when unset; a malformed one is a ConfigError."""
    value = environ.get(REPOSITORY_ENV_VAR, "").strip()
    if not value:
        return None
    address = value.removesuffix("/").removesuffix(".git")
    if not REPOSITORY.fullmatch(address):
        raise ConfigError(f"{REPOSITORY_ENV_VAR} must be a repository's address, https://github.com/OWNER/NAME "
                          f"(or gitlab.com), got {value!r}")
    return address


def theme_options(options: dict, address: str | None) -> dict:
    """The theme's options with the repository's links set from address: all of them, or none."""
    launch = {key: value for key, value in dict(options.get("launch_buttons") or {}).items()
              if not key.endswith("_url")}  # Binder, JupyterHub, Colab, ... all need the repository
    updated = {**options, "launch_buttons": launch, "repository_url": address or ""}
    updated.update({button: False for button in BUTTONS})
    if address:
        launch["binderhub_url"] = BINDERHUB
        updated.update(use_repository_button=True, use_issues_button=True)
    return updated


def _set_the_links(app, config) -> None:
    try:
        address = repository(os.environ)
    except ConfigError as err:  # one line and exit 2, as for a bad argument: jupyter-book would add a traceback
        print(f"error: {err}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    config.html_theme_options = theme_options(dict(config.html_theme_options or {}), address)


def setup(app):
    app.connect("config-inited", _set_the_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
