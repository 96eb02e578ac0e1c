"""What the browser tests share: finding a tool of this environment, and a headless Chromium."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

import pytest

from vae_tutorial.config import env_path, env_switch

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
SCRIPT_SECONDS = 600  # the longest a page script may run: a chapter's Run All on a busy 2-core machine


def _under_ci() -> bool:
    """$CI as the README documents it (conftest.under_ci): true, 1 or yes under CI; false, 0, no, empty or unset not."""
    return env_switch("CI")


def require(tool: str, why: str) -> str:
    """The path of a command-line tool (this environment's copy first); skip without it, fail under CI."""
    beside_python = Path(sys.executable).with_name(tool)  # this environment's copy, activated or not
    path = str(beside_python) if beside_python.exists() else shutil.which(tool)
    if path:
        return path
    message = f"{tool} not found: {why}"
    if _under_ci():
        pytest.fail(message)
    pytest.skip(message)


def chromium(width: int = 1400, height: int = 1000, javascript: bool = True):
    """A headless Chromium driven by selenium, with its console log readable (javascript=False: a reader
    who has switched scripts off)."""
    from selenium import webdriver

    binary = require("chromium", "install Debian's chromium and chromium-driver for the browser checks")
    driver_path = require("chromedriver", "install Debian's chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver_path), options=options)
    driver.set_script_timeout(SCRIPT_SECONDS)
    driver.command_executor.client_config.timeout = SCRIPT_SECONDS + 60  # selenium's HTTP read limit (120 s) must outwait a script
    return driver


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def screenshot(driver, name: str) -> Path:
    """Save what the browser shows to _build/screenshots/<name> for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    driver.save_screenshot(str(path))
    return path


# What a clean checkout does not hold: build outputs, data, trained models, environments.
NOT_SOURCES = ("*.ipynb", "_build", "runs", "data", ".git", ".venv", "node_modules", ".pytest_cache", "__pycache__",
               ".ipynb_checkpoints", "*.egg-info")


def copy_sources(destination: Path) -> Path:
    """Copy the repository's sources to destination, links kept as links (book/book points at itself)."""
    shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(*NOT_SOURCES), symlinks=True)
    return destination


AXE_ENV_VAR = "VAE_TUTORIAL_AXE"  # the path of axe.min.js (axe-core 4.x, from the npm registry)


def axe_script() -> str:
    """axe-core's browser script: $VAE_TUTORIAL_AXE, else node_modules/axe-core/axe.min.js in the checkout
    (`npm install --no-save axe-core@4.14`); skip without it, fail under CI (.ci/run installs it)."""
    named = env_path(AXE_ENV_VAR)  # set but blank is refused; set to what is not a file, too (never another copy)
    if named is not None and not named.is_file():
        pytest.fail(f"{AXE_ENV_VAR}={str(named)!r} is not a file: name axe.min.js, or unset it")
    candidates = [named, ROOT / "node_modules" / "axe-core" / "axe.min.js"]
    for candidate in filter(None, candidates):
        if Path(candidate).is_file():
            return Path(candidate).read_text()
    message = f"axe-core not found: set {AXE_ENV_VAR} to axe.min.js, or run `npm install --no-save axe-core@4.14`"
    if _under_ci():
        pytest.fail(message)
    pytest.skip(message)


WIDTHS = {"desktop": (1400, 1000), "phone": (390, 844)}  # the site and the sliders at a desktop's and a phone's width


@pytest.fixture(scope="module", params=list(WIDTHS))
def browser(request):
    """Chromium at each of WIDTHS in turn, for every page test of a module (driver.width_name says which)."""
    driver = chromium(*WIDTHS[request.param])
    driver.width_name = request.param
    yield driver
    driver.quit()
