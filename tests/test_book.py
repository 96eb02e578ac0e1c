"""The book as a reader meets it: built from the sources in quick mode, served over HTTP, opened in Chromium.

The build runs `jupyter-book build . -W --keep-going`, which executes every
chapter and fails on any warning or cell error. Then each page is loaded in
headless Chromium (Debian's `chromium` and `chromium-driver`) and checked:
MathJax has typeset every equation, every image has loaded, the animations
have their frames and move, and no output shows a traceback or an error.
Screenshots land in _build/screenshots/ for a person to look at.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
HTML = BUILD / "html"
CHAPTERS = [f"notebooks/{path.stem}.html" for path in sorted((ROOT / "notebooks").glob("*.md"))]
PAGES = ["book/intro.html", "book/notation.html", *CHAPTERS, "book/results.html", "book/bibliography.html"]
ANIMATED = {"notebooks/07_beta_vae.html", "notebooks/08_latent_space.html"}
SCREENSHOTS = {"book/intro.html": "landing.png", "notebooks/06_training.html": "chapter-training.png"}


def _require(tool: str, why: str) -> str:
    beside_python = Path(sys.executable).with_name(tool)  # this environment's copy, activated or not
    path = str(beside_python) if beside_python.exists() else shutil.which(tool)
    if path:
        return path
    message = f"{tool} not found: {why}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


# What a clean checkout does not hold: generated notebooks (conftest.py writes them for nbmake, and the
# theme's launch buttons would point at them), build outputs, data and trained models.
NOT_SOURCES = shutil.ignore_patterns("*.ipynb", "_build", "runs", "data", ".git", ".venv", ".pytest_cache",
                                     "__pycache__", ".ipynb_checkpoints", "*.egg-info")


@pytest.fixture(scope="session")
def book_build(tmp_path_factory) -> str:
    """Build the whole site in quick mode from the sources alone; fail with the build's own warnings and errors."""
    jupyter_book = _require("jupyter-book", "install the book extra: pip install -e '.[dev]'")
    sources = tmp_path_factory.mktemp("book") / "sources"
    shutil.copytree(ROOT, sources, ignore=NOT_SOURCES)
    shutil.rmtree(BUILD, ignore_errors=True)
    env = {**os.environ, "VAE_TUTORIAL_QUICK": "1",
           "VAE_TUTORIAL_CACHE": os.environ.get("VAE_TUTORIAL_CACHE", str(ROOT / "runs" / "cache")),
           "VAE_TUTORIAL_DATA": os.environ.get("VAE_TUTORIAL_DATA", str(ROOT / "data"))}
    command = [jupyter_book, "build", str(sources), "--path-output", str(ROOT), "-W", "--keep-going"]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3000, cwd=sources)
    log = proc.stdout + proc.stderr
    BUILD.mkdir(exist_ok=True)
    (BUILD / "build.log").write_text(log)
    problems = [line for line in log.splitlines() if re.search(r"WARNING|ERROR|Error", line) and "IPKernelApp" not in line]
    assert proc.returncode == 0, "book build failed:\n" + "\n".join(problems[-30:] or log.splitlines()[-30:])
    assert "build succeeded" in log
    return log


@pytest.fixture(scope="session")
def site(book_build) -> str:
    """The built site served on a loopback port, as a static host would serve it."""
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def browser():
    from selenium import webdriver

    chromium = _require("chromium", "install Debian's chromium and chromium-driver for the browser checks")
    driver_path = _require("chromedriver", "install Debian's chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1400"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver_path), options=options)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def test_every_chapter_is_in_the_site(book_build):
    for page in PAGES:
        assert (HTML / page).is_file(), f"{page} was not built"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_launch_and_download_buttons_point_at_the_text_notebook(book_build, chapter):
    """The .ipynb files are generated, not committed: Binder must open the MyST source, which exists."""
    page = (HTML / chapter).read_text()
    source = chapter.replace(".html", ".md")
    assert (ROOT / source).is_file()
    binder = re.findall(r'href="(https://mybinder\.org/[^"]+)"', page)
    assert binder and all(link.endswith(source) for link in binder), binder
    assert f'_sources/{source}"' in page  # the download button offers the source


@pytest.mark.parametrize("page", PAGES)
def test_page_as_a_reader_sees_it(site, browser, page):
    browser.get(f"{site}/{page}")
    assert browser.execute_script("return document.readyState") == "complete"
    body = browser.execute_script("return document.body.innerText")
    assert "Traceback (most recent call last)" not in body, f"{page} shows a traceback"
    errors = browser.execute_script(
        "return document.querySelectorAll('.output.traceback, .output.error, .cell_output .ansi-red-fg').length")
    assert errors == 0, f"{page} shows an error output"

    typeset = browser.execute_async_script(_WAIT_FOR_MATHJAX)
    math_elements = browser.execute_script("return document.querySelectorAll('.math').length")
    if math_elements:
        assert typeset == "typeset", f"{page}: MathJax did not run ({typeset})"
        rendered = browser.execute_script("return document.querySelectorAll('mjx-container').length")
        assert rendered >= math_elements, f"{page}: {math_elements} equations, {rendered} typeset"
        assert "$$" not in body and "\\begin{" not in body, f"{page}: raw TeX left on the page"

    broken = browser.execute_async_script(_WAIT_FOR_IMAGES)
    assert broken == [], f"{page}: images that did not load: {broken[:5]}"
    if page in ANIMATED:
        _check_animation(browser, page)
    if page in SCREENSHOTS:
        (BUILD / "screenshots").mkdir(exist_ok=True)
        browser.save_screenshot(str(BUILD / "screenshots" / SCREENSHOTS[page]))


def _check_animation(browser, page: str) -> None:
    """A matplotlib to_jshtml animation: its frames are there, and moving the slider changes the picture."""
    found = browser.execute_script(
        "return Array.from(document.querySelectorAll('img[id^=\"_anim_img\"]')).map(i => [i.id, i.naturalWidth])")
    assert found and all(width > 0 for _, width in found), f"{page}: no animation image, or it did not load"
    for image_id, _ in found:
        moved = browser.execute_script(_STEP_ANIMATION, image_id)
        assert moved["frames"] > 1, f"{page}: the animation has {moved['frames']} frame(s)"
        assert moved["before"] != moved["after"], f"{page}: the animation's picture did not change"


_WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
const start = Date.now();
(function poll() {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done("typeset")).catch(e => done("failed: " + e));
  } else if (Date.now() - start > 20000) { done("MathJax never loaded"); } else { setTimeout(poll, 100); }
})();
"""

_WAIT_FOR_IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
Promise.all(images.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })))
  .then(() => done(images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80))));
"""

_STEP_ANIMATION = """
const image = document.getElementById(arguments[0]);
const slider = document.getElementById(arguments[0].replace("_anim_img", "_anim_slider"));
const before = image.src;
slider.value = String(Math.floor(Number(slider.max) / 2));
slider.dispatchEvent(new Event("input"));
return {frames: Number(slider.max) + 1, before: before.slice(-200), after: image.src.slice(-200)};
"""


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        for name in ("href", "src"):
            value = attributes.get(name)
            if value and not re.match(r"^(?:[a-z][a-z0-9+.-]*:|//)", value, re.I):
                self.targets.append(value)


@functools.lru_cache(maxsize=None)
def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(errors="replace"))
    return parser


def test_internal_links_resolve(book_build):
    """Every relative href and src in the built pages points at a file that exists (and an anchor in it)."""
    broken = []
    pages = [p for p in HTML.rglob("*.html") if "_static" not in p.parts]
    assert len(pages) >= len(PAGES)
    for page in pages:
        for target in _parse(page).targets:
            parts = urlsplit(target)
            file = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if file.is_dir():
                file = file / "index.html"
            if not file.exists():
                broken.append(f"{page.relative_to(HTML)} -> {target}")
            elif parts.fragment and file.suffix == ".html" and unquote(parts.fragment) not in _parse(file).ids:
                broken.append(f"{page.relative_to(HTML)} -> {target} (no such anchor)")
    assert broken == [], f"{len(broken)} broken internal links, e.g. {broken[:10]}"
