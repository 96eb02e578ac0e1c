"""The chapters as a student meets them: `jupyter lab`, a double-click, Run All.

JupyterLab is started from this environment on a free loopback port with a
token, with empty user settings (so what is tested is the setting the project
installs, not one left on this machine), and driven in headless Chromium. For
every chapter: a double-click in the file browser opens it as a notebook; Run
All (quick mode) ends without an error output; no raw MyST role or directive
is left in the rendered text; the solutions are closed; the numbers the site
shows are in the text. In chapter 8 the latent explorer's picture follows its
slider. Screenshots land in _build/screenshots/.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from _browser import ROOT, chromium, free_port, require, screenshot

CHAPTERS = sorted(path.name for path in (ROOT / "notebooks").glob("*.md"))
RAW_MYST = re.compile(r"\{(eval|eq|doc|numref|ref|cite(:[pt])?|glue(:\w+)?|math)\}`|^:::|```\{|^:class:|^:label:", re.M)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving the repository; stopped at the end."""
    jupyter_lab = require("jupyter-lab", "install the book extra: pip install -e '.[dev]'")
    home = tmp_path_factory.mktemp("jupyter-home")
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "VAE_TUTORIAL_QUICK": "1",
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"), "JUPYTER_RUNTIME_DIR": str(home / "runtime")}
    env.setdefault("VAE_TUTORIAL_DATA", str(ROOT / "data"))
    command = [jupyter_lab, "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={ROOT}", "--LabApp.expose_app_in_browser=True", "--allow-root"]
    news = home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}')  # no "get notified about Jupyter news?" box over the screenshots
    tracker = home / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"windowingMode": "none"}')  # every cell in the page, so the test can read them all
    log = (home / "lab.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _answers(f"{base}/api/status?token={token}"), 120, "JupyterLab did not start")
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def student(lab):
    """A browser with JupyterLab open on the notebooks folder, as after `jupyter lab` and a click on it."""
    base, token = lab
    driver = chromium(1400, 1000)
    driver.get(f"{base}/lab?token={token}")
    _wait_for(lambda: "notebooks" in _listing(driver), 120, "the file browser did not show the notebooks folder")
    driver.execute_script("window.jupyterapp.commands.execute('filebrowser:activate')")  # the folder icon
    _double_click(driver, "notebooks")
    _wait_for(lambda: CHAPTERS[0] in _listing(driver), 60, "the notebooks folder did not open")
    yield driver
    driver.quit()


def test_the_file_browser_lists_each_chapter_once(student):
    names = _listing(student)
    assert sorted(n for n in names if n.endswith(".md")) == CHAPTERS
    assert not [n for n in names if n.endswith(".ipynb")], f"generated notebooks beside the chapters: {names}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_chapter_opens_as_a_notebook_runs_and_reads_like_the_site(student, book_html, chapter):
    driver = student
    _double_click(driver, chapter)
    _wait_for(lambda: driver.execute_script(_CURRENT_NOTEBOOK_CELLS, chapter), 120,
              f"{chapter} did not open as a notebook (no cells)")
    finished = driver.execute_async_script(_RUN_ALL)
    assert finished == "done", f"{chapter}: Run All did not finish ({finished})"
    errors = driver.execute_script(_ERROR_OUTPUTS)
    assert errors == [], f"{chapter}: error outputs after Run All: {errors[:3]}"

    site_numbers = _site_numbers(book_html / "notebooks" / chapter.replace(".md", ".html"))
    deadline = time.monotonic() + 90  # jupyterlab-myst asks the kernel for each {eval} after the cells ran
    while True:
        text = driver.execute_script(_RENDERED_MARKDOWN)
        missing = [n for n in site_numbers if n not in text]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not missing, f"{chapter}: numbers on the site not in JupyterLab's text: {missing}"
    raw = [text[max(0, m.start() - 60):m.end() + 30] for m in RAW_MYST.finditer(text)]
    assert raw == [], f"{chapter}: raw MyST in the rendered text: {raw}"
    solutions = driver.execute_script(
        "return Array.from(window.jupyterapp.shell.currentWidget.node"
        ".querySelectorAll('.jp-MarkdownCell .myst details')).map(d => d.open)")
    assert solutions and not any(solutions), f"{chapter}: solutions {solutions} (true = shown open)"
    if chapter == "06_training.md":  # the paragraph that quotes the trained model's numbers, in view
        decimals = [n for n in site_numbers if "." in n]  # a measured value, not a count like "3"
        driver.execute_script(_SCROLL_TO_TEXT, decimals[0] if decimals else "")
        time.sleep(1)
        screenshot(driver, "jupyterlab-chapter.png")
    driver.execute_async_script(_CLOSE)


def test_the_launch_url_opens_a_chapter_and_its_widget_follows_the_slider(lab, book_html):
    """The Binder-style URL /lab/tree/notebooks/<chapter>.md; then chapter 8's latent explorer."""
    base, token = lab
    driver = chromium(1400, 1000)
    try:
        driver.get(f"{base}/lab/tree/notebooks/08_latent_space.md?token={token}")
        _wait_for(lambda: driver.execute_script(_CURRENT_NOTEBOOK_CELLS, "08_latent_space.md"), 120,
                  "the launch URL did not open chapter 8 as a notebook")
        assert driver.execute_async_script(_RUN_ALL) == "done"
        assert driver.execute_script(_ERROR_OUTPUTS) == []
        handle = driver.execute_script(_SCROLL_TO_WIDGET)
        assert handle is not None, "the latent explorer has no slider"
        time.sleep(1)  # let the notebook finish scrolling before the screenshot
        before = driver.execute_script(_WIDGET_IMAGE)
        assert before, "the latent explorer shows no image"
        screenshot(driver, "jupyterlab-widget-before.png")
        from selenium.webdriver.common.keys import Keys

        handle.click()
        for _ in range(20):
            handle.send_keys(Keys.ARROW_RIGHT)
        _wait_for(lambda: driver.execute_script(_WIDGET_IMAGE) != before, 30, "the picture did not follow the slider")
        screenshot(driver, "jupyterlab-widget-after.png")
    finally:
        driver.quit()


def _site_numbers(page: Path) -> list[str]:
    """The values {eval} put into a page's prose on the site."""
    html = page.read_text()
    return re.findall(r'<span class="output text_plain">([^<]+)</span>', html)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except OSError:
        return False


def _wait_for(condition, seconds: float, message: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(message)


def _listing(driver) -> list[str]:
    """The names the file browser shows (entries that are on screen)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.jp-DirListing-item'))"
        ".filter(e => e.offsetParent !== null && e.getBoundingClientRect().height > 0)"
        ".map(e => e.querySelector('.jp-DirListing-itemText').textContent.trim())")


def _double_click(driver, name: str) -> None:
    """Double-click the file browser's entry `name` (retried while the listing is still being redrawn)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains

    def entries():
        return driver.execute_script(
            "return Array.from(document.querySelectorAll('.jp-DirListing-item'))"
            ".filter(e => e.offsetParent !== null && e.getBoundingClientRect().height > 0)"
            ".filter(e => e.querySelector('.jp-DirListing-itemText').textContent.trim() === arguments[0])", name)

    items = _wait_for(entries, 60, f"{name} is not in the file browser")
    assert len(items) == 1, f"{name} is listed {len(items)} times"
    for _ in range(5):
        try:
            ActionChains(driver).double_click(entries()[0]).perform()
            return
        except (StaleElementReferenceException, IndexError):
            time.sleep(0.5)
    pytest.fail(f"could not double-click {name}")


_CURRENT_NOTEBOOK_CELLS = """
const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
if (!widget || !widget.content || !widget.content.widgets || widget.title.label !== arguments[0]) return 0;
return widget.content.widgets.filter(c => c.model.type === 'code').length;
"""

_RUN_ALL = """
const done = arguments[arguments.length - 1];
const panel = window.jupyterapp.shell.currentWidget;
panel.sessionContext.ready
  .then(() => window.jupyterapp.commands.execute('notebook:run-all-cells'))
  .then(() => {
    const start = Date.now();
    (function poll() {
      const cells = panel.content.widgets.filter(c => c.model.type === 'code');
      const ran = cells.every(c => c.model.executionCount !== null);
      if (ran && panel.sessionContext.session.kernel.status === 'idle') {
        setTimeout(() => done('done'), 1500);  // markdown cells render their {eval} after the kernel answers
      } else if (Date.now() - start > 280000) { done('timed out'); } else { setTimeout(poll, 250); }
    })();
  })
  .catch(e => done('failed: ' + e));
"""

_ERROR_OUTPUTS = """
const panel = window.jupyterapp.shell.currentWidget;
const errors = [];
for (const cell of panel.content.widgets) {
  if (cell.model.type !== 'code') continue;
  for (const output of cell.model.outputs.toJSON()) {
    if (output.output_type === 'error') errors.push(output.ename + ': ' + output.evalue);
  }
}
return errors;
"""

_RENDERED_MARKDOWN = """
return Array.from(window.jupyterapp.shell.currentWidget.node.querySelectorAll('.jp-MarkdownCell .myst'))
  .map(e => e.textContent).join('\\n');
"""

_SCROLL_TO_TEXT = """
const cell = Array.from(window.jupyterapp.shell.currentWidget.node.querySelectorAll('.jp-MarkdownCell'))
  .find(c => !c.querySelector('details') && c.textContent.includes(arguments[0]));  // not a closed solution
if (cell) cell.scrollIntoView({block: 'center'});
"""

_SCROLL_TO_WIDGET = """
const handle = window.jupyterapp.shell.currentWidget.node.querySelector('.jupyter-widgets .noUi-handle');
if (handle) handle.closest('.jp-OutputArea').scrollIntoView({block: 'center'});
return handle;
"""

_WIDGET_IMAGE = """
const image = window.jupyterapp.shell.currentWidget.node.querySelector('.jupyter-widgets img');
return image ? image.src : null;
"""

_CLOSE = """
const done = arguments[arguments.length - 1];
const panel = window.jupyterapp.shell.currentWidget;
panel.sessionContext.shutdown().then(() => { panel.context.model.dirty = false; panel.close(); done(true); });
"""
