"""The book as a reader meets it: built from the sources in quick mode, served over HTTP, opened in Chromium.

The build (fixture `book_html`, tests/conftest.py) runs the design's command
`jupyter-book build book -W --keep-going`, which executes every chapter and
fails on any warning or cell error. `jupyter-book build .` must give the same
pages. Then every page is loaded in headless Chromium at desktop (1400 x 1000)
and phone (390 x 844) width and checked: MathJax has typeset every equation and
none is wider than its column; every image has loaded, every figure has a
caption (the paragraph after it) and is shown near its natural size; code and outputs fit the column;
tables are tables; nothing raw or cryptic is in the text; the console is clean
and nothing is fetched from another host; animations play. Screenshots land in
_build/screenshots/ for a person to look at.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from _browser import (ROOT, WIDTHS, axe_script, browser, chromium, copy_sources,  # noqa: F401 - a fixture
                      require, screenshot)

CHAPTERS = [f"notebooks/{path.stem}.html" for path in sorted((ROOT / "notebooks").glob("*.md"))]
PAGES = ["book/intro.html", "book/notation.html", *CHAPTERS, "book/results.html", "book/where_next.html",
         "book/bibliography.html"]
ANIMATED = {"notebooks/07_beta_vae.html", "notebooks/08_latent_space.html"}
SHOTS = {"book/intro.html": "landing", "notebooks/02_model.html": "chapter-2", "notebooks/05_kl.html": "chapter-5",
         "notebooks/06_training.html": "chapter-6", "notebooks/07_beta_vae.html": "chapter-7"}
SMALLEST_SHOWN = 0.85  # a figure is drawn at no less than this fraction of its natural width at desktop width
# Code or output lines that may scroll sideways at desktop width, with the reason: none today.
WIDE_CODE_ALLOWED: dict[str, str] = {}
GIVEN_REPOSITORY = "https://github.com/example-owner/example-book"  # what test_both_build_commands gives its build


@pytest.fixture(scope="session")
def site(book_html):
    """The built site served on a loopback port, as a static host would serve it."""
    handler = functools.partial(_QuietHandler, directory=str(book_html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_every_chapter_is_in_the_site(book_html):
    for page in PAGES:
        assert (book_html / page).is_file(), f"{page} was not built"


def test_both_build_commands_give_the_same_pages(book_html, tmp_path):
    """`jupyter-book build .` finds the same documents, titles and numbering as `jupyter-book build book`.

    The chapters are not executed for this second build (execution off), so it
    compares what the two commands read, not what the kernel prints. It is given
    a repository (VAE_TUTORIAL_REPOSITORY): every chapter then offers Binder on its
    committed MyST source, and every outside link points at that repository.
    """
    jupyter_book = require("jupyter-book", "install the book extra: pip install -e '.[dev]'")
    sources = copy_sources(tmp_path / "sources")
    config = (sources / "_config.yml").read_text()
    (sources / "_config.yml").write_text(re.sub(r"execute_notebooks: \w+", 'execute_notebooks: "off"', config))
    env = {**os.environ, "VAE_TUTORIAL_REPOSITORY": GIVEN_REPOSITORY}
    proc = subprocess.run([jupyter_book, "build", ".", "--path-output", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=sources, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    other = tmp_path / "out" / "_build" / "html"
    assert _pages(other) == _pages(book_html)
    for page in PAGES:
        assert _headings(other / page) == _headings(book_html / page), page
    given = _given_links(GIVEN_REPOSITORY)
    for chapter in CHAPTERS:
        text = (other / chapter).read_text()
        binder = re.findall(r'href="(https://mybinder\.org/[^"]+)"', text)
        assert binder and all(link == f"https://mybinder.org/v2/gh/{GIVEN_REPOSITORY.removeprefix('https://github.com/')}"
                              f"/main?urlpath=lab/tree/{chapter.replace('.html', '.md')}" for link in binder), binder
        assert f'href="{GIVEN_REPOSITORY}"' in text and f'href="{GIVEN_REPOSITORY}/issues/new?' in text
        foreign = [link for link in _outside_links(text) if not given(link)]
        assert foreign == [], f"{chapter}: links the build was not given: {foreign}"


def _pages(html: Path) -> list[str]:
    return sorted(str(p.relative_to(html)) for p in html.rglob("*.html") if "_static" not in p.parts)


def _headings(page: Path) -> list[str]:
    """Titles and numbered headings of a page (what the table of contents and numbering produce)."""
    return re.findall(r"<h[1-3][^>]*>(.*?)<a class=\"headerlink\"", page.read_text(), re.S)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_download_button_offers_the_text_notebook_and_no_button_a_repository(book_html, chapter):
    """The download button offers the MyST source that is committed. The build was given no repository
    (tests/conftest.py), so no repository, issue or Binder button sends the reader to one that may not exist;
    with one, Binder opens that same source (test_both_build_commands_give_the_same_pages)."""
    page = (book_html / chapter).read_text()
    source = chapter.replace(".html", ".md")
    assert (ROOT / source).is_file()
    assert f'_sources/{source}"' in page
    assert "mybinder" not in page and "source-repository-button" not in page and "/issues/new" not in page
    given = _given_links()
    assert [link for link in _outside_links(page) if not given(link)] == [], _outside_links(page)


def _outside_links(html: str) -> list[str]:
    """The absolute links (href) of a built page, in order, each once."""
    return list(dict.fromkeys(re.findall(r'href="((?:https?:)?//[^"]+)"', html)))


def _given_links(repository: str | None = None):
    """A test: was the build given this outside link? The links written in the sources (chapters, pages,
    the bibliography), and with a repository, that repository's pages and its Binder."""
    sources = [*sorted((ROOT / "notebooks").glob("*.md")), *sorted((ROOT / "book").glob("*.md")),
               ROOT / "book" / "references.bib"]
    written = {link for path in sources for link in re.findall(r"https?://[^\s\"'<>()\[\]{}`]+", path.read_text())}
    prefixes = []
    if repository:
        owner_name = repository.removeprefix("https://github.com/")
        prefixes = [f"{repository}/", f"https://mybinder.org/v2/gh/{owner_name}/"]
    return lambda link: link in written or link == repository or any(link.startswith(p) for p in prefixes)


@pytest.mark.parametrize("page", PAGES)
def test_page_as_a_reader_sees_it(site, browser, page):
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(f"{site}/{page}")
    loaded = browser.execute_async_script(_WAIT_FOR_LOAD)  # get() can return while late scripts still load
    assert loaded == "complete", f"{page} did not finish loading ({loaded})"
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
    body = browser.execute_script("return document.body.innerText")  # again, now with the equations typeset
    if page.startswith("notebooks/"):  # the build is quick: every chapter says its numbers come from a short run
        assert "Quick mode (VAE_TUTORIAL_QUICK=1): the numbers and figures on this page" in body, page

    wide_math = browser.execute_script(_WIDE_EQUATIONS, browser.width_name == "desktop")
    assert wide_math == [], f"{page} at {browser.width_name} width: equations wider than their column: {wide_math}"
    prose = browser.execute_script(_PROSE)  # code may name an equation's label, as the package's comments do
    shown = browser.execute_script(_ALL_BUT_CODE_CELLS)  # a code cell may build a table's text; its output may not show it
    assert not re.search(r"\|\s*:?-{3,}:?\s*\|", shown), f"{page}: a markdown table shown as text"
    raw = sorted(set(re.findall(r"\(eq\. [\w-]+\)|\(\(|\{(?:eq|doc|numref|eval|glue:\w+)\}", prose)))
    assert raw == [], f"{page}: label names or doubled parentheses in the text: {raw}"
    given = _given_links()  # the build was given no repository (tests/conftest.py)
    outside = [link for link in browser.execute_script(_OUTSIDE_LINKS) if not given(link)]
    assert outside == [], f"{page}: links to other hosts the build was not given: {outside}"
    uncaptioned = browser.execute_script(_UNCAPTIONED_FIGURES)
    assert uncaptioned == [], f"{page}: images without a numbered caption: {uncaptioned}"

    broken = browser.execute_async_script(_WAIT_FOR_IMAGES)
    assert broken == [], f"{page}: images that did not load: {broken[:5]}"
    if browser.width_name == "desktop":
        wide_code = [line for line in browser.execute_script(_WIDE_CODE) if line not in WIDE_CODE_ALLOWED]
        assert wide_code == [], f"{page}: code or output wider than the column (scrolls): {wide_code[:5]}"
        shrunk = browser.execute_script(_SHRUNK_FIGURES, SMALLEST_SHOWN)
        assert shrunk == [], f"{page}: figures shown below {SMALLEST_SHOWN:.0%} of their size: {shrunk}"
    if page in ANIMATED:
        _check_animation(browser, page)

    foreign = browser.execute_script(_FOREIGN_REQUESTS, urlsplit(site).netloc)
    assert foreign == [], f"{page}: requests to other hosts: {foreign}"
    severe = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], f"{page}: console errors: {severe}"
    if page in SHOTS:
        screenshot(browser, f"{SHOTS[page]}-{browser.width_name}.png")


@pytest.mark.parametrize("page", PAGES)
def test_page_is_accessible(site, browser, page):
    """axe-core finds no critical or serious violation (WCAG 2 A/AA and best practice), explorer included."""
    script = axe_script()
    browser.get(f"{site}/{page}")
    assert browser.execute_async_script(_WAIT_FOR_LOAD) == "complete"
    browser.execute_async_script(_WAIT_FOR_MATHJAX)
    if page == EXPLORER_PAGE:
        assert browser.execute_async_script(_WAIT_FOR_EXPLORER) == "true"
    browser.execute_script(script)
    found = browser.execute_async_script(_AXE)
    severe = [f"{v['impact']} {v['id']} ({v['count']}x, e.g. {v['example']}): {v['help']}" for v in found
              if v["impact"] in ("critical", "serious")]
    assert severe == [], f"{page} at {browser.width_name} width: {severe}"


_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]})
  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
                                          example: v.nodes[0].html.slice(0, 160)}))))
  .catch(e => done([{id: "axe failed", impact: "critical", help: String(e), count: 1, example: ""}]));
"""


def _check_animation(browser, page: str) -> None:
    """A to_jshtml animation: it has frames, it plays by itself, and the slider changes the picture."""
    found = browser.execute_script(
        "return Array.from(document.querySelectorAll('img[id^=\"_anim_img\"]')).map(i => [i.id, i.naturalWidth])")
    assert found and all(width > 0 for _, width in found), f"{page}: no animation image, or it did not load"
    for image_id, _ in found:
        playing = browser.execute_async_script(_PLAYS_BY_ITSELF, image_id)
        assert playing, f"{page}: the animation {image_id} does not play by itself"
        moved = browser.execute_script(_STEP_ANIMATION, image_id)
        assert moved["frames"] > 1, f"{page}: the animation has {moved['frames']} frame(s)"
        assert moved["before"] != moved["after"], f"{page}: the animation's picture did not change"


_WAIT_FOR_LOAD = """
const done = arguments[arguments.length - 1];
const start = Date.now();
(function poll() {
  if (document.readyState === "complete") { done("complete"); }
  else if (Date.now() - start > 30000) { done(document.readyState); } else { setTimeout(poll, 100); }
})();
"""

_WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
const start = Date.now();
(function poll() {
  if (!document.querySelector('script[src*="mathjax" i]') && !window.MathJax) {
    done("no MathJax on this page");  // Sphinx loads it only where there is math: nothing to wait for
  } else if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => setTimeout(() => done("typeset"), 300))  // then the page fits its equations
      .catch(e => done("failed: " + e));
  } else if (Date.now() - start > 20000) { done("MathJax never loaded"); } else { setTimeout(poll, 100); }
})();
"""

_WIDE_EQUATIONS = """
const desktop = arguments[0];  // at desktop width an equation must fit as written, not shrunk to fit
return Array.from(document.querySelectorAll('mjx-container[display="true"]'))
  .filter(m => m.offsetParent !== null)
  .filter(m => m.scrollWidth > m.clientWidth + 1
            || m.getBoundingClientRect().width > m.parentElement.getBoundingClientRect().width + 1
            || (desktop && m.hasAttribute('data-fitted')))
  .map(m => (m.getAttribute('aria-label') || m.textContent).slice(0, 60));
"""

_ALL_BUT_CODE_CELLS = """
const article = document.querySelector('article') || document.body;
const copy = article.cloneNode(true);
copy.querySelectorAll('.cell_input').forEach(e => e.remove());
return copy.textContent;
"""

_PROSE = """
const article = document.querySelector('article') || document.body;
const copy = article.cloneNode(true);
copy.querySelectorAll('pre, code, .highlight, script, style').forEach(e => e.remove());  // what a reader reads
return copy.textContent;
"""

_WIDE_CODE = """
return Array.from(document.querySelectorAll('div.cell div.highlight pre, div.cell_output pre'))
  .filter(p => p.offsetParent !== null && p.scrollWidth > p.clientWidth + 1)
  .map(p => p.innerText.split('\\n').reduce((a, b) => a.length >= b.length ? a : b).slice(0, 100));
"""

_UNCAPTIONED_FIGURES = """
// A figure is a cell's image output; its caption is the paragraph right after the cell, "Figure C.k. ..."
// (prose, so that JupyterLab shows it too).
return Array.from(document.querySelectorAll('.cell_output img, article img'))
  .filter(i => !i.closest('.bd-header, .navbar, .sidebar-primary-items__start, .bd-sidebar-primary'))
  .filter(i => {
    const cell = i.closest('div.cell');
    const next = cell && cell.nextElementSibling;
    return !(next && next.tagName === 'P' && /^Figure \\d+\\.\\d+\\. \\S/.test(next.innerText));
  })
  .map(i => (i.id || i.src).slice(0, 60));
"""

_SHRUNK_FIGURES = """
const least = arguments[0];
return Array.from(document.querySelectorAll('.cell_output img'))
  .filter(i => i.naturalWidth > 0 && i.getBoundingClientRect().width < least * i.naturalWidth)
  .map(i => [i.id || i.src.slice(-40), Math.round(i.getBoundingClientRect().width), i.naturalWidth]);
"""

_OUTSIDE_LINKS = """
return [...new Set(Array.from(document.querySelectorAll('a[href], area[href]'))
  .map(a => a.href).filter(u => /^https?:/.test(u) && new URL(u).host !== location.host))];
"""

_FOREIGN_REQUESTS = """
const host = arguments[0];
const urls = performance.getEntriesByType('resource').map(e => e.name)
  .concat(Array.from(document.querySelectorAll('script[src], link[rel=stylesheet][href], img[src], iframe[src]'))
  .map(e => e.src || e.href));
return [...new Set(urls.filter(u => /^(https?:)?\\/\\//.test(u) && new URL(u, location.href).host !== host))];
"""

_WAIT_FOR_IMAGES = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
Promise.all(images.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })))
  .then(() => done(images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80))));
"""

_PLAYS_BY_ITSELF = """
const done = arguments[arguments.length - 1];
const slider = document.getElementById(arguments[0].replace("_anim_img", "_anim_slider"));
const first = slider.value, start = Date.now();
(function poll() {  // a frame every few hundred ms; a loaded machine may delay the first ones
  if (slider.value !== first) { done(true); }
  else if (Date.now() - start > 10000) { done(false); } else { setTimeout(poll, 100); }
})();
"""

_STEP_ANIMATION = """
const image = document.getElementById(arguments[0]);
const slider = document.getElementById(arguments[0].replace("_anim_img", "_anim_slider"));
const pause = image.closest('.animation').querySelector('button[title="Pause"], button.pause');
if (pause) pause.click();
slider.value = "0";
slider.dispatchEvent(new Event("input"));
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


def test_internal_links_resolve(book_html):
    """Every relative href and src in the built pages points at a file that exists (and an anchor in it)."""
    broken = []
    pages = [p for p in book_html.rglob("*.html") if "_static" not in p.parts]
    assert len(pages) >= len(PAGES)
    for page in pages:
        for target in _parse(page).targets:
            parts = urlsplit(target)
            file = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if file.is_dir():
                file = file / "index.html"
            if not file.exists():
                broken.append(f"{page.relative_to(book_html)} -> {target}")
            elif parts.fragment and file.suffix == ".html" and unquote(parts.fragment) not in _parse(file).ids:
                broken.append(f"{page.relative_to(book_html)} -> {target} (no such anchor)")
    assert broken == [], f"{len(broken)} broken internal links, e.g. {broken[:10]}"


def test_the_built_site_does_not_depend_on_a_cdn(book_html):
    """No page loads a script or style sheet from another host (the site must work offline)."""
    foreign = set()
    for page in book_html.rglob("*.html"):
        text = page.read_text(errors="replace")
        foreign.update(re.findall(r'<(?:script|link)[^>]+(?:src|href)="((?:https?:)?//[^"]+\.(?:js|css)[^"]*)"', text))
    assert foreign == set(), f"pages load from other hosts: {sorted(foreign)[:5]}"



# The latent explorer of chapter 8: the chapter's decoder exported by the build and run by the page.
EXPLORER_PAGE = "notebooks/08_latent_space.html"
EXPLORER_POINTS = ([0.0, 0.0], [1.2, -0.7], [-2.0, 1.5])


@pytest.fixture(scope="module")
def chapter_8_decoder(book_html):
    """The 2-D model chapter 8 trained in the quick-mode build, loaded from the cache the build used."""
    import os
    from unittest import mock

    from vae_tutorial.book import chapter as book
    from vae_tutorial.config import env_path
    from vae_tutorial.runs.cache import cached_fit
    from vae_tutorial.data import load_split
    from vae_tutorial.runs.cache import cached_fit

    with mock.patch.dict(os.environ, {book.QUICK_ENV_VAR: "1"}):  # the build's mode (tests/conftest.py)
        quick = book.budget()
    data = env_path("VAE_TUTORIAL_DATA") or ROOT / "data"  # set but blank is refused, as everywhere
    train, test = load_split(True, data), load_split(False, data)
    model_config, train_config = book.configs(quick, quick.latent2d_epochs, latent_dim=2)
    cache = env_path("VAE_TUTORIAL_CACHE") or ROOT / "runs" / "cache"
    result = cached_fit(model_config, train_config, train, test, root=cache)
    assert result.cached, "chapter 8's model should come from the build's cache"
    return result.model.cpu().eval()


def _open_explorer(browser, site):
    browser.get(f"{site}/{EXPLORER_PAGE}")
    state = browser.execute_async_script(_WAIT_FOR_EXPLORER)
    assert state == "true", f"the explorer did not start ({state})"
    return browser.find_element("css selector", ".vae-explorer")


def test_the_explorer_draws_what_pytorch_draws(site, browser, chapter_8_decoder):
    """For three fixed z, the canvas holds the PyTorch decoder's grey levels, within one."""
    import torch

    explorer = _open_explorer(browser, site)
    for z in EXPLORER_POINTS:
        drawn = browser.execute_script(_SET_Z_AND_READ, explorer, z)
        with torch.no_grad():
            means = chapter_8_decoder.likelihood.mean(chapter_8_decoder.decoder(torch.tensor([z])))
        expected = (255 * means).round().flatten().int().tolist()  # (784,)
        assert drawn["z"] == z and len(drawn["grey"]) == len(expected) == 784
        worst = max(abs(a - b) for a, b in zip(drawn["grey"], expected))
        assert worst <= 1, f"z = {z}: a pixel is {worst} grey levels from PyTorch's"
        assert max(expected) - min(expected) > 100, "the compared image should not be flat"
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert any(url.endswith("/notebooks/latent-2d.js") for url in loaded), "weights not loaded from beside the page"


def test_the_explorer_follows_a_drag_and_the_arrow_keys(site, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    explorer = _open_explorer(browser, site)
    plane = explorer.find_element("css selector", ".vae-explorer-plane canvas")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", explorer)
    before = browser.execute_script(_READ, explorer)
    ActionChains(browser).move_to_element(plane).click_and_hold().move_by_offset(40, -30).release().perform()
    dragged = browser.execute_script(_READ, explorer)
    assert dragged["z"][0] > 0.2 and dragged["z"][1] > 0.2, f"the point did not follow the drag: {dragged['z']}"
    assert dragged["grey"] != before["grey"], "the picture did not change while dragging"
    assert browser.execute_script("return document.activeElement.classList.contains('vae-explorer-plane')")
    scrolled = browser.execute_script("return window.scrollY")
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
    moved = browser.execute_script(_READ, explorer)
    assert abs(moved["z"][0] - dragged["z"][0] - 0.1) < 1e-9 and moved["z"][1] == dragged["z"][1], moved["z"]
    ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.ARROW_DOWN).key_up(Keys.SHIFT).perform()
    assert abs(browser.execute_script(_READ, explorer)["z"][1] - (moved["z"][1] - 0.5)) < 1e-9
    ActionChains(browser).send_keys(Keys.HOME).perform()
    home = browser.execute_script(_READ, explorer)
    assert home["z"] == [0, 0] and home["grey"] != moved["grey"]
    assert browser.execute_script("return window.scrollY") == scrolled, "the arrow keys scrolled the page"
    assert "z = (+0.00, +0.00)" in explorer.text, "the readout should say where z is"


def test_the_explorer_fits_the_page(site, browser):
    explorer = _open_explorer(browser, site)
    fits = browser.execute_script(
        "const e = arguments[0], r = e.getBoundingClientRect();"
        "return [e.scrollWidth <= e.clientWidth + 1, r.right <= document.documentElement.clientWidth + 1];",
        explorer)
    assert fits == [True, True], f"the explorer is wider than the page at {browser.width_name} width"
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'}); window.scrollBy(0, -60)", explorer)
    browser.execute_script(_SET_Z_AND_READ, explorer, [1.0, 0.5])
    screenshot(browser, f"explorer-{browser.width_name}.png")


def test_without_javascript_the_page_still_reads(site):
    driver = chromium(*WIDTHS["desktop"], javascript=False)
    try:
        driver.get(f"{site}/{EXPLORER_PAGE}")
        body = driver.find_element("tag name", "body").text
        assert "needs JavaScript" in body and "Figures 8.1 and 8.2 show the same decoder" in body
        assert "Figure 8.1." in body and "Figure 8.2." in body
        images = driver.find_elements("css selector", ".cell_output img")
        assert images and all(driver.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images[:2])
        assert not driver.find_elements("css selector", ".vae-explorer-plane"), "scripts ran: the test is not JS-free"
    finally:
        driver.quit()


_WAIT_FOR_EXPLORER = """
const done = arguments[arguments.length - 1];
const start = Date.now();
(function poll() {
  const e = document.querySelector('.vae-explorer');
  const state = e && e.getAttribute('data-ready');
  if (state) { done(state); }
  else if (Date.now() - start > 30000) { done(e ? 'never started' : 'no explorer on the page'); }
  else { setTimeout(poll, 100); }
})();
"""

_READ = """
const explorer = arguments[0].vaeExplorer, image = explorer.image;
const data = image.getContext('2d').getImageData(0, 0, image.width, image.height).data;
const grey = [];
for (let i = 0; i < data.length; i += 4) { grey.push(data[i]); }
return {z: explorer.getZ(), grey: grey};
"""

_SET_Z_AND_READ = "arguments[0].vaeExplorer.setZ(arguments[1]);\n" + _READ
