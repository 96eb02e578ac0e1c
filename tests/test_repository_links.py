"""The site's repository, issue and Binder buttons appear only for a repository the build was given.

book/_ext/repository_links.py sets the theme's options from $VAE_TUTORIAL_REPOSITORY. Here its logic is
checked on plain dictionaries, and a tiny Sphinx project with the book's theme shows what a page then
offers; tests/test_book.py checks the whole site (no outside link without the variable, and with it
only the repository's).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTENSIONS = ROOT / "book" / "_ext"
GIVEN = "https://github.com/example-owner/example-book"
# What _config.yml said before issue 29: a made-up repository, its buttons, and Binder for it.
MADE_UP = {"repository_url": "https://github.com/vae-tutorial/vae-tutorial", "repository_branch": "main",
           "use_repository_button": True, "use_issues_button": True,
           "launch_buttons": {"notebook_interface": "jupyterlab", "binderhub_url": "https://mybinder.org"}}


@pytest.fixture(scope="module")
def links():
    spec = importlib.util.spec_from_file_location("repository_links", EXTENSIONS / "repository_links.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_the_variable_no_button_leads_to_a_repository(links):
    options = links.theme_options(dict(MADE_UP), links.repository({}))
    assert options["repository_url"] == "" and not options["use_repository_button"] and not options["use_issues_button"]
    assert "binderhub_url" not in options["launch_buttons"]
    assert options["launch_buttons"]["notebook_interface"] == "jupyterlab"  # the rest of the settings kept
    assert "vae-tutorial/vae-tutorial" not in repr(options)


def test_other_buttons_that_lead_to_the_repository_go_too(links):
    """Siblings of the three buttons the issue named: the edit and source buttons, and every other launcher
    (Colab, JupyterHub, ...), also build their links from the repository's address."""
    configured = {**MADE_UP, "use_edit_page_button": True, "use_source_button": True,
                  "launch_buttons": {"colab_url": "https://colab.research.google.com",
                                     "jupyterhub_url": "https://hub.example.org", "thebe": False}}
    options = links.theme_options(configured, None)
    assert not any(options[button] for button in links.BUTTONS)
    assert options["launch_buttons"] == {"thebe": False}


def test_with_the_variable_the_buttons_point_at_that_repository(links):
    address = links.repository({links.REPOSITORY_ENV_VAR: GIVEN + "/"})
    options = links.theme_options(dict(MADE_UP), address)
    assert address == GIVEN and options["repository_url"] == GIVEN
    assert options["use_repository_button"] and options["use_issues_button"]
    assert options["launch_buttons"]["binderhub_url"] == links.BINDERHUB and options["repository_branch"] == "main"


@pytest.mark.parametrize("value", ["github.com/owner/name", "https://github.com/owner", "http://github.com/owner/name",
                                   "https://example.com/owner/name", "https://github.com/owner/name/tree/main",
                                   "https://github.com/owner/name extra"])
def test_a_value_that_is_not_a_repository_stops_the_build_in_one_line(links, value):
    from sphinx.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        links.repository({links.REPOSITORY_ENV_VAR: value})
    assert "\n" not in str(err.value) and links.REPOSITORY_ENV_VAR in str(err.value) and repr(value) in str(err.value)


def test_an_empty_value_is_no_repository(links):
    assert links.repository({links.REPOSITORY_ENV_VAR: "  "}) is None


def test_the_book_names_no_repository_and_loads_the_extension():
    config = (ROOT / "_config.yml").read_text()
    assert not re.search(r"https?://", re.sub(r"#.*", "", config)), "an address in _config.yml (outside comments)"
    assert re.search(r"^\s+repository_links: book/_ext", config, re.M)


def _outside_links(html: str) -> set[str]:
    return set(re.findall(r'href="(https?://[^"]+)"', html))


def _build(tmp_path: Path, environ: dict, code: int = 0) -> str:
    """A one-page Sphinx project with the book's theme, the old made-up options, and the extension: its
    page's HTML, or with code != 0 what the build said on stderr."""
    source, out = tmp_path / "source", tmp_path / "html"
    source.mkdir()
    (source / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(EXTENSIONS)!r})\n"
        "extensions = ['repository_links']\nhtml_theme = 'sphinx_book_theme'\n"
        f"html_theme_options = {MADE_UP!r}\n")
    (source / "index.rst").write_text("A page\n======\n\nSome text.\n")
    env = {key: value for key, value in os.environ.items() if key != "VAE_TUTORIAL_REPOSITORY"}
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", str(source), str(out)],
                          capture_output=True, text=True, env={**env, **environ}, timeout=300)
    assert proc.returncode == code, proc.stderr[-3000:]
    return (out / "index.html").read_text() if code == 0 else proc.stderr


def test_a_page_built_without_the_variable_shows_no_outside_link(tmp_path):
    page = _build(tmp_path, {})
    assert _outside_links(page) == set(), _outside_links(page)
    assert "vae-tutorial/vae-tutorial" not in page


def test_a_page_built_with_the_variable_links_only_to_that_repository(tmp_path):
    page = _build(tmp_path, {"VAE_TUTORIAL_REPOSITORY": GIVEN})
    shown = _outside_links(page)
    assert GIVEN in shown and any(link.startswith(f"{GIVEN}/issues/new?") for link in shown), shown
    assert all(link == GIVEN or link.startswith(GIVEN + "/") for link in shown), shown


def test_a_build_given_a_malformed_repository_stops_in_one_line(tmp_path):
    said = _build(tmp_path, {"VAE_TUTORIAL_REPOSITORY": "github.com/owner/name"}, code=2)
    assert said.count("\n") == 1 and said.startswith("error: VAE_TUTORIAL_REPOSITORY") and "Traceback" not in said
    assert not (tmp_path / "html" / "index.html").exists()
